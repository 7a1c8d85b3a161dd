"""exactly_once in the Faust runtime, on the real broker.

A count job gets records at a fixed rate; its worker is SIGKILLed mid-stream, its data dir
deleted, and a new worker finishes the job. A read_committed reader of the output must see
every count update exactly once: per key the counts 1, 2, ..., N (N = that key's inputs), no
duplicate, no gap; and the store's changelog must hold the true counts. At-least-once fails
this check whenever the kill lands after records were processed but before their commit (the
restarted worker counts them again), which is likely but not certain, so no test asserts it.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from streams_app.jobs.process import JobProcess
from streams_app.kafka.admin import ensure_topics
from streams_app.kafka.broker import LocalKafka
from streams_app.kafka.reader import (
    group_caught_up,
    latest_by_key,
    read_to_end,
    wait_until,
)
from streams_app.kafka.topics import TopicSpec
from streams_app.runtime.faust_runtime import FaustRuntime
from streams_app.serdes import JsonSerde, StringSerde
from streams_app.settings import ConfigError, Settings
from tests.runtime import eos_topologies

pytestmark = pytest.mark.integration

J, S = JsonSerde(), StringSerde()
KEYS = [f"k{i}" for i in range(7)]
PARTITIONS = 2
TOTAL, RATE = 12_000, 1_500.0  # 8 s of input: the kill lands while records still arrive


def truth(topology: str) -> Counter:
    """Inputs per output key: the final count of every key."""
    keys = (KEYS[i % len(KEYS)] if topology == "count" else eos_topologies.group_of({"n": i})
            for i in range(TOTAL))
    return Counter(keys)


async def produce_at_rate(bootstrap: str, topic: str, gate: asyncio.Event | None = None,
                          gate_at: int = TOTAL // 10) -> None:
    """Record i: key ``KEYS[i % 7]``, value ``{"n": i}``, paced to RATE records per second;
    with a ``gate``, the records from ``gate_at`` on wait until it is set (the worker is up:
    its start-up time on a loaded machine must not eat the stream)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    try:
        started = time.monotonic()
        for i in range(TOTAL):
            if gate is not None and i == gate_at:
                await gate.wait()
                started = time.monotonic() - i / RATE
            await producer.send(topic, J.serialize({"n": i}), key=S.serialize(KEYS[i % 7]))
            ahead = (i + 1) / RATE - (time.monotonic() - started)
            if ahead > 0:  # pacing the input, not waiting for a condition
                await asyncio.sleep(ahead)
        await producer.flush()
    finally:
        await producer.stop()


class Job:
    """One deployment of tests/runtime/eos_job.py with its own topics, app id and data dir."""

    def __init__(self, bootstrap: str, name: str, tmp: Path, topology: str,
                 guarantee: str) -> None:
        self.bootstrap, self.prefix, self.app_id = bootstrap, f"{name}-", f"{name}-app"
        self.data_dir, self.log = tmp / "data", tmp / "worker.log"
        self.input, self.output = f"{self.prefix}in", f"{self.prefix}out"
        self.env = {
            "STREAMS_BOOTSTRAP_SERVERS": bootstrap, "STREAMS_APP_ID": self.app_id,
            "STREAMS_DATA_DIR": str(self.data_dir), "STREAMS_TOPIC_PREFIX": self.prefix,
            "STREAMS_TOPIC_PARTITIONS": str(PARTITIONS), "STREAMS_COMMIT_INTERVAL_MS": "500",
            "STREAMS_CACHE_MAX_BYTES": "0",  # every count update is published
            "STREAMS_PROCESSING_GUARANTEE": guarantee, "EOS_TOPOLOGY": topology,
        }

    def worker(self) -> JobProcess:
        return JobProcess("tests.runtime.eos_job", self.env, log_path=self.log, loglevel="info")

    async def updates(self) -> dict[str, list[int]]:
        """Per key, the counts a read_committed reader of the output sees, in order."""
        seen: dict[str, list[int]] = defaultdict(list)
        try:
            records = await read_to_end(self.bootstrap, self.output)
        except LookupError:
            return {}
        for r in records:
            seen[S.deserialize(r.key)].append(J.deserialize(r.value))
        return seen

    async def store(self) -> dict[str, int]:
        """The count store as its changelog holds it (committed records only; longs)."""
        log = await latest_by_key(self.bootstrap, f"{self.app_id}-counts-changelog")
        return {S.deserialize(k): int.from_bytes(v, "big", signed=True) for k, v in log.items()}


