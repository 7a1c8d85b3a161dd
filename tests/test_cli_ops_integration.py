"""``streams-app topics`` and ``streams-app reset`` against a real broker, with the
rides-vendor-count job run as a Faust worker: a reset refuses while a worker is alive; after a
reset a rerun from the earliest offsets ends with the first run's counts, not double."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from streams_app.jobs.process import JobProcess
from streams_app.jobs.produce_rides import produce_rides
from streams_app.jobs.rides import read_rides, vendor_count_topics
from streams_app.kafka.admin import admin_client, ensure_topics
from streams_app.kafka.broker import LocalKafka
from streams_app.kafka.reader import (
    committed_offsets,
    end_offsets,
    group_caught_up,
    group_stable,
    latest_by_key,
    wait_until,
)
from streams_app.kafka.topics import TopicSpec
from streams_app.ops.reset import group_members

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[1]
TRUE_COUNTS = dict(Counter(str(r["VendorID"]) for r in read_rides()))
PARTITIONS = 2


class Deployment:
    """One rides-vendor-count deployment on the shared broker (own prefix, app id, data dir)."""

    def __init__(self, bootstrap: str, name: str, tmp: Path) -> None:
        self.bootstrap, self.prefix, self.app_id = bootstrap, f"{name}-", f"{name}-app"
        self.data_dir, self.log = tmp / "data", tmp / "worker.log"
        self.rides = f"{self.prefix}rides"
        self.changelog = f"{self.app_id}-vendor-count-changelog"
        self.env = {
            "STREAMS_BOOTSTRAP_SERVERS": bootstrap, "STREAMS_APP_ID": self.app_id,
            "STREAMS_DATA_DIR": str(self.data_dir), "STREAMS_TOPIC_PREFIX": self.prefix,
            "STREAMS_TOPIC_PARTITIONS": str(PARTITIONS), "STREAMS_TOPIC_REPLICATION_FACTOR": "1",
            "STREAMS_COMMIT_INTERVAL_MS": "500",
        }

    def worker(self) -> JobProcess:
        return JobProcess("rides-vendor-count", self.env, log_path=self.log, loglevel="info")

    async def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """``streams-app ARGS`` in a fresh interpreter with this deployment's settings."""
        env = {**os.environ, **self.env, "PYTHONPATH": str(ROOT)}
        return await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "streams_app.cli", *args], env=env,
            capture_output=True, text=True, timeout=180)

    async def run_to_end(self) -> None:
        with self.worker() as worker:
            async def done() -> bool:
                assert worker.running, f"worker exited:\n{worker.log_tail()}"
                return await group_caught_up(self.bootstrap, self.app_id, self.rides)

            await wait_until(done, 120, f"{self.app_id} to commit the end of {self.rides}")
        await self.wait_group_empty()

    async def wait_group_empty(self) -> None:
        async def empty() -> bool:
            async with admin_client(self.bootstrap) as admin:
                return not await group_members(admin, self.app_id)

        await wait_until(empty, 60, f"group {self.app_id} to have no members")

    async def table(self) -> dict[str, int]:
        log = await latest_by_key(self.bootstrap, self.changelog)
        return {k.decode(): int.from_bytes(v, "big", signed=True) for k, v in log.items()}

    async def topic_names(self) -> set[str]:
        async with admin_client(self.bootstrap) as admin:
            return set(await admin.list_topics())


@pytest.fixture
async def deployment(kafka_bootstrap: str, unique_name: str, tmp_path: Path) -> Deployment:
    d = Deployment(kafka_bootstrap, unique_name, tmp_path)
    await ensure_topics(kafka_bootstrap, vendor_count_topics(d.prefix, PARTITIONS, 1))
    await produce_rides(kafka_bootstrap, d.rides, progress=False)
    return d


