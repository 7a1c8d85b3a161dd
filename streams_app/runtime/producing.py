"""Bulk production: records grouped by topic-partition into aiokafka batches.

A fetched batch can yield thousands of output records; sending them one ``await send()``
at a time is what makes per-record frameworks slow. Here each (topic, partition) group is
appended to a ``BatchBuilder`` and submitted with one ``send_batch`` per filled batch.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner

OutputRecord = tuple[str, bytes | None, bytes | None, int, Any]  # topic, key, value, ts, headers


class BulkProducer:
    """Sends serialized records through an started aiokafka producer, in batches.

    Keyed records are partitioned like Kafka's Java clients (murmur2), so repartition topics
    co-partition with topics written by Kafka Streams or any Java producer.
    """

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self.producer = producer
        self._partitioner = DefaultPartitioner()
        self.pending: list[asyncio.Future] = []

    async def _partitions(self, topic: str) -> list[int]:
        cluster = self.producer.client.cluster
        parts = cluster.partitions_for_topic(topic)
        if not parts:
            await self.producer.client._wait_on_metadata(topic)
            parts = cluster.partitions_for_topic(topic)
        return sorted(parts)

    async def send(self, records: Iterable[OutputRecord], partition: int | None = None) -> int:
        """Queue ``records`` for sending; ``partition`` forces one (changelogs), else by key.

        Returns how many were queued. Delivery is awaited by :meth:`flush`.
        """
        groups: dict[tuple[str, int], list[OutputRecord]] = {}
        part_cache: dict[str, list[int]] = {}
        n = 0
        for rec in records:
            topic = rec[0]
            if partition is None:
                parts = part_cache.get(topic)
                if parts is None:
                    parts = part_cache[topic] = await self._partitions(topic)
                p = self._partitioner(rec[1], parts, parts) if rec[1] is not None else (
                    parts[n % len(parts)])
            else:
                p = partition
            groups.setdefault((topic, p), []).append(rec)
            n += 1
        for (topic, p), recs in groups.items():
            await self._send_group(topic, p, recs)
        return n

    async def _send_group(self, topic: str, partition: int, recs: list[OutputRecord]) -> None:
        producer = self.producer
        batch = producer.create_batch()
        for _, key, value, ts, headers in recs:
            hdrs = list(headers or ())
            if key is None and value is None:
                # A batch cannot hold a record with neither key nor value.
                self.pending.append(await producer.send(topic, None, None, partition=partition,
                                                        timestamp_ms=ts, headers=headers or None))
                continue
            if batch.append(key=key, value=value, timestamp=ts, headers=hdrs) is None:
                self.pending.append(await producer.send_batch(batch, topic, partition=partition))
                batch = producer.create_batch()
                batch.append(key=key, value=value, timestamp=ts, headers=hdrs)
        if batch.record_count():
            self.pending.append(await producer.send_batch(batch, topic, partition=partition))

    async def flush(self) -> None:
        """Wait until every queued record is acknowledged (raises on a failed send)."""
        pending, self.pending = self.pending, []
        if pending:
            await asyncio.gather(*pending)
