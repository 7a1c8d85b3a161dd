"""Join window stores and suppression buffers survive a crash on the Faust runtime.

A worker processes and commits the first records, is SIGKILLed and its data dir wiped; a new
worker restores the stores from their changelogs and processes the rest. Its output must be
exactly what the TopologyTestDriver produces for the whole input in one go: without the
changelogs the records of before the crash would be missing from joins and final results.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from streams_app import TopologyTestDriver
from streams_app.jobs.process import JobProcess
from streams_app.kafka.admin import ensure_topics
from streams_app.kafka.reader import group_caught_up, read_to_end, wait_until
from streams_app.kafka.topics import TopicSpec
from streams_app.serdes import JsonSerde, StringSerde
from streams_app.state.api import Windowed
from streams_app.state.store_serdes import BufferKeySerde
from tests.runtime.restart_topologies import GRACE_MS, JOIN_MS, TOPOLOGIES, WINDOW_MS

pytestmark = pytest.mark.integration

J, S = JsonSerde(), StringSerde()
Records = list[tuple[str, dict, int]]


def _base() -> int:
    # recent timestamps: the broker's retention would delete records stamped near 1970
    return (int(time.time()) // 60 - 10) * 60_000


class Deployment:
    """One job on the shared broker: its own topics, app id and data dir."""

    def __init__(self, bootstrap: str, name: str, tmp: Path, topology: str) -> None:
        self.bootstrap, self.prefix, self.app_id = bootstrap, f"{name}-", f"{name}-app"
        self.topology = topology
        self.data_dir, self.log = tmp / "data", tmp / "worker.log"
        self.env = {
            "STREAMS_BOOTSTRAP_SERVERS": bootstrap, "STREAMS_APP_ID": self.app_id,
            "STREAMS_DATA_DIR": str(self.data_dir), "STREAMS_TOPIC_PREFIX": self.prefix,
            "STREAMS_TOPIC_PARTITIONS": "1", "STREAMS_COMMIT_INTERVAL_MS": "300",
            "STREAMS_CACHE_MAX_BYTES": "0", "TEST_TOPOLOGY": topology,
        }

    async def create_topics(self, *names: str) -> None:
        await ensure_topics(self.bootstrap, [TopicSpec(f"{self.prefix}{n}", 1, 1) for n in names])

    async def produce(self, topic: str, records: Records) -> None:
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap)
        await producer.start()
        try:
            for key, value, ts in records:
                await producer.send(f"{self.prefix}{topic}", J.serialize(value),
                                    key=S.serialize(key), timestamp_ms=ts)
            await producer.flush()
        finally:
            await producer.stop()

    def worker(self) -> JobProcess:
        return JobProcess("tests.runtime.faust_restart_job", self.env, log_path=self.log,
                          loglevel="info")

    async def wait_committed(self, job: JobProcess, *topics: str) -> None:
        """Until the worker has committed the end of every input topic."""
        async def done() -> bool:
            assert job.running, job.log_tail()
            for topic in topics:
                if not await group_caught_up(self.bootstrap, self.app_id, self.prefix + topic):
                    return False
            return True

        await wait_until(done, 120, f"{self.app_id} to commit {topics}")

    async def crash_after(self, records: dict[str, Records]) -> None:
        """Run a worker over ``records`` until committed, SIGKILL it and wipe its data dir."""
        for topic, recs in records.items():
            await self.produce(topic, recs)
        job = self.worker().start()
        try:
            await self.wait_committed(job, *records)
        finally:
            job.kill()
        shutil.rmtree(self.data_dir)

    async def run(self, records: dict[str, Records], inputs: tuple[str, ...]) -> None:
        """Produce ``records``, then run a worker until it has committed all ``inputs``."""
        for topic, recs in records.items():
            await self.produce(topic, recs)
        with self.worker() as job:
            await self.wait_committed(job, *inputs)

    async def changelog(self, store: str) -> list:
        return await read_to_end(self.bootstrap, f"{self.app_id}-{store}-changelog")

    async def output(self) -> list[tuple]:
        return [(S.deserialize(r.key), J.deserialize(r.value), r.timestamp)
                for r in await read_to_end(self.bootstrap, f"{self.prefix}out")]


def driver_output(topology: str, phases: list[dict[str, Records]]) -> list[tuple]:
    config = {"default_key_serde": "string", "cache_max_entries": 0}
    with TopologyTestDriver(TOPOLOGIES[topology](""), config) as driver:
        for phase in phases:
            for topic, recs in phase.items():
                pipe = driver.create_input_topic(topic, S, J)
                for key, value, ts in recs:
                    pipe.pipe_input(key, value, timestamp=ts)
        return [(r.key, r.value, r.timestamp)
                for r in driver.create_output_topic("out", S, J).read_records_to_list()]


def _store_names(topology: str, prefix: str) -> list[str]:
    return [s for s in TOPOLOGIES[topology]("").stores if s.startswith(prefix)]


async def test_join_finds_the_other_side_after_a_crash(kafka_bootstrap, unique_name, tmp_path):
    base = _base()
    # left records (one key twice at one timestamp: the store keeps both) ...
    left = [(f"k{i}", {"n": i}, base + i * 100) for i in range(6)] + [("k2", {"n": 22}, base + 200)]
    # ... then right ones: within the window of most, too late for k0 and k1
    right = [(f"k{i}", {"n": 100 + i}, base + i * 100 + 300) for i in range(1, 6)]
    right += [("k0", {"n": 99}, base + JOIN_MS + 1)]
    phases = [{"left": left}, {"right": right}]
    want = driver_output("stream_join", phases)
    assert len(want) == 6, want  # k1, k2 (both values), k3, k4, k5; k0 is 1 ms too late

    dep = Deployment(kafka_bootstrap, unique_name, tmp_path, "stream_join")
    await dep.create_topics("left", "right", "out")
    await dep.crash_after(phases[0])
    [this_store] = _store_names("stream_join", "KSTREAM-JOINTHIS-")
    logged = await dep.changelog(this_store)
    assert len(logged) == len(left), "every left record is in the join store's changelog"

    await dep.run(phases[1], ("left", "right"))
    assert await dep.output() == want


async def test_final_window_results_include_records_before_a_crash(kafka_bootstrap, unique_name,
                                                                  tmp_path):
    base = _base() // WINDOW_MS * WINDOW_MS
    # first window: a, b, c counted before the crash; only a gets more after it
    before = [("a", {"n": 1}, base + 10), ("b", {"n": 2}, base + 20), ("a", {"n": 3}, base + 30),
              ("c", {"n": 4}, base + 40)]
    after = [("a", {"n": 5}, base + 500), ("d", {"n": 6}, base + WINDOW_MS + 10),
             # stream time passes the first window's end plus grace: its results are final
             ("e", {"n": 7}, base + WINDOW_MS + GRACE_MS + 1)]
    phases = [{"in": before}, {"in": after}]
    want = driver_output("suppressed_count", phases)
    assert [k for k, _, _ in want] == [f"{k}@{base}" for k in "abc"], want

    dep = Deployment(kafka_bootstrap, unique_name, tmp_path, "suppressed_count")
    await dep.create_topics("in", "out")
    await dep.crash_after(phases[0])
    [buffer] = _store_names("suppressed_count", "KTABLE-SUPPRESS-STATE-STORE-")
    logged = {BufferKeySerde(S).deserialize(r.key) for r in await dep.changelog(buffer)}
    assert logged == {Windowed(k, base, base + WINDOW_MS) for k in "abc"}
    assert await dep.output() == [], "nothing is final before the crash"

    await dep.run(phases[1], ("in",))
    assert await dep.output() == want
