"""Exactly-once processing: one Kafka transaction per commit, one producer per worker.

Kafka Streams' ``exactly_once_v2`` in the Faust runtime. A worker owns one transactional
aiokafka producer. Between two commits every output and changelog record goes into the open
transaction; a commit flushes the caches into it, adds the consumed offsets
(``send_offsets_to_transaction``) and commits it, so records, changelogs and offsets become
visible together or not at all. Faust's own consumer-group commit is replaced by that.

Why not Faust's ``processing_guarantee="exactly_once"``: it runs one producer and one
transaction per input partition (exactly_once v1), and its recovery reads highwaters as the
consumer's last stable offset, which aiokafka only knows after a fetch (before it, Faust
sees nothing to restore). One producer per worker keeps one commit per commit interval, like v2.

A batch handler and a commit never interleave (:attr:`WorkerTransaction.lock`, held by
:meth:`WorkerTransaction.guard` and by the checkpoint): a batch whose offsets are not in a
commit cannot leave records in it. Under at-least-once none of this runs.

The transactional id is ``<application_id>-<uuid>``, kept in the data directory: a worker
restarted on the same directory fences its predecessor and aborts its open transaction at
once; with a new directory the broker aborts it after ``transaction_timeout_ms``.

Zombie fencing (KIP-447): the offsets go with the consumer's group generation, member id
and instance id (TxnOffsetCommit v3, added in faust_compat: aiokafka 0.14 sends v0), so the
group coordinator rejects the commit of a worker that lost its partitions without knowing
(paused past its session timeout); that worker's commit fails, it aborts the transaction and
stops (its stores are discarded at the next start), as Kafka Streams' TaskMigrated path drops
the tasks. A restart on the same data dir also fences the previous producer. Once aiokafka
has reset the generation (a heartbeat found the session expired) and before it rejoins, a
commit carries the last generation known: accepted while the group has not moved on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer, TopicPartition
from faust.types import TP

from streams_app.runtime.committed_reads import FetchProgress, ReadCommittedConsumerThread
from streams_app.runtime.dirty_state import discard_unless_clean, mark_clean
from streams_app.runtime.faust_compat import (
    GroupMetadata,
    MemberFencedError,
    fetch_position,
    group_metadata,
    install_group_metadata_commits,
)
from streams_app.runtime.faust_transport import BatchConsumer, BatchHandler
from streams_app.runtime.producer_factory import new_producer
from streams_app.settings import ConfigError, Settings

__all__ = ["TransactionalBatchConsumer", "WorkerTransaction", "transaction_timeout_ms"]

log = logging.getLogger(__name__)

# How long the broker keeps a transaction of a dead worker open (blocking read_committed
# readers) before aborting it; Kafka Streams' default under exactly-once.
MIN_TRANSACTION_TIMEOUT_MS = 10_000
# How long start-up waits for the transaction coordinator before calling the broker unfit.
COORDINATOR_TIMEOUT_S = 20.0


def transaction_timeout_ms(commit_interval_ms: int) -> int:
    """A transaction spans one commit interval; leave room for slow commits."""
    return max(MIN_TRANSACTION_TIMEOUT_MS, 3 * commit_interval_ms)


def worker_transactional_id(data_dir: Path, app_id: str) -> str:
    """The worker's transactional id, created once and kept in ``data_dir``."""
    path = Path(data_dir) / f"{app_id}.transactional-id"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    tid = f"{app_id}-{uuid.uuid4().hex}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(tid + "\n")
    return tid