async def test_topics_lists_roles_partitions_and_missing(deployment: Deployment) -> None:
    d = deployment
    before = await d.cli("topics", "rides-vendor-count", "--json")
    assert before.returncode == 0, before.stderr
    rows = {t["name"]: t for t in json.loads(before.stdout)["topics"]}
    assert rows[d.rides]["role"] == "input" and rows[d.rides]["partitions"] == PARTITIONS
    assert rows[f"{d.prefix}rides-vendor-count"]["role"] == "output"
    assert rows[f"{d.prefix}rides-vendor-count"]["configs"]["cleanup.policy"] == "compact"
    assert rows[f"{d.prefix}rides-dead-letter"]["role"] == "dead-letter"
    assert rows[d.changelog] == {"name": d.changelog, "role": "changelog", "exists": False,
                                 "partitions": None, "replication_factor": None, "configs": {}}

    await d.run_to_end()
    after = await d.cli("topics", "rides-vendor-count")
    assert after.returncode == 0, after.stderr
    lines = {line.split()[1]: line.split() for line in after.stdout.splitlines()[2:]}
    assert lines[d.changelog][:4] == ["changelog", d.changelog, str(PARTITIONS), "1"]
    assert "cleanup.policy=compact" in lines[d.changelog]
    assert lines[d.rides][:3] == ["input", d.rides, str(PARTITIONS)]
    assert "MISSING" not in after.stdout


