"""The dashboard in headless Chromium against the stub store API (no broker): the graph's
names, live charts and totals, restore progress, dead letters, key search, range paging and
the window timeline. The real-worker test is tests/dashboard/test_dashboard_integration.py."""

from __future__ import annotations

import time

from playwright.async_api import expect

from streams_app.errors import DeadLetterNote
from tests.dashboard.browser import (
    open_dashboard,
    screenshot,
    search_key,
    topology_names,
    wait_lag,
    window_timeline,
)
from tests.dashboard.stub import WINDOWS, FakeView, any_topology, dashboard, serve, stub_store_api


async def test_dashboard_in_chromium_against_the_store_api_stub() -> None:
    fake = FakeView()
    fake.lag = {("rides", 0): 40, ("rides", 1): 7}
    fake.restore = {"pulocation-window-count": {0: 0, 1: 0}}
    fake.dropped = {("dead_letter", "deserialization"): 1}
    fake.notes = [DeadLetterNote(time.time(), "deserialization", "rides/1/17", "JSONDecodeError",
                                 "<b>not markup</b>")]
    routes, metrics = dashboard(any_topology(), fake, ["0_0", "0_1"], {"rides": 0}, tick_s=0.2)
    metrics.restore_started(["pulocation-window-count"])
    metrics.restore_ended()
    runner, base = await serve(routes, stub_store_api)
    try:
        async with open_dashboard(base) as page:
            names = await topology_names(page)
            assert {"Processor: KSTREAM-AGGREGATE-0000000002", "Store: pulocation-window-count",
                    "rides", "rides-by-pulocation-repartition"} <= names
            await wait_lag(page, "47", "0")
            metrics.task("0_0").batch("rides", 0, 500, 500, 500)
            fake.lag = {("rides", 0): 0, ("rides", 1): 0}
            await wait_lag(page, "0", "500")
            await expect(page.locator("#lag-chart polyline")).to_have_count(2)
            await expect(page.locator("#tasks tbody tr")).to_have_count(2)
            await expect(page.locator("#restore")).to_contain_text(
                "pulocation-window-count: 100%")
            dead = page.locator("#dead-letters tbody tr")
            await expect(dead).to_have_count(1)
            await expect(dead).to_contain_text("rides/1/17")
            await expect(dead).to_contain_text("JSONDecodeError: <b>not markup</b>")

            assert await search_key(page, "vendor-count", "2") == "179"
            await expect(page.locator("#key-result")).to_contain_text("forwarded to stub:2")
            await page.fill("#key", "9")
            await page.click("#key-form button")
            await expect(page.locator("#key-result")).to_have_text("not found")

            await page.fill("#range-limit", "1")
            await page.click("#range-form button[type=submit]")
            cells = page.locator("#range tbody td")
            await expect(cells).to_have_text(["1", "121", "1", "stub:1"])
            await page.click("#range-next")
            await expect(cells).to_have_text(["2", "179", "0", "stub:1"])
            await expect(page.locator("#range-next")).to_be_disabled()

            bars = await window_timeline(page, "pulocation-window-count", "132")
            assert bars == [(start, str(n)) for start, n in WINDOWS["132"]]
            await screenshot(page, "dashboard-stub")
    finally:
        await runner.cleanup()
