"""KTable operators: source, tombstones, filter tombstones, map_values, re-grouping."""

from __future__ import annotations

import pytest

from streams_app import Materialized, StreamsBuilder
from tests.dsl.conftest import J, L, S


@pytest.mark.parametrize("cache", [0, 100])
def test_table_source_upserts_and_deletes(harness, cache) -> None:  # type: ignore[no-untyped-def]
    b = StreamsBuilder()
    b.table("input", Materialized("users"), key_serde=S, value_serde=J).to_stream().to("output")
    h = harness(b, {"cache_max_entries": cache})
    inp = h.input()
    inp.pipe_input("a", 1, timestamp=1)
    inp.pipe_input("a", 2, timestamp=2)
    inp.pipe_input(None, 3, timestamp=3)  # null key: dropped
    inp.pipe_input("a", None, timestamp=4)  # tombstone deletes
    inp.pipe_input("b", None, timestamp=5)  # deleting an absent key
    expected = [("a", 1, 1), ("a", 2, 2), ("a", None, 4)]
    # uncached, the no-op delete still flows; the cache drops it (both as in Kafka Streams)
    assert h.out() == (expected + [("b", None, 5)] if cache == 0 else expected)
    assert h.driver.get_key_value_store("users").get("a") is None


def test_table_filter_emits_tombstones_when_not_materialized(harness) -> None:  # type: ignore[no-untyped-def]
    b = StreamsBuilder()
    b.table("input", key_serde=S, value_serde=J).filter(lambda k, v: v > 0) \
        .to_stream().to("output")
    h = harness(b)
    h.input().pipe_key_value_list([("a", 1), ("a", -1), ("b", -5)], start_timestamp_ms=0,
                                  advance_ms=1)
    # without old values every filtered-out row is a tombstone, even b's (Kafka does this)
    assert h.out() == [("a", 1, 0), ("a", None, 1), ("b", None, 2)]


def test_table_filter_on_materialized_source_only_retracts_rows_it_had(harness) -> None:  # type: ignore[no-untyped-def]
    b = StreamsBuilder()
    b.table("input", "src", key_serde=S, value_serde=J).filter_not(lambda k, v: v <= 0) \
        .to_stream().to("output")
    h = harness(b)
    h.input().pipe_key_value_list([("a", 1), ("a", -1), ("b", -5), ("b", -6)],
                                  start_timestamp_ms=0, advance_ms=1)
    assert h.out() == [("a", 1, 0), ("a", None, 1)]


def test_materialized_filter_and_map_values(harness) -> None:  # type: ignore[no-untyped-def]
    b = StreamsBuilder()
    t = b.table("input", key_serde=S, value_serde=J)
    t.filter(lambda k, v: v % 2 == 0, Materialized("evens")).to_stream().to("evens")
    t.map_values(lambda v: v * 10, Materialized("tens")).to_stream().to("tens")
    t.map_values(lambda k, v: f"{k}={v}", with_key=True).to_stream().to("labels")
    h = harness(b)
    h.input().pipe_key_value_list([("a", 2), ("a", 3), ("a", None)], start_timestamp_ms=0)
    assert h.out("evens") == [("a", 2, 0), ("a", None, 0)]
    assert h.out("tens") == [("a", 20, 0), ("a", 30, 0), ("a", None, 0)]
    assert h.out("labels") == [("a", "a=2", 0), ("a", "a=3", 0), ("a", None, 0)]
    assert h.driver.get_key_value_store("evens").get("a") is None
    assert h.driver.get_key_value_store("tens").approximate_num_entries() == 0


def test_regrouping_a_table_retracts_the_old_group(harness) -> None:  # type: ignore[no-untyped-def]
    b = StreamsBuilder()
    b.table("users", key_serde=S, value_serde=S).group_by(lambda user, region: (region, user)) \
        .count("per-region").to_stream().to("output")
    h = harness(b)
    users = h.driver.create_input_topic("users", S, S)
    users.pipe_input("alice", "eu", timestamp=1)
    users.pipe_input("bob", "eu", timestamp=2)
    users.pipe_input("alice", "us", timestamp=3)  # moves: eu -1, us +1
    users.pipe_input("bob", None, timestamp=4)  # deleted: eu -1
    assert h.out(value_serde=L) == [
        ("eu", 1, 1), ("eu", 2, 2), ("eu", 1, 3), ("us", 1, 3), ("eu", 0, 4),
    ]
    assert dict(h.driver.get_key_value_store("per-region").all()) == {"eu": 0, "us": 1}


def test_table_reduce_and_aggregate_with_subtractor(harness) -> None:  # type: ignore[no-untyped-def]
    b = StreamsBuilder()
    t = b.table("input", key_serde=S, value_serde=J)
    g = t.group_by(lambda k, v: (v["team"], v["score"]))
    g.reduce(lambda a, v: a + v, lambda a, v: a - v, "totals").to_stream().to("totals")
    g.aggregate(lambda: {"n": 0}, lambda k, v, a: {"n": a["n"] + 1},
                lambda k, v, a: {"n": a["n"] - 1}, "sizes").to_stream().to("sizes")
    h = harness(b)
    inp = h.input()
    inp.pipe_input("p1", {"team": "x", "score": 5}, timestamp=10)
    inp.pipe_input("p2", {"team": "x", "score": 3}, timestamp=11)
    inp.pipe_input("p1", {"team": "x", "score": 9}, timestamp=12)  # same group: one update
    assert h.out("totals") == [("x", 5, 10), ("x", 8, 11), ("x", 12, 12)]
    assert h.out("sizes") == [("x", {"n": 1}, 10), ("x", {"n": 2}, 11), ("x", {"n": 2}, 12)]


def test_stream_to_table_and_global_table(harness) -> None:  # type: ignore[no-untyped-def]
    b = StreamsBuilder()
    b.stream("input", key_serde=S, value_serde=J).to_table("latest").to_stream().to("output")
    g = b.global_table("regions", Materialized("regions-store"), key_serde=S, value_serde=J)
    assert g.store_name == "regions-store"
    h = harness(b)
    h.input().pipe_key_value_list([("a", 1), ("a", 2)], start_timestamp_ms=0)
    assert h.out() == [("a", 1, 0), ("a", 2, 0)]
    regions = h.driver.create_input_topic("regions", S, J)
    regions.pipe_input("1", "Manhattan", timestamp=0)
    regions.pipe_input("2", "Queens", timestamp=0)
    regions.pipe_input("2", None, timestamp=0)
    assert dict(h.driver.get_key_value_store("regions-store").all()) == {"1": "Manhattan"}
    assert h.driver.get_key_value_store("latest").get("a") == 2


def test_to_table_after_key_change_repartitions(harness) -> None:  # type: ignore[no-untyped-def]
    b = StreamsBuilder()
    b.stream("input", key_serde=S, value_serde=J).select_key(lambda k, v: v["id"]) \
        .to_table("by-id").to_stream().to("output")
    h = harness(b)
    assert "KSTREAM-TOTABLE-0000000002-repartition" in h.topology.internal_topics
    h.input().pipe_input("x", {"id": "7"}, timestamp=3)
    assert h.out() == [("7", {"id": "7"}, 3)]
