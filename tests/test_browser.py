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
        expect(page.locator("#samples-page-info")).to_contain_text("items", timeout=30_000)  # filled on its own
        page.screenshot(path=str(ARTIFACTS / "explorer-samples.png"), full_page=True)
        page.get_by_role("tab", name="Per language").click()

        _pick(page, "filter-languages", "Afrikaans")
        expect(heatmap.locator(".ytick")).to_have_count(1, timeout=30_000)
        assert "langs=afr_Latn" in page.url  # the view can be shared as a link
        page.screenshot(path=str(ARTIFACTS / "explorer-filtered.png"), full_page=True)

        expect(page.locator("#download-per-language-file")).to_be_hidden()  # no empty file box before a download
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


def test_samples_view_lists_runs_names_languages_bounds_pages_and_downloads_a_picked_model(tmp_path, start_app):
    import csv

    from explorer.synthetic import generate

    data = tmp_path / "store"
    # 6 languages × 5 items: 30 rows per task, two pages of 20.
    generate(data, models=3, languages=6, tasks=2, sample_models=2, items_per_language=20, sample_items=5)
    app = start_app(data, "--no-worker")
    with chromium_page(1440, 900) as page:
        page.goto(app.url, wait_until="domcontentloaded")
        expect(page.locator("#leaderboard-summary")).to_contain_text("model entries", timeout=60_000)
        page.get_by_role("tab", name="Explorer").click()
        page.get_by_role("tab", name="Samples").click()
        info = page.locator("#samples-page-info")
        # The run list fills when the tab opens: no model to choose in the Explorer's box first.
        expect(info).to_contain_text("30 items · page 1 of 2", timeout=30_000)
        assert "synthetic-org/model-" in page.locator("#samples-run input").input_value()
        assert page.locator("#samples-language input").input_value() == "All languages"
        assert page.locator("#samples-category input").input_value() == "All categories"
        page.locator("#samples-language input").click()
        options = page.get_by_role("option")
        expect(options.first).to_be_visible()
        names = [n.replace("✓", "").strip() for n in options.all_inner_texts()]
        assert names[0] == "All languages" and all("(" in n and "_" in n for n in names[1:]), names  # "Name (code)"
        page.keyboard.press("Escape")

        header = [h.strip().split("\n")[0] for h in page.locator("#samples-table thead th").all_inner_texts()]
        header = [h for h in header if h]
        assert header.index("gold") < header.index("prediction") < header.index("score") < header.index("prompt"), header
        choices_cell = page.locator("#samples-table tbody tr").first.locator("td").nth(header.index("choices"))
        expect(choices_cell).to_contain_text("A: ")
        assert "['" not in choices_cell.inner_text()

        box = page.locator("#samples-page input")
        box.fill("99")
        box.press("Enter")
        expect(info).to_contain_text("page 2 of 2", timeout=30_000)  # clamped to the last page
        expect(box).to_have_value("2")
        page.screenshot(path=str(ARTIFACTS / "samples-last-page.png"), full_page=True)

        page.locator("#samples-download").get_by_text("Download every sample row of a model").click()
        expect(page.locator("#samples-download-file")).to_be_hidden()
        _pick(page, "samples-download-model", "synthetic-org/model-0001")
        page.locator("#samples-download-button").click()
        link = page.locator('#samples-download-file a[download]').first
        expect(link).to_be_visible(timeout=30_000)
        with page.expect_download() as got:
            link.click()
        rows = list(csv.DictReader(open(got.value.path(), encoding="utf-8", newline="")))
        assert rows and {r["model"] for r in rows} == {"synthetic-org/model-0001"}


VIEWS = [("leaderboard", None, None), ("explorer-languages", "Explorer", "Per language"),
         ("explorer-categories", "Explorer", "Per category"), ("explorer-parity", "Explorer", "Parity"),
         ("explorer-compare", "Explorer", "Compare two models"), ("explorer-details", "Explorer", "Task details"),
         ("samples", "Explorer", "Samples"), ("submit", "Submit", None), ("queue", "Queue", None),
         ("about", "About", None)]


def _open_tab(page, name: str) -> None:
    """Click a tab by name; on a narrow screen Gradio moves the tabs that do not fit into a menu."""
    tab = page.get_by_role("tab", name=name, exact=True)
    if tab.count() and tab.first.is_visible():
        tab.first.click()
        return
    found = page.evaluate("""(name) => {
        const item = [...document.querySelectorAll('.overflow-dropdown button')].find(b => b.textContent.trim() === name);
        if (!item) return false;
        let menu = item.parentElement;
        while (menu && !menu.querySelector('button[aria-label="More tabs"]')) menu = menu.parentElement;
        menu?.querySelector('button[aria-label="More tabs"]')?.click();  // open the menu, then pick the tab
        item.click();
        return true;
    }""", name)
    assert found, f"no tab named {name}"


