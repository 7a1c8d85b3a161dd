"""Grouped-stream aggregations: count, reduce, aggregate, re-keying through repartition."""

from __future__ import annotations

from streams_app import Grouped, Materialized, StreamsBuilder
from tests.dsl.conftest import J, L, S


def test_count_by_key_drops_null_keys_and_values(harness) -> None:  # type: ignore[no-untyped-def]
    b = StreamsBuilder()
    b.stream("input", key_serde=S, value_serde=J).group_by_key().count("counts") \
        .to_stream().to("output")
    h = harness(b)
    inp = h.input()
    inp.pipe_input("a", 1, timestamp=10)
    inp.pipe_input(None, 1, timestamp=11)  # null key: dropped
    inp.pipe_input("a", None, timestamp=12)  # null value: dropped
    inp.pipe_input("a", 5, timestamp=8)  # out of order: timestamp stays the max
    inp.pipe_input("b", 5, timestamp=20)
    assert h.out(value_serde=L) == [("a", 1, 10), ("a", 2, 10), ("b", 1, 20)]
    store = h.driver.get_key_value_store("counts")
    assert dict(store.all()) == {"a": 2, "b": 1}
    ts_store = h.driver.get_timestamped_key_value_store("counts")
    assert ts_store.get("a").timestamp == 10


def test_reduce_and_aggregate(harness) -> None:  # type: ignore[no-untyped-def]
    b = StreamsBuilder()
    g = b.stream("input", key_serde=S, value_serde=J).group_by_key()
    g.reduce(lambda agg, v: agg + v, "sums").to_stream().to("sums")
    g.aggregate(lambda: [], lambda k, v, agg: agg + [v], "lists").to_stream().to("lists")
    h = harness(b)
    h.input().pipe_key_value_list([("a", 1), ("a", 2), ("b", 3)], start_timestamp_ms=1,
                                  advance_ms=1)
    assert h.out("sums") == [("a", 1, 1), ("a", 3, 2), ("b", 3, 3)]
    assert h.out("lists") == [("a", [1], 1), ("a", [1, 2], 2), ("b", [3], 3)]


def test_group_by_rekeys_through_repartition(harness) -> None:  # type: ignore[no-untyped-def]
    b = StreamsBuilder()
    b.stream("rides", key_serde=S, value_serde=J) \
        .group_by(lambda k, v: str(v["PULocationID"]), Grouped(name="by-location")) \
        .count(Materialized("loc-counts")).to_stream().to("output")
    h = harness(b)
    rides = h.driver.create_input_topic("rides", S, J)
    rides.pipe_input("r1", {"PULocationID": 7}, timestamp=100)
    rides.pipe_input("r2", {"PULocationID": 8}, timestamp=101)
    rides.pipe_input("r3", {"PULocationID": 7}, timestamp=102)
    rides.pipe_input("r4", {"PULocationID": None}, timestamp=103)  # selects key "None"
    assert h.out(value_serde=L) == [("7", 1, 100), ("8", 1, 101), ("7", 2, 102),
                                    ("None", 1, 103)]
    repartition = h.driver.create_output_topic("app-by-location-repartition", S, J)
    assert [r.key for r in repartition.read_records_to_list()] == ["7", "8", "7", "None"]
    changelog = h.driver.create_output_topic("app-loc-counts-changelog", S, L)
    assert changelog.read_key_values_to_map() == {"7": 2, "8": 1, "None": 1}


def test_null_selected_keys_are_dropped_before_repartition(harness) -> None:  # type: ignore[no-untyped-def]
    b = StreamsBuilder()
    b.stream("input", key_serde=S, value_serde=J) \
        .select_key(lambda k, v: v.get("group")).group_by_key().count("c") \
        .to_stream().to("output")
    h = harness(b)
    h.input().pipe_input("a", {"group": None}, timestamp=1)
    h.input().pipe_input("b", {"group": "g"}, timestamp=2)
    assert h.out(value_serde=L) == [("g", 1, 2)]
    assert h.driver.get_key_value_store("c").get("g") == 1


def test_map_then_group_by_key_repartitions(harness) -> None:  # type: ignore[no-untyped-def]
    b = StreamsBuilder()
    b.stream("input", key_serde=S, value_serde=J).map(lambda k, v: (k[0], v)) \
        .group_by_key(Grouped(key_serde=S)).count("c")
    topo = b.build()
    assert len(topo.subtopologies()) == 2
    h = harness(b)
    h.input().pipe_key_value_list([("ab", 1), ("ac", 1)], start_timestamp_ms=0)
    assert h.driver.get_key_value_store("c").get("a") == 2


def test_cache_on_deduplicates_updates_within_one_input(harness) -> None:  # type: ignore[no-untyped-def]
    def build() -> StreamsBuilder:
        b = StreamsBuilder()
        b.stream("input", key_serde=S, value_serde=J) \
            .flat_map_values(lambda v: v).group_by_key().count("c").to_stream().to("output")
        return b

    cached = harness(build())  # default cache: flushed once per input record
    cached.input().pipe_input("a", [1, 2, 3], timestamp=5)
    assert cached.out(value_serde=L) == [("a", 3, 5)]
    uncached = harness(build(), {"cache_max_entries": 0})
    uncached.input().pipe_input("a", [1, 2, 3], timestamp=5)
    assert uncached.out(value_serde=L) == [("a", 1, 5), ("a", 2, 5), ("a", 3, 5)]