async def run_with_kill(job: Job, wipe: bool) -> None:
    """Start, SIGKILL mid-stream, maybe wipe the data dir, restart, wait until all is counted.

    Without the wipe the restarted worker must throw away its stores itself: they hold writes
    of the transaction the kill left open."""
    await ensure_topics(job.bootstrap, [TopicSpec(job.input, PARTITIONS, 1)])
    want = truth(job.env["EOS_TOPOLOGY"])
    first = job.worker().start()
    up = asyncio.Event()
    producing = asyncio.create_task(produce_at_rate(job.bootstrap, job.input, up))
    try:
        def some_output(at_least: int) -> Callable[[], Awaitable[bool]]:
            async def check() -> bool:
                assert first.running, first.log_tail()
                return sum(len(v) for v in (await job.updates()).values()) >= at_least
            return check

        await wait_until(some_output(TOTAL // 20), 90, "the first counts to be committed")
        up.set()  # the rest of the input flows while the worker is processing
        await wait_until(some_output(TOTAL // 10 + TOTAL // 20), 90, "counts of the stream")
        assert not producing.done(), "the kill must come mid-stream"
    finally:
        first.kill()
    if wipe:
        shutil.rmtree(job.data_dir)

    with job.worker() as second:
        await producing

        async def all_counted() -> bool:
            assert second.running, second.log_tail()
            if not await group_caught_up(job.bootstrap, job.app_id, job.input):
                return False
            updates = await job.updates()  # complete once the killed transaction is aborted
            return all(updates.get(k, [0])[-1] >= n for k, n in want.items())

        await wait_until(all_counted, 120, f"{job.app_id} to count all {TOTAL} records")


@pytest.mark.parametrize(("topology", "wipe"), [("count", True), ("regroup_count", True),
                                               ("count", False)],
                         ids=["count", "repartition", "count-same-data-dir"])
async def test_kill_mid_stream_publishes_every_count_once(topology, wipe, kafka_bootstrap,
                                                          unique_name, tmp_path):
    job = Job(kafka_bootstrap, unique_name, tmp_path, topology, "exactly_once")
    await run_with_kill(job, wipe)
    want = truth(topology)
    updates = await job.updates()
    assert set(updates) == set(want)
    for key, n in want.items():
        assert updates[key] == list(range(1, n + 1)), (key, "duplicates or gaps")
    assert await job.store() == dict(want)
    log = job.log.read_text(errors="replace")
    assert "exactly_once: transactional id" in log
    assert ("did not stop cleanly" in log) is not wipe


def test_exactly_once_needs_acks_all(tmp_path):
    settings = Settings(processing_guarantee="exactly_once", acks="1", data_dir=tmp_path)
    with pytest.raises(ConfigError, match=r"STREAMS_ACKS \(acks\).*exactly_once"):
        FaustRuntime(eos_topologies.build("count", ""), settings)


def test_exactly_once_is_accepted(tmp_path):
    settings = Settings(processing_guarantee="exactly_once", data_dir=tmp_path)
    runtime = FaustRuntime(eos_topologies.build("count", ""), settings)
    assert runtime.transaction is not None
    # Faust's own per-partition transactions stay off: the runtime drives them.
    assert not runtime.app.in_transaction


async def test_broker_without_transactions_fails_at_start(unique_name, tmp_path):
    """A single broker whose transaction log wants 3 replicas never starts a transaction:
    the worker stops at start-up with an error naming the setting."""
    broker = LocalKafka(broker_config={"transaction.state.log.replication.factor": "3"})
    await asyncio.to_thread(broker.start)
    try:
        job = Job(broker.bootstrap_servers, unique_name, tmp_path, "count", "exactly_once")
        await ensure_topics(job.bootstrap, [TopicSpec(job.input, PARTITIONS, 1)])
        with job.worker() as worker:
            async def exited() -> bool:
                return not worker.running

            await wait_until(exited, 90, "the worker to give up on transactions")
            assert worker.proc.returncode != 0
        log = job.log.read_text(errors="replace")
        assert "ConfigError('STREAMS_PROCESSING_GUARANTEE (processing_guarantee): " \
               "exactly_once needs transactions" in log, log[-3000:]
    finally:
        await asyncio.to_thread(broker.stop)
