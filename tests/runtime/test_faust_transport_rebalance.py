"""The batch consumer (aiokafka in the app loop) through a rebalance on a real broker.

A second worker of the same group joins while records are still being produced to a
4-partition topic: the group must settle with both members, catch up with the whole input
(nothing stalls), and the counts must cover every record (at-least-once: never below).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from streams_app.jobs.process import JobProcess
from streams_app.kafka.admin import ensure_topics
from streams_app.kafka.reader import group_caught_up, latest_by_key, wait_until
from streams_app.kafka.topics import TopicSpec
from streams_app.serdes import JsonSerde, StringSerde

J, S = JsonSerde(), StringSerde()
PARTITIONS = 4
KEYS = [f"k{i}" for i in range(40)]
TOTAL, RATE = 24_000, 1_200.0  # ~20 s of input: the second worker joins well before the end


async def produce_paced(bootstrap: str, topic: str) -> Counter:
    """Produce TOTAL keyed records at RATE per second; return the true count per key."""
    counts: Counter = Counter()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    try:
        start, chunk = time.monotonic(), 200
        for i in range(0, TOTAL, chunk):
            for j in range(i, i + chunk):
                key = KEYS[j % len(KEYS)]
                counts[key] += 1
                await producer.send(topic, J.serialize({"n": j}), key=S.serialize(key))
            # Pacing (not synchronisation): keep the input arriving while workers come and go.
            ahead = start + (i + chunk) / RATE - time.monotonic()
            if ahead > 0:
                await asyncio.sleep(ahead)
        await producer.flush()
    finally:
        await producer.stop()
    return counts


async def group_members(bootstrap: str, group_id: str) -> int:
    """Members of ``group_id`` once it is Stable (0 while it rebalances)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        responses = await admin.describe_consumer_groups([group_id])
    finally:
        await admin.close()
    for group in (g for r in responses for g in r.groups):
        if group[1] == group_id and group[2] == "Stable":
            return len(group[5])
    return 0


def worker(bootstrap: str, name: str, data: Path, log: Path) -> JobProcess:
    env = {"STREAMS_BOOTSTRAP_SERVERS": bootstrap, "STREAMS_APP_ID": f"{name}-app",
           "STREAMS_DATA_DIR": str(data), "STREAMS_TOPIC_PREFIX": f"{name}-",
           "STREAMS_TOPIC_PARTITIONS": str(PARTITIONS), "STREAMS_COMMIT_INTERVAL_MS": "500",
           "TEST_TOPOLOGY": "count"}
    return JobProcess("tests.runtime.faust_job", env, log_path=log, loglevel="info")


async def test_second_worker_joins_mid_stream(kafka_bootstrap, unique_name, tmp_path):
    app_id, source, out = f"{unique_name}-app", f"{unique_name}-in", f"{unique_name}-out"
    await ensure_topics(kafka_bootstrap, [TopicSpec(source, PARTITIONS, 1),
                                          TopicSpec(out, PARTITIONS, 1)])
    first = worker(kafka_bootstrap, unique_name, tmp_path / "a", tmp_path / "a.log")
    second = worker(kafka_bootstrap, unique_name, tmp_path / "b", tmp_path / "b.log")
    producing = asyncio.create_task(produce_paced(kafka_bootstrap, source))
    try:
        first.start()

        async def first_counts() -> bool:
            assert first.running, first.log_tail()
            try:
                return bool(await latest_by_key(kafka_bootstrap, out))
            except LookupError:
                return False

        await wait_until(first_counts, 90, "the first worker's first counts")
        assert not producing.done(), "the second worker must join mid-stream"
        second.start()

        async def both_members() -> bool:
            assert first.running, first.log_tail()
            assert second.running, second.log_tail()
            return await group_members(kafka_bootstrap, app_id) == 2

        await wait_until(both_members, 90, f"{app_id} to settle with two members")
        assert not producing.done(), "the rebalance must happen mid-stream"
        truth = await producing

        async def caught_up() -> bool:
            assert first.running, first.log_tail()
            assert second.running, second.log_tail()
            return await group_caught_up(kafka_bootstrap, app_id, source)

        await wait_until(caught_up, 120, f"{app_id} to commit the end of {source}")
        assert await group_members(kafka_bootstrap, app_id) == 2
    finally:
        producing.cancel()
        second.stop()
        first.stop()
    # Offsets are committed only after the caches are flushed: the output is final.
    table = {S.deserialize(k): J.deserialize(v)
             for k, v in (await latest_by_key(kafka_bootstrap, out)).items()}
    assert set(table) == set(truth)
    low = {k: (table[k], n) for k, n in truth.items() if table[k] < n}
    assert not low, f"counts below the truth (lost records): {low}"
