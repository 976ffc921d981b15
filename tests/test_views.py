"""Every explorer view against numbers computed by hand on a tiny fixture.

The fixture has ties, missing cells and a model with a single language."""

from __future__ import annotations

import json
import math
from datetime import datetime, timezone

import numpy as np
import pytest

from evaluator.results import SAMPLE_SCHEMA, SCORE_SCHEMA, write_table
from explorer import views as V
from explorer.stats import holm, mcnemar_exact, rank_with_ties
from explorer.store import ResultStore
from explorer.url_state import from_query, to_query

N = 100
Z = 1.959963984540054
SCORES = {  # model -> task -> language -> accuracy (N items each)
    "org/A": {"t1": {"eng_Latn": 0.8, "fra_Latn": 0.6, "deu_Latn": 0.4}, "t2": {"eng_Latn": 0.5, "fra_Latn": 0.7}},
    "org/B": {"t1": {"eng_Latn": 0.9, "fra_Latn": 0.5}},
    "org/C": {"t1": {"eng_Latn": 0.3}},
    "org/D": {"t1": {"eng_Latn": 0.8, "fra_Latn": 0.6, "deu_Latn": 0.4}, "t2": {"eng_Latn": 0.5, "fra_Latn": 0.7}},
}


def wilson(p, n):
    """Written out independently of evaluator.stats."""
    a = p + Z ** 2 / (2 * n)
    b = Z * math.sqrt(p * (1 - p) / n + Z ** 2 / (4 * n ** 2))
    return (a - b) / (1 + Z ** 2 / n), (a + b) / (1 + Z ** 2 / n)


def se_of(p):
    lo, hi = wilson(p, N)
    return (hi - lo) / (2 * Z)


def _write(results, model, per_task, created, samples=None):
    run_id = model.split("/")[1]
    run = results / run_id
    rows = []
    for task, langs in per_task.items():
        for lang, p in langs.items():
            lo, hi = wilson(p, N)
            base = dict(run_id=run_id, source="evaluated", model=model, revision="r1", precision="float32",
                        suite="test", suite_version="1", task=task, task_version="1", kind="multiple_choice",
                        language=lang, metric="acc", n_items=N, primary=True, higher_is_better=True,
                        engine_version="1", created_at=created, citation="", details={})
            rows.append({**base, "category": "*", "value": p, "ci_low": lo, "ci_high": hi})
            rows.append({**base, "category": "idiom", "value": p / 2, "ci_low": None, "ci_high": None, "n_items": 10})
            rows.append({**base, "category": "*", "metric": "acc_norm_char", "primary": False, "value": p - 0.1,
                         "ci_low": None, "ci_high": None})
    write_table(run / "scores.parquet", rows, SCORE_SCHEMA)
    tasks = {t: {"version": "1", "kind": "multiple_choice", "n_items": N * len(l), "languages": sorted(l)}
             for t, l in per_task.items()}
    (run / "run.json").write_text(json.dumps({"run_id": run_id, "model": model, "revision": "r1", "precision": "float32",
                                              "tasks": tasks, "finished_at": created.isoformat()}))
    if samples is not None:
        write_table(run / "samples-t1.parquet", [
            dict(run_id=run_id, model=model, task="t1", language="eng_Latn", category="idiom", item_id=f"i{k:02d}",
                 turn=0, prompt="p", gold="a", prediction="a" if s else "b", score=float(s), metric="acc",
                 truncated=False, details={}, created_at=created)
            for k, s in enumerate(samples)], SAMPLE_SCHEMA)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("views")
    created = datetime(2026, 11, 1, tzinfo=timezone.utc)
    # Paired items for org/A vs org/D on t1/eng: 8 only A right, 2 only D right, 10 both right.
    a = [1] * 8 + [0] * 2 + [1] * 10
    d = [0] * 8 + [1] * 2 + [1] * 10
    for model, per_task in SCORES.items():
        _write(root / "results", model, per_task, created,
               samples=a if model == "org/A" else d if model == "org/D" else None)
    s = ResultStore(root, include_reported=False, persistent=False)
    yield s
    s.close()


