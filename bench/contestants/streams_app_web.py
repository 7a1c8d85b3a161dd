"""streams_app with its web server and dashboard on (port from ``BENCH_WEB_PORT``): the worker
of bench.dashboard_overhead, measured with a dashboard client open and without one."""

from __future__ import annotations

import os

from bench.common import RunConfig, RunResult
from bench.contestants import streams_app


def run(cfg: RunConfig) -> RunResult:
    """The streams_app contestant serving /, /api/status and /api/events."""
    return streams_app.run(cfg, web_enabled=True, dashboard_enabled=True,
                           web_port=int(os.environ["BENCH_WEB_PORT"]))
