"""aiokafka with lean fetched records: ConsumerRecord's fields, every record once, in order."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import ConsumerRecord, TopicPartition

from streams_app.kafka.admin import ensure_topics
from streams_app.kafka.topics import TopicSpec
from streams_app.runtime.lean_records import LeanConsumerRecord, install

SENT = [
    (b"k0", b"v0", [("h", b"1")]),
    (None, b"no key", []),
    (b"tombstone", None, []),
    (b"k3", b"x" * 5000, [("a", b""), ("b", b"2")]),
] + [(f"k{i}".encode(), f"v{i}".encode(), []) for i in range(4, 300)]


async def _produce(bootstrap: str, topic: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for i, (key, value, headers) in enumerate(SENT):
            await producer.send(topic, value, key=key, headers=headers, partition=0,
                                timestamp_ms=1_000 + i)
        await producer.flush()
    finally:
        await producer.stop()


async def _consume(bootstrap: str, topic: str, **kw) -> list:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                enable_auto_commit=False, **kw)
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, 0)])
        out: list = []
        while len(out) < len(SENT):
            # a small max_records leaves a fetch half read between calls
            batch = await consumer.getmany(timeout_ms=2000, max_records=7)
            assert batch, f"no records after {len(out)}"
            for records in batch.values():
                out.extend(records)
        return out
    finally:
        await consumer.stop()


async def test_lean_records_match_what_was_produced(kafka_bootstrap, unique_name):
    topic = f"{unique_name}-lean"
    await ensure_topics(kafka_bootstrap, [TopicSpec(topic, 1, 1)])
    await _produce(kafka_bootstrap, topic)
    install()
    got = await _consume(kafka_bootstrap, topic)
    assert all(type(r) is LeanConsumerRecord for r in got)
    assert [r.offset for r in got] == list(range(len(SENT)))
    for r, (key, value, headers) in zip(got, SENT, strict=True):
        assert (r.topic, r.partition, r.key, r.value, r.headers) == (
            topic, 0, key, value, tuple(headers))
        assert r.timestamp == 1_000 + r.offset and r.timestamp_type == 0
        assert r.serialized_key_size == (-1 if key is None else len(key))
        assert r.serialized_value_size == (-1 if value is None else len(value))
    # with a deserializer aiokafka builds its own records (the sizes are of the bytes)
    decoded = await _consume(kafka_bootstrap, topic,
                             value_deserializer=lambda v: v and v.decode())
    assert all(type(r) is ConsumerRecord for r in decoded)
    assert decoded[3].value == "x" * 5000 and decoded[3].serialized_value_size == 5000