def test_screenshots_of_every_view_on_a_laptop_and_a_phone(tmp_path, start_app):
    """Screenshots of each view at 1440×900 and 390×844, into $POLYGLOT_SCREENSHOTS (else a temporary folder)."""
    import os
    from pathlib import Path

    out = Path(os.environ.get("POLYGLOT_SCREENSHOTS") or tmp_path / "screens")
    out.mkdir(parents=True, exist_ok=True)
    from explorer.synthetic import generate

    data = tmp_path / "store"
    write_starter_runs(data)
    queue_finished_partial_run(data)
    # Per-sample rows for the Samples view: a few synthetic models (not in the starter suite, ranked below).
    generate(data, models=3, languages=12, tasks=2, sample_models=2, items_per_language=20, sample_items=3)
    app = start_app(data, "--no-worker")
    for width, height in ((1440, 900), (390, 844)):
        with chromium_page(width, height) as page:
            page.goto(app.url, wait_until="domcontentloaded")
            expect(page.locator("#leaderboard-table")).to_contain_text(FULL_MODEL, timeout=60_000)
            if width == 390:  # a score on the first screen of a phone
                score = page.locator("#leaderboard-table tr", has_text=FULL_MODEL).locator("td:visible",
                                                                                         has_text="60.0").first
                expect(score).to_be_visible()
                box = score.bounding_box()
                assert box["x"] + box["width"] <= width and box["y"] + box["height"] <= height, box
            for name, tab, subtab in VIEWS:
                if tab:
                    _open_tab(page, tab)
                if subtab:
                    _open_tab(page, subtab)
                page.wait_for_timeout(2000)
                path = out / f"{name}-{width}.png"
                page.screenshot(path=str(path), full_page=True)
                assert path.stat().st_size > 10_000, path  # a rendered page, not a blank one
            # One task with a chance level: the per-language bars draw it.
            page.goto(app.url + "?tasks=xcopa", wait_until="domcontentloaded")
            expect(page.locator("#leaderboard-table")).to_contain_text("model", timeout=60_000)
            _open_tab(page, "Explorer")
            expect(page.locator(".annotation-text", has_text="chance").first).to_be_visible(timeout=30_000)
            path = out / f"explorer-languages-xcopa-{width}.png"
            page.screenshot(path=str(path), full_page=True)
            assert path.stat().st_size > 10_000, path


def _until_quiet(page, calls: list, quiet_ms: int = 3000, limit_ms: int = 60_000) -> None:
    """Wait until no call has reached the server for ``quiet_ms``."""
    waited, seen = 0, -1
    while waited < limit_ms and seen != len(calls):
        seen = len(calls)
        page.wait_for_timeout(quiet_ms)
        waited += quiet_ms


def test_a_link_restores_the_tab_the_explorer_models_compare_and_the_sort(tmp_path, start_app):
    import re

    from explorer.synthetic import generate

    data = tmp_path / "store"
    generate(data, models=4, languages=6, tasks=2, sample_models=2, items_per_language=20, sample_items=5)
    app = start_app(data, "--no-worker")
    with chromium_page() as page:
        page.goto(app.url, wait_until="domcontentloaded")
        table = page.locator("#leaderboard-table")
        expect(table).to_contain_text("synthetic-org/model-", timeout=60_000)
        # "More filters" opens without asking the server for anything (the table is not recomputed).
        calls = []
        page.on("request", lambda r: calls.append(r.post_data) if "/queue/join" in r.url else None)
        _until_quiet(page, calls)  # the page's own loading is over
        before = len(calls)
        page.get_by_text("More filters").click()
        expect(page.locator("#filter-category")).to_be_visible(timeout=10_000)
        expect(page.locator("#filter-category input")).to_have_value("All categories")  # not a bare "*"
        page.wait_for_timeout(2500)
        assert calls[before:] == [], calls[before:]

        _pick(page, "leaderboard-sort", "model")
        expect(page).to_have_url(re.compile(r"sort=model"), timeout=30_000)
        page.get_by_role("tab", name="Submit").click()
        expect(page.locator("#filter-search")).to_be_hidden(timeout=30_000)  # Submit uses no filter
        page.get_by_role("tab", name="Explorer").click()
        expect(page.locator("#filter-search")).to_be_visible(timeout=30_000)
        expect(page).to_have_url(re.compile(r"tab=explorer"), timeout=30_000)
        _pick(page, "explorer-models", "synthetic-org/model-0002")
        expect(page).to_have_url(re.compile(r"models=synthetic-org%2Fmodel-0002"), timeout=30_000)
        page.get_by_role("tab", name="Compare two models").click()
        _pick(page, "compare-a", "synthetic-org/model-0000")
        _pick(page, "compare-b", "synthetic-org/model-0001")
        expect(page).to_have_url(re.compile(r"a=synthetic-org%2Fmodel-0000&b=synthetic-org%2Fmodel-0001"),
                                 timeout=30_000)

        page.goto(page.url, wait_until="domcontentloaded")  # the shared link
        models = page.locator("#explorer-models")
        expect(models).to_be_visible(timeout=60_000)  # the Explorer is the tab shown
        expect(models).to_contain_text("synthetic-org/model-0002", timeout=30_000)
        heatmap = page.locator("#language-heatmap")
        expect(heatmap.locator(".xtick")).to_have_count(1, timeout=60_000)  # drawn for the link's one model
        page.get_by_role("tab", name="Compare two models").click()
        expect(page.locator("#compare-a input")).to_have_value("synthetic-org/model-0000", timeout=30_000)
        expect(page.locator("#compare-b input")).to_have_value("synthetic-org/model-0001")
        page.get_by_role("tab", name="Leaderboard").click()
        expect(page.locator("#leaderboard-sort input")).to_have_value("model", timeout=30_000)
        expect(table.locator("tbody tr").first).to_contain_text("synthetic-org/model-0000")  # sorted by name
