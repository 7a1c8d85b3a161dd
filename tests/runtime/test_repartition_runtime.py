"""Repartition topics on the Faust runtime: sized as ``Repartitioned`` asks, and purged below
the committed offsets (Kafka Streams' ``repartition.purge.interval.ms``)."""

from __future__ import annotations

from collections import Counter

import orjson
from aiokafka import AIOKafkaProducer, TopicPartition

from streams_app.jobs.process import JobProcess
from streams_app.kafka.admin import describe_topic, ensure_topics, log_start_offsets
from streams_app.kafka.reader import committed_offsets, end_offsets, latest_by_key, wait_until
from streams_app.kafka.topics import TopicSpec
from streams_app.serdes import LongSerde

ZONES = [f"zone-{i}" for i in range(20)]
N = 400


async def run_job(bootstrap: str, name: str, tmp_path, **env: str):
    prefix, app_id = f"{name}-", f"{name}-app"
    await ensure_topics(bootstrap, [TopicSpec(f"{prefix}events", 2, 1)])
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for i in range(N):
            value = orjson.dumps({"zone": ZONES[i % len(ZONES)], "i": i})
            await producer.send(f"{prefix}events", value, key=str(i).encode())
        await producer.flush()
    finally:
        await producer.stop()
    job = JobProcess("tests.runtime.repartition_job", {
        "STREAMS_BOOTSTRAP_SERVERS": bootstrap, "STREAMS_APP_ID": app_id,
        "STREAMS_DATA_DIR": str(tmp_path / "data"), "STREAMS_TOPIC_PREFIX": prefix,
        "STREAMS_COMMIT_INTERVAL_MS": "200", **env},
        log_path=tmp_path / "worker.log", loglevel="info")
    return job, prefix, app_id


async def counts(bootstrap: str, topic: str) -> dict[str, int]:
    try:
        latest = await latest_by_key(bootstrap, topic)
    except LookupError:  # created by the job's first output
        return {}
    return {k.decode(): LongSerde().deserialize(v) for k, v in latest.items()}


async def test_repartitioned_num_partitions_is_honoured(kafka_bootstrap, unique_name, tmp_path):
    job, prefix, app_id = await run_job(kafka_bootstrap, unique_name, tmp_path,
                                        TEST_REPARTITION_PARTITIONS="8")
    want = dict(Counter(ZONES[i % len(ZONES)] for i in range(N)))
    with job:
        async def done() -> bool:
            assert job.running, job.log_tail()
            return await counts(kafka_bootstrap, f"{prefix}zone-counts") == want

        await wait_until(done, 90, "the zone counts")
    topic = await describe_topic(kafka_bootstrap, f"{app_id}-by-zone-repartition")
    assert topic.partitions == 8  # STREAMS_TOPIC_PARTITIONS is 1 here
    changelog = await describe_topic(kafka_bootstrap, f"{app_id}-zone-count-changelog")
    assert changelog.partitions == 8  # the counting sub-topology runs 8 tasks


async def test_consumed_repartition_records_are_purged(kafka_bootstrap, unique_name, tmp_path):
    job, prefix, app_id = await run_job(kafka_bootstrap, unique_name, tmp_path,
                                        TEST_REPARTITION_PARTITIONS="3",
                                        STREAMS_REPARTITION_PURGE_INTERVAL_MS="100")
    topic = f"{app_id}-by-zone-repartition"
    with job:
        async def purged() -> bool:
            assert job.running, job.log_tail()
            try:
                ends = await end_offsets(kafka_bootstrap, topic)
            except LookupError:  # the worker creates it at start-up
                return False
            if sum(ends.values()) < N:
                return False
            committed = await committed_offsets(kafka_bootstrap, app_id, topic)
            if committed != ends:
                return False
            starts = await log_start_offsets(
                kafka_bootstrap, [TopicPartition(topic, p) for p in ends])
            return {tp.partition: off for tp, off in starts.items()} == committed

        await wait_until(purged, 90, "each repartition partition purged to its commit")
    # The input topic itself is never purged.
    starts = await log_start_offsets(kafka_bootstrap, [TopicPartition(f"{prefix}events", p)
                                                       for p in (0, 1)])
    assert set(starts.values()) == {0}
