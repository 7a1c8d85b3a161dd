"""A versioned table's store read through the views and the HTTP API: latest and as-of
point reads (Kafka's VersionedKeyQuery); no range reads."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from streams_app import Materialized, Serdes, Stores, StreamsBuilder, TopologyTestDriver
from streams_app.query import DriverStores, VersionedView
from streams_app.query.http import QueryApi
from streams_app.query.routing import Router
from tests.query.test_http import free_port

HISTORY = [("a", 1, 10), ("a", 2, 30), ("b", 7, 15)]


def versioned_driver() -> TopologyTestDriver:
    b = StreamsBuilder()
    b.table("prices", key_serde=Serdes.string(), value_serde=Serdes.json(),
            materialized=Materialized.as_(
                Stores.in_memory_versioned_key_value_store("prices-store", 1000)))
    driver = TopologyTestDriver(b.build())
    inp = driver.create_input_topic("prices", Serdes.string(), Serdes.json())
    for key, value, ts in HISTORY:
        inp.pipe_input(key, value, timestamp=ts)
    return driver


def test_versioned_view_reads_latest_and_as_of() -> None:
    with versioned_driver() as driver:
        view = DriverStores(driver).store("prices-store")
        assert isinstance(view, VersionedView)
        assert view.entry("a") == ("a", 2, 30, 0)
        assert view.get("a", 20) == 1 and view.get("a", 5) is None and view.get("zz") is None


@pytest.fixture
async def server() -> AsyncIterator[str]:
    driver = versioned_driver()
    host = f"127.0.0.1:{free_port()}"
    stores = DriverStores(driver)
    app = web.Application()
    QueryApi(stores, Router(stores, host, lambda _spec: {0: host})).install(app)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", int(host.rsplit(":", 1)[1])).start()
    yield host
    await runner.cleanup()
    driver.close()


async def get(host: str, path: str, **params: Any) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as s, s.get(f"http://{host}{path}", params=params) as r:
        return r.status, await r.json()


async def test_http_point_reads_as_of_and_no_range(server: str) -> None:
    status, body = await get(server, "/stores")
    assert status == 200 and [s["kind"] for s in body["stores"]] == ["versioned"]
    status, body = await get(server, "/stores/prices-store/keys/a")
    assert (status, body["value"], body["timestamp"]) == (200, 2, 30)
    status, body = await get(server, "/stores/prices-store/keys/a", as_of="20")
    assert (status, body["value"], body["timestamp"]) == (200, 1, 10)
    status, _ = await get(server, "/stores/prices-store/keys/a", as_of="5")
    assert status == 404
    status, body = await get(server, "/stores/prices-store")
    assert status == 400 and body["error"] == "versioned store"