def test_leaderboard_by_hand(store):
    lb = V.leaderboard(store).set_index("model")
    assert lb.loc["org/A", "t1"] == pytest.approx(0.6) and lb.loc["org/A", "t2"] == pytest.approx(0.6)
    assert lb.loc["org/A", "average"] == pytest.approx(0.6)
    assert lb.loc["org/A", "parity_gap"] == pytest.approx((0.4 + 0.2) / 2)
    assert lb.loc["org/A", "n_languages"] == 3 and lb.loc["org/A", "n_tasks"] == 2
    assert lb.loc["org/B", "average"] == pytest.approx(0.7) and np.isnan(lb.loc["org/B", "t2"])  # missing, not 0
    assert lb.loc["org/C", "n_languages"] == 1 and np.isnan(lb.loc["org/C", "parity_gap"])  # a single language
    assert set(lb.index) == set(SCORES)  # nobody dropped


def test_interval_of_the_average_by_hand(store):
    lb = V.leaderboard(store).set_index("model")
    se_t1 = math.sqrt(sum(se_of(p) ** 2 for p in (0.8, 0.6, 0.4))) / 3
    se_t2 = math.sqrt(sum(se_of(p) ** 2 for p in (0.5, 0.7))) / 2
    se = math.sqrt(se_t1 ** 2 + se_t2 ** 2) / 2
    assert lb.loc["org/A", "ci_low"] == pytest.approx(0.6 - Z * se, abs=1e-9)
    assert lb.loc["org/A", "ci_high"] == pytest.approx(0.6 + Z * se, abs=1e-9)


def test_ranks_share_places_where_intervals_overlap(store):
    lb = V.leaderboard(store).set_index("model")
    lows = lb["ci_low"].to_numpy()
    for m in lb.index:
        expected = 1 + sum(1 for other_low in lows if other_low > lb.loc[m, "ci_high"])
        assert lb.loc[m, "rank"] == expected
    assert lb.loc["org/A", "rank"] == lb.loc["org/D", "rank"]  # identical results: tied
    assert lb.loc["org/C", "rank"] > lb.loc["org/B", "rank"]


def test_rank_rule_on_its_own():
    assert rank_with_ties(np.array([0.7, 0.5, 0.1]), np.array([0.9, 0.8, 0.2])).tolist() == [1, 1, 3]


def test_language_filter_changes_the_scores(store):
    lb = V.leaderboard(store, V.Filters(languages=["fra_Latn"])).set_index("model")
    assert lb.loc["org/A", "average"] == pytest.approx((0.6 + 0.7) / 2)
    assert lb.loc["org/B", "average"] == pytest.approx(0.5)
    assert "org/C" not in lb.index
    with_empty = V.leaderboard(store, V.Filters(languages=["fra_Latn"]), include_empty=True).set_index("model")
    assert np.isnan(with_empty.loc["org/C", "average"])  # shown as missing when asked for


def test_script_family_and_tier_filters_resolve_through_the_language_table(store):
    germanic = V.leaderboard(store, V.Filters(families=["Indo-European"], languages=["deu_Latn"])).set_index("model")
    assert list(germanic.index) in (["org/A", "org/D"], ["org/D", "org/A"])
    assert germanic.loc["org/A", "t1"] == pytest.approx(0.4)
    assert V.leaderboard(store, V.Filters(scripts=["Cyrl"])).empty


def test_category_filter_uses_category_scores(store):
    lb = V.leaderboard(store, V.Filters(category="idiom")).set_index("model")
    assert lb.loc["org/A", "t1"] == pytest.approx(0.3)  # (0.4 + 0.3 + 0.2) / 3


def test_per_language_by_hand(store):
    pl = V.per_language(store, V.Filters(models=["org/A"])).set_index("language")
    assert pl.loc["eng_Latn", "score"] == pytest.approx(0.65) and pl.loc["eng_Latn", "n_tasks"] == 2
    assert pl.loc["deu_Latn", "score"] == pytest.approx(0.4)
    assert pl.loc["fra_Latn", "language_name"] == "French"
    single = V.per_language(store, V.Filters(models=["org/A"], tasks=["t1"])).set_index("language")
    lo, hi = wilson(0.8, N)
    assert single.loc["eng_Latn", "ci_low"] == pytest.approx(lo) and single.loc["eng_Latn", "ci_high"] == pytest.approx(hi)