class WorkerTransaction:
    """The worker's transactional producer and the transaction open between two commits.

    ``producer_settings`` are aiokafka producer keyword arguments (the app producer's);
    ``group_id`` is the consumer group whose offsets each transaction commits;
    ``store_dir`` holds the local stores (wiped at start after an unclean stop).
    """

    def __init__(self, settings: Settings, group_id: str,
                 producer_settings: Callable[[], Mapping[str, Any]], store_dir: Path) -> None:
        if settings.acks != "all":
            raise ConfigError(
                f"STREAMS_ACKS (acks): exactly_once (STREAMS_PROCESSING_GUARANTEE) needs 'all', "
                f"got {settings.acks!r}")
        if settings.enable_idempotence is False:
            raise ConfigError(
                "STREAMS_ENABLE_IDEMPOTENCE (enable_idempotence): exactly_once "
                "(STREAMS_PROCESSING_GUARANTEE) needs an idempotent producer, got false")
        self.settings = settings
        self.group_id = group_id
        self._producer_settings = producer_settings
        self.lock = asyncio.Lock()
        self.producer: AIOKafkaProducer | None = None
        self.transactional_id: str | None = None
        self.store_dir = store_dir
        self.open = False  # a transaction was begun and not yet ended
        self.failed = False  # a commit failed: local state is ahead of the broker

    async def start(self) -> None:
        """Start the producer and get its producer id from the transaction coordinator.

        Raises :class:`ConfigError` naming the setting when the broker cannot do transactions.
        """
        s = self.settings
        discard_unless_clean(s.data_dir, s.app_id, self.store_dir)
        self.transactional_id = worker_transactional_id(s.data_dir, s.app_id)
        producer = new_producer(
            s, self._producer_settings(), acks="all", enable_idempotence=True,
            transactional_id=self.transactional_id,
            transaction_timeout_ms=transaction_timeout_ms(s.commit_interval_ms))
        try:
            # start waits for the producer id (InitProducerId through the transaction
            # coordinator); it never comes from a broker that cannot do transactions.
            await asyncio.wait_for(producer.start(), COORDINATOR_TIMEOUT_S)
        except Exception as exc:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(producer.stop(), 5.0)
            why = "no answer" if isinstance(exc, TimeoutError) else repr(exc)
            raise ConfigError(
                f"STREAMS_PROCESSING_GUARANTEE (processing_guarantee): exactly_once needs "
                f"transactions, but the broker at {s.bootstrap_servers} did not start one "
                f"within {COORDINATOR_TIMEOUT_S:.0f} s ({why}); check that it supports "
                "transactions and that transaction.state.log.replication.factor is at most "
                "the number of brokers, or use at_least_once") from exc
        self.producer = producer
        install_group_metadata_commits()  # offsets carry the generation (zombie fencing)
        log.info("exactly_once: transactional id %s", self.transactional_id)

    async def stop(self) -> None:
        """Abort what is still open (a clean stop has committed it) and stop the producer."""
        producer, self.producer = self.producer, None
        if producer is None:
            return
        try:
            if self.open:
                self.open = False
                self.failed = True  # its writes are in the stores, not on the broker
                await producer.abort_transaction()
        finally:
            await producer.stop()
        if not self.failed:
            mark_clean(self.settings.data_dir, self.settings.app_id)

    async def begin(self) -> None:
        """Open a transaction unless one is open."""
        if not self.open:
            assert self.producer is not None, "WorkerTransaction.start() was not awaited"
            await self.producer.begin_transaction()
            self.open = True

    async def add_offsets(self, offsets: Mapping[TP, int],
                          group: GroupMetadata | None = None) -> None:
        """Make committing ``offsets`` (next offset to read, per partition) part of it;
        with the member's ``group`` metadata the coordinator fences a zombie's commit."""
        assert self.producer is not None and self.open
        # Without any generation (none known yet) the commit goes unfenced, as before.
        await self.producer.send_offsets_to_transaction(
            {TopicPartition(tp.topic, tp.partition): off for tp, off in offsets.items()},
            group if group is not None else self.group_id)

    async def commit(self) -> None:
        """Commit the open transaction (records and offsets become visible together)."""
        if self.open:
            assert self.producer is not None
            self.open = False
            await self.producer.commit_transaction()

    def guard(self, handler: BatchHandler) -> BatchHandler:
        """``handler`` run inside the open transaction and never during a commit."""
        lock, begin = self.lock, self.begin

        async def in_transaction(tp: TP, records: list[Any]) -> Any:
            async with lock:
                await begin()
                return await handler(tp, records)

        return in_transaction


class TransactionalBatchConsumer(BatchConsumer):
    """The batch consumer for exactly-once: read_committed input, offsets in transactions.

    Its checkpoint must carry the worker's :class:`WorkerTransaction`.
    """

    ConsumerThread = ReadCommittedConsumerThread

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        transaction = self.checkpoint.transaction
        if transaction is None:
            raise ValueError("TransactionalBatchConsumer needs a checkpoint with a transaction")
        self.transaction: WorkerTransaction = transaction
        self.fetch_progress = FetchProgress(self._fetched_position)
        self._last_group: GroupMetadata | None = None

    def _fetched_position(self, tp: TP) -> int | None:
        return fetch_position(self.aiokafka_in_loop(), tp)

    async def commit_partitions(self, tps: Iterable[TP], start_new_transaction: bool) -> bool:
        """The checkpoint's commit; a failure stops the worker (Kafka Streams'
        task-corrupted path: the next start restores the stores)."""
        if self.transaction.failed:
            # Stopping after a failed commit: a revocation's or the stop's commit would only
            # hit the producer's error state; the stop aborts what is open.
            return False
        try:
            return await super().commit_partitions(tps, start_new_transaction)
        except MemberFencedError as exc:
            self.log.error("exactly_once: %s while this worker did not answer the group; "
                           "its transaction is aborted and it stops (started again, it rejoins "
                           "and restores its stores from the changelogs)", exc)
            await self.crash(exc)
            return False
        except Exception as exc:
            self.log.exception("exactly_once: commit failed: %r", exc)
            await self.crash(exc)
            return False

    async def next_records(self, timeout: float) -> tuple[Any, Any]:
        """The next fetch, noted for recovery's end (see committed_reads)."""
        records, active = await super().next_records(timeout)
        self.fetch_progress.fetched(records)
        return records, active

    async def commit_offsets(self, offsets: Mapping[TP, int]) -> bool:
        """Faust's group commit is replaced by the offsets riding in the transaction."""
        consumer = self.aiokafka_in_loop()
        group = None if consumer is None else group_metadata(consumer,
                                                             self.transaction.group_id)
        # After a missed heartbeat aiokafka forgets the generation before rejoining; the
        # last one known still fences a zombie (rejected if the group moved on since).
        group = self._last_group = group or self._last_group
        await self.transaction.add_offsets(offsets, group)
        return True
