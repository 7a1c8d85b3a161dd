"""Time-synchronized input for tasks that read two or more partitions (Kafka Streams'
``PartitionGroup`` with ``max.task.idle.ms``, KIP-695).

A task of a join, a merge or co-partitioned inputs buffers each of its partitions, and always
processes next the head record with the smallest timestamp. Before processing while one of
its partitions is empty it waits: for data known to be on the broker (fetched lag > 0, or not
known yet) always, and up to ``max_task_idle_ms`` for a partition that has none (lag 0).
``max_task_idle_ms = -1`` never waits. Records leave the group in runs (consecutive records
of one partition), so a task still processes whole slices without an await per record.

Only the records of runs taken are processed, so only they may be committed: buffered
records go when their task goes (revocation) and are fetched again from the committed
offset. A partition buffering more than :data:`BUFFERED_RECORDS_PER_PARTITION` records is
paused, and resumed once drained below it (Kafka's ``buffered.records.per.partition``).

Tasks with a single input partition never use this module (their batches go straight in).
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from faust.types import TP

__all__ = ["BUFFERED_RECORDS_PER_PARTITION", "Done", "PartitionGroup", "ProcessRuns", "Run",
           "Stamps", "TimeSync"]

#: Kafka Streams' ``buffered.records.per.partition`` default.
BUFFERED_RECORDS_PER_PARTITION = 1000

#: Longest wait for a fetch (s) when no idling deadline is nearer.
FETCH_TIMEOUT_S = 1.0

Run = tuple[TP, list[Any]]
#: ``lag(tp)``: records on the broker not yet fetched (None: not known yet).
Lag = Callable[[TP], "int | None"]
#: ``pause(tp, paused)``: stop / restart fetching ``tp``.
Pause = Callable[[TP, bool], None]


class Done(NamedTuple):
    """Records of one partition processed by one handler call: first and last offset, count."""

    first: int
    last: int
    count: int


def _now_ms() -> float:
    return time.monotonic() * 1000.0


class _Queue:
    """One partition's buffered records; ``pos`` is the head (slices, not pops)."""

    __slots__ = ("records", "stamps", "pos")

    def __init__(self) -> None:
        self.records: list[Any] = []
        self.stamps: list[int] = []
        self.pos = 0

    def __len__(self) -> int:
        return len(self.records) - self.pos


class PartitionGroup:
    """The buffered input partitions of one task.

    ``max_idle_ms``: Kafka's ``max.task.idle.ms``. ``lag(tp)`` tells how many records of
    ``tp`` are on the broker but not fetched (None: unknown). Ties between equal head
    timestamps go to the partition queued first (each record taken re-queues its partition
    behind the others), which is what Kafka's priority queue does.
    """

    def __init__(self, partitions: Iterable[TP], max_idle_ms: int, lag: Lag) -> None:
        self.max_idle_ms = max_idle_ms
        self._lag = lag
        self._queues: dict[TP, _Queue] = {tp: _Queue() for tp in partitions}
        self._heap: list[tuple[int, int, TP]] = []  # non-empty queues by head timestamp
        self._seq = itertools.count()
        self._deadlines: dict[TP, float] = {}  # idling since, for empty partitions at lag 0
        self.buffered = 0

    @property
    def partitions(self) -> list[TP]:
        """The task's input partitions."""
        return list(self._queues)

    def size(self, tp: TP) -> int:
        """Records of ``tp`` buffered."""
        return len(self._queues[tp])

    def add(self, tp: TP, records: Sequence[Any], stamps: Sequence[int] | None = None) -> int:
        """Buffer fetched ``records`` of ``tp``, ordered by ``stamps`` (a timestamp
        extractor's; default: their ``timestamp``); returns how many of ``tp`` are buffered
        now."""
        queue = self._queues[tp]
        if not records:
            return len(queue)
        was_empty = not len(queue)
        if queue.pos:  # compact what was taken
            del queue.records[:queue.pos], queue.stamps[:queue.pos]
            queue.pos = 0
        queue.records.extend(records)
        queue.stamps.extend(stamps if stamps is not None else [r.timestamp for r in records])
        self.buffered += len(records)
        if was_empty:
            heapq.heappush(self._heap, (queue.stamps[0], next(self._seq), tp))
        return len(queue)

    def ready(self, now_ms: float) -> bool:
        """Whether the task may process now (Kafka's ``PartitionGroup.readyToProcess``)."""
        if self.max_idle_ms < 0:
            return True
        queued = False
        for tp, queue in self._queues.items():
            if len(queue):
                self._deadlines.pop(tp, None)
                queued = True
                continue
            lag = self._lag(tp)
            if lag is None or lag > 0:  # data on the broker (or not known yet): wait for it
                self._deadlines.pop(tp, None)
                return False
            deadline = self._deadlines.setdefault(tp, now_ms + self.max_idle_ms)
            if now_ms < deadline:
                return False
        return queued

    def take(self, now_ms: float) -> list[Run]:
        """Every record that may be processed now, in processing order, as runs."""
        runs: list[Run] = []
        heap, queues = self._heap, self._queues
        n_queues = len(queues)
        while heap:
            if len(heap) == n_queues:  # all buffered: ready, and no partition idles
                if self._deadlines:
                    self._deadlines.clear()
            elif not self.ready(now_ms):
                break
            tp = heap[0][2]
            queue = queues[tp]
            stamps, start = queue.stamps, queue.pos
            end, stop = start + 1, len(stamps)
            size = len(heap)
            if size > 1:  # the run lasts while its records come strictly before the next head
                bound = heap[1][0] if size == 2 else min(heap[1][0], heap[2][0])
                while end < stop and stamps[end] < bound:
                    end += 1
            else:
                end = stop
            runs.append((tp, queue.records[start:end]))
            self.buffered -= end - start
            if end < stop:
                queue.pos = end
                heapq.heapreplace(heap, (stamps[end], next(self._seq), tp))
            else:
                heapq.heappop(heap)
                queue.records, queue.stamps, queue.pos = [], [], 0
        return runs

    def next_deadline(self) -> float | None:
        """The earliest idling deadline while records wait (ms, monotonic), if any."""
        if not self.buffered or not self._deadlines:
            return None
        return min(self._deadlines.values())