def test_parity_by_hand(store):
    par = V.parity(store, V.Filters()).set_index("model")
    a = par.loc["org/A"]
    values = [0.65, 0.65, 0.4]
    assert a["mean"] == pytest.approx(np.mean(values)) and a["spread"] == pytest.approx(np.std(values))
    assert a["best"] == pytest.approx(0.65) and a["worst"] == pytest.approx(0.4) and a["worst_language"] == "German"
    assert a["gap"] == pytest.approx(0.25) and a["worst_best_ratio"] == pytest.approx(0.4 / 0.65)
    c = par.loc["org/C"]
    assert c["gap"] == 0 and c["n_languages"] == 1


def test_difficulty_ranks_languages_hardest_first(store):
    d = V.language_difficulty(store, V.Filters(tasks=["t1"]))
    assert d["language"].tolist()[0] == "deu_Latn"
    assert d.set_index("language").loc["eng_Latn", "mean_score"] == pytest.approx((0.8 + 0.9 + 0.3 + 0.8) / 4)


def test_difficulty_ignores_languages_that_too_few_models_cover(tmp_path):
    """A random tiny model alone on a language (or on its own task) must not make that language 'hardest'."""
    created = datetime(2026, 11, 1, tzinfo=timezone.utc)
    per_model = {
        "org/big1": {"t1": {"eng_Latn": 0.9, "fra_Latn": 0.7}},
        "org/big2": {"t1": {"eng_Latn": 0.8, "fra_Latn": 0.5}},
        "org/big3": {"t1": {"eng_Latn": 0.7, "fra_Latn": 0.6}},
        "org/tiny": {"t1": {"eng_Latn": 0.3, "zul_Latn": 0.01}, "t9": {"swh_Latn": 0.0}},
    }
    for model, per_task in per_model.items():
        _write(tmp_path / "results", model, per_task, created)
    s = ResultStore(tmp_path, include_reported=False, persistent=False)
    try:
        d = V.language_difficulty(s, V.Filters()).set_index("language")
    finally:
        s.close()
    assert list(d.index) == ["fra_Latn", "eng_Latn"]  # zul_Latn (1 of 4 models) and t9 (one model) left out
    assert d.loc["fra_Latn", "mean_score"] == pytest.approx(0.6) and d.loc["fra_Latn", "n_models"] == 3
    assert d.loc["eng_Latn", "n_models"] == 4 and d.loc["eng_Latn", "tasks"] == "t1"


def test_categories_by_hand(store):
    cats = V.category_summary(store, V.Filters(models=["org/B"]))
    assert cats.set_index("category").loc["idiom", "score"] == pytest.approx((0.45 + 0.25) / 2)


def test_compare_uses_mcnemar_on_paired_items_and_holm(store):
    cmp = V.compare(store, "org/A", "org/D", V.Filters(tasks=["t1"]))
    row = cmp.set_index("language").loc["eng_Latn"]
    assert row["method"] == "McNemar (exact)" and row["n_items"] == 20
    assert row["p_value"] == pytest.approx(112 / 1024)  # 2 * P(X <= 2), X ~ Binomial(10, 1/2)
    assert row["difference"] == pytest.approx((18 - 12) / 20)


def test_compare_without_samples_falls_back_to_intervals(store):
    cmp = V.compare(store, "org/A", "org/B", V.Filters(tasks=["t1"])).set_index("language")
    assert set(cmp.index) == {"eng_Latn", "fra_Latn"}
    assert cmp.loc["eng_Latn", "method"].startswith("unpaired")
    z = (0.8 - 0.9) / math.sqrt(se_of(0.8) ** 2 + se_of(0.9) ** 2)
    assert cmp.loc["eng_Latn", "p_value"] == pytest.approx(math.erfc(abs(z) / math.sqrt(2)))


def test_holm_and_mcnemar_by_hand():
    assert holm(np.array([0.01, 0.04, 0.03])).tolist() == pytest.approx([0.03, 0.06, 0.06])
    assert mcnemar_exact(0, 0) == 1.0 and mcnemar_exact(5, 0) == pytest.approx(2 / 32)


