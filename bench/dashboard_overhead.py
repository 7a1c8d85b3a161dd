"""``python -m bench.dashboard_overhead``: the count pipeline's throughput with a dashboard
client open against none.

The same worker (web server and dashboard on) runs alternately with and without a client, on
the same broker and input; every run's result is verified. The client does what an open
dashboard tab does, twice over: it listens to ``/api/events`` (one snapshot a second) and
also polls ``/api/status`` every second. Prints the medians and their ratio and writes
``bench/results/dashboard_overhead.json``.

``--micro`` measures the worker's side without a broker, so without its noise: the CPU of one
snapshot of the count pipeline's worker (4 tasks, a store, 50 dead letters kept) and of one
whole ``/api/status`` request over loopback HTTP (client side included: an upper bound), as a
share of a core at one update a second per open tab.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import statistics
import sys
import tempfile
from pathlib import Path

import aiohttp

from bench import report
from bench.ab import ab_input, alternating
from bench.common import RunConfig

POLL_S = 1.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _client(port: int, seen: dict[str, int]) -> None:
    """An open dashboard: the page, its topology, the event stream, plus a status poll."""
    base = f"http://127.0.0.1:{port}"
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None)) as http:
        while True:  # until the worker's web server is up
            with contextlib.suppress(aiohttp.ClientConnectionError):
                async with http.get(base + "/") as page, http.get(base + "/api/topology") as t:
                    if page.status == 200 and t.status == 200:
                        break
            await asyncio.sleep(0.05)

        async def poll() -> None:
            while True:
                async with http.get(base + "/api/status") as r:
                    await r.read()
                    seen["polls"] += 1
                await asyncio.sleep(POLL_S)

        poller = asyncio.create_task(poll())
        try:
            async with http.get(base + "/api/events") as events:
                async for line in events.content:
                    if line.startswith(b"data: "):
                        seen["events"] += 1
        finally:
            poller.cancel()


async def _bench(args: argparse.Namespace) -> dict:
    async with ab_input(args, "dashboard") as ab:
        rates: dict[str, list[float]] = {"open": [], "none": []}
        updates: list[dict[str, int]] = []
        for i in range(args.runs):
            for variant in alternating(("open", "none"), i):
                port = _free_port()
                os.environ["BENCH_WEB_PORT"] = str(port)  # read by the contestant's process
                seen = {"events": 0, "polls": 0}
                client = asyncio.create_task(_client(port, seen)) if variant == "open" else None
                try:
                    rate = await ab.rate("streams_app_web", variant, i)
                finally:
                    if client is not None:
                        client.cancel()
                        with contextlib.suppress(asyncio.CancelledError, aiohttp.ClientError):
                            await client
                if client is not None:
                    if not seen["events"]:
                        raise RuntimeError(f"run {i + 1}: the client saw no dashboard update")
                    updates.append(seen)
                rates[variant].append(rate)
                print(f"  dashboard {variant:<4} run {i + 1}: {rate:>10,.0f} rec/s"
                      + (f"  ({seen['events']} events, {seen['polls']} polls)"
                         if client is not None else ""), file=sys.stderr)
    with_client, without = (statistics.median(rates[v]) for v in ("open", "none"))
    return {"records": args.records, "runs": rates, "client_updates": updates,
            "median_open": with_client, "median_none": without,
            "ratio_open_none": with_client / without}


def _micro(args: argparse.Namespace) -> dict:
    """CPU per dashboard update, in process: the snapshot, then a whole HTTP request."""
    import time

    from bench.contestants.streams_app import _count
    from streams_app.dashboard import dashboard_routes
    from streams_app.errors import DeadLetterNote
    from streams_app.runtime.faust_runtime import FaustRuntime
    from streams_app.runtime.metrics import RuntimeView
    from streams_app.settings import Settings

    cfg = RunConfig("localhost:9092", "rides", "zones", "count", 0, "g", "")
    settings = Settings(app_id="micro-dashboard", store="memory", data_dir=tempfile.mkdtemp(),
                        web_enabled=True, topic_partitions=4)
    runtime = FaustRuntime(_count(cfg), settings)
    metrics = runtime.metrics
    assert metrics is not None
    tasks = [f"0_{p}" for p in range(4)]
    metrics.view = RuntimeView(
        lag=lambda: {("rides", p): 1000 + p for p in range(4)},
        restore=lambda: {"counts": dict.fromkeys(range(4), 0)}, tasks=lambda: tasks,
        dropped=lambda: {("dead_letter", "deserialization"): 50}, ready=lambda: True)
    for p, task in enumerate(tasks):
        metrics.task(task).batch("rides", p, 500, 500, 500)
    for i in range(50):
        runtime.errors.recent.append(DeadLetterNote(time.time(), "deserialization",
                                                    f"rides/0/{i}", "SerdeError", "x" * 120))
    [routes] = dashboard_routes(runtime, metrics)
    feed = routes.feed
    feed.tick_s = 0.0  # every call builds a snapshot: the cost of one update
    n = args.updates
    started = time.process_time()
    for _ in range(n):
        feed.current()
    snapshot_s = (time.process_time() - started) / n

    async def http_rounds() -> float:
        from aiohttp import web

        app = web.Application()
        routes(app)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        port = _free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            async with aiohttp.ClientSession() as http:
                url = f"http://127.0.0.1:{port}/api/status"
                for _ in range(50):  # connection set up, warm
                    async with http.get(url) as r:
                        await r.read()
                begun = time.process_time()
                for _ in range(n):
                    async with http.get(url) as r:
                        await r.read()
                return (time.process_time() - begun) / n
        finally:
            await runner.cleanup()

    request_s = asyncio.run(http_rounds())
    return {"mode": "micro", "updates": n, "snapshot_bytes": len(feed.current()),
            "snapshot_us": snapshot_s * 1e6, "http_request_us": request_s * 1e6,
            "core_share_per_tab": request_s / 1.0}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.dashboard_overhead", description=__doc__)
    p.add_argument("--records", type=int, default=300_000)
    p.add_argument("--runs", type=int, default=3, help="runs per variant (alternating)")
    p.add_argument("--timeout", type=float, default=600.0)
    p.add_argument("--micro", action="store_true", help="the worker's CPU per update, no broker")
    p.add_argument("--updates", type=int, default=2000, help="--micro: updates timed")
    p.add_argument("--out", default=None, help="default bench/results/dashboard_overhead"
                                               "[_micro].json")
    args = p.parse_args(argv)
    result = _micro(args) if args.micro else asyncio.run(_bench(args))
    name = "dashboard_overhead_micro.json" if args.micro else "dashboard_overhead.json"
    out = Path(args.out or report.RESULTS_DIR / name)
    out.write_text(json.dumps(result, indent=2) + "\n")
    if args.micro:
        print(f"one dashboard update: snapshot {result['snapshot_us']:.0f} us CPU "
              f"({result['snapshot_bytes']} bytes), whole /api/status request "
              f"{result['http_request_us']:.0f} us CPU (client included); one open tab = "
              f"{result['core_share_per_tab']:.4%} of a core")
        return 0
    print(f"count pipeline, {args.records} records, median of {args.runs}: dashboard client "
          f"open {result['median_open']:,.0f} rec/s, none {result['median_none']:,.0f} rec/s, "
          f"open/none = {result['ratio_open_none']:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
