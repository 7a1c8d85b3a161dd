"""Producing raw records, including one with neither key nor value.

Kafka accepts such a record (a tombstone without a key: Kafka Streams drops it per operator),
but ``AIOKafkaProducer.send`` refuses it; a batch of one, through the producer's public
batch API, carries it.
"""

from __future__ import annotations

from aiokafka import AIOKafkaProducer

__all__ = ["send_record"]


async def send_record(producer: AIOKafkaProducer, topic: str, key: bytes | None,
                      value: bytes | None, timestamp_ms: int | None = None,
                      partition: int = 0) -> None:
    """Queue one record; a record with neither key nor value is sent at once, after the
    records queued before it (to partition ``partition``), so the order is kept."""
    if key is not None or value is not None:
        await producer.send(topic, value, key=key, timestamp_ms=timestamp_ms)
        return
    await producer.flush()
    batch = producer.create_batch()
    batch.append(key=None, value=None, timestamp=timestamp_ms)
    await (await producer.send_batch(batch, topic, partition=partition))