def test_samples_pages_and_wrong_answers(store):
    rows, total = V.samples(store, "A", "t1", page=1, page_size=15)
    assert total == 20 and len(rows) == 15
    rows, total = V.samples(store, "A", "t1", page=2, page_size=15)
    assert len(rows) == 5
    rows, total = V.samples(store, "A", "t1", wrong_only=True)
    assert total == 2 and (rows["score"] < 1).all()
    assert V.samples(store, "A", "not-a-task")[1] == 0


def test_task_metrics_show_every_metric(store):
    m = V.task_metrics(store, V.Filters(models=["org/A"], tasks=["t1"])).set_index("language")
    assert m.loc["eng_Latn", "acc"] == pytest.approx(0.8) and m.loc["eng_Latn", "acc_norm_char"] == pytest.approx(0.7)


def test_url_state_round_trips():
    f = V.Filters(tasks=("t1", "t2"), languages=("fra_Latn",), tiers=("low",), search="llama; qwen", category="idiom",
                  sources=("evaluated",), sizes=("<1B",))
    back, extra = from_query(to_query(f, {"tab": "explorer"}))
    assert back == f and extra == {"tab": "explorer"}
    assert from_query("")[0] == V.Filters()


def test_a_refresh_while_another_cursor_writes_still_shows_the_new_run(tmp_path):
    """DuckDB cannot checkpoint while another transaction writes; the refresh still lands and the views'
    cache is cleared (the checkpoint waits for the next refresh)."""
    created = datetime(2026, 11, 2, tzinfo=timezone.utc)
    s = ResultStore(tmp_path, include_reported=False)
    try:
        assert V.leaderboard(s).empty
        reader = s._con.cursor()
        reader.execute("BEGIN TRANSACTION")
        reader.execute("CREATE TABLE busy AS SELECT 1 AS x")
        _write(tmp_path / "results", "org/E", {"t1": {"eng_Latn": 0.5}}, created)
        assert s.refresh() is True
        assert V.leaderboard(s)["model"].tolist() == ["org/E"]
        reader.execute("ROLLBACK")
        reader.close()
    finally:
        s.close()


def test_new_results_appear_after_refresh_without_restart(tmp_path):
    created = datetime(2026, 11, 2, tzinfo=timezone.utc)
    s = ResultStore(tmp_path, include_reported=False, persistent=False)
    assert V.leaderboard(s).empty
    _write(tmp_path / "results", "org/E", {"t1": {"eng_Latn": 0.5}}, created)
    assert s.refresh() is True
    assert V.leaderboard(s)["model"].tolist() == ["org/E"]
    # a newer run of the same model and task replaces the older one
    _write(tmp_path / "results", "org/E2", {"t1": {"eng_Latn": 0.9}}, datetime(2026, 11, 3, tzinfo=timezone.utc))
    s.refresh()
    assert len(V.leaderboard(s)) == 2
    s.close()


@pytest.mark.slow
def test_the_explorer_cache_survives_a_restart_and_a_second_process_gets_its_own(tmp_path):
    import subprocess
    import sys

    from helpers import REPO

    created = datetime(2026, 11, 2, tzinfo=timezone.utc)
    _write(tmp_path / "results", "org/F", {"t1": {"eng_Latn": 0.5}}, created)
    first = ResultStore(tmp_path, include_reported=False)
    assert not first._private
    first.close()
    again = ResultStore(tmp_path, include_reported=False)
    assert V.leaderboard(again)["model"].tolist() == ["org/F"] and not again._private
    code = ("from explorer.store import ResultStore; from explorer import views as V; import sys; "
            f"s = ResultStore({str(tmp_path)!r}, include_reported=False); "
            "print(s._private, V.leaderboard(s)['model'].tolist())")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "True ['org/F']", out.stderr  # the file is taken: a private copy, same results
    again.close()


def test_task_references_come_from_the_cards():
    from evaluator.cards import all_cards, get_card

    refs = V.task_references(("xcopa", "polyglot_mc")).set_index("task")
    assert list(refs.index) == ["polyglot_mc", "xcopa"]
    assert refs.loc["xcopa", "implementation"] == get_card("xcopa").reference.implementation == "lm-evaluation-harness"
    assert refs.loc["xcopa", "version"] == "0.4.13" and refs.loc["polyglot_mc", "implementation"] == "this project"
    assert len(V.task_references()) == len(all_cards())


