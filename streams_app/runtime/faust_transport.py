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
from typing import Any

from aiokafka.structs import ConsumerRecord, TopicPartition
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP

from streams_app.runtime.faust_consumer_loop import InLoopConsumerThread

#: How long a revocation waits for the batch handler in progress before leaving it behind.
REVOKE_WAIT_S = 10.0

BatchHandler = Callable[[TP, list[ConsumerRecord]], Awaitable[None]]
CommitHook = Callable[[], Awaitable[None]]
RevokeHook = Callable[[set[TP]], None]
RestoreHandler = Callable[[list[ConsumerRecord]], None]


class BatchHooks:
    """What an app registers for the batch consumer: handlers per topic, pre-commit hooks.

    The app factory attaches one to the app as ``app.batch_hooks``.
    """

    def __init__(self) -> None:
        self.handlers: dict[str, BatchHandler] = {}
        self.before_commit: list[CommitHook] = []
        self.on_revoked: list[RevokeHook] = []
        self.restorers: dict[str, RestoreHandler] = {}

    def add_handler(self, topic: str, handler: BatchHandler) -> None:
        """Deliver every fetched batch of ``topic`` to ``handler(tp, records)``."""
        if topic in self.handlers:
            raise ValueError(f"topic {topic!r} already has a batch handler")
        self.handlers[topic] = handler

    def add_before_commit(self, hook: CommitHook) -> None:
        """Run ``hook()`` before offsets are committed (flush caches, produce changelogs)."""
        self.before_commit.append(hook)

    def add_restorer(self, changelog_topic: str, restore: RestoreHandler) -> None:
        """Apply changelog fetches of ``changelog_topic`` in bulk with ``restore(records)``.

        Faust's recovery handles one event per record; with a restorer, every record of a
        fetch is written at once and the last one also goes through Faust, which so still
        tracks offsets and decides when recovery is done. Faust buffers that record and
        applies it later (up to 1000 at a time), so the restorer must skip what it already
        wrote: applied late, an old value would overwrite a newer one of the same key.
        """
        self.restorers[changelog_topic] = restore

    def add_on_revoked(self, hook: RevokeHook) -> None:
        """Call ``hook(revoked)`` first thing when partitions are revoked (drop their state)."""
        self.on_revoked.append(hook)


