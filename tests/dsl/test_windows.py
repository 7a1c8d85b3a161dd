"""Windowed aggregations through the TopologyTestDriver: window assignment, grace, late
drops, retention, session merging, suppression, emit-on-close, caching and changelogs."""

from __future__ import annotations

from typing import Any

import pytest

from streams_app import (
    EmitStrategy,
    Materialized,
    SessionWindows,
    SlidingWindows,
    StreamsBuilder,
    Suppressed,
    TimeWindows,
    TopologyTestDriver,
    Windowed,
)
from streams_app.serdes import BytesSerde, JsonSerde, LongSerde, StringSerde
from streams_app.state.window_keys import session_store_key, window_store_key

S, J, L = StringSerde(), JsonSerde(), LongSerde()


def _wk(k: Windowed, v: Any) -> tuple[str, Any]:
    return f"{k.key}@{k.start}/{k.end}", v


def _count(windows: Any, emit: EmitStrategy | None = None, suppress: bool = False,
           store: str = "store") -> StreamsBuilder:
    b = StreamsBuilder()
    w = b.stream("input", key_serde=S, value_serde=J).group_by_key().windowed_by(windows)
    if emit is not None:
        w = w.emit_strategy(emit)
    table = w.count(Materialized(store_name=store, key_serde=S, value_serde=L))
    if suppress:
        table = table.suppress(Suppressed.until_window_closes(
            Suppressed.BufferConfig.unbounded()))
    table.to_stream().map(_wk).to("output", key_serde=S, value_serde=L)
    return b


def _run(b: StreamsBuilder, records: list[tuple[str | None, Any, int]],
         config: dict[str, Any] | None = None) -> tuple[TopologyTestDriver, list[Any]]:
    cfg = {"application_id": "app", "cache_max_entries": 0, **(config or {})}
    d = TopologyTestDriver(b.build(), cfg)
    topic = d.create_input_topic("input", S, J)
    for key, value, ts in records:
        topic.pipe_input(key, value, ts)
    out = [(r.key, r.value, r.timestamp)
           for r in d.create_output_topic("output", S, L).read_records_to_list()]
    return d, out


def test_tumbling_count_grace_and_late_drop() -> None:
    d, out = _run(_count(TimeWindows.of_size_and_grace(10, 5)), [
        ("a", 1, 3), ("a", 1, 12), ("a", 1, 7),  # 7 is late but within grace (close 7)
        ("a", 1, 16),  # stream time 16: window [0,10) closes (10 <= 16 - 5 + ...)
        ("a", 1, 4),   # late beyond grace: dropped
        ("b", None, 15),  # null values count
        (None, 1, 15),  # null keys are dropped
    ])
    assert out == [("a@0/10", 1, 3), ("a@10/20", 1, 12), ("a@0/10", 2, 7),
                   ("a@10/20", 2, 16), ("b@10/20", 1, 15)]
    store = d.get_window_store("store")
    assert dict(store.all()) == {Windowed("a", 0, 10): 2, Windowed("a", 10, 20): 2,
                                 Windowed("b", 10, 20): 1}
    ts_store = d.get_timestamped_window_store("store")
    assert ts_store.fetch("a", 0) == (2, 7)  # value and max record timestamp
    d.close()


def test_hopping_windows_and_retention() -> None:
    d, out = _run(_count(TimeWindows.of_size_with_no_grace(10).advance_by(5)), [
        ("a", 1, 7), ("a", 1, 12), ("a", 1, 40),
    ])
    assert out == [("a@0/10", 1, 7), ("a@5/15", 1, 7), ("a@5/15", 2, 12), ("a@10/20", 1, 12),
                   ("a@35/45", 1, 40), ("a@40/50", 1, 40)]
    # retention = size + grace = 10: windows starting before 40 - 10 + 1 are gone
    assert sorted(w.start for w, _ in d.get_window_store("store").all()) == [35, 40]
    d.close()


def test_sliding_windows() -> None:
    b = StreamsBuilder()
    (b.stream("input", key_serde=S, value_serde=J).group_by_key()
     .windowed_by(SlidingWindows.of_time_difference_with_no_grace(10))
     .reduce(lambda agg, v: agg + v, Materialized(store_name="store", key_serde=S,
                                                   value_serde=J))
     .to_stream().map(_wk).to("output", key_serde=S, value_serde=J))
    d = TopologyTestDriver(b.build(), {"application_id": "app", "cache_max_entries": 0})
    topic = d.create_input_topic("input", S, J)
    for value, ts in [(1, 20), (2, 25), (None, 26), (4, 40)]:
        topic.pipe_input("a", value, ts)
    out = [(r.key, r.value, r.timestamp)
           for r in d.create_output_topic("output", S, J).read_records_to_list()]
    assert out == [
        ("a@10/20", 1, 20),  # left window of 20
        ("a@21/31", 2, 25),  # right window of 20 (holds 25)
        ("a@15/25", 3, 25),  # left window of 25 holds 20 and 25
        ("a@30/40", 4, 40),  # left window of 40 (null value at 26 was dropped)
    ]
    d.close()


