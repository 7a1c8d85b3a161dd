"""describe(): sub-topologies, node names and numbering, stores and repartition topics."""

from __future__ import annotations

from streams_app import StreamsBuilder
from tests.dsl.conftest import S

WORD_COUNT = """\
Topologies:
   Sub-topology: 0
    Source: KSTREAM-SOURCE-0000000000 (topics: [lines])
      --> KSTREAM-FLATMAPVALUES-0000000001
    Processor: KSTREAM-FLATMAPVALUES-0000000001 (stores: [])
      --> KSTREAM-KEY-SELECT-0000000002
      <-- KSTREAM-SOURCE-0000000000
    Processor: KSTREAM-KEY-SELECT-0000000002 (stores: [])
      --> KSTREAM-FILTER-0000000006
      <-- KSTREAM-FLATMAPVALUES-0000000001
    Processor: KSTREAM-FILTER-0000000006 (stores: [])
      --> KSTREAM-SINK-0000000005
      <-- KSTREAM-KEY-SELECT-0000000002
    Sink: KSTREAM-SINK-0000000005 (topic: KSTREAM-AGGREGATE-STATE-STORE-0000000003-repartition)
      <-- KSTREAM-FILTER-0000000006

   Sub-topology: 1
    Source: KSTREAM-SOURCE-0000000007 (topics: [KSTREAM-AGGREGATE-STATE-STORE-0000000003-repartition])
      --> KSTREAM-AGGREGATE-0000000004
    Processor: KSTREAM-AGGREGATE-0000000004 (stores: [KSTREAM-AGGREGATE-STATE-STORE-0000000003])
      --> KTABLE-TOSTREAM-0000000008
      <-- KSTREAM-SOURCE-0000000007
    Processor: KTABLE-TOSTREAM-0000000008 (stores: [])
      --> KSTREAM-SINK-0000000009
      <-- KSTREAM-AGGREGATE-0000000004
    Sink: KSTREAM-SINK-0000000009 (topic: counts)
      <-- KTABLE-TOSTREAM-0000000008

Stores:
    KSTREAM-AGGREGATE-STATE-STORE-0000000003 (key-value, changelog: <application_id>-KSTREAM-AGGREGATE-STATE-STORE-0000000003-changelog)

Repartition topics:
    KSTREAM-AGGREGATE-STATE-STORE-0000000003-repartition
"""  # noqa: E501


def test_word_count_description_matches_kafka_streams_naming() -> None:
    # Kafka Streams names and numbers this topology the same way (store 3, aggregate 4,
    # repartition sink/filter/source 5-7, to_stream 8, sink 9)
    b = StreamsBuilder()
    b.stream("lines", key_serde=S, value_serde=S).flat_map_values(str.split) \
        .group_by(lambda k, w: w).count().to_stream().to("counts")
    assert str(b.build().describe()) == WORD_COUNT


def test_table_group_by_and_global_store_description() -> None:
    b = StreamsBuilder()
    b.table("users", "users-store").group_by(lambda k, v: (v, k)).count("per-region")
    b.global_table("regions")
    text = str(b.build().describe())
    assert "Processor: KTABLE-SOURCE-0000000001 (stores: [users-store])" in text
    assert "Sink: KSTREAM-SINK-0000000003 (topic: per-region-repartition)" in text
    assert "Processor: KTABLE-AGGREGATE-0000000005 (stores: [per-region])" in text
    assert "Sub-topology: 2 for global store (will not generate tasks)" in text
    assert "regions-STATE-STORE-0000000006 (key-value, source topic: regions)" in text
    assert "per-region-repartition" in text.split("Repartition topics:")[1]


def test_unmaterialized_source_table_is_materialized_for_group_by() -> None:
    b = StreamsBuilder()
    b.table("users").group_by(lambda k, v: (v, k)).count("c")
    topo = b.build()
    assert "users-STATE-STORE-0000000000" in topo.stores
    b2 = StreamsBuilder()
    b2.table("users").to_stream().to("out")
    assert b2.build().stores == {}
