"""A GlobalKTable updated while the worker runs: joins see the new row (the global store
caches decoded reads; a table write must empty that cache); records without a key in its
topic are skipped."""

from __future__ import annotations

import time

from aiokafka import AIOKafkaProducer

from streams_app.jobs.process import JobProcess
from streams_app.kafka.admin import ensure_topics
from streams_app.kafka.reader import group_caught_up, read_to_end, wait_until
from streams_app.kafka.topics import TopicSpec
from streams_app.kafka.writer import send_record
from tests.runtime.test_faust_runtime import J, produce


async def test_join_sees_global_table_updates(kafka_bootstrap, unique_name, tmp_path):
    prefix, app_id = f"{unique_name}-", f"{unique_name}-app"
    stream, zones, out = f"{prefix}in", f"{prefix}in2", f"{prefix}out"
    await ensure_topics(kafka_bootstrap, [TopicSpec(t, 1, 1) for t in (stream, zones)])
    now = int(time.time() * 1000)
    await produce(kafka_bootstrap, zones, [(f"k{i}", {"n": i}, now) for i in range(7)])
    env = {"STREAMS_BOOTSTRAP_SERVERS": kafka_bootstrap, "STREAMS_APP_ID": app_id,
           "STREAMS_DATA_DIR": str(tmp_path / "data"), "STREAMS_TOPIC_PREFIX": prefix,
           "STREAMS_TOPIC_PARTITIONS": "1", "STREAMS_COMMIT_INTERVAL_MS": "200",
           "STREAMS_STORE": "rocksdb", "TEST_TOPOLOGY": "global_join"}

    async def joined() -> list[dict]:
        return [J.deserialize(r.value) for r in await read_to_end(kafka_bootstrap, out)]

    with JobProcess("tests.runtime.faust_job", env, log_path=tmp_path / "worker.log",
                    loglevel="info") as job:
        # the stream record with n=3 joins zone k3
        await produce(kafka_bootstrap, stream, [("a", {"n": 3}, now)])

        async def first_join() -> bool:
            assert job.running, job.log_tail()
            return await group_caught_up(kafka_bootstrap, app_id, stream)

        await wait_until(first_join, 60, "the first join")
        assert await joined() == [{"n": 3, "z": 3}]  # read (and cached) before the update

        await produce(kafka_bootstrap, zones, [("k3", {"n": 33}, now + 1)])

        async def update_seen() -> bool:
            # the global thread's progress is not observable: join again until it shows
            assert job.running, job.log_tail()
            await produce(kafka_bootstrap, stream, [("a", {"n": 3}, now + 2)])
            return (await joined())[-1:] == [{"n": 3, "z": 33}]

        await wait_until(update_seen, 30, "a join with the updated zone")
        got = await joined()
        # once seen, never stale again: every later join has the new row
        first_new = got.index({"n": 3, "z": 33})
        assert all(v == {"n": 3, "z": 33} for v in got[first_new:])


async def _produce_keyless(bootstrap: str, topic: str, ts: int) -> None:
    """A record with a value but no key, then one with neither (Kafka accepts both)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await send_record(producer, topic, None, J.serialize({"n": 5}), ts)
        await send_record(producer, topic, None, None, ts)
        await producer.flush()
    finally:
        await producer.stop()


async def test_global_table_skips_null_keys(kafka_bootstrap, unique_name, tmp_path):
    # Kafka Streams drops a global table's null-key records, restoring or following its
    # topic; the worker crashed on them ('raw mode only support bytes').
    prefix, app_id = f"{unique_name}-", f"{unique_name}-app"
    stream, zones, out = f"{prefix}in", f"{prefix}in2", f"{prefix}out"
    await ensure_topics(kafka_bootstrap, [TopicSpec(t, 1, 1) for t in (stream, zones)])
    now = int(time.time() * 1000)
    await produce(kafka_bootstrap, zones, [("k1", {"n": 1}, now)])
    await _produce_keyless(kafka_bootstrap, zones, now)  # read by the restore
    env = {"STREAMS_BOOTSTRAP_SERVERS": kafka_bootstrap, "STREAMS_APP_ID": app_id,
           "STREAMS_DATA_DIR": str(tmp_path / "data"), "STREAMS_TOPIC_PREFIX": prefix,
           "STREAMS_TOPIC_PARTITIONS": "1", "STREAMS_COMMIT_INTERVAL_MS": "200",
           "STREAMS_STORE": "rocksdb", "TEST_TOPOLOGY": "global_join"}

    async def joined() -> list[dict]:
        return [J.deserialize(r.value) for r in await read_to_end(kafka_bootstrap, out)]

    with JobProcess("tests.runtime.faust_job", env, log_path=tmp_path / "worker.log",
                    loglevel="info") as job:
        await produce(kafka_bootstrap, stream, [("a", {"n": 1}, now)])

        async def first_join() -> bool:
            assert job.running, job.log_tail()
            return await group_caught_up(kafka_bootstrap, app_id, stream)

        await wait_until(first_join, 60, "the first join")
        assert await joined() == [{"n": 1, "z": 1}]

        # followed while running: keyless records, then a row the next join needs
        await _produce_keyless(kafka_bootstrap, zones, now + 1)
        await produce(kafka_bootstrap, zones, [("k2", {"n": 2}, now + 1)])

        async def row_seen() -> bool:
            assert job.running, job.log_tail()
            await produce(kafka_bootstrap, stream, [("b", {"n": 2}, now + 2)])
            return (await joined())[-1:] == [{"n": 2, "z": 2}]

        await wait_until(row_seen, 30, "a join with the row after the keyless records")
        assert job.running, job.log_tail()