def _sessions(b: StreamsBuilder, gap: int, grace: int = 0, emit: EmitStrategy | None = None
              ) -> StreamsBuilder:
    w = (b.stream("input", key_serde=S, value_serde=J).group_by_key()
         .windowed_by(SessionWindows.of_inactivity_gap_and_grace(gap, grace)))
    if emit is not None:
        w = w.emit_strategy(emit)
    (w.count(Materialized(store_name="store", key_serde=S, value_serde=L))
     .to_stream().map(_wk).to("output", key_serde=S, value_serde=L))
    return b


def test_session_merging_forwards_tombstones() -> None:
    d, out = _run(_sessions(StreamsBuilder(), gap=5, grace=10), [
        ("a", 1, 0), ("a", 1, 10), ("a", 1, 4), ("a", 1, 7),
    ])
    assert out == [
        ("a@0/0", 1, 0), ("a@10/10", 1, 10),
        ("a@0/0", None, 0), ("a@0/4", 2, 4),  # 4 joins [0,0]
        ("a@0/4", None, 4), ("a@10/10", None, 10), ("a@0/10", 4, 10),  # 7 bridges both
    ]
    store = d.get_session_store("store")
    assert list(store.find_sessions("a", 0, 100)) == [(Windowed("a", 0, 10), 4)]
    d.close()


def test_session_late_record_beyond_grace_is_dropped() -> None:
    d, out = _run(_sessions(StreamsBuilder(), gap=5, grace=2), [
        ("a", 1, 20), ("b", 1, 30), ("a", 1, 22), ("a", 1, 24),
    ])
    # at stream time 30 sessions ending before 30 - 5 - 2 = 23 are closed, and the store
    # (retention 7) no longer shows sessions ending before 24: 22 makes [22,22], closed,
    # dropped; 24 cannot see [20,20] and opens [24,24] (Kafka's behaviour too)
    assert out == [("a@20/20", 1, 20), ("b@30/30", 1, 30), ("a@24/24", 1, 24)]
    d.close()


def test_suppress_until_window_closes_emits_final_results_only() -> None:
    d, out = _run(_count(TimeWindows.of_size_and_grace(10, 2), suppress=True), [
        ("a", 1, 1), ("a", 1, 5), ("b", 1, 9), ("a", 1, 11),
        ("a", 1, 12),  # stream time 12 = end 10 + grace 2: [0,10) closes
        ("a", 1, 30),
    ])
    assert out == [("a@0/10", 2, 5), ("b@0/10", 1, 9), ("a@10/20", 2, 12)]
    d.close()


def test_suppress_until_time_limit_and_buffer_full() -> None:
    b = StreamsBuilder()
    (b.stream("input", key_serde=S, value_serde=J).group_by_key()
     .count(Materialized(store_name="store", key_serde=S, value_serde=L))
     .suppress(Suppressed.until_time_limit(10, Suppressed.BufferConfig.max_records(2)))
     .to_stream().to("output", key_serde=S, value_serde=L))
    d, out = _run(b, [("a", 1, 0), ("a", 1, 5), ("b", 1, 6), ("c", 1, 7), ("b", 1, 16)])
    # c overflows the 2-record buffer: the oldest (a, latest count 2) goes early; at 16
    # stream time passes 6 + 10, so b (buffered since 6) goes with its latest count
    assert out == [("a", 2, 5), ("b", 2, 16)]
    d.close()


def _throttled_task(clock: list[int], **config: Any) -> Any:
    from streams_app.runtime.config import StreamsConfig
    from streams_app.runtime.task import StreamTask

    topo = _count(TimeWindows.of_size_with_no_grace(10),
                  emit=EmitStrategy.on_window_close()).build()
    cfg = StreamsConfig.from_mapping({"application_id": "app", "cache_max_entries": 0,
                                      **config})
    return StreamTask(topo, topo.subtopologies()[0], cfg, wall_clock=lambda: clock[0])


def test_emit_on_window_close_is_throttled_by_wall_clock() -> None:
    clock = [0]
    task = _throttled_task(clock)

    def pipe(key: str, ts: int) -> list[tuple[Any, ...]]:
        task.process("input", key.encode(), b"1", ts)
        task.commit()
        return [(S.deserialize(k), L.deserialize(v), t) for _, k, v, t, _ in task.drain_output()]

    assert pipe("a", 5) == []  # nothing closed; the first check uses up this second
    assert pipe("b", 12) == []  # [0,10) is closed but the next emit is due at 1000
    clock[0] = 1000
    assert pipe("a", 13) == [("a@0/10", 1, 5)]
    clock[0] = 1500
    assert pipe("a", 25) == []  # throttled again
    clock[0] = 2000
    assert pipe("c", 26) == [("a@10/20", 1, 13), ("b@10/20", 1, 12)]
    task.close()


