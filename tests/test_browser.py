"""A real browser opens the app, reads the leaderboard, submits a model and finds it queued."""

from __future__ import annotations

import pytest
from browser import chromium_page
from helpers import ARTIFACTS
from leaderboard_fixture import FULL_MODEL, PARTIAL_MODEL, queue_finished_partial_run, write_starter_runs
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_leaderboard_submit_and_queue_in_a_real_browser(tmp_path, tiny_model_dir, start_app):
    app = start_app(tmp_path / "store", "--allow-local-models", "--no-worker")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with chromium_page() as page:
        page.goto(app.url, wait_until="domcontentloaded")
        table = page.locator("#leaderboard-table")
        expect(table).to_contain_text("reported", timeout=60_000)  # reported figures are listed
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


def _pick(page, elem_id: str, text: str) -> None:
    """Choose an option in a Gradio dropdown by typing and pressing Enter."""
    box = page.locator(f"#{elem_id} input").first
    box.click()
    box.fill(text)
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")


def test_explorer_language_filter_changes_the_heatmap_and_downloads(tmp_path, start_app):
    import csv

    from explorer.synthetic import generate

    data = tmp_path / "store"
    # 200 languages: the scale the explorer exists for; the heatmap must still label every row.
    generate(data, models=8, languages=200, tasks=4, sample_models=2, items_per_language=50, sample_items=5)
    app = start_app(data, "--no-worker")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with chromium_page() as page:
        page.goto(app.url, wait_until="domcontentloaded")
        expect(page.locator("#leaderboard-summary")).to_contain_text("model entries", timeout=60_000)
        search = page.locator("#filter-search textarea, #filter-search input").first
        search.fill("synthetic")
        search.press("Enter")
        expect(page.locator("#leaderboard-summary")).to_contain_text("8 model entries", timeout=30_000)
        expect(page.locator("#leaderboard-table")).to_contain_text("synthetic-org/model-")
        page.screenshot(path=str(ARTIFACTS / "leaderboard-search.png"), full_page=True)
        page.get_by_role("tab", name="Explorer").click()
        heatmap = page.locator("#language-heatmap")
        expect(heatmap.locator(".ytick").first).to_be_visible(timeout=60_000)
        expect(heatmap.locator(".ytick")).to_have_count(200, timeout=30_000)  # one labelled row per language
        labels = heatmap.locator(".ytick text")
        tops = [labels.nth(i).bounding_box()["y"] for i in (0, 1, 2)]
        assert tops[1] - tops[0] >= 12 and tops[2] - tops[1] >= 12  # rows far enough apart to read
        page.screenshot(path=str(ARTIFACTS / "explorer-per-language.png"), full_page=True)
        for tab, name in (("Per category", "categories"), ("Parity", "parity"), ("Task details", "details")):
            page.get_by_role("tab", name=tab).click()
            page.wait_for_timeout(2500)
            page.screenshot(path=str(ARTIFACTS / f"explorer-{name}.png"), full_page=True)
        page.get_by_role("tab", name="Compare two models").click()
        _pick(page, "compare-a", "synthetic-org/model-0000")
        _pick(page, "compare-b", "synthetic-org/model-0001")
        page.wait_for_timeout(3000)
        page.screenshot(path=str(ARTIFACTS / "explorer-compare.png"), full_page=True)
        page.get_by_role("tab", name="Samples").click()
        _pick(page, "explorer-models", "synthetic-org/model-0000")
        page.wait_for_timeout(3000)
        page.screenshot(path=str(ARTIFACTS / "explorer-samples.png"), full_page=True)
        page.get_by_role("tab", name="Per language").click()

        _pick(page, "filter-languages", "Afrikaans")
        expect(heatmap.locator(".ytick")).to_have_count(1, timeout=30_000)
        assert "langs=afr_Latn" in page.url  # the view can be shared as a link
        page.screenshot(path=str(ARTIFACTS / "explorer-filtered.png"), full_page=True)

        page.locator("#download-per-language").click()
        link = page.locator('#download-per-language-file a[download="per_language.csv"]').first
        expect(link).to_be_visible(timeout=30_000)
        with page.expect_download() as info:
            link.click()
        path = info.value.path()
        rows = list(csv.DictReader(open(path, encoding="utf-8", newline="")))
        assert rows and {r["language"] for r in rows} == {"afr_Latn"}

        page.goto(app.url + "?langs=deu_Latn&tiers=high", wait_until="domcontentloaded")  # a shared link
        expect(page.locator("#filter-languages")).to_contain_text("German", timeout=60_000)


