"""Bulk production: records grouped by topic-partition into aiokafka batches, sent behind.

A fetched batch can yield thousands of output records; sending them one ``await send()``
at a time is what makes per-record frameworks slow. Here records are appended to one open
``BatchBuilder`` per (topic, partition) and a background pump hands the batches to aiokafka.
The processing loop never waits for a produce round trip (aiokafka takes a partition's next
batch only once its previous one left): while a request is out, records pile up in the open
batches and leave together in the next one, like the Java producer's accumulator.
:meth:`BulkProducer.flush` (on commit) sends what is open and waits for every ack.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.producer.message_accumulator import BatchBuilder

from streams_app.runtime.faust_compat import batch_record_append, seal_batch, wait_on_metadata

OutputRecord = tuple[str, bytes | None, bytes | None, int, Any]  # topic, key, value, ts, headers
TopicPartitionKey = tuple[str, int]

#: Keys per topic whose partition is remembered (all forgotten when full).
PARTITION_CACHE_SIZE = 100_000

#: Full batches waiting for the pump beyond which :meth:`BulkProducer.send` waits for it.
MAX_QUEUED_BATCHES = 64


class _OpenBatch:
    """A batch being filled: records go straight to its record builder, counted here."""

    __slots__ = ("batch", "append", "count")

    def __init__(self, batch: BatchBuilder) -> None:
        self.batch = batch
        self.append = batch_record_append(batch)
        self.count = 0

    def seal(self) -> BatchBuilder:
        """The batch, closed, with its record count, ready for ``send_batch``."""
        seal_batch(self.batch, self.count)
        return self.batch


class BulkProducer:
    """Sends serialized records through a started aiokafka producer, in batches.

    Keyed records are partitioned like Kafka's Java clients (murmur2), so repartition topics
    co-partition with topics written by Kafka Streams or any Java producer. Records of one
    partition keep their order; a failed send is raised by the next ``send`` or ``flush``.
    """

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self.producer = producer
        self._partitioner = DefaultPartitioner()
        self._parts: dict[str, list[int]] = {}
        self._partition_of: dict[str, dict[bytes, int]] = {}  # topic -> key -> partition
        self._open: dict[TopicPartitionKey, _OpenBatch] = {}
        # Full batches in the order they must go out.
        self._queue: deque[tuple[TopicPartitionKey, BatchBuilder]] = deque()
        self._progress = asyncio.Event()  # the pump handed a batch over
        self._idle = asyncio.Event()  # nothing queued or open, the pump is not running
        self._idle.set()
        self._pump: asyncio.Task | None = None
        self._error: BaseException | None = None
        self.pending: list[asyncio.Future] = []

    async def _partitions(self, topic: str) -> list[int]:
        parts = self._parts.get(topic)
        if parts is None:
            cluster = self.producer.client.cluster
            if not cluster.partitions_for_topic(topic):
                await wait_on_metadata(self.producer.client, topic)
            parts = self._parts[topic] = sorted(cluster.partitions_for_topic(topic))
        return parts

    async def _partition_for(self, topic: str, key: bytes) -> int:
        # murmur2 in pure Python costs microseconds; output keys repeat (a few thousand
        # distinct ones per topic in most jobs), so remember them, within a bound.
        parts = await self._partitions(topic)
        p = self._partitioner(key, parts, parts)
        known = self._partition_of.setdefault(topic, {})
        if len(known) >= PARTITION_CACHE_SIZE:
            known.clear()
        known[key] = p
        return p

    async def send(self, records: Iterable[OutputRecord], partition: int | None = None) -> int:
        """Queue ``records`` for sending; ``partition`` forces one (changelogs), else by key.

        Returns how many were queued. Delivery is awaited by :meth:`flush`.
        """
        self._raise_failed()
        n = 0
        open_, queue = self._open, self._queue
        topic_parts: dict[bytes, int] | None = None
        last_topic = None
        for rec in records:
            topic, key, value, ts, headers = rec  # key and value may both be None
            if partition is not None:
                p = partition
            elif key is None:
                parts = self._parts.get(topic) or await self._partitions(topic)
                p = parts[n % len(parts)]
            else:
                if topic is not last_topic:  # runs of one topic: one dict lookup per run
                    topic_parts = self._partition_of.get(topic)
                    if topic_parts is None:
                        topic_parts = self._partition_of[topic] = {}
                    last_topic = topic
                p = topic_parts.get(key)  # type: ignore[union-attr]
                if p is None:
                    p = await self._partition_for(topic, key)
            n += 1
            tp = (topic, p)
            batch = open_.get(tp)
            if batch is None:
                batch = open_[tp] = _OpenBatch(self.producer.create_batch())
            hdrs = list(headers) if headers else []
            if batch.append(batch.count, ts, key, value, hdrs) is None:  # full
                queue.append((tp, batch.seal()))
                batch = open_[tp] = _OpenBatch(self.producer.create_batch())
                batch.append(0, ts, key, value, hdrs)
            batch.count += 1
        if n:
            self._kick()
            while len(queue) > MAX_QUEUED_BATCHES and self._error is None:
                self._progress.clear()
                await self._progress.wait()  # back-pressure: the broker is behind
        return n

    def _kick(self) -> None:
        self._idle.clear()
        if self._pump is None or self._pump.done():
            self._pump = asyncio.ensure_future(self._run_pump())

    async def _run_pump(self) -> None:
        producer, queue, open_, pending = self.producer, self._queue, self._open, self.pending
        try:
            while queue or open_:
                if not queue:  # the open batches: each grew while the previous one was out
                    queue.extend((tp, batch.seal()) for tp, batch in open_.items())
                    open_.clear()
                (topic, p), batch = queue.popleft()
                pending.append(await producer.send_batch(batch, topic, partition=p))
                self._progress.set()
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # noqa: BLE001 - raised to the caller of send/flush
            self._error = exc
        finally:
            self._idle.set()
            self._progress.set()

    def _raise_failed(self) -> None:
        if self._error is not None:
            exc, self._error = self._error, None
            self._queue.clear()
            self._open.clear()
            raise exc

    async def flush(self) -> None:
        """Send everything queued and wait until each record is acknowledged."""
        if self._open or self._queue:
            self._kick()
        await self._idle.wait()
        self._raise_failed()
        pending, self.pending = self.pending, []
        if pending:
            await asyncio.gather(*pending)

    async def close(self) -> None:
        """Stop the pump (what was not flushed is dropped)."""
        if self._pump is not None:
            self._pump.cancel()
            try:
                await self._pump
            except asyncio.CancelledError:
                pass
            self._pump = None
