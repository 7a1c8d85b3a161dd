"""Operators as plain processors, driven directly with a recording context."""

from __future__ import annotations

from typing import Any

import pytest

from streams_app.processors import (
    Change,
    KStreamAggregate,
    KStreamBranch,
    KStreamReduce,
    KTableAggregate,
    KTableFilter,
    KTableRepartitionMap,
    Record,
    StreamsError,
)
from streams_app.state import InMemoryKeyValueStore, ValueAndTimestamp


class RecordingContext:
    """A minimal context: one store, forwarded records collected in order."""

    topic, partition, offset, timestamp, headers = "t", 0, 0, 0, ()
    current_node = None

    def __init__(self, store: Any = None) -> None:
        self.store = store
        self.forwarded: list[tuple[Record, str | None]] = []

    def get_state_store(self, name: str) -> Any:
        return self.store

    def forward(self, record: Record, child: str | None = None) -> None:
        self.forwarded.append((record, child))


def run(processor: Any, ctx: RecordingContext, *records: Record) -> list[Any]:
    processor.init(ctx)
    for record in records:
        processor.process(record)
    return [(r.key, r.value, r.timestamp) for r, _ in ctx.forwarded]


def test_stream_aggregate_timestamps_and_null_skips() -> None:
    store = InMemoryKeyValueStore("s")
    out = run(
        KStreamAggregate("s", lambda: 0, lambda k, v, a: a + v, send_old_values=True),
        RecordingContext(store),
        Record("a", 1, 10), Record("a", 2, 5), Record(None, 1, 1), Record("a", None, 99),
    )
    assert out == [("a", Change(1, 0), 10), ("a", Change(3, 1), 10)]
    assert store.get("a") == ValueAndTimestamp(3, 10)


def test_stream_reduce_without_old_values() -> None:
    out = run(KStreamReduce("s", max), RecordingContext(InMemoryKeyValueStore("s")),
              Record("a", 3, 1), Record("a", 2, 2))
    assert out == [("a", Change(3, None), 1), ("a", Change(3, None), 2)]


def test_repartition_map_sends_retraction_then_addition() -> None:
    out = run(
        KTableRepartitionMap(lambda k, v: (v, 1)), RecordingContext(),
        Record("u", Change("us", "eu"), 7),  # moved: old group first
        Record("u", Change("us", "us"), 8),  # same group: one combined change
        Record("u", Change(None, "us"), 9),  # deleted: retraction only
    )
    assert out == [
        ("eu", Change(None, 1), 7), ("us", Change(1, None), 7),
        ("us", Change(1, 1), 8),
        ("us", Change(None, 1), 9),
    ]
    with pytest.raises(StreamsError, match="should not be null"):
        run(KTableRepartitionMap(lambda k, v: (v, 1)), RecordingContext(),
            Record(None, Change(1, None), 0))


def test_table_aggregate_subtracts_then_adds() -> None:
    store = InMemoryKeyValueStore("s")
    out = run(
        KTableAggregate("s", lambda: 0, lambda k, v, a: a + v, lambda k, v, a: a - v),
        RecordingContext(store),
        Record("g", Change(5, None), 3),
        Record("g", Change(7, 5), 2),
        Record("g", Change(None, 7), 9),
    )
    assert out == [("g", Change(5, None), 3), ("g", Change(7, 5), 3), ("g", Change(0, 7), 9)]


def test_table_filter_with_old_values_skips_absent_rows() -> None:
    out = run(KTableFilter(lambda k, v: v > 0, send_old_values=True), RecordingContext(),
              Record("a", Change(-1, None), 1), Record("a", Change(-2, 3), 2))
    assert out == [("a", Change(None, 3), 2)]


def test_branch_forwards_to_named_children() -> None:
    ctx = RecordingContext()
    proc = KStreamBranch([lambda k, v: v < 0, None], ["neg", "rest"])
    proc.init(ctx)
    proc.process(Record("a", -1, 0))
    proc.process(Record("b", 1, 0))
    assert [child for _, child in ctx.forwarded] == ["neg", "rest"]
