"""The seed course's Kafka Streams example (JsonKStream): count rides per pick-up location.

Rides arrive in ``rides`` keyed by VendorID; grouping by PULocationID re-keys them through
the repartition topic ``<app id>-rides-by-pulocation-repartition``, then counts per location
into ``rides-pulocation-count`` (JSON counts, keyed by the location id as a string).

Run: ``streams-app job pulocation-count`` (settings from ``STREAMS_*``).
"""

from __future__ import annotations

import os

from streams_app import Grouped, Materialized, Serdes, StreamsBuilder, Topology
from streams_app.jobs.rides import check_ride
from streams_app.kafka.topics import TopicSpec
from streams_app.runtime.faust_runtime import FaustRuntime
from streams_app.settings import Settings


def build_topology(prefix: str = "") -> Topology:
    """rides -> group by PULocationID (repartition) -> count -> rides-pulocation-count."""
    builder = StreamsBuilder()
    rides = builder.stream(f"{prefix}rides", key_serde=Serdes.string(),
                           value_serde=Serdes.json())
    counts = (rides.map_values(check_ride, name="check-ride")
              .group_by(lambda _vendor, ride: str(ride["PULocationID"]),
                        Grouped(name="rides-by-pulocation", key_serde=Serdes.string()))
              .count(Materialized.as_("pulocation-count")))
    counts.to_stream().to(f"{prefix}rides-pulocation-count", value_serde=Serdes.json())
    return builder.build()


settings = Settings.from_env(app_id=os.environ.get("STREAMS_APP_ID", "rides-pulocation-count"))
prefix = settings.topic_prefix
runtime = FaustRuntime(
    build_topology(prefix), settings,
    topics=[TopicSpec(f"{prefix}rides", settings.topic_partitions,
                      settings.topic_replication_factor),
            TopicSpec(f"{prefix}rides-pulocation-count", settings.topic_partitions,
                      settings.topic_replication_factor, cleanup_policy="compact")],
)
app = runtime.app
