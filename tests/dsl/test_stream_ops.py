"""Stateless KStream operators through the TopologyTestDriver."""

from __future__ import annotations

from typing import Any

import faust

from streams_app import Branched, Produced, StreamsBuilder
from tests.dsl.conftest import J, S


def src(b: StreamsBuilder, topic: str = "input") -> Any:
    return b.stream(topic, key_serde=S, value_serde=J)


def test_map_values_filter_filter_not(harness) -> None:  # type: ignore[no-untyped-def]
    b = StreamsBuilder()
    s = src(b)
    s.map_values(lambda v: v * 10).filter(lambda k, v: v > 10).to("output")
    s.filter_not(lambda k, v: v > 1).to("small")
    h = harness(b)
    h.input().pipe_key_value_list([("a", 1), ("b", 2), ("c", 3)], start_timestamp_ms=5,
                                  advance_ms=1)
    assert h.out() == [("b", 20, 6), ("c", 30, 7)]
    assert h.out("small") == [("a", 1, 5)]


def test_map_select_key_and_flat_maps(harness) -> None:  # type: ignore[no-untyped-def]
    b = StreamsBuilder()
    s = src(b)
    s.map(lambda k, v: (k.upper(), v + 1)).to("mapped")
    s.select_key(lambda k, v: f"{k}{v}").to("keyed")
    s.flat_map(lambda k, v: [(k, v), (k + "2", v * 2)]).to("flat")
    s.flat_map_values(lambda v: range(v)).to("values")
    h = harness(b)
    h.input().pipe_input("a", 2, timestamp=9)
    assert h.out("mapped") == [("A", 3, 9)]
    assert h.out("keyed") == [("a2", 2, 9)]
    assert h.out("flat") == [("a", 2, 9), ("a2", 4, 9)]
    assert h.out("values") == [("a", 0, 9), ("a", 1, 9)]


def test_tombstones_and_null_keys_pass_through_stateless_ops(harness) -> None:  # type: ignore[no-untyped-def]
    b = StreamsBuilder()
    src(b).map_values(lambda v: v).to("output")
    h = harness(b)
    h.input().pipe_input(None, 1, timestamp=1)
    h.input().pipe_input("k", None, timestamp=2)
    assert h.out() == [(None, 1, 1), ("k", None, 2)]


def test_split_routes_to_first_match_and_default(harness) -> None:  # type: ignore[no-untyped-def]
    b = StreamsBuilder()
    branches = (
        src(b).split("s-")
        .branch(lambda k, v: v < 0, "neg")
        .branch(lambda k, v: v < 10)
        .default_branch()
    )
    assert sorted(branches) == ["s-0", "s-2", "s-neg"]
    branches["s-neg"].to("neg")
    branches["s-2"].to("small")
    branches["s-0"].to("big")
    h = harness(b)
    h.input().pipe_key_value_list([("a", -1), ("b", 5), ("c", 50)], start_timestamp_ms=0)
    assert h.out("neg") == [("a", -1, 0)]
    assert h.out("small") == [("b", 5, 0)]
    assert h.out("big") == [("c", 50, 0)]


def test_split_chain_and_no_default_drops_unmatched(harness) -> None:  # type: ignore[no-untyped-def]
    b = StreamsBuilder()
    result = src(b).split().branch(lambda k, v: v > 0,
                                   Branched(chain=lambda s: s.to("pos"))).no_default_branch()
    assert result == {}  # a chain that returns None is not listed, like Kafka
    legacy = src(b, "input2").branch(lambda k, v: v == 1, lambda k, v: v == 2)
    legacy[1].to("two")
    h = harness(b)
    h.input().pipe_key_value_list([("a", 1), ("b", -1)], start_timestamp_ms=0)
    h.input("input2").pipe_key_value_list([("x", 2), ("y", 3)], start_timestamp_ms=0)
    assert h.out("pos") == [("a", 1, 0)]
    assert h.out("two") == [("x", 2, 0)]


def test_merge_peek_foreach(harness) -> None:  # type: ignore[no-untyped-def]
    seen: list[Any] = []
    done: list[Any] = []
    b = StreamsBuilder()
    merged = src(b).merge(src(b, "input2")).peek(lambda k, v: seen.append((k, v)))
    merged.to("output")
    merged.foreach(lambda k, v: done.append(v))
    h = harness(b)
    h.input().pipe_input("a", 1, timestamp=1)
    h.input("input2").pipe_input("b", 2, timestamp=2)
    assert h.out() == [("a", 1, 1), ("b", 2, 2)]
    assert seen == [("a", 1), ("b", 2)] and done == [1, 2]


def test_sink_serdes_from_produced_and_inheritance(harness) -> None:  # type: ignore[no-untyped-def]
    b = StreamsBuilder()
    s = b.stream("input", key_serde=S, value_serde=S)
    s.to("inherited")  # string serdes inherited from the source
    s.map_values(len).to("lengths", Produced(value_serde=J))
    h = harness(b)
    h.driver.create_input_topic("input", S, S).pipe_input("k", "abc", timestamp=3)
    raw = h.driver._outputs["inherited"][0]
    assert raw[1:3] == (b"k", b"abc")
    assert h.out("lengths") == [("k", 3, 3)]


def test_repartition_and_through(harness) -> None:  # type: ignore[no-untyped-def]
    b = StreamsBuilder()
    s = src(b).select_key(lambda k, v: str(v)).repartition("by-value")
    s.to("output")
    src(b, "input2").through("middle").to("after")
    h = harness(b)
    h.input().pipe_input("a", 7, timestamp=4)
    h.input("input2").pipe_input("x", 1, timestamp=5)
    assert h.out() == [("7", 7, 4)]
    assert h.out("after") == [("x", 1, 5)]
    assert "app-by-value-repartition" in h.driver.producer_topic_names()
    assert "by-value-repartition" in h.topology.internal_topics


def test_timestamp_extractor_sets_event_time(harness) -> None:  # type: ignore[no-untyped-def]
    b = StreamsBuilder()
    b.stream("input", key_serde=S, value_serde=J,
             timestamp_extractor=lambda rec, partition_time: rec.value["ts"]).to("output")
    h = harness(b)
    h.input().pipe_input("a", {"ts": 1234}, timestamp=1)
    assert h.out() == [("a", {"ts": 1234}, 1234)]


class Ride(faust.Record, serializer="json"):
    vendor: int
    amount: float


def test_faust_record_models_as_values(harness) -> None:  # type: ignore[no-untyped-def]
    b = StreamsBuilder()
    b.stream("rides", key_serde=S, value_serde=Ride) \
        .filter(lambda k, ride: ride.amount > 10).to("big")
    h = harness(b)
    rides = h.driver.create_input_topic("rides", S, Ride)
    rides.pipe_input("r1", Ride(vendor=1, amount=5.0), timestamp=1)
    rides.pipe_input("r2", Ride(vendor=2, amount=50.0), timestamp=2)
    assert h.driver.create_output_topic("big", S, Ride).read_key_values_to_list() == [
        ("r2", Ride(vendor=2, amount=50.0))
    ]
