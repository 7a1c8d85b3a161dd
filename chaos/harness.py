"""One deployment of the chaos count job: its topics, workers, input and the exact check."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka import AIOKafkaProducer

from chaos.topology import group_of
from streams_app.jobs.process import JobProcess
from streams_app.kafka.admin import ensure_topics
from streams_app.kafka.reader import read_to_end
from streams_app.kafka.topics import TopicSpec
from streams_app.serdes import JsonSerde, StringSerde

J, S = JsonSerde(), StringSerde()
KEYS = [f"k{i}" for i in range(7)]


@dataclass
class Verdict:
    """What a read_committed reader of the output saw against the input's exact counts."""

    records: int
    lost: int
    duplicated: int

    def line(self, scenario: str, guarantee: str, kills: int, dlq: int = 0,
             stall_s: float = 0.0) -> str:
        return (f"chaos {scenario}: guarantee={guarantee} kills={kills} records={self.records} "
                f"lost={self.lost} duplicated={self.duplicated} dlq={dlq} stall_s={stall_s:.1f}")


@dataclass
class Deployment:
    """A count job (``topology``: count | regroup_count) on ``bootstrap`` under ``guarantee``;
    ``workdir`` holds the data dirs (one per worker slot) and logs."""

    bootstrap: str
    workdir: Path
    guarantee: str
    topology: str = "count"
    partitions: int = 2
    replication: int = 1
    extra_env: dict[str, str] = field(default_factory=dict)
    name: str = field(default_factory=lambda: f"chaos-{uuid.uuid4().hex[:8]}")

    @property
    def input(self) -> str:
        return f"{self.name}-in"

    @property
    def output(self) -> str:
        return f"{self.name}-out"

    def env(self, slot: int = 0) -> dict[str, str]:
        return {
            "STREAMS_BOOTSTRAP_SERVERS": self.bootstrap, "STREAMS_APP_ID": f"{self.name}-app",
            "STREAMS_DATA_DIR": str(self.data_dir(slot)), "STREAMS_TOPIC_PREFIX": f"{self.name}-",
            "STREAMS_TOPIC_PARTITIONS": str(self.partitions),
            "STREAMS_TOPIC_REPLICATION_FACTOR": str(self.replication),
            "STREAMS_COMMIT_INTERVAL_MS": "500", "STREAMS_CACHE_MAX_BYTES": "0",
            "STREAMS_PROCESSING_GUARANTEE": self.guarantee, "CHAOS_TOPOLOGY": self.topology,
            "STREAMS_SESSION_TIMEOUT_MS": "6000", "STREAMS_HEARTBEAT_INTERVAL_MS": "1000",
            **self.extra_env,
        }

    def data_dir(self, slot: int = 0) -> Path:
        return self.workdir / f"data-{slot}"

    def log_path(self, slot: int = 0) -> Path:
        return self.workdir / f"worker-{slot}.log"

    def worker(self, slot: int = 0) -> JobProcess:
        return JobProcess("chaos.count_job", self.env(slot), log_path=self.log_path(slot),
                          loglevel="info")

    async def create_input(self) -> None:
        await ensure_topics(self.bootstrap, [
            TopicSpec(t, self.partitions, self.replication) for t in (self.input, self.output)])

    async def produce(self, first: int, count: int, rate: float | None = None) -> None:
        """Records ``first .. first+count-1``: key ``KEYS[i % 7]``, value ``{"n": i}``."""
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all",
                                    enable_idempotence=True, linger_ms=5)
        await producer.start()
        try:
            started = time.monotonic()
            for j, i in enumerate(range(first, first + count)):
                await producer.send(self.input, J.serialize({"n": i}),
                                    key=S.serialize(KEYS[i % len(KEYS)]))
                ahead = 0.0 if rate is None else (j + 1) / rate - (time.monotonic() - started)
                if ahead > 0:  # pacing the input, not waiting for a condition
                    await asyncio.sleep(ahead)
            await producer.flush()
        finally:
            await producer.stop()

    async def expected(self) -> Counter[str]:
        """Final count per output key, computed from the input topic as the broker has it."""
        try:
            records = await read_to_end(self.bootstrap, self.input)
        except LookupError:  # metadata not propagated yet
            return Counter()
        if self.topology == "count":
            return Counter(S.deserialize(r.key) for r in records)
        return Counter(group_of(J.deserialize(r.value)) for r in records)

    async def updates(self) -> dict[str, list[int]]:
        """Per key, the count updates a read_committed reader of the output sees."""
        seen: dict[str, list[int]] = defaultdict(list)
        try:
            records = await read_to_end(self.bootstrap, self.output)
        except LookupError:
            return {}
        for r in records:
            seen[S.deserialize(r.key)].append(J.deserialize(r.value))
        return seen

    async def complete(self) -> bool:
        """Every key's last update reached its expected count."""
        want, seen = await self.expected(), await self.updates()
        return bool(want) and all(seen.get(k) and max(seen[k]) >= n for k, n in want.items())

    async def verdict(self) -> Verdict:
        """Lost: expected counts 1..N never published; duplicated: every other update."""
        want, seen = await self.expected(), await self.updates()
        lost = dup = 0
        for key, n in want.items():
            updates = seen.get(key, [])
            exact = set(updates) & set(range(1, n + 1))
            lost += n - len(exact)
            dup += len(updates) - len(exact)
        dup += sum(len(v) for k, v in seen.items() if k not in want)
        return Verdict(sum(want.values()), lost, dup)