async def test_reset_refuses_while_alive_then_rerun_gives_the_same_counts(
        deployment: Deployment) -> None:
    d = deployment
    await d.run_to_end()
    assert await d.table() == TRUE_COUNTS
    ends = await end_offsets(d.bootstrap, d.rides)

    with d.worker() as worker:
        await wait_until(lambda: group_stable(d.bootstrap, d.app_id), 60, "the group to form")
        for args in (["--dry-run"], []):
            refused = await d.cli("reset", "rides-vendor-count", *args)
            assert refused.returncode == 1, refused
            assert refused.stdout == "" and refused.stderr.count("\n") == 1, refused.stderr
            assert "has 1 active member(s)" in refused.stderr, refused.stderr
            assert "stop every worker" in refused.stderr
        assert worker.running
    await d.wait_group_empty()
    assert d.changelog in await d.topic_names()  # the refusal changed nothing
    assert await committed_offsets(d.bootstrap, d.app_id, d.rides) == ends

    future = await d.cli("reset", "rides-vendor-count", "--dry-run",
                         "--to-datetime", "2999-01-01T00:00:00")
    assert future.returncode == 0, future.stderr
    for p, end in ends.items():  # no record that late: the end offsets
        assert f"{d.rides}[{p}] -> {end} (committed: {end})" in future.stdout

    dry = await d.cli("reset", "rides-vendor-count", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "dry run, nothing changed" in dry.stdout
    assert f"  {d.changelog}\n" in dry.stdout and str(d.data_dir / "v1") in dry.stdout
    assert d.changelog in await d.topic_names() and (d.data_dir / "v1").is_dir()
    assert await committed_offsets(d.bootstrap, d.app_id, d.rides) == ends

    done = await d.cli("reset", "rides-vendor-count", "--to-earliest")
    assert done.returncode == 0, done.stderr
    for p, end in ends.items():
        assert f"{d.rides}[{p}] -> 0 (committed: {end})" in done.stdout
    assert d.changelog not in await d.topic_names()
    assert not (d.data_dir / "v1").exists()
    assert await committed_offsets(d.bootstrap, d.app_id, d.rides) == dict.fromkeys(ends, 0)

    await d.run_to_end()  # reprocesses every ride from offset 0
    assert await d.table() == TRUE_COUNTS
    published = await latest_by_key(d.bootstrap, f"{d.prefix}rides-vendor-count")
    assert {k.decode(): int(v) for k, v in published.items()} == TRUE_COUNTS


async def test_reset_of_a_job_with_a_repartition_topic(kafka_bootstrap: str, unique_name: str,
                                                       tmp_path: Path) -> None:
    """pulocation-count re-keys through a repartition topic: the reset deletes it (and the
    group's offsets on it go with it), so the rerun counts every ride exactly once."""
    d = Deployment(kafka_bootstrap, unique_name, tmp_path)
    await produce_rides(kafka_bootstrap, d.rides, progress=False)  # auto-created, 1 partition
    d.env["STREAMS_TOPIC_PARTITIONS"] = "1"
    repartition = f"{d.app_id}-rides-by-pulocation-repartition"
    changelog = f"{d.app_id}-pulocation-count-changelog"
    truth = dict(Counter(str(r["PULocationID"]) for r in read_rides()))

    async def run_to_end() -> dict[str, int]:
        with JobProcess("pulocation-count", d.env, log_path=d.log) as worker:
            async def done() -> bool:
                assert worker.running, f"worker exited:\n{worker.log_tail()}"
                return (await group_caught_up(d.bootstrap, d.app_id, d.rides)
                        and await group_caught_up(d.bootstrap, d.app_id, repartition))

            await wait_until(done, 120, f"{d.app_id} to commit the end of its topics")
        await d.wait_group_empty()
        log = await latest_by_key(d.bootstrap, changelog)
        return {k.decode(): int.from_bytes(v, "big", signed=True) for k, v in log.items()}

    assert await run_to_end() == truth
    assert await committed_offsets(d.bootstrap, d.app_id, repartition)
    # Named like an internal topic of this app, but another app's (its id extends this one).
    other = f"{d.app_id}-x-counts-changelog"
    await ensure_topics(kafka_bootstrap, [TopicSpec(other, 1, 1)])
    reset = await d.cli("reset", "pulocation-count")
    assert reset.returncode == 0, reset.stderr
    assert f"  {repartition}\n" in reset.stdout and f"  {changelog}\n" in reset.stdout
    assert reset.stdout.endswith(f"not in its topology):\n  {other}\n"), reset.stdout
    names = await d.topic_names()
    assert repartition not in names and changelog not in names and other in names
    assert await committed_offsets(d.bootstrap, d.app_id, repartition) == {}
    assert await run_to_end() == truth


async def test_topics_and_reset_over_sasl_ssl(secure_kafka: LocalKafka, unique_name: str,
                                              tmp_path: Path) -> None:
    """Security settings reach the CLI's clients: SCRAM-SHA-512 over TLS; a wrong password
    fails with one line naming the setting and not showing the password."""
    bootstrap = secure_kafka.sasl_ssl_bootstrap_servers
    settings = secure_kafka.security.sasl_settings(bootstrap)
    d = Deployment(bootstrap, unique_name, tmp_path)
    password = secure_kafka.security.users["streams"]
    d.env.update(STREAMS_SECURITY_PROTOCOL="SASL_SSL", STREAMS_SASL_MECHANISM="SCRAM-SHA-512",
                 STREAMS_SASL_USERNAME="streams", STREAMS_SASL_PASSWORD=password,
                 STREAMS_SSL_CAFILE=str(secure_kafka.security.ca_file))
    await ensure_topics(bootstrap, vendor_count_topics(d.prefix, PARTITIONS, 1),
                        settings=settings)

    topics = await d.cli("topics", "rides-vendor-count", "--json")
    assert topics.returncode == 0, topics.stderr
    rows = {t["name"]: t for t in json.loads(topics.stdout)["topics"]}
    assert rows[d.rides]["exists"] and rows[d.rides]["partitions"] == PARTITIONS
    assert not rows[d.changelog]["exists"]

    reset = await d.cli("reset", "rides-vendor-count")
    assert reset.returncode == 0, reset.stderr
    for p in range(PARTITIONS):
        assert f"{d.rides}[{p}] -> 0 (committed: none)" in reset.stdout
    assert await committed_offsets(bootstrap, d.app_id, d.rides, settings=settings) == \
        dict.fromkeys(range(PARTITIONS), 0)

    d.env["STREAMS_SASL_PASSWORD"] = "not-" + password
    wrong = await d.cli("topics", "rides-vendor-count")
    assert wrong.returncode == 1 and wrong.stderr.count("\n") == 1, wrong.stderr
    assert "STREAMS_SASL_PASSWORD" in wrong.stderr
    assert password not in wrong.stderr + wrong.stdout


async def test_reset_to_datetime_picks_the_first_offset_at_or_after(
        kafka_bootstrap: str, unique_name: str, tmp_path: Path) -> None:
    d = Deployment(kafka_bootstrap, unique_name, tmp_path)
    await ensure_topics(kafka_bootstrap, vendor_count_topics(d.prefix, PARTITIONS, 1))
    base = (int(time.time()) - 600) * 1000  # recent: no retention pass deletes it
    stamps = {0: [base, base + 2000, base + 4000], 1: [base + 1000, base + 3000]}
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        for partition, times in stamps.items():
            for ts in times:
                await producer.send_and_wait(d.rides, b"{}", key=b"k", partition=partition,
                                             timestamp_ms=ts)
    finally:
        await producer.stop()
    at = datetime.fromtimestamp((base + 2000) / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    plan = await d.cli("reset", "rides-vendor-count", "--to-datetime", at, "--dry-run")
    assert plan.returncode == 0, plan.stderr
    assert f"to {at}+00:00" in plan.stdout  # a time without a zone is UTC
    assert f"{d.rides}[0] -> 1 (committed: none)" in plan.stdout  # base + 2000
    assert f"{d.rides}[1] -> 1 (committed: none)" in plan.stdout  # base + 3000
