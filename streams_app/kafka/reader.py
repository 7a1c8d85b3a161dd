"""Reading topics back: to their end, latest value per key, and group progress.

Used by the demo and by tests to await a condition on the log (an offset, a value) instead of
sleeping. Every function takes an optional ``settings`` whose security settings secure its
clients (``bootstrap_servers`` is still where it connects).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from aiokafka.structs import ConsumerRecord

from streams_app.kafka.security import client_kwargs, start_client
from streams_app.runtime.faust_compat import refresh_metadata
from streams_app.settings import Settings


async def topic_partitions(consumer: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
    """The partitions of ``topic`` as the consumer sees them; LookupError when it is missing."""
    parts = consumer.partitions_for_topic(topic)
    if not parts:
        await refresh_metadata(consumer)  # a just-created topic
        parts = consumer.partitions_for_topic(topic)
    if not parts:
        raise LookupError(f"topic {topic!r} does not exist")
    return [TopicPartition(topic, p) for p in sorted(parts)]


async def end_offsets(bootstrap_servers: str, topic: str, *, settings: Settings | None = None
                      ) -> dict[int, int]:
    """Partition -> end offset (the offset the next record will get)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False,
                                **client_kwargs(settings))
    await start_client(consumer, settings, bootstrap_servers=bootstrap_servers)
    try:
        tps = await topic_partitions(consumer, topic)
        return {tp.partition: off for tp, off in (await consumer.end_offsets(tps)).items()}
    finally:
        await consumer.stop()


async def read_to_end(bootstrap_servers: str, topic: str, timeout: float = 30.0, *,
                      settings: Settings | None = None) -> list[ConsumerRecord]:
    """Every record of ``topic`` from the beginning up to the end offsets seen at the call."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False,
                                auto_offset_reset="earliest", isolation_level="read_committed",
                                **client_kwargs(settings))
    await start_client(consumer, settings, bootstrap_servers=bootstrap_servers)
    try:
        tps = await topic_partitions(consumer, topic)
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        await consumer.seek_to_beginning(*tps)
        out: list[ConsumerRecord] = []
        deadline = time.monotonic() + timeout
        while True:
            positions = {tp: await consumer.position(tp) for tp in tps}
            if all(positions[tp] >= ends[tp] for tp in tps):
                return out
            if time.monotonic() > deadline:
                raise TimeoutError(f"reading {topic!r}: at {positions}, end {ends}")
            batch = await consumer.getmany(timeout_ms=500)
            for tp, records in batch.items():
                out.extend(r for r in records if r.offset < ends[tp])
    finally:
        await consumer.stop()


async def latest_by_key(bootstrap_servers: str, topic: str, timeout: float = 30.0, *,
                        settings: Settings | None = None) -> dict[bytes | None, bytes | None]:
    """The table a (compacted) topic holds: last value per key, tombstones removing keys."""
    table: dict[bytes | None, bytes | None] = {}
    for rec in await read_to_end(bootstrap_servers, topic, timeout, settings=settings):
        if rec.value is None:
            table.pop(rec.key, None)
        else:
            table[rec.key] = rec.value
    return table


async def committed_offsets(bootstrap_servers: str, group_id: str, topic: str, *,
                            settings: Settings | None = None) -> dict[int, int]:
    """Partition -> offset committed by ``group_id`` on ``topic`` (missing when none).

    A coordinator that is not ready yet (a young broker or group) counts as nothing committed.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, **client_kwargs(settings))
    await start_client(admin, settings, bootstrap_servers=bootstrap_servers)
    try:
        offsets = await admin.list_consumer_group_offsets(group_id)
    except KafkaError as exc:
        if not exc.retriable:
            raise
        return {}
    finally:
        await admin.close()
    return {tp.partition: meta.offset for tp, meta in offsets.items()
            if tp.topic == topic and meta.offset >= 0}


async def wait_until(condition: Callable[[], Awaitable[bool]], timeout: float,
                     what: str, interval: float = 0.5) -> None:
    """Poll an async condition until it holds; TimeoutError naming ``what`` otherwise."""
    deadline = time.monotonic() + timeout
    while not await condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        await asyncio.sleep(interval)


async def group_caught_up(bootstrap_servers: str, group_id: str, topic: str, *,
                          settings: Settings | None = None) -> bool:
    """True once the group has committed the end offset of every partition of ``topic``."""
    ends = await end_offsets(bootstrap_servers, topic, settings=settings)
    done = await committed_offsets(bootstrap_servers, group_id, topic, settings=settings)
    return all(done.get(p, 0) >= end for p, end in ends.items())


async def group_stable(bootstrap_servers: str, group_id: str, *,
                       settings: Settings | None = None, members: int = 1) -> bool:
    """True once ``group_id`` has at least ``members`` members and its assignment is done
    (state ``Stable``)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, **client_kwargs(settings))
    await start_client(admin, settings, bootstrap_servers=bootstrap_servers)
    try:
        responses = await admin.describe_consumer_groups([group_id])
    except KafkaError as exc:
        if not exc.retriable:
            raise
        return False
    finally:
        await admin.close()
    groups = [g for r in responses for g in r.groups]
    return any(g[1] == group_id and g[2] == "Stable" and len(g[5]) >= members
               for g in groups)
