"""The dashboard of a running rides-vendor-count worker on the real broker, in headless
Chromium: the topology's processors and stores by name, the lag reaching 0 once every ride is
processed, a bad ride listed among the dead letters with its reason. Screenshots go to
test-artifacts/ (docs/images/dashboard.png is one of them)."""

from __future__ import annotations

import re
import uuid

import orjson
from aiokafka import AIOKafkaProducer
from playwright.async_api import expect

from streams_app.jobs.process import JobProcess
from streams_app.jobs.produce_rides import produce_rides
from streams_app.kafka.reader import wait_until
from tests.dashboard.browser import (
    open_dashboard,
    screenshot,
    search_key,
    topology_names,
    wait_lag,
    window_timeline,
)
from tests.dashboard.stub import free_port
from tests.jobs.test_metrics_integration import Scraper
from tests.jobs.test_rides_vendor_count_integration import RIDES, Job


async def test_dashboard_of_a_running_worker(kafka_bootstrap, tmp_path):
    # A short name keeps the screenshot readable (the uuid keeps it apart from other tests).
    job = Job(kafka_bootstrap, f"dash-{uuid.uuid4().hex[:6]}", tmp_path)
    await job.create_topics()
    port = free_port()
    worker = JobProcess("rides-vendor-count", {**job.env, "STREAMS_WEB_ENABLED": "true",
                                               "STREAMS_WEB_PORT": str(port)},
                        log_path=job.log).start()
    try:
        async def serving() -> bool:
            assert worker.running, worker.log_tail()
            return await Scraper(port).get("/api/status") is not None

        await wait_until(serving, 60, "the worker's web server")
        async with open_dashboard(f"http://127.0.0.1:{port}") as page:
            names = await topology_names(page)
            assert {"Processor: check-ride", "Store: vendor-count", job.rides,
                    f"{job.prefix}rides-vendor-count"} <= names, names
            await expect(page.locator("#app-id")).to_have_text(job.app_id)
            # Rides arrive while the page is open: the charts move, then settle.
            await produce_rides(kafka_bootstrap, job.rides, rate=150.0, progress=False)
            producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
            await producer.start()
            try:
                await producer.send_and_wait(job.rides, b"{oops", key=b"1", partition=0)
            finally:
                await producer.stop()
            # Every ride (and the bad one) handled: the total lag shown is then 0.
            await wait_lag(page, "0", f"{len(RIDES) + 1:,}")
            await expect(page.locator("#ready")).to_have_text("ready")
            await expect(page.locator("#tasks tbody tr")).to_have_count(2)
            await expect(page.locator("#lag-chart polyline")).to_have_count(2)
            dead = page.locator("#dead-letters tbody tr")
            await expect(dead).to_have_count(1)
            await expect(dead).to_contain_text(f"{job.rides}/0/")
            await expect(page.locator("#dead-count")).to_have_text(
                re.compile(rf"^1 to {job.prefix}rides-dead-letter"))
            assert await search_key(page, "vendor-count", "2") == "179"
            await screenshot(page, "dashboard-rides-vendor-count")
    finally:
        worker.stop()


async def test_window_timeline_of_a_windowed_worker(kafka_bootstrap, tmp_path):
    from collections import Counter

    from streams_app.jobs.rides import pickup_location, pickup_time_ms, windowed_count_topics
    from streams_app.jobs.rides_windowed_count import WINDOW_MS
    from streams_app.kafka.admin import ensure_topics

    job = Job(kafka_bootstrap, f"dashw-{uuid.uuid4().hex[:6]}", tmp_path)
    await ensure_topics(kafka_bootstrap, windowed_count_topics(job.prefix, 2, 1))
    await produce_rides(kafka_bootstrap, job.rides, progress=False)
    windows = Counter((pickup_location(r), pickup_time_ms(r) // WINDOW_MS * WINDOW_MS)
                      for r in RIDES)
    busiest = Counter(loc for loc, _start in windows.elements()).most_common(1)[0][0]
    want = sorted((start, str(n)) for (loc, start), n in windows.items() if loc == busiest)
    port = free_port()
    worker = JobProcess("rides-windowed-count", {**job.env, "STREAMS_WEB_ENABLED": "true",
                                                 "STREAMS_WEB_PORT": str(port)},
                        log_path=job.log).start()
    try:
        async def counted() -> bool:
            assert worker.running, worker.log_tail()
            got = await Scraper(port).get("/api/status")
            # Each ride is processed twice: before and after the repartition topic.
            return got is not None and orjson.loads(got[1])["processed"] >= 2 * len(RIDES)

        await wait_until(counted, 120, "the windowed worker to process every ride")
        async with open_dashboard(f"http://127.0.0.1:{port}") as page:
            assert "Store: pulocation-window-count" in await topology_names(page)
            await wait_lag(page, "0", f"{2 * len(RIDES):,}")

            async def drawn() -> bool:  # the last commit's cache flush may still be due
                return await window_timeline(page, "pulocation-window-count", busiest) == want

            await wait_until(drawn, 30, f"location {busiest}'s windows on the timeline")
            await screenshot(page, "dashboard-rides-windowed-count")
    finally:
        worker.stop()
