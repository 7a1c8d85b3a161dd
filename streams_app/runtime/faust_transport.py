"""A Faust transport whose consumer hands each fetched batch to a batch handler.

Faust's consumer turns every record into an Event and awaits a stream step per record. Here,
topics with a registered batch handler skip that: each fetch (all records of one partition in
one ``getmany``) goes to one handler call, and the batch's offsets are acknowledged in bulk
into Faust's own commit bookkeeping. Faust still owns group membership, assignment, rebalances,
offset commits, tables and recovery; topics without a handler take Faust's normal path, so
agents keep working in the same app.

Installed as the ``streams`` transport (entry point ``faust.transports``): an app uses it with
``broker_consumer="streams://host:port"``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiokafka.structs import ConsumerRecord, TopicPartition
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP

from streams_app.runtime.checkpoint import Checkpoint
from streams_app.runtime.faust_compat import BatchConsumerBase, fetch_position
from streams_app.runtime.faust_consumer_loop import InLoopConsumerThread
from streams_app.runtime.time_sync import FETCH_TIMEOUT_S, Done, TimeSync

__all__ = ["BatchConsumer", "BatchFailed", "BatchHooks", "ConsumerParts", "Transport"]

#: How long a revocation waits for the batch handler in progress before leaving it behind.
REVOKE_WAIT_S = 10.0

#: ``handler(tp, records)``: None when all of ``records`` were processed; otherwise what was
#: processed, per partition (a time-synchronized task buffers, see runtime.time_sync).
BatchHandler = Callable[[TP, list[ConsumerRecord]], Awaitable[Mapping[TP, Done] | None]]
RevokeHook = Callable[[set[TP]], None]
RestoreHandler = Callable[[list[ConsumerRecord]], None]


class BatchFailed(Exception):
    """Raised by a batch handler whose batch stopped for good after ``processed`` records
    (an error handler said ``fail``): the consumer commits those, then stops the worker
    with ``error``."""

    def __init__(self, processed: int, error: BaseException,
                 done: Mapping[TP, Done] | None = None) -> None:
        super().__init__(str(error))
        self.processed = processed
        self.error = error
        self.done = done  # a time-synchronized task's processed records, instead of processed


class BatchHooks:
    """What the batch consumer calls: handlers per topic, restorers, revocation hooks."""

    def __init__(self) -> None:
        self.handlers: dict[str, BatchHandler] = {}
        self.on_revoked: list[RevokeHook] = []
        self.restorers: dict[str, RestoreHandler] = {}
        #: The partition groups of tasks with several inputs (None: no such task).
        self.time_sync: TimeSync | None = None

    def add_handler(self, topic: str, handler: BatchHandler) -> None:
        """Deliver every fetched batch of ``topic`` to ``handler(tp, records)``."""
        if topic in self.handlers:
            raise ValueError(f"topic {topic!r} already has a batch handler")
        self.handlers[topic] = handler

    def add_restorer(self, changelog_topic: str, restore: RestoreHandler) -> None:
        """Apply changelog fetches of ``changelog_topic`` in bulk with ``restore(records)``.

        Restore has two paths, and this is their rule. Faust's recovery handles one event
        per record; with a restorer, every record of a fetch is written at once and the
        last one also goes through Faust, which so still tracks offsets and decides when
        recovery is done (that bookkeeping lives in Faust's private recovery loop). Faust
        buffers that record and applies it later (up to 1000 at a time), so the restorer
        must skip what it already wrote: applied late, an old value would overwrite a newer
        one of the same key (see :meth:`StoreTable.apply_changelog_batch`).
        """
        self.restorers[changelog_topic] = restore

    def add_on_revoked(self, hook: RevokeHook) -> None:
        """Call ``hook(revoked)`` first thing when partitions are revoked (drop their state)."""
        self.on_revoked.append(hook)


@dataclass
class ConsumerParts:
    """What a batch consumer is built with: its hooks, the checkpoint it commits with, and
    what to stop after its last commit (the producers: nothing may be sent after it)."""

    hooks: BatchHooks = field(default_factory=BatchHooks)
    checkpoint: Checkpoint = field(default_factory=Checkpoint)
    after_last_commit: list[Callable[[], Awaitable[None]]] = field(default_factory=list)


class BatchConsumer(BatchConsumerBase):
    """Faust's aiokafka consumer with batch delivery for topics that have a handler.

    aiokafka runs in the app's event loop (:class:`InLoopConsumerThread`), not in Faust's
    consumer thread; set ``ConsumerThread`` to Faust's ``AIOKafkaConsumerThread`` for that.
    Commits go through ``parts.checkpoint`` (:meth:`commit_partitions`); the consumer is
    its :class:`~streams_app.runtime.checkpoint.OffsetSource`.
    """

    ConsumerThread: type[faust_aiokafka.AIOKafkaConsumerThread] = InLoopConsumerThread

    def __init__(self, *args: Any, parts: ConsumerParts | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        parts = parts or ConsumerParts()
        self.hooks = parts.hooks
        self.checkpoint = parts.checkpoint
        self._after_last_commit = parts.after_last_commit
        # Per partition, the offset to commit next for batch-handled records.
        self._batch_done: dict[TP, int] = {}
        # The offsets the commit in progress may write (see snapshot_offsets).
        self._committing: dict[TP, int] = {}
        # Rebalances that revoked partitions so far (a handler checks it across its awaits).
        self._revocations = 0
        self._handler_idle = asyncio.Event()  # clear while a batch handler runs
        self._handler_idle.set()

    async def drain(self, fetcher_stopped: Callable[[], bool]) -> None:  # noqa: C901 - hot loop
        """Fetch and hand each partition's batch to its handler (or to Faust)."""
        handlers = self.hooks.handlers
        restorers = self.hooks.restorers
        consumer_stopped = self.consumer_stopped
        read_offset = self.read_offsets
        try:
            while not (consumer_stopped() or fetcher_stopped()):
                time_sync = self.hooks.time_sync
                records, active = await self.next_records(
                    FETCH_TIMEOUT_S if time_sync is None else time_sync.fetch_timeout())
                await asyncio.sleep(0)
                if time_sync is not None and self.flow_active:
                    records = time_sync.hand_out(records)  # + groups that may go on now
                if not records or self.should_stop:
                    continue
                if not self.flow_active:
                    # Fetched while a rebalance stopped the flow: hand nothing over, and fetch
                    # it again later (Faust's own getmany went back to the committed offsets,
                    # which leaves a partition without any where the fetch left it: lost).
                    await self._refetch(records)
                    continue
                generation = self.app.consumer_generation_id
                fetched = list(records.items())
                for i, (tp, batch) in enumerate(fetched):
                    if self.app.consumer_generation_id != generation or not self.flow_active:
                        await self._refetch(dict(fetched[i:]))  # a rebalance began
                        break
                    if active is not None and tp not in active and not self.is_buffered(tp):
                        await self._refetch({tp: batch})  # paused meanwhile
                        continue
                    last_read = read_offset.get(tp)
                    # Faust's read offset is the next offset after a seek, the last one
                    # read after a record; like Faust, keep offsets >= it.
                    if last_read is not None and batch and batch[0].offset < last_read:
                        batch = [r for r in batch if r.offset >= last_read]
                        if not batch:
                            continue
                    handler = handlers.get(tp.topic)
                    if handler is None:
                        restore = restorers.get(tp.topic)
                        if restore is not None:
                            restore(batch)  # every record, now, in order
                            batch = batch[-1:]  # Faust sees the last: it tracks offsets
                        for record in batch:
                            await self.deliver(tp, record)
                        continue
                    revocations = self._revocations
                    self._handler_idle.clear()
                    try:
                        done = await handler(tp, batch)
                    except BatchFailed as failed:
                        self._handler_idle.set()
                        if failed.done is not None:
                            self._mark_done(failed.done)
                        await self._stop_after(tp, batch[:failed.processed]
                                               if failed.done is None else [], failed.error)
                    finally:
                        self._handler_idle.set()
                    if self._revocations != revocations:
                        # Revoked while the handler awaited longer than a revocation waits
                        # (see _commit_before_revoke): the task and its uncommitted state went
                        # with the partition, and the new assignment reads it again from the
                        # committed offset. Marking the batch done would skip it there.
                        await self._refetch({tp: batch})
                        if done:
                            await self._seek_back({p: d.first for p, d in done.items()})
                        continue
                    if done is not None:  # a time-synchronized task: what it processed
                        if self._mark_done(done):
                            await self.commit()
                        continue
                    last = batch[-1].offset
                    read_offset[tp] = last
                    self._batch_done[tp] = last + 1
                    if self.mark_acked(tp, len(batch)):
                        await self.commit()
        except self.consumer_stopped_errors:
            if self.transport.app.should_stop:
                self.log.info("Broker stopped consumer, shutting down...")
                return
            raise
        except asyncio.CancelledError:
            if self.transport.app.should_stop:
                return
            raise
        except Exception as exc:  # crash the app like Faust's own drain loop
            self.log.exception("Drain messages raised: %r", exc)
            raise

    async def _stop_after(self, tp: TP, done: list[Any], error: BaseException) -> None:
        """Commit everything handled, ``done`` (the failed batch's records before the failing
        one) included, then raise ``error``: the worker stops, and a restart resumes at the
        failing record."""
        if done:
            last = done[-1].offset
            self.read_offsets[tp] = last
            self._batch_done[tp] = last + 1
            self.mark_acked(tp, len(done))
        await self.commit()
        raise error

    def _mark_done(self, done: Mapping[TP, Done]) -> bool:
        """Note processed records (per partition); True when Faust's commit_every is reached."""
        due = False
        read_offset = self.read_offsets
        for tp, d in done.items():
            read_offset[tp] = d.last
            self._batch_done[tp] = d.last + 1
            due = self.mark_acked(tp, d.count) or due
        return due

    def fetched_lag(self, tp: TP) -> int | None:
        """Records of ``tp`` on the broker (up to the last stable offset under read_committed)
        not fetched yet, as of the last fetch response; None when not known (yet)."""
        consumer = self.aiokafka_in_loop()
        if consumer is None:
            return 0  # Faust's consumer thread: not known here, so never wait for it
        part = TopicPartition(tp.topic, tp.partition)
        if part not in consumer.assignment():
            return 0  # not this worker's: nothing will come to wait for
        position = fetch_position(consumer, tp)
        if position is None:
            return None
        end = consumer.last_stable_offset(part)
        if end is None or end < 0:  # read_uncommitted: the high watermark
            end = consumer.highwater(part)
        return None if end is None else max(0, end - position)

    def pause_fetching(self, tp: TP, paused: bool) -> None:
        """Stop (or restart) fetching ``tp`` while its records are buffered."""
        self._pause_fetching({tp}, pause=paused)

    async def _refetch(self, records: Mapping[TP, list[Any]]) -> None:
        """Seek every still-assigned partition back to its first record in ``records``."""
        await self._seek_back({tp: batch[0].offset for tp, batch in records.items() if batch})

    async def _seek_back(self, firsts: Mapping[TP, int]) -> None:
        """Seek every still-assigned partition back to its offset in ``firsts``.

        Never forward: a rebalance may already have sought a partition back to its committed
        offset (its uncommitted state was dropped with the task), which must stand.
        """
        assigned = self.assignment()
        for tp, first in firsts.items():
            if tp not in assigned:
                continue
            position = self._known_position(tp)
            if position is not None and position > first:
                await self.seek(tp, first)

    def _known_position(self, tp: TP) -> int | None:
        """aiokafka's fetch position of ``tp`` if valid now (in-loop consumer only)."""
        return fetch_position(self.aiokafka_in_loop(), tp)

    def pause_partitions(self, tps: Iterable[TP]) -> None:
        tps = set(tps)
        super().pause_partitions(tps)
        self._pause_fetching(tps, pause=True)

    def resume_partitions(self, tps: Iterable[TP]) -> None:
        tps = set(tps)
        super().resume_partitions(tps)
        self._pause_fetching(tps, pause=False)

    def _pause_fetching(self, tps: set[TP], *, pause: bool) -> None:
        # Faust only pauses in its own bookkeeping and leaves aiokafka fetching every
        # assigned partition. Records fetched for a partition nobody reads (a changelog
        # after recovery, once the commit writes to it) then block the whole broker's
        # fetches for aiokafka's prefetch backoff (100 ms): a latency spike. So aiokafka
        # pauses too. Only possible when aiokafka runs in this loop.
        consumer = self.aiokafka_in_loop()
        if consumer is None:
            return
        assigned = consumer.assignment()
        parts = [TopicPartition(tp.topic, tp.partition) for tp in tps]
        parts = [tp for tp in parts if tp in assigned]
        if parts:
            (consumer.pause if pause else consumer.resume)(*parts)

    # -- commit (the checkpoint's OffsetSource) ------------------------------------------

    async def commit_partitions(self, tps: Iterable[TP], start_new_transaction: bool) -> bool:
        """Every commit (interval, commit_every, revocation, stop) runs the checkpoint."""
        return await self.checkpoint.commit(self, tps)

    def snapshot_offsets(self) -> Mapping[TP, int]:
        """Take the batch-handled offsets; the commit in progress writes them."""
        # A copy: next_offset pops from _committing, and a failed commit gives it all back.
        self._committing, self._batch_done = self._batch_done, {}
        return dict(self._committing)

    async def commit_snapshot(self, tps: Iterable[TP]) -> bool:
        """Faust's commit of ``tps``; batch-handled partitions take the snapshot's offset."""
        return await self.faust_commit_partitions(tps)

    def release_snapshot(self, snapshot: Mapping[TP, int], committed: bool) -> None:
        """What was not committed goes back, unless a later batch moved past it."""
        retry = snapshot if not committed else self._committing
        for tp, offset in retry.items():
            self._batch_done.setdefault(tp, offset)
        self._committing = {}

    def next_offset(self, tp: TP) -> int | None:
        """Batch-handled partitions: everything up to the last handled record is done."""
        offset = self._committing.pop(tp, None)
        if offset is not None:
            return offset
        return super().next_offset(tp)

    async def on_stop(self) -> None:
        """Faust's last commit, then what must stop after it."""
        await super().on_stop()
        for stop in self._after_last_commit:
            await stop()

    async def on_partitions_revoked(self, revoked: set[TP]) -> None:
        if revoked and not self.app.should_stop:
            await self._commit_before_revoke()
        self._revocations += 1
        for tp in revoked:
            self._batch_done.pop(tp, None)
            self._committing.pop(tp, None)
        for hook in self.hooks.on_revoked:
            hook(revoked)
        await super().on_partitions_revoked(revoked)

    async def _commit_before_revoke(self) -> None:
        """Finish the batch in hand and commit everything handled, as Kafka Streams commits
        its tasks before an (eager) rebalance takes their partitions.

        The revoked tasks are then dropped with nothing uncommitted, and the partitions'
        next owner (often this worker again) starts where their state ends: a rebalance
        neither loses nor repeats records. A handler that takes longer than
        ``REVOKE_WAIT_S`` (a produce stuck on the broker) is left behind: its batch is read
        again after the rebalance (at-least-once).
        """
        self.stop_flow()  # no further batch starts; Faust's own revocation stops it as well
        try:
            await asyncio.wait_for(self._handler_idle.wait(), REVOKE_WAIT_S)
        except TimeoutError:
            self.log.warning("A batch handler outlived the revocation wait (%.1f s): its "
                             "batch is processed again after the rebalance", REVOKE_WAIT_S)
            return
        await self.maybe_wait_for_commit_to_finish()  # it may predate the last batch
        await self.commit()


class Transport(faust_aiokafka.Transport):
    """aiokafka transport whose consumers are ``consumer_class`` built with ``parts``.

    Registered as the ``streams`` transport (defaults: no handlers, plain Faust commits);
    the Faust runtime sets its own instance as ``app.transport``.
    """

    Consumer = BatchConsumer

    def __init__(self, url: Any, app: Any, loop: Any = None, *,
                 consumer_class: type[BatchConsumer] | None = None,
                 parts: ConsumerParts | None = None) -> None:
        super().__init__(url, app, loop=loop)
        self.consumer_class = consumer_class or self.Consumer
        self.parts = parts or ConsumerParts()

    def create_consumer(self, callback: Any, **kwargs: Any) -> Any:
        """A ``consumer_class`` with this transport's parts."""
        return self.consumer_class(self, callback=callback, loop=self.loop, parts=self.parts,
                                   **kwargs)