def test_model_names_with_markup_render_as_text(tmp_path, tiny_model_dir, start_app):
    import shutil

    hostile = tmp_path / "<img src=x onerror=window.__pwned=1>"
    shutil.copytree(tiny_model_dir, hostile)
    app = start_app(tmp_path / "store", "--allow-local-models", "--no-worker")
    with chromium_page() as page:
        page.goto(app.url, wait_until="domcontentloaded")
        page.get_by_role("tab", name="Submit").click()
        page.locator("#submit-model textarea, #submit-model input").first.fill(str(hostile))
        page.locator("#submit-button").click()
        expect(page.locator("#submit-result")).to_contain_text("queued", timeout=60_000)
        page.get_by_role("tab", name="Queue").click()
        expect(page.locator("#queue-table")).to_contain_text("<img src=x onerror", timeout=30_000)  # shown as text
        assert page.evaluate("() => window.__pwned === undefined")
        assert page.locator("#queue-table img").count() == 0


def test_default_view_ranks_only_comparable_rows_with_per_task_columns(tmp_path, start_app):
    data = tmp_path / "store"
    write_starter_runs(data)
    queue_finished_partial_run(data)
    app = start_app(data, "--no-worker")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with chromium_page(1440, 900) as page:
        page.goto(app.url, wait_until="domcontentloaded")
        table = page.locator("#leaderboard-table")
        expect(table).to_contain_text(FULL_MODEL, timeout=60_000)
        expect(page.locator("#leaderboard-summary")).to_contain_text("Starter suite")
        full, partial = table.locator("tr", has_text=FULL_MODEL), table.locator("tr", has_text=PARTIAL_MODEL)
        expect(full.locator("td").first).to_have_text("1")
        expect(partial.locator("td").first).to_have_text("—")  # 2 of 5 tasks: no rank, no average
        expect(partial).to_contain_text("2/5 tasks")
        expect(partial).to_contain_text("3 tasks skipped")
        assert table.locator("td", has_text="reported").count() == 0  # no published figure covers the suite
        header = table.locator("th", has_text="Starter MC")
        expect(header).to_be_visible()
        assert "metric: acc" in header.get_attribute("title")
        assert table.locator("th", has_text="polyglot_mc").count() == 0
        page.screenshot(path=str(ARTIFACTS / "leaderboard-comparable.png"), full_page=True)

        _pick(page, "leaderboard-set", "XCOPA")
        human = table.locator("tr", has_text="Human")
        expect(human.locator("td").first).to_have_text("ref", timeout=30_000)  # a reference line, never ranked
        assert "set=task%3Axcopa" in page.url
        _pick(page, "leaderboard-sort", "model")
        expect(table.locator("tbody tr").first).to_contain_text("bloom", timeout=30_000)  # one sort key, by name
        assert "sort=model" in page.url
        page.goto(page.url, wait_until="domcontentloaded")  # the link restores the set and the sort
        expect(table.locator("tr", has_text="Human").locator("td").first).to_have_text("ref", timeout=60_000)
        expect(table.locator("tbody tr").first).to_contain_text("bloom")

        page.get_by_role("tab", name="Queue").click()
        expect(page.locator("#queue-table")).to_contain_text("FINISHED — 2 of 5 tasks; 3 skipped", timeout=30_000)

    # The API answers with the table the page shows.
    client = app.client()
    rows = {r["model"]: r for r in client.predict("", "", "", api_name="/leaderboard_table")}
    assert rows[FULL_MODEL]["rank"] == 1 and rows[FULL_MODEL]["benchmark"] == "suite:starter"
    assert rows[PARTIAL_MODEL]["rank"] is None and rows[PARTIAL_MODEL]["coverage"] == "2/5 tasks"
    xcopa = {r["model"]: r for r in client.predict("", "", "", benchmark="task:xcopa", sort="average",
                                                    api_name="/leaderboard_table")}
    assert xcopa["Human"]["status"] == "reference" and xcopa["Human"]["rank"] is None

    with chromium_page(390, 844) as page:
        page.goto(app.url, wait_until="domcontentloaded")
        row = page.locator("#leaderboard-table tr", has_text=FULL_MODEL)
        score = row.locator("td:visible", has_text="60.0").first
        expect(score).to_be_visible(timeout=60_000)
        page.screenshot(path=str(ARTIFACTS / "leaderboard-390.png"))
        box = score.bounding_box()
        assert box["x"] + box["width"] <= 390 and box["y"] + box["height"] <= 844, box  # on the first screen
