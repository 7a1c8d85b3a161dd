"""The taxi job (``rides-vendor-count``) under SIGKILLs, with garbage mixed into its input:
counts per vendor exact, every bad record in the dead-letter topic once, with its reason."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import random
import shutil
import uuid
from collections import Counter, defaultdict
from pathlib import Path

from aiokafka import AIOKafkaProducer

from chaos.harness import Verdict
from chaos.scenarios import Result
from streams_app.errors import HEADER_MESSAGE, HEADER_OFFSET, HEADER_PARTITION
from streams_app.jobs.process import JobProcess
from streams_app.jobs.rides import check_ride, read_rides, vendor_count_topics
from streams_app.kafka.admin import ensure_topics
from streams_app.kafka.broker import LocalKafkaCluster
from streams_app.kafka.reader import read_to_end, wait_until

GARBAGE_EVERY = 25  # one record in 25 is not a ride
RATE = 400.0


def _is_ride(value: bytes | None) -> bool:
    try:
        check_ride(json.loads(value or b""))
    except (ValueError, TypeError, AttributeError):
        return False
    return True


class TaxiDeployment:
    def __init__(self, bootstrap: str, workdir: Path, guarantee: str) -> None:
        self.bootstrap, self.workdir, self.guarantee = bootstrap, workdir, guarantee
        self.prefix = f"chaos-taxi-{uuid.uuid4().hex[:8]}-"
        self.env = {
            "STREAMS_BOOTSTRAP_SERVERS": bootstrap, "STREAMS_APP_ID": f"{self.prefix}app",
            "STREAMS_DATA_DIR": str(workdir / "data"), "STREAMS_TOPIC_PREFIX": self.prefix,
            "STREAMS_TOPIC_PARTITIONS": "2", "STREAMS_COMMIT_INTERVAL_MS": "500",
            "STREAMS_CACHE_MAX_BYTES": "0", "STREAMS_PROCESSING_GUARANTEE": guarantee,
        }

    def worker(self) -> JobProcess:
        return JobProcess("rides-vendor-count", self.env, log_path=self.workdir / "worker.log",
                          loglevel="info")

    async def produce(self, repeat: int) -> int:
        """The rides ``repeat`` times, key VendorID, a bad record every GARBAGE_EVERY-th."""
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all",
                                    enable_idempotence=True, linger_ms=5)
        await producer.start()
        n = 0
        try:
            rides = list(read_rides())
            for _ in range(repeat):
                for ride in rides:
                    n += 1
                    value = json.dumps(ride).encode()
                    if n % GARBAGE_EVERY == 0:
                        value = b"not json" if n % 2 else json.dumps(
                            {"VendorID": ride["VendorID"], "total_amount": "n/a"}).encode()
                    await producer.send(f"{self.prefix}rides", value,
                                        key=str(ride["VendorID"]).encode())
                    await asyncio.sleep(1 / RATE)  # pacing the input
            await producer.flush()
        finally:
            await producer.stop()
        return n

    async def check(self) -> tuple[Verdict, int, bool]:
        """Verdict of the counts, dead letters found, and whether they are exactly the bad
        input records (with a reason; each once under exactly_once)."""
        records = await read_to_end(self.bootstrap, f"{self.prefix}rides")
        want = Counter(r.key.decode() for r in records if _is_ride(r.value))
        bad = {(r.partition, r.offset) for r in records if not _is_ride(r.value)}
        seen: dict[str, list[int]] = defaultdict(list)
        for r in await read_to_end(self.bootstrap, f"{self.prefix}rides-vendor-count"):
            seen[r.key.decode()].append(json.loads(r.value))
        lost = dup = 0
        for key, n in want.items():
            exact = set(seen.get(key, [])) & set(range(1, n + 1))
            lost += n - len(exact)
            dup += len(seen.get(key, [])) - len(exact)
        dead = await read_to_end(self.bootstrap, f"{self.prefix}rides-dead-letter")
        sources = []
        for r in dead:
            h = {k: v for k, v in r.headers}
            if not h.get(HEADER_MESSAGE):
                return Verdict(len(records), lost, dup), len(dead), False
            sources.append((int(h[HEADER_PARTITION]), int(h[HEADER_OFFSET])))
        # Every bad record dead-lettered; once each unless at_least_once (a kill after the
        # dead letter but before the commit sends it again).
        once = len(sources) == len(set(sources)) or self.guarantee == "at_least_once"
        exact_dlq = once and set(sources) == bad
        return Verdict(len(records), lost, dup), len(dead), exact_dlq

    async def complete(self) -> bool:
        try:
            verdict, dead, _ = await self.check()
        except LookupError:
            return False
        return verdict.lost == 0 and dead >= verdict.records // GARBAGE_EVERY


async def taxi_kill_loop(broker: LocalKafkaCluster, workdir: Path, rng: random.Random, *,
                         guarantee: str = "exactly_once", kills: int = 4) -> Result:
    """SIGKILLs at random points, every second restart on an emptied data dir."""
    job = TaxiDeployment(broker.bootstrap_servers, workdir, guarantee)
    await ensure_topics(job.bootstrap, vendor_count_topics(job.prefix, 2, 1))
    worker = job.worker().start()
    producing = asyncio.create_task(job.produce(repeat=8))
    for k in range(1, kills + 1):
        await asyncio.sleep(rng.uniform(1.5, 4.0))  # a random fault point, by design
        worker.kill()
        if k % 2 == 0:
            shutil.rmtree(workdir / "data", ignore_errors=True)
        worker = job.worker().start()
    await producing
    try:
        await wait_until(job.complete, 180, "the taxi job to catch up")
    finally:
        worker.stop()
    verdict, dead, exact_dlq = await job.check()
    return Result("taxi-garbage-kill-loop", guarantee, verdict, kills, dlq=dead,
                  dlq_exact=exact_dlq)


BIG_BYTES = 1_500_000  # over the broker's default message.max.bytes (1 MiB)


async def oversize_record(broker: LocalKafkaCluster, workdir: Path, rng: random.Random, *,
                          guarantee: str = "exactly_once") -> Result:
    """One ride of 1.5 MB (its input topic takes 4 MB) among normal ones: its high-amount
    branch record is over the sink's limit, so the production handler (dead_letter) sends it
    to the dead letters; every count stays exact and the job goes on."""
    job = TaxiDeployment(broker.bootstrap_servers, workdir, guarantee)
    job.env["STREAMS_PRODUCTION_EXCEPTION_HANDLER"] = "dead_letter"
    big = {"max.message.bytes": str(4 * 1024 * 1024)}
    specs = [dataclasses.replace(s, configs={**s.configs, **big})
             if s.name.endswith(("rides", "rides-dead-letter")) else s
             for s in vendor_count_topics(job.prefix, 2, 1)]
    await ensure_topics(job.bootstrap, specs)
    worker = job.worker().start()
    producer = AIOKafkaProducer(bootstrap_servers=job.bootstrap, acks="all",
                                enable_idempotence=True, max_request_size=4 * 1024 * 1024)
    await producer.start()
    try:
        rides = list(read_rides())
        at = rng.randrange(len(rides))
        for i, ride in enumerate(rides):
            if i == at:
                ride = {**ride, "total_amount": 99.0, "note": "x" * BIG_BYTES}
            await producer.send(f"{job.prefix}rides", json.dumps(ride).encode(),
                                key=str(ride["VendorID"]).encode())
        await producer.flush()
    finally:
        await producer.stop()

    async def done() -> bool:
        try:
            verdict, dead, _ = await job.check()
        except LookupError:
            return False
        return verdict.lost == 0 and dead >= 1

    try:
        await wait_until(done, 120, "the oversize ride to be dead-lettered")
    finally:
        worker.stop()
    verdict, dead, _ = await job.check()
    # check() counts dead letters of bad input; here the one dead letter is the big ride.
    return Result("oversize-record", guarantee, verdict, dlq=dead, dlq_exact=dead == 1)
