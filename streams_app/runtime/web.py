"""The worker's HTTP endpoints: ``/metrics``, ``/health`` and ``/ready``.

A small aiohttp server of our own, not Faust's web server: Faust starts its server only
after table recovery, so it could never answer ``/ready`` with 503 during a restore, and it
also serves table and router views a probe port should not expose. This one starts first
thing when the worker starts (before the broker is contacted) and runs in the worker's
event loop, so the scrape reads the runtime's state without locks.

* ``/health``: 200 while the event loop is responsive (a 1 s timer wakes within
  ``LOOP_LAG_LIMIT_S``) and the worker has not crashed; 503 otherwise. A blocked loop
  cannot answer at all: the probe's timeout catches that.
* ``/ready``: 200 once partitions are assigned and every active store is restored (and no
  rebalance is in progress), 503 before.
* ``/metrics``: the Prometheus text exposition (see :mod:`.metrics`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence

from aiohttp import web
from mode import Service

from streams_app.runtime.metrics import CONTENT_TYPE, StreamsMetrics

__all__ = ["WebServer", "LOOP_LAG_LIMIT_S", "RouteInstaller"]

log = logging.getLogger(__name__)

#: /health fails when the event loop woke a 1 s timer this much too late.
LOOP_LAG_LIMIT_S = 10.0
TICK_S = 1.0

#: Adds a feature's routes (queries, dashboard) to the server's application.
RouteInstaller = Callable[[web.Application], None]


class WebServer(Service):
    """Serves the probes and metrics on ``port`` (``host`` all interfaces by default)."""

    def __init__(self, metrics: StreamsMetrics, port: int, *, host: str = "0.0.0.0",
                 ready: Callable[[], bool], healthy: Callable[[], bool] = lambda: True,
                 metrics_enabled: bool = True, routes: Sequence[RouteInstaller] = (),
                 **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.metrics = metrics
        self.port, self.host = port, host
        self.ready = ready
        self.healthy = healthy
        self.metrics_enabled = metrics_enabled
        self.routes = list(routes)
        self.loop_lag = 0.0
        self._last_tick = time.monotonic()
        self._runner: web.AppRunner | None = None

    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/health", self._health)
        app.router.add_get("/ready", self._ready)
        if self.metrics_enabled:
            app.router.add_get("/metrics", self._metrics)
        for install in self.routes:
            install(app)
        return app

    async def on_start(self) -> None:
        self._runner = web.AppRunner(self._app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, reuse_address=True)
        try:
            await site.start()
        except OSError as exc:
            await self._runner.cleanup()
            raise OSError(f"STREAMS_WEB_PORT (web_port): cannot listen on {self.host}:"
                          f"{self.port}: {exc.strerror or exc}") from None
        log.info("probes and metrics on http://%s:%s (/health, /ready, /metrics)",
                 self.host, self.port)

    async def on_stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @Service.task
    async def _tick(self) -> None:
        """Measure the loop's lag and sample the process rate, once a second."""
        while not self.should_stop:
            before = time.monotonic()
            await asyncio.sleep(TICK_S)
            now = time.monotonic()
            self.loop_lag = max(0.0, now - before - TICK_S)
            self._last_tick = now
            self.metrics.loop_lag.set(self.loop_lag)
            self.metrics.tick(now)

    def is_healthy(self) -> bool:
        """The loop is responsive and the worker is not failing."""
        late = time.monotonic() - self._last_tick - TICK_S
        return max(self.loop_lag, late) < LOOP_LAG_LIMIT_S and self.healthy()

    async def _health(self, _request: web.Request) -> web.Response:
        ok = self.is_healthy()
        return web.Response(status=200 if ok else 503,
                            text=f"{'ok' if ok else 'unhealthy'} (loop lag "
                                 f"{self.loop_lag:.3f} s)\n")

    async def _ready(self, _request: web.Request) -> web.Response:
        ok = self.ready()
        return web.Response(status=200 if ok else 503,
                            text="ready\n" if ok else "not ready: assigning partitions or "
                                                      "restoring stores\n")

    async def _metrics(self, _request: web.Request) -> web.Response:
        return web.Response(body=self.metrics.render(), headers={"Content-Type": CONTENT_TYPE})