#: ``process(partition, runs)``: run the runs through the task; what was processed per tp.
ProcessRuns = Callable[[int, list[Run]], Awaitable[Mapping[TP, Done]]]
#: ``stamps(tp, records)``: the records' event times when a timestamp extractor sets them.
Stamps = Callable[[TP, list[Any]], "list[int] | None"]
BatchHandler = Callable[[TP, list[Any]], Awaitable["Mapping[TP, Done] | None"]]


class TimeSync:
    """The partition groups of a worker's multi-input tasks, keyed by (sub-topology,
    partition). ``lag`` and ``pause`` come from the consumer (see
    :meth:`~streams_app.runtime.faust_transport.BatchConsumer.fetched_lag`)."""

    def __init__(self, max_idle_ms: int, lag: Lag, pause: Pause,
                 buffered_per_partition: int = BUFFERED_RECORDS_PER_PARTITION) -> None:
        self.max_idle_ms = max_idle_ms
        self._lag = lag
        self._pause = pause
        self._limit = buffered_per_partition
        self.groups: dict[tuple[int, int], PartitionGroup] = {}
        self._paused: set[TP] = set()
        # Partitions of the fetch being handed out whose batch is not buffered yet: their
        # records are out of the consumer (no lag left) but still on their way here.
        self._arriving: set[TP] = set()
        self.subtopologies: set[int] = set()  # ids of those handled here

    def handler(self, sub_id: int, topics: Sequence[str], process: ProcessRuns,
                stamps: Stamps | None = None) -> BatchHandler:
        """The batch handler of every source topic of sub-topology ``sub_id`` (``topics``:
        its real names): buffer the batch, process what is ready. An empty batch only
        processes what became ready (see :meth:`waiting`)."""
        self.subtopologies.add(sub_id)

        async def handle(tp: TP, records: list[Any]) -> Mapping[TP, Done]:
            key = (sub_id, tp.partition)
            group = self.groups.get(key)
            if group is None:
                group = self.groups[key] = PartitionGroup(
                    [TP(t, tp.partition) for t in topics], self.max_idle_ms, self._fetched_lag)
            self._arriving.discard(tp)
            if records and group.add(tp, records, stamps and stamps(tp, records)) > self._limit \
                    and tp not in self._paused:
                self._paused.add(tp)
                self._pause(tp, True)
            runs = group.take(_now_ms())
            if not runs:
                return {}
            if self._paused:
                for paused in [p for p in group.partitions if p in self._paused]:
                    if group.size(paused) <= self._limit:
                        self._paused.discard(paused)
                        self._pause(paused, False)
            return await process(tp.partition, runs)

        return handle

    def hand_out(self, fetched: Mapping[TP, list[Any]] | None) -> Mapping[TP, list[Any]]:
        """What the consumer hands to the handlers after a fetch: the ``fetched`` batches,
        plus an empty batch for one partition of every group whose buffered records may be
        processed now (an idling deadline passed, a lag became known)."""
        fetched = fetched or {}
        self.fetched(fetched)
        waiting = [tp for tp in self.waiting() if tp not in fetched]
        return {**fetched, **{tp: [] for tp in waiting}} if waiting else fetched

    def fetched(self, tps: Iterable[TP]) -> None:
        """The partitions of a new fetch, before their batches are handed out: a group waits
        for those not buffered yet, as Kafka Streams buffers a whole poll before processing."""
        self._arriving = set(tps)

    def _fetched_lag(self, tp: TP) -> int | None:
        return None if tp in self._arriving else self._lag(tp)

    def waiting(self) -> list[TP]:
        """One partition of every group holding records that may be processable now."""
        now = _now_ms()
        return [group.partitions[0] for group in self.groups.values()
                if group.buffered and group.ready(now)]

    def fetch_timeout(self) -> float:
        """How long the next fetch may wait (s): until the nearest idling deadline."""
        deadlines = [d for d in (g.next_deadline() for g in self.groups.values())
                     if d is not None]
        if not deadlines:
            return FETCH_TIMEOUT_S
        return min(FETCH_TIMEOUT_S, max(0.0, (min(deadlines) - _now_ms()) / 1000.0))

    def revoked(self, revoked: set[TP]) -> None:
        """Drop the groups of revoked partitions with their buffered records (uncommitted:
        the partitions' next owner fetches them again)."""
        for key, group in list(self.groups.items()):
            if any(tp in revoked for tp in group.partitions):
                del self.groups[key]
                for tp in group.partitions:  # a partition kept is fetched again
                    if tp in self._paused:
                        self._paused.discard(tp)
                        if tp not in revoked:
                            self._pause(tp, False)
