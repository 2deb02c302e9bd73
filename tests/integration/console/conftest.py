"""One headless Chromium (Debian's, at /usr/bin/chromium; `make test` installs it) for the
whole run, driven by Playwright; each test gets a fresh browser context (its own cookies)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, async_playwright

from tests.integration.webhooks.receiver import receiver  # noqa: F401  (a fixture: the webhook pages' tests)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# CONSOLE_SCREENSHOTS=1: the browser tests also save each page to docs/console/ (for the README).
SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "console"


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (apt-get install chromium)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    opened = await browser.new_context(locale="en-GB", viewport={"width": 1200, "height": 860})
    try:
        yield opened
    finally:
        await opened.close()


async def screenshot(page: object, name: str) -> None:
    """Saved only when asked (CONSOLE_SCREENSHOTS=1), never on an ordinary run."""
    if os.environ.get("CONSOLE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]
