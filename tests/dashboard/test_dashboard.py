"""The dashboard without a browser: the topology layout, the shared status snapshot, the routes
over HTTP (the event stream ends with the server), the setting and the dead-letter ring."""

from __future__ import annotations

import asyncio
import tempfile

import aiohttp
import orjson
import pytest

from streams_app.dashboard import dashboard_routes
from streams_app.dashboard.layout import layout
from streams_app.dashboard.routes import STATIC_DIR
from streams_app.errors import RECENT_DEAD_LETTERS, ErrorContext, ErrorHandlers, ErrorKind
from streams_app.settings import ConfigError, Settings
from tests.dashboard.stub import FakeView, any_topology, dashboard, serve


def test_layout_places_every_name_in_layers_without_overlap() -> None:
    topology = any_topology()
    g = layout(topology)
    by_id = {n["id"]: n for n in g["nodes"]}
    names = {n["name"] for n in g["nodes"]}
    assert set(topology.nodes) | set(topology.stores) <= names
    assert {"rides", "rides-by-pulocation-repartition", "rides-pulocation-window-count"} <= names
    assert {n["kind"] for n in g["nodes"]} >= {"source", "processor", "sink", "store", "topic",
                                               "repartition"}
    for edge in g["edges"]:  # data flows downwards
        assert by_id[edge["to"]]["y"] > by_id[edge["from"]]["y"], edge
    assert any(e["kind"] == "repartition" for e in g["edges"])
    rows: dict[int, list[dict]] = {}
    for n in g["nodes"]:
        rows.setdefault(n["y"], []).append(n)
        assert 0 <= n["x"] and n["x"] + n["w"] <= g["width"]
    for row in rows.values():
        row.sort(key=lambda n: n["x"])
        for left, right in zip(row, row[1:], strict=False):
            assert left["x"] + left["w"] < right["x"], (left["name"], right["name"])
    for cluster in g["clusters"]:  # each sub-topology's box holds its members
        members = [n for n in g["nodes"] if n["cluster"] == cluster["id"]]
        assert members
        for n in members:
            assert cluster["x"] <= n["x"] and n["x"] + n["w"] <= cluster["x"] + cluster["w"]
            assert cluster["y"] <= n["y"] and n["y"] + n["h"] <= cluster["y"] + cluster["h"]
    assert g["stores"] == [{"name": "pulocation-window-count", "kind": "window",
                            "window_size_ms": 600_000}]


def test_status_per_task_lag_rate_restore_and_dead_letters() -> None:
    now = [100.0]
    fake = FakeView()
    routes, metrics = dashboard(any_topology(), fake, ["0_0", "0_1"], {"rides": 0},
                                clock=lambda: now[0])
    feed = routes.feed
    first = orjson.loads(feed.current())
    assert first["lag"] is None  # no fetch answered yet: unknown, not 0
    assert [t["id"] for t in first["tasks"]] == ["0_0", "0_1"]
    fake.lag = {("rides", 0): 5, ("rides", 1): 0, ("other", 0): 9}
    fake.restore = {"pulocation-window-count": {0: 30, 1: 10}}
    metrics.restore_started(["pulocation-window-count"])
    metrics._restores["pulocation-window-count"].restored = 60
    fake.dropped = {("dead_letter", "processing"): 3, ("skipped", "deserialization"): 1}
    handlers = ErrorHandlers(dead_letter_topic="dl")
    for offset in range(3):
        context = ErrorContext(ErrorKind.PROCESSING, "rides", 0, offset, 0, (), b"k", b"v")
        handlers.handle(context, ValueError(f"bad ride {offset}"))
    fake.notes = list(handlers.recent)
    metrics.task("0_0").batch("rides", 0, 50, 50, 50)
    assert orjson.loads(feed.current()) == first  # same tick: the same snapshot
    now[0] += 1.0
    metrics.task("0_0").batch("rides", 0, 30, 30, 80)
    status = orjson.loads(feed.current())
    assert feed.built == 2
    assert status["lag"] == 5
    assert [(t["id"], t["lag"]) for t in status["tasks"]] == [("0_0", 5), ("0_1", 0)]
    assert status["processed"] == 80
    now[0] += 2.0
    metrics.task("0_0").batch("rides", 0, 40, 40, 120)
    status = orjson.loads(feed.current())
    assert status["tasks"][0]["rate"] == 20.0 and status["process_rate"] == 20.0
    [restore] = status["restore"]
    assert (restore["store"], restore["restored"], restore["remaining"]) == (
        "pulocation-window-count", 60, 40)
    assert restore["ratio"] == pytest.approx(0.6) and not restore["done"]
    assert status["dropped"] == {"dead_letter": {"processing": 3},
                                 "skipped": {"deserialization": 1}}
    assert [d["where"] for d in status["dead_letters"]] == ["rides/0/2", "rides/0/1", "rides/0/0"]
    assert status["dead_letters"][0]["error"] == "ValueError"
    assert status["dead_letters"][0]["message"] == "bad ride 2"


