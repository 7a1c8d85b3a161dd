"""BulkProducer against a real broker: order per partition, flush = acknowledged, errors surface."""

from __future__ import annotations

import asyncio
from collections import defaultdict

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner

from streams_app.kafka.admin import ensure_topics
from streams_app.kafka.reader import read_to_end
from streams_app.kafka.topics import TopicSpec
from streams_app.runtime import producing
from streams_app.runtime.producing import BulkProducer


async def _producer(bootstrap: str, **kw: object) -> AIOKafkaProducer:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", **kw)
    await producer.start()
    return producer


# idempotent: each batch's sequence numbers follow from the record counts of the batches
# before it, so a wrong count loses or rejects records
@pytest.mark.parametrize("idempotent", [False, True])
async def test_many_sends_keep_order_per_partition_and_flush_waits_for_acks(
        kafka_bootstrap: str, unique_name: str, monkeypatch: pytest.MonkeyPatch,
        idempotent: bool) -> None:
    topic = unique_name
    await ensure_topics(kafka_bootstrap, [TopicSpec(topic, 3, 1)])
    monkeypatch.setattr(producing, "MAX_QUEUED_BATCHES", 2)  # exercise back-pressure
    producer = await _producer(kafka_bootstrap, max_batch_size=1024,  # many small batches
                               enable_idempotence=idempotent)
    bulk = BulkProducer(producer)
    try:
        sent = []
        for call in range(40):  # like 40 handler calls, each a burst of output
            recs = []
            for i in range(50):
                n = call * 50 + i
                key = f"k{n % 7}".encode()
                value = None if n % 97 == 0 else f"{n}".encode()  # some tombstones
                recs.append((topic, key, value, 1_000 + n, [("n", str(n).encode())]))
            if call == 20:  # null key and value (aiokafka.send refuses it; a batch takes it)
                recs.append((topic, None, None, 5_000, None))
            forced = 1 if call == 20 else None
            assert await bulk.send(recs, partition=forced) == len(recs)
            sent.extend((forced, r) for r in recs)
        await bulk.flush()
        assert not bulk.pending
        # Everything acknowledged before flush returned: it is all readable now.
        got = await read_to_end(kafka_bootstrap, topic)
    finally:
        await bulk.close()
        await producer.stop()
    parts = [0, 1, 2]
    want: dict[int, list[tuple]] = defaultdict(list)
    for forced, (_t, key, value, ts, _h) in sent:
        p = forced if forced is not None else DefaultPartitioner()(key, parts, parts)
        want[p].append((key, value, ts))
    have: dict[int, list[tuple]] = defaultdict(list)
    for r in sorted(got, key=lambda r: (r.partition, r.offset)):
        have[r.partition].append((r.key, r.value, r.timestamp))
    for p in parts:
        missing = sorted(set(want[p]) - set(have[p]), key=lambda r: r[2])
        assert len(have[p]) == len(want[p]), (p, missing)
        bad = [i for i, (a, b) in enumerate(zip(have[p], want[p], strict=True)) if a != b]
        assert not bad, (p, bad[:3], [have[p][i] for i in bad[:3]], [want[p][i] for i in bad[:3]])
    assert dict(next(r for r in got if r.value == b"3").headers) == {"n": b"3"}


async def test_a_failed_send_is_raised_by_flush(kafka_bootstrap: str, unique_name: str) -> None:
    producer = await _producer(kafka_bootstrap, request_timeout_ms=2_000)
    bulk = BulkProducer(producer)
    try:
        await ensure_topics(kafka_bootstrap, [TopicSpec(unique_name, 1, 1)])
        await bulk.send([(unique_name, b"k", b"v", 1, None)], partition=0)
        await bulk.flush()
        # Partition 5 does not exist: the pump's send fails and the caller hears of it.
        await bulk.send([(unique_name, b"k", b"v", 1, None)], partition=5)
        with pytest.raises(Exception) as err:  # noqa: PT011 - aiokafka's error type varies
            await asyncio.wait_for(bulk.flush(), 30)
        assert not isinstance(err.value, asyncio.TimeoutError)
        await bulk.flush()  # the error was reported once; the producer is usable again
    finally:
        await bulk.close()
        await producer.stop()