def test_emit_interval_setting_turns_the_throttle_off() -> None:
    # Kafka's internal __emit.interval.ms.kstreams.windowed.aggregation__ (0 in its driver)
    from streams_app.runtime.config import ConfigError, StreamsConfig

    task = _throttled_task([0], windowed_emit_interval_ms=0)  # the wall clock stands still
    out = []
    for key, ts in [("a", 5), ("b", 12), ("a", 25)]:
        task.process("input", key.encode(), b"1", ts)
        task.commit()
        out += [(S.deserialize(k), L.deserialize(v), t) for _, k, v, t, _ in task.drain_output()]
    assert out == [("a@0/10", 1, 5), ("b@10/20", 1, 12)]
    task.close()
    with pytest.raises(ConfigError, match="windowed_emit_interval_ms"):
        StreamsConfig.from_mapping({"windowed_emit_interval_ms": -1})


def test_emit_on_window_close_in_driver_is_not_throttled() -> None:
    d, out = _run(_count(TimeWindows.of_size_with_no_grace(10),
                         emit=EmitStrategy.on_window_close()),
                  [("a", 1, 5), ("a", 1, 7), ("b", 1, 12), ("a", 1, 21)])
    assert out == [("a@0/10", 2, 7), ("b@10/20", 1, 12)]
    d.close()


def test_cache_forwards_one_update_per_window_per_commit() -> None:
    from streams_app.runtime.config import StreamsConfig
    from streams_app.runtime.task import StreamTask

    topo = _count(TimeWindows.of_size_and_grace(10, 20)).build()
    cfg = StreamsConfig.from_mapping({"application_id": "app", "cache_max_entries": 100})
    task = StreamTask(topo, topo.subtopologies()[0], cfg)
    for key, ts in [("a", 1), ("a", 2), ("b", 3), ("a", 11), ("a", 4)]:
        task.process("input", key.encode(), b"1", ts)
    assert task.drain_output() == []
    task.commit()
    out = [(S.deserialize(k), L.deserialize(v), t) for _, k, v, t, _ in task.drain_output()]
    # dirty order of last writes: b@0, a@10, a@0; timestamps are the windows' max
    assert out == [("b@0/10", 1, 3), ("a@10/20", 1, 11), ("a@0/10", 3, 4)]
    task.close()


def test_window_and_session_changelogs_use_kafka_key_layouts() -> None:
    b = StreamsBuilder()
    g = b.stream("input", key_serde=S, value_serde=J).group_by_key()
    g.windowed_by(TimeWindows.of_size_with_no_grace(10)).count(
        Materialized(store_name="w", key_serde=S, value_serde=L))
    g.windowed_by(SessionWindows.of_inactivity_gap_with_no_grace(5)).count(
        Materialized(store_name="s", key_serde=S, value_serde=L))
    d = TopologyTestDriver(b.build(), {"application_id": "app", "cache_max_entries": 0})
    topic = d.create_input_topic("input", S, J)
    topic.pipe_input("k", 1, 3)
    topic.pipe_input("k", 1, 6)
    raw = BytesSerde()
    wlog = d.create_output_topic("app-w-changelog", raw, raw).read_records_to_list()
    assert [(r.key, r.value, r.timestamp) for r in wlog] == [
        (window_store_key(b"k", 0), L.serialize(1), 3),
        (window_store_key(b"k", 0), L.serialize(2), 6),
    ]
    slog = d.create_output_topic("app-s-changelog", raw, raw).read_records_to_list()
    assert [(r.key, r.value, r.timestamp) for r in slog] == [
        (session_store_key(b"k", 3, 3), L.serialize(1), 3),
        (session_store_key(b"k", 3, 3), None, 6),  # merged away
        (session_store_key(b"k", 3, 6), L.serialize(2), 6),
    ]
    d.close()


def test_bad_window_settings_fail_naming_the_setting() -> None:
    with pytest.raises(ValueError, match="TimeWindows size"):
        TimeWindows.of_size_with_no_grace(0)
    with pytest.raises(ValueError, match="TimeWindows advance"):
        TimeWindows.of_size_with_no_grace(10).advance_by(11)
    with pytest.raises(ValueError, match="SessionWindows grace"):
        SessionWindows.of_inactivity_gap_and_grace(5, -1)
    with pytest.raises(TypeError, match="SlidingWindows time difference"):
        SlidingWindows.of_time_difference_with_no_grace("10")  # type: ignore[arg-type]
    b = StreamsBuilder()
    g = b.stream("input").group_by_key()
    with pytest.raises(TypeError, match="windowed_by"):
        g.windowed_by(10)
    with pytest.raises(ValueError, match="until_window_closes"):
        g.count().suppress(Suppressed.until_window_closes(Suppressed.BufferConfig.unbounded()))
    with pytest.raises(ValueError, match="must not emit early"):
        Suppressed.until_window_closes(Suppressed.BufferConfig.max_records(3))
