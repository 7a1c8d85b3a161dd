"""Repartition topics keep historical records until they are read.

Records keep their event timestamps through a repartition. With the broker's time-based
retention (7 days by default) a job over old data (the 2020 taxi rides) lost the repartitioned
records whenever a retention pass came before the consumer: the bench's zone_join loss. The
runtime creates its repartition topics as Kafka Streams does (retention.ms -1).

A broker of its own checks retention every 200 ms. Records from 2020 go into the runtime's
repartition topic and into a control topic with the broker's default retention; once the
control topic's records are deleted (a retention pass ran), the repartition topic must still
start at offset 0.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition

from streams_app.kafka.admin import describe_topic, ensure_topics
from streams_app.kafka.broker import LocalKafka
from streams_app.kafka.reader import wait_until
from streams_app.kafka.topics import TopicSpec
from streams_app.runtime.faust_runtime import FaustRuntime
from streams_app.settings import Settings
from tests.runtime.topologies import CASES

TS_2020 = 1_577_836_800_000  # 2020-01-01T00:00:00Z
RECORDS = 200


@pytest.fixture(scope="module")
def retentive_kafka() -> Iterator[str]:
    broker = LocalKafka(broker_config={"log.retention.check.interval.ms": "200",
                                       "log.initial.task.delay.ms": "0"})
    broker.start()
    try:
        yield broker.bootstrap_servers
    finally:
        broker.stop()


async def produce_old(bootstrap: str, topic: str) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for i in range(RECORDS):
            await producer.send(topic, b"v", key=b"k", partition=0, timestamp_ms=TS_2020 + i)
        await producer.flush()
    finally:
        await producer.stop()


async def log_start(bootstrap: str, topic: str) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        return (await consumer.beginning_offsets([tp]))[tp]
    finally:
        await consumer.stop()


def test_repartition_topic_keeps_old_records_through_a_retention_pass(retentive_kafka,
                                                                      unique_name, tmp_path):
    bootstrap, prefix = retentive_kafka, f"{unique_name}-"
    settings = Settings.from_env(env={}, bootstrap_servers=bootstrap, app_id=f"{prefix}app",
                                 data_dir=str(tmp_path), topic_partitions=1)
    runtime = FaustRuntime(CASES["regroup_aggregate"].build(prefix), settings)
    topology = runtime.topology
    (repartition,) = [topology.topic_name(t, runtime.app_id) for t in topology.internal_topics]
    control = f"{prefix}control"

    async def scenario() -> None:
        # The topics the app creates at start-up, from its own specs.
        await ensure_topics(bootstrap, runtime.app.topic_specs)
        await ensure_topics(bootstrap, [TopicSpec(control, 1, 1)])
        configs = (await describe_topic(bootstrap, repartition)).configs
        assert configs["retention.ms"] == "-1", configs
        assert configs["cleanup.policy"] == "delete", configs
        await produce_old(bootstrap, repartition)
        await produce_old(bootstrap, control)

        async def control_deleted() -> bool:
            return await log_start(bootstrap, control) > 0

        await wait_until(control_deleted, 60, f"a retention pass over {control}")
        assert await log_start(bootstrap, repartition) == 0

    asyncio.run(scenario())
