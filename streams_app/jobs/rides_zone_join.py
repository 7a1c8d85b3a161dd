"""The seed's join (JsonKStreamJoins) of rides with their pick-up zone, counted per borough.

``taxi-zones`` holds ``taxi_zone_lookup.csv`` as a table (key = location id string, value =
the zone as JSON; ``streams_app.jobs.produce_zones`` puts it there) and is read as a
GlobalKTable: every worker holds all 265 zones, so rides keyed by VendorID need no
repartition to look theirs up. Each ride is joined with the zone of its PULocationID (an
inner join: a ride whose zone is not in the table is dropped, as in Kafka Streams), re-keyed
by the zone's borough through ``<app id>-rides-by-borough-repartition`` and counted into
``rides-borough-count`` (JSON counts, keyed by borough). A ride without a PULocationID goes
to ``<app id>-dead-letter``.

Run: ``python -m streams_app.jobs.produce_zones --bootstrap-servers HOST:PORT``, then
``streams-app job rides-zone-join`` (settings from ``STREAMS_*``).
"""

from __future__ import annotations

import os

from streams_app import Grouped, Materialized, Serdes, StreamsBuilder, Topology
from streams_app.jobs.rides import ZONES_TOPIC, pickup_location, zone_join_topics
from streams_app.runtime.faust_runtime import FaustRuntime
from streams_app.settings import Settings

OUTPUT = "rides-borough-count"


def build_topology(prefix: str = "") -> Topology:
    """rides x taxi-zones (GlobalKTable, by PULocationID) -> borough -> count."""
    builder = StreamsBuilder()
    zones = builder.global_table(f"{prefix}{ZONES_TOPIC}", Materialized.as_("zones"),
                                 key_serde=Serdes.string(), value_serde=Serdes.json())
    rides = builder.stream(f"{prefix}rides", key_serde=Serdes.string(),
                           value_serde=Serdes.json())
    counts = (rides.join(zones, lambda _vendor, ride: pickup_location(ride),
                         lambda _ride, zone: zone["borough"], name="ride-zone")
              .group_by(lambda _vendor, borough: borough,
                        Grouped(name="rides-by-borough", key_serde=Serdes.string()))
              .count(Materialized.as_("borough-count")))
    counts.to_stream().to(f"{prefix}{OUTPUT}", value_serde=Serdes.json())
    return builder.build()


settings = Settings.from_env(app_id=os.environ.get("STREAMS_APP_ID", "rides-zone-join"))
prefix = settings.topic_prefix
runtime = FaustRuntime(
    build_topology(prefix), settings,
    topics=zone_join_topics(prefix, settings.topic_partitions,
                            settings.topic_replication_factor),
)
app = runtime.app
