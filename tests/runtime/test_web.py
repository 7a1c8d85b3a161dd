"""The worker's web endpoints on a real socket (no broker): /health follows the event loop,
/ready follows the runtime, /metrics serves the exposition; `streams-app status` reads it."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest

from streams_app.cli import main
from streams_app.runtime import web
from streams_app.runtime.metrics import RuntimeView, StreamsMetrics
from streams_app.runtime.web import WebServer


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class State:
    ready = False


@pytest.fixture
async def server() -> AsyncIterator[tuple[WebServer, State, str]]:
    state = State()
    metrics = StreamsMetrics("web-test", RuntimeView(lag=lambda: {("rides", 0): 7},
                                                     ready=lambda: state.ready))
    metrics.task("0_0").batch("rides", 0, 10, 10, 10)
    srv = WebServer(metrics, free_port(), host="127.0.0.1", ready=lambda: state.ready)
    await srv.start()
    try:
        yield srv, state, f"http://127.0.0.1:{srv.port}"
    finally:
        await srv.stop()


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.text()


async def test_ready_turns_200_with_the_runtime(server) -> None:
    _srv, state, base = server
    assert (await get(f"{base}/ready"))[0] == 503
    state.ready = True
    assert await get(f"{base}/ready") == (200, "ready\n")


async def test_health_fails_when_the_loop_was_blocked(server, monkeypatch) -> None:
    srv, _state, base = server
    status, text = await get(f"{base}/health")
    assert status == 200 and text.startswith("ok"), text
    monkeypatch.setattr(web, "LOOP_LAG_LIMIT_S", 0.5)
    time.sleep(1.6)  # the loop blocked: the pending 1 s timer wakes >= 0.6 s late
    deadline = time.monotonic() + 3
    while srv.loop_lag < 0.5 and time.monotonic() < deadline:  # until that tick ran
        await asyncio.sleep(0.01)
    assert srv.loop_lag >= 0.5, srv.loop_lag
    status, text = await get(f"{base}/health")
    assert status == 503 and text.startswith("unhealthy"), text


async def test_metrics_serve_the_exposition(server) -> None:
    _srv, _state, base = server
    status, text = await get(f"{base}/metrics")
    assert status == 200
    assert 'streams_process_total{task="0_0"} 10.0' in text
    assert 'streams_records_lag{partition="0",topic="rides"} 7.0' in text


async def test_status_prints_the_lag(server, capsys) -> None:
    _srv, _state, base = server
    code = await asyncio.to_thread(main, ["status", "--url", base.removeprefix("http://")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "app web-test  NOT READY" in out
    assert "rides[0]  7" in out and "total lag 7" in out


def test_status_needs_a_url_and_reports_an_unreachable_worker(capsys, monkeypatch) -> None:
    monkeypatch.delenv("STREAMS_STATUS_URLS", raising=False)
    assert main(["status"]) == 2
    assert "STREAMS_STATUS_URLS" in capsys.readouterr().err
    monkeypatch.setenv("STREAMS_STATUS_URLS", f"127.0.0.1:{free_port()}")
    assert main(["status"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("streams-app status: error: cannot read"), err


async def test_a_taken_port_names_the_setting() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        srv = WebServer(StreamsMetrics("x"), port, host="127.0.0.1", ready=lambda: False)
        with pytest.raises(OSError, match=r"STREAMS_WEB_PORT \(web_port\)"):
            await srv.start()


async def test_health_fails_once_the_worker_crashed() -> None:
    crashed = False
    srv = WebServer(StreamsMetrics("x"), free_port(), host="127.0.0.1", ready=lambda: True,
                    healthy=lambda: not crashed)
    await srv.start()
    try:
        assert (await get(f"http://127.0.0.1:{srv.port}/health"))[0] == 200
        crashed = True
        assert (await get(f"http://127.0.0.1:{srv.port}/health"))[0] == 503
    finally:
        await srv.stop()
