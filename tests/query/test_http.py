"""The /stores endpoints of two workers, each a test driver holding one of two partitions:
routing and forwarding, gathered ranges with paging, windows, and the error answers."""

from __future__ import annotations

import socket
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from streams_app import Serdes, TopologyTestDriver
from streams_app.query import DriverStores
from streams_app.query.http import QueryApi
from streams_app.query.keys import MAX_KEY_CHARS
from streams_app.query.routing import Router, partition_for_key
from streams_app.state.spec import StoreSpec
from tests.query.topologies import WINDOW_MS, counts_topology

KEYS = [f"v{i}" for i in range(12)]
EVENTS = [(k, 1_000 * i) for i, k in enumerate(KEYS)] + [("v1", 15_000), ("v1", 16_000)]
TRUTH = Counter(k for k, _ in EVENTS)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PartitionStores(DriverStores):
    """One partition of two, held by this driver."""

    def __init__(self, driver: TopologyTestDriver, partition: int) -> None:
        super().__init__(driver)
        self.partition = partition
        self.restoring_now = False

    def partition_count(self, spec: StoreSpec) -> int:
        return 2

    def active_partitions(self, spec: StoreSpec) -> list[int]:
        return [self.partition]

    def restoring(self) -> bool:
        return self.restoring_now


@dataclass
class Worker:
    host: str
    stores: PartitionStores
    runner: web.AppRunner


def partition_of(key: str) -> int:
    return partition_for_key(key.encode(), 2)


@pytest.fixture
async def workers() -> AsyncIterator[list[Worker]]:
    hosts = [f"127.0.0.1:{free_port()}" for _ in range(2)]
    out = []
    drivers = []
    for partition, host in enumerate(hosts):
        driver = TopologyTestDriver(counts_topology())
        drivers.append(driver)
        inp = driver.create_input_topic("in", Serdes.string(), Serdes.json())
        for key, ts in EVENTS:
            if partition_of(key) == partition:
                inp.pipe_input(key, {}, timestamp=ts)
        stores = PartitionStores(driver, partition)
        api = QueryApi(stores, Router(stores, host, lambda _spec: dict(enumerate(hosts))),
                       forward_timeout_s=2)
        app = web.Application()
        api.install(app)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", int(host.rsplit(":", 1)[1])).start()
        out.append(Worker(host, stores, runner))
    assert {partition_of(k) for k in KEYS} == {0, 1}  # both workers hold keys
    yield out
    for w in out:
        await w.runner.cleanup()
    for d in drivers:
        d.close()


async def get(host: str, path: str, **params: Any) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as s, \
            s.get(f"http://{host}{path}", params=params) as r:
        return r.status, await r.json()


async def test_stores_lists_kinds_and_partitions(workers) -> None:
    status, body = await get(workers[1].host, "/stores")
    assert status == 200 and body["worker"] == workers[1].host
    stores = {s["name"]: s for s in body["stores"]}
    assert stores["counts"]["kind"] == "key_value" and stores["counts"]["partitions"] == [1]
    assert stores["windowed"]["window_size_ms"] == WINDOW_MS
    assert stores["sessions"]["kind"] == "session" and stores["counts"]["restoring"] is False


async def test_every_key_from_either_worker_served_by_its_owner(workers) -> None:
    for key in KEYS:
        owner = workers[partition_of(key)].host
        for w in workers:
            status, body = await get(w.host, f"/stores/counts/keys/{key}")
            assert status == 200, body
            assert body["value"] == TRUTH[key] and body["key"] == key
            assert body["worker"] == body["served_by"] == owner
            assert body["forwarded"] is (w.host != owner)
            assert body["partition"] == partition_of(key) and body["timestamp"] >= 0


