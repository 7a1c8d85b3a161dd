"""Interactive queries on the real broker.

Two workers of the rides vendor-count job share its 4 partitions: every vendor's count is
the same from either worker and equals a plain count of the rides; a range lists every key
once; with a standby replica each reads the other's keys stale. One worker stops: the
survivor answers 503 until it owns and has restored the partitions, and never a wrong count.
Then the windowed count job's windows equal a plain computation from rides.csv.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from streams_app.jobs.process import JobProcess
from streams_app.jobs.produce_rides import produce_rides
from streams_app.jobs.rides import (
    pickup_location,
    pickup_time_ms,
    read_rides,
    vendor_count_topics,
    windowed_count_topics,
)
from streams_app.kafka.admin import ensure_topics
from streams_app.kafka.reader import group_caught_up, wait_until
from tests.query.test_http import free_port

pytestmark = pytest.mark.integration

RIDES = list(read_rides())
VENDORS = Counter(str(r["VendorID"]) for r in RIDES)
PARTITIONS = 4
STORE = "vendor-count"
WINDOW_MS = 10 * 60 * 1000


class Worker:
    """One job worker with its own web port, data dir and log."""

    def __init__(self, job: str, env: dict[str, str], tmp: Path, name: str) -> None:
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"
        self.log = tmp / f"{name}.log"
        self.process = JobProcess(job, {
            **env, "STREAMS_DATA_DIR": str(tmp / name), "STREAMS_WEB_ENABLED": "true",
            "STREAMS_WEB_PORT": str(self.port), "STREAMS_APPLICATION_SERVER": self.host},
            log_path=self.log, loglevel="warn")

    async def get(self, path: str, **params: Any) -> tuple[int, Any]:
        """(status, JSON body); (0, None) while nothing listens."""
        assert self.process.running, self.process.log_tail()
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as s, \
                    s.get(f"http://{self.host}{path}", params=params) as r:
                return r.status, await r.json(content_type=None)
        except aiohttp.ClientConnectionError:
            return 0, None

    async def partitions(self) -> list[int] | None:
        status, body = await self.get("/stores")
        if status != 200:
            return None
        store = next(s for s in body["stores"] if s["name"] == STORE)
        return None if store["restoring"] else store["partitions"]


async def read_standbys(workers: list[Worker]) -> None:
    """With one standby replica each worker holds the other's partitions: ``?stale=true``
    reads them here (never forwarded), up to date once the standby caught up."""
    for w in workers:
        status, body = await w.get("/stores")
        store = next(s for s in body["stores"] if s["name"] == STORE)
        assert store["standby_partitions"], body
    for key, count in VENDORS.items():
        for w in workers:
            async def standby_current(w: Worker = w, key: str = key, count: int = count
                                      ) -> bool:
                status, body = await w.get(f"/stores/{STORE}/keys/{key}", stale="true")
                assert status in (200, 404), body  # absent until the standby has the key
                return status == 200 and body["served_by"] == w.host and \
                    not body["forwarded"] and body["value"] == count

            await wait_until(standby_current, 60, f"{w.host} to read {key} stale",
                             interval=0.2)


def job_env(bootstrap: str, name: str) -> dict[str, str]:
    return {"STREAMS_BOOTSTRAP_SERVERS": bootstrap, "STREAMS_APP_ID": f"{name}-app",
            "STREAMS_TOPIC_PREFIX": f"{name}-", "STREAMS_TOPIC_PARTITIONS": str(PARTITIONS),
            "STREAMS_TOPIC_REPLICATION_FACTOR": "1", "STREAMS_COMMIT_INTERVAL_MS": "500"}


async def test_two_workers_answer_every_key_and_fail_over(kafka_bootstrap, unique_name,
                                                          tmp_path) -> None:
    env = {**job_env(kafka_bootstrap, unique_name), "STREAMS_STANDBY_REPLICAS": "1"}
    await ensure_topics(kafka_bootstrap, vendor_count_topics(f"{unique_name}-", PARTITIONS, 1))
    await produce_rides(kafka_bootstrap, f"{unique_name}-rides", progress=False)
    workers = [Worker("rides-vendor-count", env, tmp_path, n) for n in ("a", "b")]
    for w in workers:
        w.process.start()
    try:
        async def both_own_and_caught_up() -> bool:
            owned = [await w.partitions() for w in workers]
            if not all(owned) or sorted(p for ps in owned for p in ps) != list(range(4)):
                return False
            return await group_caught_up(kafka_bootstrap, env["STREAMS_APP_ID"],
                                         f"{unique_name}-rides")

        await wait_until(both_own_and_caught_up, 120, "both workers to own partitions and "
                         "the group to commit every ride", interval=0.2)
        for key, count in VENDORS.items():
            answers = [await w.get(f"/stores/{STORE}/keys/{key}") for w in workers]
            for status, body in answers:
                assert status == 200, body
                assert body["value"] == count and body["key"] == key
            owners = {body["served_by"] for _, body in answers}
            assert len(owners) == 1, answers  # one owner, the other forwarded to it
            assert sorted(body["forwarded"] for _, body in answers) == [False, True]
        for w in workers:
            status, body = await w.get(f"/stores/{STORE}")
            assert status == 200, body
            assert [(i["key"], i["value"]) for i in body["items"]] == sorted(VENDORS.items())
        await read_standbys(workers)

        survivor, leaving = workers
        stopping = asyncio.create_task(asyncio.to_thread(leaving.process.stop))
        statuses: Counter[int] = Counter()

        async def survivor_serves_all() -> bool:
            served = 0
            for key, count in VENDORS.items():
                status, body = await survivor.get(f"/stores/{STORE}/keys/{key}")
                statuses[status] += 1
                if status == 200:
                    assert body["value"] == count, body  # never a wrong count
                    served += body["served_by"] == survivor.host
                else:
                    assert status == 503 and body["retry"] is True, body
            return stopping.done() and served == len(VENDORS)

        await wait_until(survivor_serves_all, 120, "the survivor to serve every key",
                         interval=0.02)
        assert stopping.result() == 0
        assert statuses[503] > 0, statuses  # restoring (or rebalancing) was said so
        assert await survivor.partitions() == list(range(4))
        status, body = await survivor.get(f"/stores/{STORE}")
        assert status == 200 and {i["key"]: i["value"] for i in body["items"]} == VENDORS
    finally:
        for w in workers:
            w.process.stop()


def window_truth() -> dict[str, list[dict[str, int]]]:
    counts: Counter[tuple[str, int]] = Counter()
    for ride in RIDES:
        try:
            location, ts = pickup_location(ride), pickup_time_ms(ride)
        except ValueError:
            continue
        counts[(location, ts - ts % WINDOW_MS)] += 1
    out: dict[str, list[dict[str, int]]] = {}
    for (location, start), n in sorted(counts.items()):
        out.setdefault(location, []).append(
            {"start": start, "end": start + WINDOW_MS, "value": n})
    return out


async def test_window_counts_equal_a_plain_computation(kafka_bootstrap, unique_name,
                                                       tmp_path) -> None:
    env = {**job_env(kafka_bootstrap, unique_name), "STREAMS_TOPIC_PARTITIONS": "2"}
    await ensure_topics(kafka_bootstrap, windowed_count_topics(f"{unique_name}-", 2, 1))
    await produce_rides(kafka_bootstrap, f"{unique_name}-rides", progress=False)
    truth = window_truth()
    worker = Worker("rides-windowed-count", env, tmp_path, "w")
    worker.process.start()
    try:
        got: dict[str, Any] = {}

        async def windows_match() -> bool:
            for location, windows in truth.items():
                status, body = await worker.get(
                    f"/stores/pulocation-window-count/keys/{location}/windows")
                if status != 200:
                    assert status in (0, 503), body
                    return False
                got[location] = body["windows"]
                if body["windows"] != windows:
                    return False  # the repartitioned rides are still being counted
            return True

        await wait_until(windows_match, 120, "the windows to reach the plain counts",
                         interval=0.2)
        status, body = await worker.get("/stores/pulocation-window-count/keys/132/windows",
                                        **{"from": 0, "to": 1})
        assert status == 200 and body["windows"] == [] and body["kind"] == "window"
    finally:
        worker.process.stop()
