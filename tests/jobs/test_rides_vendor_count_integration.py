"""The rides vendor-count job as a Faust worker on the real broker: results, dead letters, and
recovery of its table from the changelog after SIGKILL with an empty data dir."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections import Counter
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from streams_app.jobs.process import JobProcess
from streams_app.jobs.produce_rides import produce_rides
from streams_app.jobs.rides import read_rides, vendor_count_topics
from streams_app.kafka.admin import ensure_topics
from streams_app.kafka.reader import (
    group_caught_up,
    latest_by_key,
    read_to_end,
    wait_until,
)

pytestmark = pytest.mark.integration

RIDES = list(read_rides())
TRUE_COUNTS = Counter(str(r["VendorID"]) for r in RIDES)
PARTITIONS = 2


class Job:
    """One job deployment on the shared broker: its own topic prefix, app id and data dir."""

    def __init__(self, bootstrap: str, name: str, tmp: Path) -> None:
        self.bootstrap, self.prefix, self.app_id = bootstrap, f"{name}-", f"{name}-app"
        self.data_dir, self.log = tmp / "data", tmp / "worker.log"
        self.env = {
            "STREAMS_BOOTSTRAP_SERVERS": bootstrap, "STREAMS_APP_ID": self.app_id,
            "STREAMS_DATA_DIR": str(self.data_dir), "STREAMS_TOPIC_PREFIX": self.prefix,
            "STREAMS_TOPIC_PARTITIONS": str(PARTITIONS), "STREAMS_TOPIC_REPLICATION_FACTOR": "1",
            "STREAMS_COMMIT_INTERVAL_MS": "500",
        }
        self.rides = f"{self.prefix}rides"

    async def create_topics(self) -> None:
        await ensure_topics(self.bootstrap, vendor_count_topics(self.prefix, PARTITIONS, 1))

    def worker(self) -> JobProcess:
        return JobProcess("rides-vendor-count", self.env, log_path=self.log, loglevel="info")

    async def caught_up(self) -> bool:
        return await group_caught_up(self.bootstrap, self.app_id, self.rides)

    async def table(self) -> dict[str, int]:
        """The vendor-count table as its changelog topic holds it (string keys, long counts)."""
        log = await latest_by_key(self.bootstrap, f"{self.app_id}-vendor-count-changelog")
        return {k.decode(): int.from_bytes(v, "big", signed=True) for k, v in log.items()}

    async def wait_done(self, job: JobProcess, timeout: float = 120) -> None:
        async def done() -> bool:
            assert job.running, f"worker exited:\n{job.log_tail()}"
            return await self.caught_up()

        await wait_until(done, timeout, f"{self.app_id} to commit the end of {self.rides}")


async def test_counts_branches_and_dead_letters(kafka_bootstrap, unique_name, tmp_path):
    job = Job(kafka_bootstrap, unique_name, tmp_path)
    await job.create_topics()
    await produce_rides(kafka_bootstrap, job.rides, progress=False)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    # Event time of 2020: the dead letters must carry the time they failed instead, else
    # the topic's time-based retention could delete them at once.
    old_ts, started_ms = 1_577_836_800_000, int(time.time() * 1000)
    await producer.send_and_wait(job.rides, b"{oops", key=b"1", timestamp_ms=old_ts)
    await producer.send_and_wait(job.rides, b'{"VendorID": 1}', key=b"1", timestamp_ms=old_ts)
    await producer.stop()

    with job.worker() as worker:
        await job.wait_done(worker)

    assert await job.table() == dict(TRUE_COUNTS)
    published = await latest_by_key(kafka_bootstrap, f"{job.prefix}rides-vendor-count")
    assert {k.decode(): int(v) for k, v in published.items()} == dict(TRUE_COUNTS)
    high = await read_to_end(kafka_bootstrap, f"{job.prefix}rides-high-amount")
    low = await read_to_end(kafka_bootstrap, f"{job.prefix}rides-low-amount")
    assert len(high) == sum(r["total_amount"] >= 40 for r in RIDES) == 29
    assert len(low) == len(RIDES) - 29
    assert all(orjson.loads(r.value)["total_amount"] >= 40 for r in high)
    dead = await read_to_end(kafka_bootstrap, f"{job.prefix}rides-dead-letter")
    reasons = sorted(dict(r.headers)["__streams.errors.message"].decode() for r in dead)
    assert len(reasons) == 2, reasons
    assert "JsonSerde cannot decode" in reasons[0], reasons
    assert "total_amount is not a number" in reasons[1], reasons
    assert sorted(r.value for r in dead) == [b'{"VendorID": 1}', b"{oops"]
    assert all(r.timestamp >= started_ms for r in dead), [r.timestamp for r in dead]
    assert {dict(r.headers)["__streams.errors.timestamp"] for r in dead} == {str(old_ts).encode()}
    assert sorted(dict(r.headers)["__streams.errors.exception"] for r in dead) == \
        [b"ValueError", b"streams_app.serdes.SerdeError"]


async def test_restore_after_kill_at_commit_is_exact(kafka_bootstrap, unique_name, tmp_path):
    """SIGKILL after a commit with nothing in flight, data dir deleted: exact counts."""
    job = Job(kafka_bootstrap, unique_name, tmp_path)
    await job.create_topics()
    await produce_rides(kafka_bootstrap, job.rides, progress=False)
    first = job.worker().start()
    try:
        await job.wait_done(first)
    finally:
        first.kill()
    shutil.rmtree(job.data_dir)

    await produce_rides(kafka_bootstrap, job.rides, progress=False)
    with job.worker() as second:
        await job.wait_done(second)
    # Without a restore from the changelog the second worker would count only the second batch.
    assert await job.table() == {k: 2 * v for k, v in TRUE_COUNTS.items()}


async def test_restore_after_kill_mid_stream_loses_nothing(kafka_bootstrap, unique_name, tmp_path):
    """SIGKILL mid-stream, data dir deleted: at-least-once, so counts are never below the truth.

    The rides arrive at a fixed rate while the worker runs, so the kill lands while records
    are still coming in, whatever the speed of the worker.
    """
    repeat, rate = 80, 1500.0
    job = Job(kafka_bootstrap, unique_name, tmp_path)
    await job.create_topics()
    counts_topic = f"{job.prefix}rides-vendor-count"
    first = job.worker().start()
    producing = asyncio.create_task(
        produce_rides(kafka_bootstrap, job.rides, repeat=repeat, rate=rate, progress=False))
    try:
        async def some_progress() -> bool:
            assert first.running, first.log_tail()
            try:
                counts = await latest_by_key(kafka_bootstrap, counts_topic)
            except LookupError:
                return False
            return sum(int(v) for v in counts.values()) >= len(RIDES)

        await wait_until(some_progress, 120, "the first rides to be counted")
        assert not producing.done(), "the kill must come mid-stream"
    finally:
        first.kill()
    shutil.rmtree(job.data_dir)

    with job.worker() as second:
        await producing
        await job.wait_done(second)
    table = await job.table()
    for vendor, true in TRUE_COUNTS.items():
        assert table[vendor] >= true * repeat, (vendor, table, "lost counts")
