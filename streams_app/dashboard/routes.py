"""The dashboard's HTTP routes on the worker's web server (:mod:`streams_app.runtime.web`).

``/`` the page, ``/static/...`` its assets (package data, no CDN), ``/api/topology`` the
laid-out graph, ``/api/status`` one snapshot, ``/api/events`` the snapshots as server-sent
events about once a second. The table browser calls the store query API (``/stores...``),
served beside these by the queries feature.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import orjson
from aiohttp import web

from streams_app.dashboard.status import StatusFeed
from streams_app.dsl.topology import Topology

__all__ = ["STATIC_DIR", "DashboardRoutes"]

STATIC_DIR = Path(__file__).parent / "static"
_JSON = "application/json"


class DashboardRoutes:
    """An installer (``WebServer(routes=[...])``) of the dashboard for one topology."""

    def __init__(self, topology: Topology, feed: StatusFeed) -> None:
        self.topology = topology
        self.feed = feed
        self._topology_json: bytes | None = None
        self._closing = asyncio.Event()

    def __call__(self, app: web.Application) -> None:
        app.router.add_get("/", self._index)
        app.router.add_static("/static", STATIC_DIR, append_version=False)
        app.router.add_get("/api/topology", self._topology)
        app.router.add_get("/api/status", self._status)
        app.router.add_get("/api/events", self._events)
        app.on_shutdown.append(self._shutdown)

    async def _shutdown(self, _app: web.Application) -> None:
        # Open event streams end now, not at the server's shutdown timeout.
        self._closing.set()

    async def _index(self, _request: web.Request) -> web.FileResponse:
        return web.FileResponse(STATIC_DIR / "index.html",
                                headers={"Cache-Control": "no-cache"})

    async def _topology(self, _request: web.Request) -> web.Response:
        if self._topology_json is None:
            from streams_app.dashboard.layout import layout

            self._topology_json = orjson.dumps(layout(self.topology))
        return web.Response(body=self._topology_json, content_type=_JSON)

    async def _status(self, _request: web.Request) -> web.Response:
        return web.Response(body=self.feed.current(), content_type=_JSON,
                            headers={"Cache-Control": "no-store"})

    async def _events(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                               "Cache-Control": "no-store"})
        await response.prepare(request)
        with contextlib.suppress(ConnectionResetError):
            while not self._closing.is_set():
                await response.write(b"data: " + self.feed.current() + b"\n\n")
                # Wake at the next tick: every client reads the same snapshot.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closing.wait(),
                                           self.feed.due_in() or self.feed.tick_s)
        return response
