"""A worker module: ``<prefix>events`` re-keyed by the value's ``zone`` through an explicit
repartition (``Repartitioned(name="by-zone", num_partitions=$TEST_REPARTITION_PARTITIONS)``),
counted per zone into ``<prefix>zone-counts``."""

import os

from streams_app import Materialized, Serdes, StreamsBuilder
from streams_app.dsl.options import Repartitioned
from streams_app.runtime.faust_runtime import FaustRuntime
from streams_app.settings import Settings

settings = Settings.from_env()
prefix = settings.topic_prefix
partitions = int(os.environ.get("TEST_REPARTITION_PARTITIONS", "0")) or None

builder = StreamsBuilder()
(builder.stream(f"{prefix}events", key_serde=Serdes.string(), value_serde=Serdes.json())
 .select_key(lambda _key, value: value["zone"])
 .repartition(Repartitioned(name="by-zone", num_partitions=partitions))
 .group_by_key().count(Materialized.as_("zone-count")).to_stream()
 .to(f"{prefix}zone-counts", key_serde=Serdes.string(), value_serde=Serdes.long()))
app = FaustRuntime(builder.build(), settings).app