async def test_range_gathers_every_key_once_in_pages(workers) -> None:
    status, body = await get(workers[0].host, "/stores/counts")
    assert status == 200, body
    assert [i["key"] for i in body["items"]] == sorted(KEYS) and body["next"] is None
    assert {i["key"]: i["value"] for i in body["items"]} == TRUTH
    assert {i["worker"] for i in body["items"]} == {w.host for w in workers}
    seen, after = [], ""
    while True:
        status, page = await get(workers[1].host, "/stores/counts", limit=5, after=after)
        assert status == 200 and len(page["items"]) <= 5, page
        seen += [i["key"] for i in page["items"]]
        if page["next"] is None:
            break
        after = page["next"]
    assert seen == sorted(KEYS)
    status, body = await get(workers[0].host, "/stores/counts", **{"from": "v10", "to": "v2"})
    assert [i["key"] for i in body["items"]] == ["v10", "v11", "v2"]


async def test_windows_of_a_key(workers) -> None:
    for w in workers:
        status, body = await get(w.host, "/stores/windowed/keys/v1/windows",
                                 **{"from": 0, "to": 100_000})
        assert status == 200, body
        assert body["windows"] == [{"start": 0, "end": WINDOW_MS, "value": 1},
                                   {"start": 10_000, "end": 20_000, "value": 2}]
        assert body["served_by"] == workers[partition_of("v1")].host
    status, body = await get(workers[0].host, "/stores/sessions/keys/v1/windows")
    assert status == 200 and [(s["start"], s["end"], s["value"]) for s in body["windows"]] == \
        [(1_000, 1_000, 1), (15_000, 16_000, 2)]


async def test_errors(workers) -> None:
    host = workers[0].host
    cases = [
        ("/stores/nope/keys/x", {}, 404, "unknown store"),
        ("/stores/counts/keys/absent", {}, 404, "key not found"),
        ("/stores/counts/keys/" + "k" * (MAX_KEY_CHARS + 1), {}, 400, "bad key"),
        ("/stores/counts", {"limit": "5000"}, 400, "bad limit"),
        ("/stores/counts", {"limit": "many"}, 400, "bad limit"),
        ("/stores/windowed", {}, 400, "not a key-value store"),
        ("/stores/counts/keys/v1/windows", {}, 400, "not windowed"),
        ("/stores/windowed/keys/v1", {}, 400, "windowed store"),
        ("/stores/counts/keys/a%2Fb", {}, 404, "key not found"),  # an escaped slash
        ("/stores/windowed/keys/v1/windows", {"from": "9", "to": "1"}, 400, "bad range"),
    ]
    for path, params, want, error in cases:
        status, body = await get(host, path, **params)
        assert (status, body["error"]) == (want, error), (path, body)
    status, body = await get(host, "/stores/counts/keys/a%2Fb%20c")
    assert body["key"] == "a/b c"  # escaped in the URL, the key itself in the store


async def test_restoring_is_503_and_stale_reads_it(workers) -> None:
    owner = workers[partition_of("v1")]
    owner.stores.restoring_now = True
    for w in workers:  # served or forwarded: the owner says it is restoring
        status, body = await get(w.host, "/stores/counts/keys/v1")
        assert (status, body["error"]) == (503, "restoring"), body
    status, body = await get(workers[0].host, "/stores/counts")
    assert status == 503 and body["error"] == "restoring"
    status, body = await get(owner.host, "/stores/counts/keys/v1", stale="true")
    assert status == 200 and body["value"] == TRUTH["v1"]


async def test_unreachable_owner_is_503(workers) -> None:
    dead = f"127.0.0.1:{free_port()}"
    w = workers[0]
    router = Router(w.stores, w.host, lambda _spec: {0: w.host, 1: dead})
    api = QueryApi(w.stores, router, forward_timeout_s=2)
    app = web.Application()
    api.install(app)
    port = free_port()
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        key = next(k for k in KEYS if partition_of(k) == 1)
        status, body = await get(f"127.0.0.1:{port}", f"/stores/counts/keys/{key}")
        assert (status, body["error"], body["worker"]) == (503, "owner unreachable", dead)
    finally:
        await runner.cleanup()
