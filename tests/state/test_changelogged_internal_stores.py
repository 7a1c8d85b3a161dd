"""Join window stores, the outer join's shared store and suppression buffers are changelogged.

In process, no broker: a task runs the first records, its changelog records (bytes, as they
would go to Kafka) are decoded into fresh stores, and a new task built on those stores runs
the rest. The output must equal the TopologyTestDriver's for the whole input.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from streams_app import (
    JoinWindows,
    KTable,
    StreamJoined,
    StreamsBuilder,
    Suppressed,
    TopologyTestDriver,
)
from streams_app.dsl.topology import Topology
from streams_app.runtime.config import StreamsConfig
from streams_app.runtime.task import StreamTask, bind_serde
from streams_app.serdes import JsonSerde, LongSerde, StringSerde
from streams_app.state.api import ValueAndTimestamp, Windowed
from streams_app.state.spec import KEY_VALUE, WINDOW, StoreSpec, in_memory_store
from streams_app.state.store_serdes import (
    BufferKeySerde,
    BufferValueSerde,
    JoinSideKeySerde,
    JoinValuesSerde,
    LeftOrRightValuesSerde,
)
from streams_app.state.window_keys import split_window_store_key
from tests.runtime.restart_topologies import TOPOLOGIES

S, J = StringSerde(), JsonSerde()
CONFIG = {"default_key_serde": "string", "cache_max_entries": 0}
Records = list[tuple[str, str, Any, int]]  # (topic, key, value, timestamp)


# -- serdes ------------------------------------------------------------------------------------


def test_join_values_round_trip_and_bind_the_default_serde() -> None:
    serde = JoinValuesSerde(None).bind_defaults(S, J)
    values = [{"n": 1}, {"n": 1}, [2, "x"], "s"]
    assert serde.deserialize(serde.serialize(values)) == values
    assert serde.deserialize(serde.serialize([])) == []
    assert serde.serialize(None) is None


def test_join_side_keys_round_trip_and_sort_by_time_side_key() -> None:
    serde = JoinSideKeySerde(S)
    keys = [(5, 1, "b"), (5, 0, "z"), (1_700_000_000_000, 0, "a"), (5, 1, "a"), (0, 1, "é")]
    assert [serde.deserialize(serde.serialize(k)) for k in keys] == keys
    assert sorted(keys, key=serde.serialize) == sorted(keys)


def test_left_or_right_values_round_trip() -> None:
    serde = LeftOrRightValuesSerde(J, LongSerde())
    held = [({"n": 1}, None), (None, 7), ({"n": 1}, None)]
    assert serde.deserialize(serde.serialize(held)) == held


def test_buffer_keys_and_values_round_trip() -> None:
    keys = BufferKeySerde(None).bind_defaults(S, J)
    for key in ("plain", Windowed("k", 1_000, 2_000), Windowed("", 0, 0)):
        assert keys.deserialize(keys.serialize(key)) == key
    values = BufferValueSerde(J)
    entry = (2_000, 1_500, (("trace", b"\x00\x01"), ("empty", None)), None, {"n": 1}, {"n": 2})
    assert values.deserialize(values.serialize(entry)) == entry


# -- describe -----------------------------------------------------------------------------------


def test_describe_lists_the_changelogs_of_join_stores_and_suppression_buffers() -> None:
    text = str(TOPOLOGIES["stream_left_join"]("").describe())
    for store, kind in (("KSTREAM-JOINTHIS-0000000004-store", "window"),
                        ("KSTREAM-OUTEROTHER-0000000005-store", "window"),
                        ("KSTREAM-OUTERSHARED-0000000004-store", "key-value")):
        assert f"{store} ({kind}, changelog: <application_id>-{store}-changelog)" in text
    text = str(TOPOLOGIES["suppressed_count"]("").describe())
    store = "KTABLE-SUPPRESS-STATE-STORE-0000000003"
    assert f"Processor: KTABLE-SUPPRESS-0000000002 (stores: [{store}])" in text
    assert f"{store} (key-value, changelog: <application_id>-{store}-changelog)" in text


def test_named_suppression_and_unlogged_join_stores() -> None:
    b = StreamsBuilder()
    left = b.stream("left", key_serde=S, value_serde=J)
    left.outer_join(b.stream("right", key_serde=S, value_serde=J), lambda a, c: [a, c],
                    JoinWindows.of_time_difference_with_no_grace(5),
                    StreamJoined(store_name="st", logging=False)).to("out")
    b.table("t", key_serde=S, value_serde=J).suppress(
        Suppressed.until_time_limit(10, Suppressed.BufferConfig.unbounded()).with_name("hold"))
    text = str(b.build().describe())
    for store in ("st-outer-this-join-store", "st-outer-other-join-store",
                  "st-outer-shared-join-store"):
        assert re.search(rf"\n    {store} \((window|key-value), no changelog\)", text), store
    assert "hold-store (key-value, changelog: <application_id>-hold-store-changelog)" in text


# -- restart in process ---------------------------------------------------------------------------


def _until_time_limit(p: str) -> Topology:
    b = StreamsBuilder()
    table: KTable = b.table(f"{p}in", key_serde=S, value_serde=J)
    table.suppress(Suppressed.until_time_limit(100, Suppressed.BufferConfig.unbounded())
                   ).to_stream().to(f"{p}out", value_serde=J)
    return b.build()


BUILDERS = {**TOPOLOGIES, "until_time_limit": _until_time_limit}


def _decode(out: list) -> list[tuple]:
    return [(S.deserialize(k), J.deserialize(v), ts) for _, k, v, ts, _ in out]


def driver_output(topology: Topology, records: Records) -> list[tuple]:
    with TopologyTestDriver(topology, CONFIG) as driver:
        for topic, key, value, ts in records:
            driver.create_input_topic(topic, S, J).pipe_input(key, value, timestamp=ts)
        return [(r.key, r.value, r.timestamp)
                for r in driver.create_output_topic("out", S, J).read_records_to_list()]


def _restored(changelog: list, config: StreamsConfig) -> Any:
    """A store factory that replays ``changelog`` (serialized records) into fresh stores."""
    def factory(spec: StoreSpec) -> Any:
        store = in_memory_store(spec)
        topic = spec.changelog_topic(config.application_id)
        ks = bind_serde(spec.key_serde, config.default_key_serde, config)
        vs = bind_serde(spec.value_serde, config.default_value_serde, config)
        for t, k, v, ts, _ in changelog:
            if t != topic:
                continue
            value = vs.deserialize(v)
            if value is not None and spec.timestamped:
                value = ValueAndTimestamp(value, ts)
            if spec.kind == WINDOW:
                kb, start, _ = split_window_store_key(k)
                store.put(ks.deserialize(kb), value, start)
            else:
                assert spec.kind == KEY_VALUE
                store.put(ks.deserialize(k), value)
        return store

    return factory


def run_with_restart(topology: Topology, first: Records, second: Records,
                     restore: bool = True) -> list[tuple]:
    """``first`` on one task, then ``second`` on a new task with stores from the changelog."""
    config = StreamsConfig.from_mapping(CONFIG)
    [sub] = topology.subtopologies()
    out: list = []
    changelog: list = []

    def run(task: StreamTask, records: Records) -> None:
        task.outer_join_emit_interval_ms = 0  # type: ignore[attr-defined] - as the driver
        for topic, key, value, ts in records:
            task.process(topic, S.serialize(key), J.serialize(value), ts)
            task.commit()
            out.extend(task.drain_output())
            changelog.extend(task.drain_changelogs())

    first_task = StreamTask(topology, sub, config, wall_clock=lambda: 0)
    run(first_task, first)
    first_task.close()
    factory = _restored(changelog, config) if restore else in_memory_store
    run(StreamTask(topology, sub, config, store_factory=factory, wall_clock=lambda: 0), second)
    return _decode(out)


LEFT = [("left", f"k{i}", {"n": i}, 1_000 + i * 100) for i in range(5)]
LEFT += [("left", "k2", {"n": 22}, 1_200), ("left", None, {"n": -1}, 1_250)]
RIGHT = [("right", "k1", {"n": 101}, 1_400), ("right", "k3", {"n": 103}, 1_600),
         ("right", "k3", {"n": 113}, 1_600), ("right", "k9", {"n": 109}, 1_650),
         # far ahead: every window above closes, unmatched left records come out
         ("right", "kz", {"n": 0}, 5_000), ("left", "kz", {"n": 0}, 5_001)]
WINDOWED = [("in", k, {"n": i}, 10 * i) for i, k in enumerate("abcab")]
WINDOWED_LATER = [("in", "a", {"n": 9}, 400), ("in", "d", {"n": 9}, 1_200),
                  ("in", "e", {"n": 9}, 1_600), ("in", "b", {"n": 9}, 3_000)]
TABLE = [("in", "a", {"n": 1}, 0), ("in", "b", {"n": 2}, 30), ("in", "a", {"n": 3}, 60),
         ("in", "b", None, 80)]
TABLE_LATER = [("in", "c", {"n": 4}, 120), ("in", "a", {"n": 5}, 150), ("in", "d", {"n": 6}, 400)]


@pytest.mark.parametrize(("name", "first", "second"), [
    ("stream_join", LEFT, RIGHT),
    ("stream_left_join", LEFT, RIGHT),
    ("suppressed_count", WINDOWED, WINDOWED_LATER),
    ("until_time_limit", TABLE, TABLE_LATER),
])
def test_restored_stores_give_the_uninterrupted_output(name: str, first: Records,
                                                       second: Records) -> None:
    want = driver_output(BUILDERS[name](""), first + second)
    assert run_with_restart(BUILDERS[name](""), first, second) == want
    # the state before the restart matters: fresh stores would give something else
    assert run_with_restart(BUILDERS[name](""), first, second, restore=False) != want


def test_a_left_join_emits_held_records_once_after_a_restart() -> None:
    got = run_with_restart(TOPOLOGIES["stream_left_join"](""), LEFT, RIGHT)
    unmatched = [(k, v) for k, v, _ in got if v["r"] is None]
    assert unmatched == [(None, {"l": -1, "r": None}), ("k0", {"l": 0, "r": None}),
                         ("k2", {"l": 2, "r": None}), ("k2", {"l": 22, "r": None}),
                         ("k4", {"l": 4, "r": None})]