class BatchConsumer(faust_aiokafka.Consumer):
    """Faust's aiokafka consumer with batch delivery for topics that have a handler.

    aiokafka runs in the app's event loop (:class:`InLoopConsumerThread`), not in Faust's
    consumer thread; set ``ConsumerThread`` to Faust's ``AIOKafkaConsumerThread`` for that.
    """

    #: The class running aiokafka for this consumer (Faust's thread interface).
    ConsumerThread: type[faust_aiokafka.AIOKafkaConsumerThread] = InLoopConsumerThread

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Per partition, the offset to commit next for batch-handled records.
        self._batch_done: dict[TP, int] = {}
        # The offsets the commit in progress may write (see _commit_tps).
        self._committing: dict[TP, int] = {}
        # Rebalances that revoked partitions so far (a handler checks it across its awaits).
        self._revocations = 0
        self._handler_idle = asyncio.Event()  # clear while a batch handler runs
        self._handler_idle.set()

    def _new_consumer_thread(self) -> faust_aiokafka.AIOKafkaConsumerThread:
        return self.ConsumerThread(self, loop=self.loop, beacon=self.beacon)

    @property
    def _hooks(self) -> BatchHooks:
        hooks = getattr(self.app, "batch_hooks", None)
        if hooks is None:
            hooks = self.app.batch_hooks = BatchHooks()
        return hooks

    async def _drain_messages(self, fetcher: Any) -> None:  # noqa: C901 - one hot loop
        handlers = self._hooks.handlers
        restorers = self._hooks.restorers
        callback = self.callback
        consumer_should_stop = self._stopped.is_set
        fetcher_should_stop = fetcher._stopped.is_set
        read_offset = self._read_offset
        acked = self._acked
        commit_every = self._commit_every
        to_message = self._to_message
        try:
            while not (consumer_should_stop() or fetcher_should_stop()):
                records, active = await self._wait_next_records(1.0)
                await asyncio.sleep(0)
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
                    if active is not None and tp not in active and (
                            tp not in self._buffered_partitions):
                        await self._refetch({tp: batch})  # paused meanwhile
                        continue
                    last_read = read_offset.get(tp)
                    # Faust's read offset is the next offset after a seek, the last one
                    # read after a record; like Faust, keep offsets >= it.
                    if last_read is not None and batch[0].offset < last_read:
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
                            await self.wait_first(callback(to_message(tp, record)),
                                                  self.suspend_flow.wait())
                            read_offset[tp] = record.offset
                        continue
                    revocations = self._revocations
                    self._handler_idle.clear()
                    try:
                        await handler(tp, batch)
                    finally:
                        self._handler_idle.set()
                    if self._revocations != revocations:
                        # Revoked while the handler awaited longer than a revocation waits
                        # (see _commit_before_revoke): the task and its uncommitted state went
                        # with the partition, and the new assignment reads it again from the
                        # committed offset. Marking the batch done would skip it there.
                        await self._refetch({tp: batch})
                        continue
                    last = batch[-1].offset
                    read_offset[tp] = last
                    self._batch_done[tp] = last + 1
                    acked[tp]  # commits only visit partitions listed in _acked
                    self._n_acked += len(batch)
                    if commit_every is not None and self._n_acked >= commit_every:
                        self._n_acked = 0
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

    async def _refetch(self, records: Mapping[TP, list[Any]]) -> None:
        """Seek every still-assigned partition back to its first record in ``records``.

        Never forward: a rebalance may already have sought a partition back to its committed
        offset (its uncommitted state was dropped with the task), which must stand.
        """
        assigned = self.assignment()
        for tp, batch in records.items():
            if not batch or tp not in assigned:
                continue
            first = batch[0].offset
            position = self._known_position(tp)
            if position is not None and position > first:
                await self.seek(tp, first)

    def _in_loop_aiokafka(self) -> Any:
        """The aiokafka consumer when it runs in this loop (safe to touch directly), else None."""
        thread = getattr(self, "_thread", None)
        consumer = getattr(thread, "_consumer", None)
        return consumer if isinstance(thread, InLoopConsumerThread) else None

    def _known_position(self, tp: TP) -> int | None:
        """aiokafka's fetch position of ``tp`` if valid now (in-loop consumer only)."""
        consumer = self._in_loop_aiokafka()
        if consumer is None:
            return None
        subscription = consumer._subscription.subscription
        assignment = None if subscription is None else subscription.assignment
        if assignment is None:
            return None
        state = assignment.state_value(TopicPartition(tp.topic, tp.partition))
        return state.position if state is not None and state.has_valid_position else None

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
        consumer = self._in_loop_aiokafka()
        if consumer is None:
            return
        assigned = consumer.assignment()
        parts = [TopicPartition(tp.topic, tp.partition) for tp in tps]
        parts = [tp for tp in parts if tp in assigned]
        if parts:
            (consumer.pause if pause else consumer.resume)(*parts)

    def _new_offset(self, tp: TP) -> int | None:
        # Batch-handled partitions: everything up to the last handled record is done.
        offset = self._committing.pop(tp, None)
        if offset is not None:
            return offset
        return super()._new_offset(tp)

    async def _commit_tps(self, tps: Iterable[TP], start_new_transaction: bool) -> bool:
        # Offsets are taken BEFORE the caches are flushed: the flush then covers every record
        # up to them. Batches handled while the flush awaits belong to the next commit (their
        # state may already be in this flush: at worst counted again after a crash, never lost).
        snapshot = self._committing = self._batch_done
        self._batch_done = {}
        committed = False
        try:
            for hook in self._hooks.before_commit:
                await hook()
            committed = await super()._commit_tps(tps, start_new_transaction)
            return committed
        finally:
            # What was not committed goes back, unless a later batch moved past it.
            retry = snapshot if not committed else self._committing
            for tp, offset in retry.items():
                self._batch_done.setdefault(tp, offset)
            self._committing = {}

    async def on_partitions_revoked(self, revoked: set[TP]) -> None:
        if revoked and not self.app.should_stop:
            await self._commit_before_revoke()
        self._revocations += 1
        for tp in revoked:
            self._batch_done.pop(tp, None)
            self._committing.pop(tp, None)
        for hook in self._hooks.on_revoked:
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
    """aiokafka transport with :class:`BatchConsumer`."""

    Consumer = BatchConsumer

    def create_consumer(self, callback: Any, **kwargs: Any) -> Any:
        """The app's ``batch_consumer_class`` if it sets one (exactly-once), else Consumer."""
        cls = getattr(self.app, "batch_consumer_class", None) or self.Consumer
        return cls(self, callback=callback, loop=self.loop, **kwargs)
