"""The seed's windowed count (JsonKStreamWindow): rides per pick-up location in tumbling
windows of the pick-up time.

A timestamp extractor gives each ride the time of its ``tpep_pickup_datetime``, so windows
are placed by event time, not by when the ride reached Kafka. Rides (keyed by VendorID) are
re-keyed by PULocationID through ``<app id>-rides-by-pulocation-repartition`` and counted in
10-minute tumbling windows into ``rides-pulocation-window-count``: key = the windowed key in
Kafka's TimeWindowedSerde layout (location id string + 8-byte window start), value = the
count as a long (Kafka's LongSerde). Every count update is published (the record cache
merges updates between commits); the last record per key is the window's count.

Grace: ``rides.csv`` is in drop-off order, and a few of its pick-ups arrive almost 7 hours
behind stream time; 8 hours of grace counts every ride of it. A ride later than that for its
window is dropped ("Skipping record for expired window"), as in Kafka Streams. A record whose
pick-up time or location is missing goes to ``<app id>-dead-letter``.

Run: ``streams-app job rides-windowed-count`` (settings from ``STREAMS_*``).
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

from streams_app import (
    Grouped,
    Materialized,
    Serdes,
    StreamsBuilder,
    TimeWindowedSerde,
    TimeWindows,
    Topology,
)
from streams_app.jobs.rides import pickup_location, pickup_time_ms, windowed_count_topics
from streams_app.runtime.faust_runtime import FaustRuntime
from streams_app.settings import Settings

WINDOW = timedelta(minutes=10)
WINDOW_MS = int(WINDOW.total_seconds() * 1000)
GRACE = timedelta(hours=8)
OUTPUT = "rides-pulocation-window-count"


def pickup_timestamp(record: Any, partition_time: int) -> int:
    """Timestamp extractor: the ride's pick-up time (ValueError for a ride without one)."""
    return pickup_time_ms(record.value)


def windowed_key_serde() -> TimeWindowedSerde:
    """The output key serde: Windowed(location id, start, start + 10 min)."""
    return TimeWindowedSerde(Serdes.string(), WINDOW_MS)


def build_topology(prefix: str = "", grace: timedelta = GRACE) -> Topology:
    """rides (pick-up time) -> group by PULocationID -> 10-minute windows -> count."""
    builder = StreamsBuilder()
    rides = builder.stream(f"{prefix}rides", key_serde=Serdes.string(),
                           value_serde=Serdes.json(), timestamp_extractor=pickup_timestamp)
    counts = (rides.group_by(lambda _vendor, ride: pickup_location(ride),
                             Grouped(name="rides-by-pulocation", key_serde=Serdes.string()))
              .windowed_by(TimeWindows.of_size_and_grace(WINDOW, grace))
              .count(Materialized.as_("pulocation-window-count")))
    counts.to_stream().to(f"{prefix}{OUTPUT}", key_serde=windowed_key_serde(),
                          value_serde=Serdes.long())
    return builder.build()


settings = Settings.from_env(app_id=os.environ.get("STREAMS_APP_ID", "rides-windowed-count"))
prefix = settings.topic_prefix
runtime = FaustRuntime(
    build_topology(prefix), settings,
    topics=windowed_count_topics(prefix, settings.topic_partitions,
                                 settings.topic_replication_factor),
)
app = runtime.app