def test_about_tab_lists_every_reference():
    from evaluator.cards import all_cards
    from explorer.tab_about import methodology_markdown

    text = methodology_markdown()
    section = text.split("## References", 1)[1].split("## Suites", 1)[0]
    for card in all_cards().values():
        assert f"| {card.id} |" in section
    assert "lm-evaluation-harness" in section and "0.4.13" in section


def test_task_run_counts_show_fallback_counts(tmp_path):
    created = datetime(2026, 11, 2, tzinfo=timezone.utc)
    _write(tmp_path / "results", "org/E", {"t1": {"eng_Latn": 0.5}}, created)
    run_json = tmp_path / "results" / "E" / "run.json"
    info = json.loads(run_json.read_text())
    info["tasks"]["t1"].update(n_truncated=2, n_separate_continuations=3, n_unchecked_instructions=0)
    run_json.write_text(json.dumps(info))
    s = ResultStore(tmp_path, include_reported=False, persistent=False)
    counts = V.task_run_counts(s, V.Filters(models=["org/E"]))
    assert counts[["task", "n_truncated", "n_separate_continuations"]].values.tolist() == [["t1", 2, 3]]
    provenance = V.model_provenance(s, "org/E")
    assert provenance["n_separate_continuations"].tolist() == [3]


def test_sample_runs_list_runs_with_per_sample_rows_newest_first(tmp_path):
    _write(tmp_path / "results", "org/A", SCORES["org/A"], datetime(2026, 11, 1, tzinfo=timezone.utc), samples=[1, 0])
    _write(tmp_path / "results", "org/D", SCORES["org/D"], datetime(2026, 11, 2, tzinfo=timezone.utc), samples=[1])
    _write(tmp_path / "results", "org/B", SCORES["org/B"], datetime(2026, 11, 3, tzinfo=timezone.utc))  # no samples
    s = ResultStore(tmp_path, include_reported=False, persistent=False)
    try:
        assert V.sample_runs(s)["run_id"].tolist() == ["D", "A"]  # newest first, B has no per-sample rows
        assert V.sample_runs(s, ("org/A",))["run_id"].tolist() == ["A"]  # the Explorer's model box narrows it
        assert V.sample_models(s) == ["org/A", "org/D"]
    finally:
        s.close()


def test_sample_options_name_the_languages_of_a_run(store):
    opts = V.sample_options(store, "A")
    assert opts.tasks == ["t1", "t2"]
    assert opts.languages == [("English (eng_Latn)", "eng_Latn"), ("French (fra_Latn)", "fra_Latn"),
                              ("German (deu_Latn)", "deu_Latn")]  # labelled by name, valued by code
    assert opts.categories == ["idiom"]
    assert V.sample_options(store, "") == V.SampleOptions([], [], [])


def test_page_bounds_clamp_to_the_last_page():
    assert V.page_bounds(45, 1) == (1, 3)
    assert V.page_bounds(45, 99) == (3, 3)  # past the end: the last page
    assert V.page_bounds(45, 0) == (1, 3) and V.page_bounds(45, -4) == (1, 3)
    assert V.page_bounds(0, 5) == (1, 1)  # nothing matches: one empty page
    assert V.page_bounds(40, 2) == (2, 2) and V.page_bounds(41, 3) == (3, 3)
    assert V.page_bounds(45, None) == (1, 3) and V.page_bounds(45, float("nan")) == (1, 3)


