"""Launching Debian's Chromium through playwright, or skipping when it is not installed."""

from __future__ import annotations

import os
from contextlib import contextmanager

import pytest

CHROMIUM = os.environ.get("POLYGLOT_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-dev-shm-usage"]


@contextmanager
def chromium_page(width: int = 1400, height: int = 1000):
    if not os.path.exists(CHROMIUM):
        if os.environ.get("POLYGLOT_REQUIRE_BROWSER") == "1":
            pytest.fail(f"Chromium is required but missing at {CHROMIUM}")
        pytest.skip(f"Chromium not installed at {CHROMIUM} (apt-get install chromium)")
    playwright_api = pytest.importorskip("playwright.sync_api")
    # playwright starts the browser with a fresh temporary profile of its own.
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height}, accept_downloads=True)
            yield page
        finally:
            browser.close()
