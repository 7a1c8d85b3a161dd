"""The Faust examples' price branch: rides split by price into two topics.

Each ride of ``rides`` goes, unchanged and with its key, to ``rides-price-high`` when its
``total_amount`` is $40 or more, else to ``rides-price-low`` (``split()`` with a default
branch: every ride lands in exactly one). A record that is not a ride (not JSON, no
VendorID, no numeric total_amount) goes to ``<app id>-dead-letter`` with the reason.

Run: ``streams-app job rides-price-branch`` (settings from ``STREAMS_*``).
"""

from __future__ import annotations

import os

from streams_app import Serdes, StreamsBuilder, Topology
from streams_app.jobs.rides import branch_by_amount, check_ride, price_branch_topics
from streams_app.runtime.faust_runtime import FaustRuntime
from streams_app.settings import Settings


def build_topology(prefix: str = "") -> Topology:
    """rides -> total_amount >= 40: rides-price-high, else rides-price-low."""
    builder = StreamsBuilder()
    rides = builder.stream(f"{prefix}rides", key_serde=Serdes.string(),
                           value_serde=Serdes.json())
    branch_by_amount(rides.map_values(check_ride, name="check-ride"), "price-",
                     f"{prefix}rides-price-high", f"{prefix}rides-price-low")
    return builder.build()


settings = Settings.from_env(app_id=os.environ.get("STREAMS_APP_ID", "rides-price-branch"))
prefix = settings.topic_prefix
runtime = FaustRuntime(
    build_topology(prefix), settings,
    topics=price_branch_topics(prefix, settings.topic_partitions,
                               settings.topic_replication_factor),
)
app = runtime.app
