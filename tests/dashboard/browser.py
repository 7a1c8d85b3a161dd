"""Driving the dashboard in the system's headless Chromium (Playwright, never its own browser
download): open it, read what it shows, search a key, draw a window timeline, screenshot."""

from __future__ import annotations

import re
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from playwright.async_api import Page, async_playwright, expect

#: Screenshots (git-ignored): CI keeps them as artifacts.
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TIMEOUT_MS = 60_000


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    assert path, "the dashboard tests need Debian's chromium (apt-get install chromium)"
    return path


@asynccontextmanager
async def open_dashboard(base_url: str) -> AsyncIterator[Page]:
    """A page with the dashboard at ``base_url`` loaded and its topology drawn."""
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium(), headless=True,
                                           args=["--no-sandbox"])
        try:
            page = await browser.new_page(viewport={"width": 1400, "height": 1100})
            page.set_default_timeout(TIMEOUT_MS)
            await page.goto(base_url + "/")
            await page.wait_for_selector("#topology g.node")
            yield page
        finally:
            await browser.close()


async def topology_names(page: Page) -> set[str]:
    """Every label the topology graph shows as SVG text."""
    return set(await page.locator("#topology g.node text").all_text_contents())


async def wait_lag(page: Page, lag: str, processed: str) -> None:
    """Until the live total lag and processed count read ``lag`` and ``processed``."""
    await expect(page.locator("#processed-total")).to_have_text(processed, timeout=TIMEOUT_MS)
    await expect(page.locator("#lag-total")).to_have_text(lag, timeout=TIMEOUT_MS)


async def search_key(page: Page, store: str, key: str) -> str:
    """The value the table browser shows for ``key`` of ``store`` (its text)."""
    await page.select_option("#store", store)
    await page.fill("#key", key)
    await page.click("#key-form button")
    result = page.locator("#key-result[data-value]")
    await result.wait_for()
    return str(await result.get_attribute("data-value"))


async def window_timeline(page: Page, store: str, key: str) -> list[tuple[int, str]]:
    """The (window start, value) bars the timeline draws for ``key`` of window ``store``."""
    await page.select_option("#store", store)
    await page.fill("#window-key", key)
    await page.click("#windows-form button")
    await expect(page.locator("#windows-info")).to_have_text(re.compile(r"^\d+ windows"))
    bars = page.locator("#timeline g.window")
    return [(int(str(await bar.get_attribute("data-start"))),
             str(await bar.get_attribute("data-value"))) for bar in await bars.all()]


async def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path