def test_dead_letter_ring_is_bounded() -> None:
    handlers = ErrorHandlers(dead_letter_topic="dl")
    for offset in range(RECENT_DEAD_LETTERS + 7):
        handlers.handle(ErrorContext(ErrorKind.PROCESSING, "t", 0, offset, 0, (), None, None),
                        ValueError("x"))
    assert len(handlers.recent) == RECENT_DEAD_LETTERS
    assert handlers.recent[-1].where == f"t/0/{RECENT_DEAD_LETTERS + 6}"


async def test_routes_serve_page_assets_topology_status_and_events() -> None:
    fake = FakeView()
    fake.lag = {("rides", 0): 4}
    routes, _metrics = dashboard(any_topology(), fake, ["0_0"], {"rides": 0}, tick_s=0.2)
    runner, base = await serve(routes)
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(base + "/") as r:
                assert r.status == 200 and '<script src="/static/app.js">' in await r.text()
            for asset in ("app.js", "style.css"):
                async with http.get(f"{base}/static/{asset}") as r:
                    assert r.status == 200
                    assert await r.read() == (STATIC_DIR / asset).read_bytes()
            async with http.get(base + "/api/topology") as r:
                assert "KSTREAM-AGGREGATE-0000000002" in {n["name"] for n in
                                                          (await r.json())["nodes"]}
            async with http.get(base + "/api/status") as r:
                assert (await r.json())["lag"] == 4
            events: list[dict] = []
            async with http.get(base + "/api/events") as r:
                assert r.headers["Content-Type"] == "text/event-stream"
                async for line in r.content:
                    if line.startswith(b"data: "):
                        events.append(orjson.loads(line[6:]))
                        fake.lag = {("rides", 0): 4 - len(events)}
                    if len(events) == 3:
                        break
            assert [e["lag"] for e in events] == [4, 3, 2]  # a new snapshot each tick
        # An open event stream must not hold the server's stop for its shutdown timeout.
        http = aiohttp.ClientSession()
        stream = await http.get(base + "/api/events")
        await stream.content.readline()
        await asyncio.wait_for(runner.cleanup(), 5)
        await http.close()
    finally:
        await runner.cleanup()


def test_setting_turns_the_dashboard_off() -> None:
    from streams_app.runtime.faust_runtime import FaustRuntime

    def installers(**kw: object) -> int:
        settings = Settings(app_id="dash-unit", store="rocksdb", data_dir=tempfile.mkdtemp(),
                            **kw)  # type: ignore[arg-type]
        runtime = FaustRuntime(any_topology(), settings)
        return len(dashboard_routes(runtime, runtime.metrics))  # type: ignore[arg-type]

    assert installers(web_enabled=True) == 1
    assert installers(web_enabled=True, dashboard_enabled=False) == 0
    assert installers(web_enabled=False) == 0
    with pytest.raises(ConfigError, match=r"^STREAMS_DASHBOARD_ENABLED \(dashboard_enabled\)"):
        Settings.from_env({"STREAMS_DASHBOARD_ENABLED": "perhaps"})
