"""The Faust examples' merge (``rides_all``): several ride feeds merged into one topic.

The yellow-taxi rides (``rides``), ``rides-green`` and ``rides-fhv`` are merged, key and
value unchanged, into ``rides-all``: the output holds exactly the records of the inputs (a
multiset union; records of one input partition keep their order). The feeds' schemas differ
(FHV rides have no VendorID), so values are only required to be JSON; one that is not goes
to ``<app id>-dead-letter``.

Run: ``streams-app job rides-all`` (settings from ``STREAMS_*``).
"""

from __future__ import annotations

import os

from streams_app import Serdes, StreamsBuilder, Topology
from streams_app.jobs.rides import RIDE_SOURCES, rides_all_topics
from streams_app.runtime.faust_runtime import FaustRuntime
from streams_app.settings import Settings

OUTPUT = "rides-all"


def build_topology(prefix: str = "") -> Topology:
    """rides + rides-green + rides-fhv -> merge -> rides-all."""
    builder = StreamsBuilder()
    key_serde, value_serde = Serdes.string(), Serdes.json()
    yellow, *others = (builder.stream(f"{prefix}{topic}", key_serde=key_serde,
                                      value_serde=value_serde) for topic in RIDE_SOURCES)
    merged = yellow
    for other in others:
        merged = merged.merge(other)
    merged.to(f"{prefix}{OUTPUT}")
    return builder.build()


settings = Settings.from_env(app_id=os.environ.get("STREAMS_APP_ID", "rides-all"))
prefix = settings.topic_prefix
runtime = FaustRuntime(
    build_topology(prefix), settings,
    topics=rides_all_topics(prefix, settings.topic_partitions,
                            settings.topic_replication_factor),
)
app = runtime.app
