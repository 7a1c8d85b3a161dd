"""The seed's first job, in the DSL: count rides per vendor, and branch rides by amount.

Reads JSON rides from ``rides`` (key = VendorID), counts rides per vendor in the RocksDB
store ``vendor-count`` (changelogged to ``<app id>-vendor-count-changelog``), publishes every
count update to ``rides-vendor-count`` and routes each ride to ``rides-high-amount``
(total_amount >= 40) or ``rides-low-amount``. A record that is not a JSON ride goes to
``rides-dead-letter`` with the reason in its headers; the job keeps running.

Run it as a Faust worker: ``faust -A streams_app.jobs.rides_vendor_count worker`` or
``streams-app job rides-vendor-count``. Settings come from ``STREAMS_*`` env vars; topic names
get the ``STREAMS_TOPIC_PREFIX`` (tests use it to share one broker).
"""

from __future__ import annotations

import os

from streams_app import Materialized, Serdes, StreamsBuilder, Topology
from streams_app.jobs.rides import branch_by_amount, check_ride, vendor_count_topics
from streams_app.runtime.faust_runtime import FaustRuntime
from streams_app.settings import Settings


def build_topology(prefix: str = "") -> Topology:
    """rides -> count per key into rides-vendor-count; rides split into high / low amount."""
    builder = StreamsBuilder()
    rides = builder.stream(f"{prefix}rides", key_serde=Serdes.string(),
                           value_serde=Serdes.json())
    checked = rides.map_values(check_ride, name="check-ride")
    counts = checked.group_by_key().count(Materialized.as_("vendor-count"))
    counts.to_stream().to(f"{prefix}rides-vendor-count", value_serde=Serdes.json())
    branch_by_amount(checked, "amount-", f"{prefix}rides-high-amount", f"{prefix}rides-low-amount")
    return builder.build()


settings = Settings.from_env(app_id=os.environ.get("STREAMS_APP_ID", "rides-vendor-count"))
prefix = settings.topic_prefix
runtime = FaustRuntime(
    build_topology(prefix), settings,
    topics=vendor_count_topics(prefix, settings.topic_partitions,
                               settings.topic_replication_factor),
    dead_letter_topic=f"{prefix}rides-dead-letter",
)
app = runtime.app
