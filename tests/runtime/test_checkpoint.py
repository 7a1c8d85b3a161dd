"""The checkpoint's order (Kafka Streams' commit): snapshot, flush caches, produce, flush the
producer, commit offsets; a failed commit gives its offsets back. Real StreamTasks and record
collectors; the producer and the consumer side are recorders (no broker needed here; the
broker runs are tests/runtime/test_faust_runtime.py and test_exactly_once.py)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Mapping
from typing import Any

import pytest
from faust.types import TP

from streams_app.dsl.builder import StreamsBuilder
from streams_app.runtime.checkpoint import Checkpoint
from streams_app.runtime.config import StreamsConfig
from streams_app.runtime.record_collector import OutputRecord
from streams_app.runtime.task import StreamTask
from streams_app.serdes import LongSerde, StringSerde

S, L = StringSerde(), LongSerde()
TP0 = TP("words", 0)


class Recorder:
    """Producer and offset source in one, writing what happens into ``steps``."""

    def __init__(self, fail_commit: bool = False) -> None:
        self.steps: list[Any] = []
        self.fail_commit = fail_commit
        self.done = {TP0: 3}
        self.released: list[tuple[dict, bool]] = []

    async def send(self, records: Iterable[OutputRecord], partition: int | None = None) -> int:
        records = list(records)
        self.steps.append(("send", partition, [(r[0], r[1], r[2]) for r in records]))
        return len(records)

    async def flush(self) -> None:
        self.steps.append("flush")

    def partitions_with_acks(self) -> list[TP]:
        return [TP0]

    def snapshot_offsets(self) -> Mapping[TP, int]:
        self.steps.append("snapshot")
        snapshot, self.done = self.done, {}
        return snapshot

    async def commit_snapshot(self, tps: Iterable[TP]) -> bool:
        self.steps.append(("commit", list(tps)))
        if self.fail_commit:
            raise RuntimeError("broker said no")
        return True

    def release_snapshot(self, snapshot: Mapping[TP, int], committed: bool) -> None:
        self.released.append((dict(snapshot), committed))


def _count_task() -> StreamTask:
    builder = StreamsBuilder()
    builder.stream("words", key_serde=S, value_serde=S).group_by_key().count("counts") \
        .to_stream().to("totals", key_serde=S)
    topology = builder.build()
    (sub,) = topology.subtopologies()
    config = StreamsConfig.from_mapping({"application_id": "app", "cache_max_entries": 100})
    return StreamTask(topology, sub, config, partition=0)


class _Record:
    def __init__(self, key: str, offset: int) -> None:
        self.key, self.value, self.timestamp = key.encode(), b"x", 10
        self.headers, self.offset = (), offset


def _process(task: StreamTask) -> None:
    assert not task.process_records("words", [_Record("a", 0), _Record("a", 1), _Record("b", 2)])


async def test_commit_runs_the_five_steps_in_order() -> None:
    task, rec = _count_task(), Recorder()
    _process(task)
    assert await Checkpoint(lambda: [task], lambda: rec).commit(rec, [TP0])  # type: ignore[arg-type]
    assert rec.steps[0] == "snapshot"
    # caches flushed into the collector: one update per key, output then changelog
    assert rec.steps[1][0] == "send" and rec.steps[1][1] is None
    assert [(k, L.deserialize(v)) for _t, k, v in rec.steps[1][2]] == [(b"a", 2), (b"b", 1)]
    assert rec.steps[2][0] == "send" and rec.steps[2][1] == 0
    assert {t for t, _k, _v in rec.steps[2][2]} == {"app-counts-changelog"}
    assert rec.steps[3:] == ["flush", ("commit", [TP0])]
    assert rec.released == [({TP0: 3}, True)]


async def test_a_failed_commit_gives_the_snapshot_back() -> None:
    task, rec = _count_task(), Recorder(fail_commit=True)
    with pytest.raises(RuntimeError, match="broker said no"):
        await Checkpoint(lambda: [task], lambda: rec).commit(rec, [TP0])  # type: ignore[arg-type]
    assert rec.released == [({TP0: 3}, False)]


async def test_a_revoked_task_sends_nothing() -> None:
    task, rec = _count_task(), Recorder()
    _process(task)
    task.commit()  # its cache flushed into the collector, then the partition is revoked
    task.close()
    task.record_collector.discard()
    assert await Checkpoint(lambda: [], lambda: rec).commit(rec, [TP0])  # type: ignore[arg-type]
    assert rec.steps == ["snapshot", "flush", ("commit", [TP0])]


class _Transaction:
    """WorkerTransaction's shape: a lock, begin, commit."""

    def __init__(self, steps: list[Any]) -> None:
        self.lock = asyncio.Lock()
        self.producer = object()
        self.steps, self.failed = steps, False

    async def begin(self) -> None:
        self.steps.append("begin")

    async def commit(self) -> None:
        self.steps.append("commit transaction")


async def test_exactly_once_commits_the_transaction_under_its_lock() -> None:
    task, rec = _count_task(), Recorder()
    txn = _Transaction(rec.steps)
    _process(task)
    checkpoint = Checkpoint(lambda: [task], lambda: rec, txn)  # type: ignore[arg-type]
    await txn.lock.acquire()  # a batch handler runs: the commit waits for it
    commit = asyncio.ensure_future(checkpoint.commit(rec, []))  # type: ignore[arg-type]
    await asyncio.sleep(0.01)
    assert rec.steps == []
    txn.lock.release()
    assert await commit
    assert rec.steps[:2] == ["begin", "snapshot"]
    # every partition with acks, not only the ones the caller listed
    assert rec.steps[-3:] == ["flush", ("commit", [TP0]), "commit transaction"]


async def test_after_commit_gets_the_committed_offsets_only_on_success() -> None:
    seen: list[dict] = []

    async def purge(offsets: Mapping[TP, int]) -> None:
        seen.append(dict(offsets))

    for fail in (True, False):
        rec = Recorder(fail_commit=fail)
        checkpoint = Checkpoint(lambda: [], lambda r=rec: r, after_commit=[purge])  # type: ignore[arg-type]
        with pytest.raises(RuntimeError) if fail else contextlib.nullcontext():
            await checkpoint.commit(rec, [TP0])  # type: ignore[arg-type]
    assert seen == [{TP0: 3}]

