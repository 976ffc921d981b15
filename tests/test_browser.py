"""A real browser opens the app, reads the leaderboard, submits a model and finds it queued."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from browser import chromium_page
from conftest import ARTIFACTS

pytestmark = pytest.mark.browser


def test_leaderboard_submit_and_queue_in_a_real_browser(tmp_path, tiny_model_dir, start_app):
    app = start_app(tmp_path / "store", "--allow-local-models", "--no-worker")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with chromium_page() as page:
        page.goto(app.url, wait_until="domcontentloaded")
        table = page.locator("#leaderboard-table")
        expect(table).to_contain_text("xglm-7.5B", timeout=60_000)  # reported figures are listed
        expect(table).to_contain_text("reported")
        page.screenshot(path=str(ARTIFACTS / "leaderboard.png"), full_page=True)

        page.get_by_role("tab", name="Submit").click()
        page.locator("#submit-model textarea, #submit-model input").first.fill(str(tiny_model_dir))
        page.locator("#submit-button").click()
        expect(page.locator("#submit-result")).to_contain_text("queued", timeout=60_000)
        page.screenshot(path=str(ARTIFACTS / "submit.png"), full_page=True)

        page.get_by_role("tab", name="Queue").click()
        queue = page.locator("#queue-table")
        expect(queue).to_contain_text("PENDING", timeout=30_000)
        expect(queue).to_contain_text("tiny-llama")
        page.screenshot(path=str(ARTIFACTS / "queue.png"), full_page=True)
