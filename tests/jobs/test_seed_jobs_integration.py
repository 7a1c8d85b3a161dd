"""The seed's jobs as Faust workers on the real broker: their final outputs on rides.csv
equal plain computations from the CSV (tests/jobs/plain.py)."""

from __future__ import annotations

import asyncio
import csv
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from streams_app.jobs.process import JobProcess
from streams_app.jobs.produce_rides import produce_rides
from streams_app.jobs.produce_zones import main as produce_zones_main
from streams_app.jobs.produce_zones import produce_zones
from streams_app.jobs.rides import (
    RIDE_SOURCES,
    ZONES_TOPIC,
    price_branch_topics,
    rides_all_topics,
    windowed_count_topics,
    zone_join_topics,
)
from streams_app.kafka.admin import describe_topic, ensure_topics
from streams_app.kafka.reader import group_caught_up, latest_by_key, read_to_end, wait_until
from streams_app.serdes import LongSerde, StringSerde, TimeWindowedSerde
from tests.jobs import plain

pytestmark = pytest.mark.integration

PARTITIONS = 2


class Deployment:
    """One job on the shared broker: its own topic prefix, app id and data dir."""

    def __init__(self, job: str, bootstrap: str, name: str, tmp: Path) -> None:
        self.job, self.bootstrap = job, bootstrap
        self.prefix, self.app_id = f"{name}-", f"{name}-app"
        self.log = tmp / "worker.log"
        self.env = {
            "STREAMS_BOOTSTRAP_SERVERS": bootstrap, "STREAMS_APP_ID": self.app_id,
            "STREAMS_DATA_DIR": str(tmp / "data"), "STREAMS_TOPIC_PREFIX": self.prefix,
            "STREAMS_TOPIC_PARTITIONS": str(PARTITIONS), "STREAMS_TOPIC_REPLICATION_FACTOR": "1",
            "STREAMS_COMMIT_INTERVAL_MS": "500",
        }

    def topic(self, name: str) -> str:
        return f"{self.prefix}{name}"

    async def run_until_consumed(self, sources: Sequence[str], repartitions: Sequence[str] = (),
                                 timeout: float = 60) -> None:
        """Start the worker, wait until its group has committed the end of every source topic,
        then of every repartition topic (written before those commits), and stop it."""
        topics = [self.topic(s) for s in sources]
        topics += [f"{self.app_id}-{r}-repartition" for r in repartitions]
        with JobProcess(self.job, self.env, log_path=self.log, loglevel="info") as worker:
            async def consumed() -> bool:
                assert worker.running, f"worker exited:\n{worker.log_tail()}"
                for topic in topics:
                    if not await group_caught_up(self.bootstrap, self.app_id, topic):
                        return False
                return True

            await wait_until(consumed, timeout, f"{self.app_id} to consume {topics}")

    async def rides_by_key(self, name: str) -> Counter[tuple]:
        return Counter((r.key.decode(), plain.ride_id(orjson.loads(r.value)))
                       for r in await read_to_end(self.bootstrap, self.topic(name)))


async def test_windowed_count(kafka_bootstrap, unique_name, tmp_path):
    job = Deployment("rides-windowed-count", kafka_bootstrap, unique_name, tmp_path)
    await ensure_topics(kafka_bootstrap, windowed_count_topics(job.prefix, PARTITIONS, 1))
    await produce_rides(kafka_bootstrap, job.topic("rides"), progress=False)
    await job.run_until_consumed(["rides"], ["rides-by-pulocation"])

    log = await latest_by_key(kafka_bootstrap, job.topic("rides-pulocation-window-count"))
    keys, counts = TimeWindowedSerde(StringSerde(), plain.WINDOW_MS), LongSerde()
    windows = {keys.deserialize(k): counts.deserialize(v) for k, v in log.items()}
    assert {(w.key, w.start): n for w, n in windows.items()} == dict(plain.windowed_counts())


async def test_zone_join(kafka_bootstrap, unique_name, tmp_path):
    job = Deployment("rides-zone-join", kafka_bootstrap, unique_name, tmp_path)
    await ensure_topics(kafka_bootstrap, zone_join_topics(job.prefix, PARTITIONS, 1))
    assert await produce_zones(kafka_bootstrap, job.topic(ZONES_TOPIC)) == 265
    await produce_rides(kafka_bootstrap, job.topic("rides"), progress=False)
    await job.run_until_consumed(["rides"], ["rides-by-borough"])

    log = await latest_by_key(kafka_bootstrap, job.topic("rides-borough-count"))
    assert {k.decode(): int(v) for k, v in log.items()} == dict(plain.borough_counts())


async def test_price_branch(kafka_bootstrap, unique_name, tmp_path):
    job = Deployment("rides-price-branch", kafka_bootstrap, unique_name, tmp_path)
    await ensure_topics(kafka_bootstrap, price_branch_topics(job.prefix, PARTITIONS, 1))
    await produce_rides(kafka_bootstrap, job.topic("rides"), progress=False)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:  # not a ride: to the dead letters, and the job goes on
        await producer.send_and_wait(job.topic("rides"), b'{"VendorID": 1}', key=b"1")
    finally:
        await producer.stop()
    await job.run_until_consumed(["rides"])

    high, low = plain.price_branches()
    assert await job.rides_by_key("rides-price-high") == high
    assert await job.rides_by_key("rides-price-low") == low
    dead = await read_to_end(kafka_bootstrap, f"{job.app_id}-dead-letter")
    assert [r.value for r in dead] == [b'{"VendorID": 1}']
    assert b"total_amount is not a number" in dict(dead[0].headers)["__streams.errors.message"]


async def test_rides_all(kafka_bootstrap, unique_name, tmp_path):
    job = Deployment("rides-all", kafka_bootstrap, unique_name, tmp_path)
    await ensure_topics(kafka_bootstrap, rides_all_topics(job.prefix, PARTITIONS, 1))
    rows = plain.rows()
    for i, source in enumerate(RIDE_SOURCES):  # every third ride to each feed
        part = tmp_path / f"{source}.csv"
        with open(part, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows[i::len(RIDE_SOURCES)])
        await produce_rides(kafka_bootstrap, job.topic(source), csv_path=part, progress=False)
    await job.run_until_consumed(RIDE_SOURCES)

    merged = await job.rides_by_key("rides-all")
    assert merged == Counter((r["VendorID"], plain.ride_id(r)) for r in rows)
    assert sum(merged.values()) == 266


async def test_produce_zones_command_creates_the_table_topic(kafka_bootstrap, unique_topic,
                                                             capsys):
    argv = ["--bootstrap-servers", kafka_bootstrap, "--topic", unique_topic]
    for _ in range(2):  # repeating it rewrites the same rows
        await asyncio.to_thread(produce_zones_main, argv)
    assert capsys.readouterr().out.splitlines() == [f"265 zones sent to {unique_topic}"] * 2
    desc = await describe_topic(kafka_bootstrap, unique_topic)
    assert desc.partitions == 1 and desc.configs["cleanup.policy"] == "compact"
    table = await latest_by_key(kafka_bootstrap, unique_topic)
    assert {k.decode(): orjson.loads(v)["borough"] for k, v in table.items()} == \
        {key: zone["borough"] for key, zone in plain.zones().items()}
