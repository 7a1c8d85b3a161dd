"""Windowed aggregations: session aggregate with a merger, session caching, windowed sink
serdes, repartitioning before a windowed aggregation, and Windowed serdes."""

from __future__ import annotations

from typing import Any

from streams_app import (
    Grouped,
    Materialized,
    SessionWindowedSerde,
    SessionWindows,
    StreamsBuilder,
    TimeWindowedSerde,
    TimeWindows,
    TopologyTestDriver,
    Windowed,
)
from streams_app.runtime.config import StreamsConfig
from streams_app.runtime.task import StreamTask
from streams_app.serdes import JsonSerde, LongSerde, StringSerde

S, J, L = StringSerde(), JsonSerde(), LongSerde()


def test_windowed_serdes_round_trip_with_kafka_layouts() -> None:
    tw = TimeWindowedSerde(S, 10)
    assert tw.serialize(Windowed("k", 20, 30)) == b"k" + (20).to_bytes(8, "big")
    assert tw.deserialize(tw.serialize(Windowed("k", 20, 30))) == Windowed("k", 20, 30)
    sw = SessionWindowedSerde(S)
    raw = sw.serialize(Windowed("k", 3, 7))
    assert raw == b"k" + (7).to_bytes(8, "big") + (3).to_bytes(8, "big")
    assert sw.deserialize(raw) == Windowed("k", 3, 7)


def test_session_aggregate_uses_the_merger() -> None:
    b = StreamsBuilder()
    (b.stream("input", key_serde=S, value_serde=J).group_by_key()
     .windowed_by(SessionWindows.of_inactivity_gap_and_grace(5, 100))
     .aggregate(lambda: [], lambda k, v, agg: [*agg, v], lambda k, a1, a2: a1 + a2,
                Materialized(store_name="s", key_serde=S, value_serde=J))
     .to_stream().to("output"))  # key serde: SessionWindowedSerde(S) from the table
    d = TopologyTestDriver(b.build(), {"application_id": "app", "cache_max_entries": 0})
    topic = d.create_input_topic("input", S, J)
    for value, ts in [(1, 0), (2, 10), (3, 5)]:
        topic.pipe_input("a", value, ts)
    out = d.create_output_topic("output", SessionWindowedSerde(S), J).read_key_values_to_list()
    assert out == [
        (Windowed("a", 0, 0), [1]), (Windowed("a", 10, 10), [2]),
        (Windowed("a", 0, 0), None), (Windowed("a", 10, 10), None),
        # merger(initial, [1]) then merger(.., [2]), then the record's value
        (Windowed("a", 0, 10), [1, 2, 3]),
    ]
    d.close()


def test_session_cache_forwards_net_changes_on_commit() -> None:
    b = StreamsBuilder()
    (b.stream("input", key_serde=S, value_serde=J).group_by_key()
     .windowed_by(SessionWindows.of_inactivity_gap_and_grace(5, 100))
     .count(Materialized(store_name="s", key_serde=S, value_serde=L))
     .to_stream().map(lambda k, v: (f"{k.key}@{k.start}/{k.end}", v))
     .to("output", key_serde=S, value_serde=L))
    topo = b.build()
    cfg = StreamsConfig.from_mapping({"application_id": "app", "cache_max_entries": 100})
    task = StreamTask(topo, topo.subtopologies()[0], cfg)

    def run(records: list[tuple[str, int]]) -> list[tuple[Any, ...]]:
        for key, ts in records:
            task.process("input", key.encode(), b"1", ts)
        task.commit()
        return [(S.deserialize(k), L.deserialize(v), t) for _, k, v, t, _ in task.drain_output()]

    # [0,0] and [0,3] never reached the store: only the final session is forwarded
    assert run([("a", 0), ("a", 3), ("a", 6)]) == [("a@0/6", 3, 6)]
    # merging a flushed session forwards its tombstone (timestamp = session end)
    assert run([("a", 9)]) == [("a@0/6", None, 6), ("a@0/9", 4, 9)]
    task.close()


def test_group_by_repartitions_before_the_windowed_aggregation() -> None:
    b = StreamsBuilder()
    (b.stream("input", key_serde=S, value_serde=J)
     .group_by(lambda k, v: "even" if v % 2 == 0 else "odd", Grouped(key_serde=S, value_serde=J))
     .windowed_by(TimeWindows.of_size_with_no_grace(10))
     .reduce(lambda a, v: a + v, Materialized(store_name="w", key_serde=S, value_serde=J))
     .to_stream().to("output", value_serde=J))
    topo = b.build()
    assert "w-repartition" in topo.internal_topics
    d = TopologyTestDriver(topo, {"application_id": "app", "cache_max_entries": 0})
    topic = d.create_input_topic("input", S, J)
    for key, value, ts in [("x", 1, 1), ("y", 2, 2), ("z", 3, 3), ("x", 4, 12)]:
        topic.pipe_input(key, value, ts)
    out = d.create_output_topic("output", TimeWindowedSerde(S, 10), J).read_key_values_to_list()
    assert out == [(Windowed("odd", 0, 10), 1), (Windowed("even", 0, 10), 2),
                   (Windowed("odd", 0, 10), 4), (Windowed("even", 10, 20), 4)]
    d.close()


def test_cached_windows_stay_visible_after_the_store_expires_them() -> None:
    def windows(cache_entries: int) -> list[Windowed]:
        b = StreamsBuilder()
        (b.stream("input", key_serde=S, value_serde=J).group_by_key()
         .windowed_by(TimeWindows.of_size_with_no_grace(10))
         .count(Materialized(store_name="w", key_serde=S, value_serde=L)))
        d = TopologyTestDriver(b.build(), {"application_id": "app",
                                           "cache_max_entries": cache_entries})
        topic = d.create_input_topic("input", S, J)
        topic.pipe_input("a", 1, 5)
        topic.pipe_input("b", 1, 100)  # retention 10: the store hides [0,10) from now on
        got = [w for w, _ in d.get_window_store("w").all()]
        d.close()
        return got

    # Kafka's record cache keeps flushed entries (clean) and serves reads from them first
    assert windows(100) == [Windowed("a", 0, 10), Windowed("b", 100, 110)]
    assert windows(0) == [Windowed("b", 100, 110)]
    # a one-entry cache evicts a's window when b's arrives
    assert windows(1) == [Windowed("b", 100, 110)]
