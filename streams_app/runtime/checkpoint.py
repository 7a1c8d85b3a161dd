"""One commit, in Kafka Streams' order: the only place a worker commits.

The commit interval, a revocation (the consumer commits before giving partitions up) and
shutdown all reach :meth:`Checkpoint.commit` through the consumer. Its steps, in order
(Kafka Streams: ``TaskManager.commit`` -> ``StreamTask.prepareCommit`` ->
``RecordCollector.flush`` -> offsets; Quix Streams' ``Checkpoint.commit`` has the same):

1. snapshot the offsets handled so far (batches handled while the commit awaits belong to
   the next one: their state may already be in this flush, counted again after a crash at
   worst, never lost);
2. flush the tasks' record caches (their updates go downstream, into the collectors);
3. produce the collected output and changelog records;
4. flush the producer: wait until every record is acknowledged;
5. commit the offsets: the consumer group commit, or under exactly-once, add them to the
   open transaction and commit it (records and offsets visible together).

Under exactly-once the whole commit holds the transaction's lock, so no batch runs between
the snapshot and the transaction commit (a batch whose offsets are not in the transaction
must not leave records in it).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Protocol

from faust.types import TP

if TYPE_CHECKING:
    from streams_app.runtime.producing import BulkProducer
    from streams_app.runtime.task import StreamTask
    from streams_app.runtime.transactions import WorkerTransaction

__all__ = ["AfterCommit", "Checkpoint", "OffsetSource"]

log = logging.getLogger(__name__)

#: ``callback(offsets)`` after a successful commit: the committed next offset per partition.
AfterCommit = Callable[[Mapping[TP, int]], Awaitable[None]]


class OffsetSource(Protocol):
    """The consumer's side of a commit (see :class:`~.faust_transport.BatchConsumer`)."""

    def partitions_with_acks(self) -> list[TP]:
        """Every partition with handled records."""
        ...

    def snapshot_offsets(self) -> Mapping[TP, int]:
        """Take the offsets handled so far; the next commit writes them."""
        ...

    async def commit_snapshot(self, tps: Iterable[TP]) -> bool:
        """Commit the snapshot's offsets of ``tps`` (and Faust's own, for other partitions)."""
        ...

    def release_snapshot(self, snapshot: Mapping[TP, int], committed: bool) -> None:
        """Give back what the commit did not write (all of it if it failed)."""
        ...


class Checkpoint:
    """Commits the worker's tasks: ``tasks()`` lists the live ones, ``producer()`` is the
    bulk producer their records go through, ``transaction`` the worker's under exactly-once.

    ``after_commit`` callbacks run after every commit that did not raise, with the
    batch-handled offsets it committed (none if it committed nothing), e.g. to purge
    repartition topics up to them, as Kafka Streams does.
    """

    def __init__(self, tasks: Callable[[], Iterable[StreamTask]] = tuple,
                 producer: Callable[[], BulkProducer | None] | None = None,
                 transaction: WorkerTransaction | None = None,
                 after_commit: Iterable[AfterCommit] = ()) -> None:
        self.tasks = tasks
        self.producer = producer
        self.transaction = transaction
        self.after_commit: list[AfterCommit] = list(after_commit)

    async def commit(self, source: OffsetSource, tps: Iterable[TP]) -> bool:
        """Commit everything handled so far; True if offsets were committed."""
        txn = self.transaction
        if txn is not None and txn.producer is None:
            return False  # stopping before start-up got that far: nothing was sent
        async with (txn.lock if txn is not None else contextlib.nullcontext()):
            if txn is not None:
                await txn.begin()
                # Every partition with handled batches, not only ``tps`` (listed before the
                # lock was taken): the transaction holds the output of all of them.
                tps = source.partitions_with_acks()
            # 1. Snapshot the offsets handled so far.
            snapshot = source.snapshot_offsets()
            committed = False
            try:
                # 2. Flush the caches. No await until every task is flushed: a revocation
                # cannot come between (a revoked task's collector is discarded).
                tasks = list(self.tasks())
                for task in tasks:
                    task.commit()
                producer = self.producer() if self.producer is not None else None
                if producer is not None:
                    # 3. Produce changelog and output records.
                    for task in tasks:
                        await task.record_collector.send(producer)
                    # 4. Flush the producer: every record acknowledged.
                    await producer.flush()
                # 5. Commit the offsets (under exactly-once: into the transaction, then
                # commit it, also without offsets: it may hold punctuation output).
                committed = await source.commit_snapshot(tps)
                if txn is not None:
                    await txn.commit()
            except Exception:
                if txn is not None:
                    # The local stores now hold writes the broker will never see.
                    txn.failed = True
                raise
            finally:
                source.release_snapshot(snapshot, committed)
        # Also after a commit with nothing new: a purge due since the last one runs now.
        for callback in self.after_commit:
            await callback(snapshot if committed else {})
        return committed
