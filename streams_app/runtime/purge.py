"""Deleting consumed records from repartition topics (Kafka Streams'
``repartition.purge.interval.ms``).

Repartition topics are kept forever (retention.ms -1, see ``TopicSpec.repartition``): records
keep their event timestamps, so time-based retention could drop unread records. Instead, once
offsets are committed, the records below them are consumed for good and are deleted with
DeleteRecords, at most once per interval. Like Kafka Streams, the deletion runs in the
background (a commit never waits for it), a new one starts only when the previous one is done,
and a failure is logged and retried with newer offsets at the next interval.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from aiokafka import TopicPartition

__all__ = ["RepartitionPurger", "DeleteRecords"]

log = logging.getLogger(__name__)


#: ``delete({tp: offset})``: delete each partition's records below ``offset``
#: (e.g. ``functools.partial(streams_app.kafka.admin.delete_records, bootstrap_servers)``).
DeleteRecords = Callable[[Mapping[Any, int]], Awaitable[object]]

#: Failures are logged at most this often (the deletion itself is retried every interval).
ERROR_LOG_INTERVAL_MS = 60_000


def _monotonic_ms() -> float:
    return time.monotonic() * 1000


class RepartitionPurger:
    """Call :meth:`after_commit` with the offsets just committed (the next offset to read, per
    partition: ``TopicPartition``, Faust ``TP`` or any ``(topic, partition)`` tuple). Only
    partitions of ``topics`` (real, prefixed repartition topic names) are purged."""

    def __init__(self, delete: DeleteRecords, topics: Iterable[str], interval_ms: int,
                 clock_ms: Callable[[], float] = _monotonic_ms) -> None:
        if isinstance(interval_ms, bool) or not isinstance(interval_ms, int) or interval_ms < 0:
            raise ValueError(f"RepartitionPurger: interval_ms must be an integer >= 0, "
                             f"got {interval_ms!r}")
        self._delete = delete
        self.topics = frozenset(topics)
        self.interval_ms = interval_ms
        self._clock = clock_ms
        self._last_purge = clock_ms()  # the first purge comes one interval after start
        self._committed: dict[TopicPartition, int] = {}  # newest committed offset per partition
        self._purged: dict[TopicPartition, int] = {}  # offset each partition was last purged to
        self._inflight: asyncio.Task[None] | None = None
        self._last_error_log: float | None = None
        self._errors_unlogged = 0

    async def after_commit(self, committed: Mapping[Any, int]) -> None:
        """Remember the committed offsets of repartition partitions; when the interval has
        passed and no deletion is in flight, start deleting below them. Never raises for a
        broker failure and never waits for the deletion."""
        for tp, offset in committed.items():
            key = TopicPartition(tp[0], tp[1])
            if key.topic in self.topics and offset > self._committed.get(key, -1):
                self._committed[key] = offset
        now = self._clock()
        if now - self._last_purge < self.interval_ms:
            return
        if self._inflight is not None and not self._inflight.done():
            return  # Kafka Streams too sends a new request only once the last one is done
        todo = {tp: off for tp, off in self._committed.items() if off > self._purged.get(tp, 0)}
        if not todo:
            return
        self._last_purge = now
        self._inflight = asyncio.ensure_future(self._run(todo))

    async def wait(self) -> None:
        """Wait for the deletion in flight, if any (its failure is already logged)."""
        if self._inflight is not None:
            await asyncio.shield(self._inflight)

    async def close(self) -> None:
        """Wait for the deletion in flight; call once no more commits come."""
        await self.wait()
        self._inflight = None

    async def _run(self, todo: dict[TopicPartition, int]) -> None:
        try:
            await self._delete(todo)
        except Exception as exc:  # noqa: BLE001 - purging is best effort, processing goes on
            self._log_failure(todo, exc)
        else:
            self._purged.update(todo)

    def _log_failure(self, todo: dict[TopicPartition, int], exc: Exception) -> None:
        now = self._clock()
        if self._last_error_log is not None and now - self._last_error_log < ERROR_LOG_INTERVAL_MS:
            self._errors_unlogged += 1
            return
        skipped = f" ({self._errors_unlogged} more failures not logged)" \
            if self._errors_unlogged else ""
        log.warning("deleting consumed records from repartition topics %s failed: %r; retrying "
                    "at the next purge%s", sorted({tp.topic for tp in todo}), exc, skipped)
        self._last_error_log = now
        self._errors_unlogged = 0