def test_sample_page_reads_answers_first_and_lists_as_text():
    import pandas as pd

    from explorer.tab_samples import SHOWN_COLUMNS, readable_rows, run_choices

    rows = pd.DataFrame([{"item_id": "i1", "language": "swh_Latn", "category": "*", "turn": 0, "prompt": "long " * 50,
                          "choices": np.array(["yes", "no"], dtype=object), "choice_loglik": np.array([-1.234, -5.0]),
                          "generation": None, "gold": "yes", "prediction": "no", "score": 0.0, "metric": "acc",
                          "truncated": False, "details": "{}"}])
    shown = readable_rows(rows)
    cols = list(shown.columns)
    assert cols == SHOWN_COLUMNS
    assert cols.index("gold") + 1 == cols.index("prediction") and cols.index("prediction") + 1 == cols.index("score")
    assert cols.index("score") < cols.index("prompt")
    assert shown["choices"].iloc[0] == "A: yes · B: no"  # not numpy's "['yes' 'no']"
    assert shown["choice_loglik"].iloc[0] == "-1.23 · -5.00" and shown["details"].iloc[0] == ""
    runs = pd.DataFrame([{"run_id": "r1", "model": "org/m", "revision": "abc", "precision": "bf16",
                          "finished_at": datetime(2026, 11, 2, 10, 30, tzinfo=timezone.utc)}])
    assert run_choices(runs) == [("org/m@abc · 2026-11-02 10:30 · r1", "r1")]
    runs["finished_at"] = ["2026-11-02T10:30:00+00:00"]  # as run.json writes it
    assert run_choices(runs) == [("org/m@abc · 2026-11-02 10:30 · r1", "r1")]
    assert run_choices(runs.assign(finished_at=[None], revision=[None])) == [("org/m · r1", "r1")]


def test_the_url_keeps_the_tab_the_columns_and_the_two_compared_models():
    from urllib.parse import urlencode

    from explorer.leaderboard_html import DEFAULT_SHOWN
    from explorer.url_state import PageState, page_from_query, page_to_query

    state = PageState(tab="explorer", columns=("average", "coverage"), model_a="org/A", model_b="org/B")
    f = V.Filters(models=("org/A", "org/C"))
    back, extra = from_query(to_query(f, page_to_query(state, DEFAULT_SHOWN)))
    assert back == f and page_from_query(extra) == state
    hidden = PageState(columns=())  # every optional column unticked is kept too
    assert page_from_query(from_query(urlencode(page_to_query(hidden, DEFAULT_SHOWN)))[1]) == hidden
    assert page_from_query({}) == PageState() and page_to_query(PageState(columns=("a",)), ("a",))["cols"] == ""


def test_every_explorer_panel_shows_its_views(store):
    from explorer.tab_explore import PANELS, Download, Selection, show

    s = Selection(V.Filters(models=("org/A", "org/D")), model_a="org/A", model_b="org/D")
    for panel in PANELS:
        for item in panel.items:
            if isinstance(item, Download):
                assert isinstance(item.view(store, s), type(V.parity(store, V.Filters()))), (panel.id, item.name)
            else:
                assert show(store, item, s) is not None, (panel.id, item.label)
    assert "mother_tongue_effect" in V.parity(store, V.Filters()).columns  # declared by the MultiLoKo card


def test_a_restart_with_the_same_release_keeps_its_summaries_and_a_new_release_rebuilds(tmp_path, monkeypatch):
    """Rebuilding the summaries over every loaded score takes seconds at scale: a restart does it only
    when the shipped figures (or the language table) changed, or runs did."""
    import dataclasses

    import pandas as pd

    import explorer.store as store_module

    _write(tmp_path / "results", "org/E", {"t1": {"eng_Latn": 0.5}}, datetime(2026, 11, 2, tzinfo=timezone.utc))
    first = ResultStore(tmp_path)
    board = V.leaderboard(first)
    first.close()

    rebuilds = []
    original = ResultStore._rebuild_summaries
    monkeypatch.setattr(ResultStore, "_rebuild_summaries", lambda self: (rebuilds.append(1), original(self))[1])
    again = ResultStore(tmp_path)
    try:
        assert rebuilds == []
        pd.testing.assert_frame_equal(V.leaderboard(again), board)
    finally:
        again.close()

    shipped = store_module.reported_scores()
    changed = [dataclasses.replace(r, value=0.123) if i == 0 else r for i, r in enumerate(shipped)]
    monkeypatch.setattr(store_module, "reported_scores", lambda: changed)
    release = ResultStore(tmp_path)
    try:
        assert rebuilds  # a new release's figures: summaries rebuilt
        got = release.query("SELECT value FROM scores WHERE source = 'reported' AND model = ? AND task = ? "
                             "AND language = ? AND category = ? AND metric = ?",
                             [changed[0].model, changed[0].task, changed[0].language, changed[0].category,
                              changed[0].metric])
        assert got["value"].tolist() == [0.123]
    finally:
        release.close()
