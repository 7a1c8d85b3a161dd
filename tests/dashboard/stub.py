"""A dashboard on an aiohttp server without a broker: the routes over a given topology and
runtime view, beside a small stub of the store query API (the contract the queries feature
serves), for the unit and browser tests."""

from __future__ import annotations

import socket
from collections.abc import Callable, Sequence
from typing import Any

from aiohttp import web

from streams_app.dashboard import DashboardRoutes, StatusFeed, StatusSource
from streams_app.dsl.topology import Topology
from streams_app.errors import DeadLetterNote
from streams_app.runtime.metrics import RuntimeView, StreamsMetrics
from streams_app.runtime.web import RouteInstaller

VENDOR_COUNTS = {"1": 121, "2": 179}
WINDOW_MS = 600_000
WINDOWS = {"132": [(1_700_000_400_000, 3), (1_700_001_000_000, 7), (1_700_002_200_000, 1)]}


def stub_store_api(app: web.Application) -> None:
    """GET /stores, /stores/{store}/keys/{key}, /stores/{store}?..., .../windows."""

    async def stores(_request: web.Request) -> web.Response:
        return web.json_response({"worker": "stub:1", "stores": [
            {"name": "vendor-count", "kind": "key_value", "partitions": [0, 1],
             "standby_partitions": [], "restoring": False, "window_size_ms": None},
            {"name": "pulocation-window-count", "kind": "window", "partitions": [0, 1],
             "standby_partitions": [], "restoring": False, "window_size_ms": WINDOW_MS}]})

    async def key(request: web.Request) -> web.Response:
        k = request.match_info["key"]
        if request.match_info["store"] != "vendor-count" or k not in VENDOR_COUNTS:
            return web.json_response({"error": "no such key"}, status=404)
        return web.json_response({"store": "vendor-count", "key": k, "value": VENDOR_COUNTS[k],
                                  "timestamp": 0, "partition": int(k) % 2,
                                  "worker": "stub:1", "served_by": "stub:2",
                                  "forwarded": True})

    async def range_(request: web.Request) -> web.Response:
        keys = sorted(VENDOR_COUNTS)
        after = request.query.get("after")
        limit = int(request.query.get("limit", "20"))
        keys = [k for k in keys if after is None or k > after]
        page = keys[:limit]
        return web.json_response({"store": "vendor-count", "items": [
            {"key": k, "value": VENDOR_COUNTS[k], "partition": int(k) % 2, "worker": "stub:1"}
            for k in page], "next": page[-1] if len(keys) > limit else None})

    async def windows(request: web.Request) -> web.Response:
        rows = WINDOWS.get(request.match_info["key"], [])
        return web.json_response({"store": request.match_info["store"],
                                  "key": request.match_info["key"], "windows": [
            {"start": s, "end": s + WINDOW_MS, "value": n} for s, n in rows],
            "worker": "stub:1", "served_by": "stub:1"})

    app.router.add_get("/stores", stores)
    app.router.add_get("/stores/{store}/keys/{key}/windows", windows)
    app.router.add_get("/stores/{store}/keys/{key}", key)
    app.router.add_get("/stores/{store}", range_)


class FakeView:
    """A runtime's live state the test sets by hand (no worker here)."""

    def __init__(self) -> None:
        self.lag: dict[tuple[str, int], int] = {}
        self.restore: dict[str, dict[int, int]] = {}
        self.dropped: dict[tuple[str, str], int] = {}
        self.notes: list[DeadLetterNote] = []

    def view(self, tasks: Sequence[str]) -> RuntimeView:
        return RuntimeView(lag=lambda: self.lag, restore=lambda: self.restore,
                           tasks=lambda: tasks, dropped=lambda: self.dropped,
                           ready=lambda: True)


def dashboard(topology: Topology, fake: FakeView, tasks: Sequence[str],
              subtopology_of: dict[str, int], tick_s: float = 1.0,
              clock: Callable[[], float] | None = None
              ) -> tuple[DashboardRoutes, StreamsMetrics]:
    metrics = StreamsMetrics("stub-app", fake.view(tasks))
    source = StatusSource("stub-app", metrics, subtopology_of, lambda: fake.notes,
                          "stub-app-dead-letter")
    feed = StatusFeed(source, tick_s, **({"clock": clock} if clock else {}))
    return DashboardRoutes(topology, feed), metrics


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def serve(*installers: RouteInstaller) -> tuple[web.AppRunner, str]:
    """Serve ``installers`` on a free loopback port; returns the runner and the base URL."""
    app = web.Application()
    for install in installers:
        install(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}"


def any_topology() -> Any:
    from streams_app.jobs.rides_windowed_count import build_topology

    return build_topology()
