"""The leaderboard table compares like with like: ranks and averages only over rows covering the
whole benchmark set, sources ranked apart unless merged, reference rows never ranked."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from leaderboard_fixture import FULL_MODEL, PARTIAL_MODEL, SKIP_REASON, STARTER, write_starter_runs

from explorer import leaderboard_html as H
from explorer import leaderboard_table as LT
from explorer.store import ResultStore
from explorer.url_state import from_query, table_spec_from_query, table_spec_to_query
from explorer.views import Filters

SUITE = LT.BenchmarkSet("suite:starter", "Starter suite", tuple(STARTER))


def _rows(model, source, scores: dict, se=None, n_languages=3):
    return [{"model": model, "revision": "", "precision": "", "source": source, "task": t, "kind": "multiple_choice",
             "score": v, "se": se, "n_languages": n_languages, "gap": 0.1, "n_items": 300, "date": None}
            for t, v in scores.items()]


@pytest.fixture
def per_task() -> pd.DataFrame:
    rows = []
    rows += _rows("one-task paper model", "reported", {"polyglot_mc": 0.95})  # high, but on one task
    rows += _rows("Human", "reported", {t: 0.97 for t in STARTER})
    rows += _rows("paper full", "reported", {t: 0.8 for t in STARTER})
    rows += _rows("org/full", "evaluated", {t: 0.5 + 0.02 * i for i, t in enumerate(STARTER)}, se=0.01)
    rows += _rows("org/partial", "evaluated", {"polyglot_mc": 0.99, "polyglot_qa": 0.99}, se=0.01)
    return pd.DataFrame(rows)


def _by_model(table: pd.DataFrame) -> pd.DataFrame:
    return table.set_index("model")


def test_only_rows_covering_the_whole_set_get_a_rank_and_an_average(per_task):
    t = _by_model(LT.compute_table(per_task, SUITE))
    assert t.loc["org/full", "status"] == "ranked" and t.loc["org/full", "rank"] == 1
    assert t.loc["org/full", "average"] == pytest.approx(np.mean([0.5, 0.52, 0.54, 0.56, 0.58]))
    for partial, covered in (("org/partial", 2), ("one-task paper model", 1)):
        assert t.loc[partial, "status"] == "partial" and pd.isna(t.loc[partial, "rank"])
        assert math.isnan(t.loc[partial, "average"]) and t.loc[partial, "coverage"] == f"{covered}/5 tasks"
    assert t.loc["org/partial", "polyglot_mc"] == pytest.approx(0.99)  # its scores are still shown


def test_reference_rows_are_shown_at_their_score_and_never_ranked(per_task):
    t = LT.compute_table(per_task, SUITE)
    human = t[t["model"] == "Human"].iloc[0]
    assert human["status"] == "reference" and pd.isna(human["rank"]) and human["average"] == pytest.approx(0.97)
    reported = t[t["source"] == "reported"]["model"].tolist()
    assert reported.index("Human") < reported.index("paper full")  # placed by its score, as a line


def test_sources_are_ranked_apart_unless_merged(per_task):
    apart = _by_model(LT.compute_table(per_task, SUITE))
    assert apart.loc["paper full", "rank"] == 1 and apart.loc["org/full", "rank"] == 1
    assert apart.loc["org/full", "group"] == "evaluated" and apart.loc["paper full", "group"] == "reported"
    merged = _by_model(LT.compute_table(per_task, SUITE, merge_sources=True))
    assert merged.loc["paper full", "rank"] == 1 and merged.loc["org/full", "rank"] == 2
    assert pd.isna(merged.loc["Human", "rank"]) and pd.isna(merged.loc["org/partial", "rank"])
    assert set(merged["group"]) == {"all sources"}


def test_under_a_language_filter_a_row_missing_a_selected_language_is_not_ranked(per_task):
    per_task.loc[(per_task["model"] == "org/full") & (per_task["task"] == "polyglot_qa"), "n_languages"] = 1
    t = _by_model(LT.compute_table(per_task, SUITE, targets={task: 3 for task in STARTER}))
    assert t.loc["org/full", "status"] == "partial" and t.loc["org/full", "coverage"] == "4/5 tasks"
    assert pd.isna(t.loc["org/full", "rank"])


def test_rows_without_results_are_listed_only_when_asked_and_never_ranked(per_task):
    extra = pd.DataFrame([{"model": "org/none", "revision": "", "precision": "", "source": "evaluated"}])
    entries = pd.concat([per_task[["model", "revision", "precision", "source"]], extra])
    t = _by_model(LT.compute_table(per_task, SUITE, entries=entries))
    assert t.loc["org/none", "status"] == "no results" and pd.isna(t.loc["org/none", "rank"])
    assert t[t["source"] == "evaluated"].index[-1] == "org/none"  # last of its source


def test_sort_by_a_task_and_unknown_sort_keys(per_task):
    t = LT.compute_table(per_task, SUITE, sort="polyglot_mc")
    assert t["model"].tolist()[:2] == ["org/partial", "Human"]
    assert LT.compute_table(per_task, SUITE, sort="model")["model"].iloc[0] == "Human"
    with pytest.raises(LT.TableError, match="cannot sort by"):
        LT.compute_table(per_task, SUITE, sort="nonsense")


def test_default_set_is_the_one_that_compares_the_most(per_task):
    sets = LT.benchmark_sets(set(per_task["task"]))
    assert LT.default_set(per_task, sets).id == "suite:starter"  # over one task that more rows cover
    only_reported = per_task[per_task["source"] == "reported"]
    assert LT.default_set(only_reported, sets).id == "suite:starter"


def test_skip_flag_names_the_tasks_of_the_set_and_why():
    flag = LT.skip_flag({"polyglot_translate": "offline", "belebele": "offline"}, STARTER)
    assert flag == "1 task skipped (Starter translation: offline)"
    assert LT.skip_flag({"belebele": "offline"}, STARTER) == ""


def test_headers_are_display_names_with_metric_chance_languages_and_source():
    h = LT.header_for("xcopa", 11, "Ponti et al.")
    assert h.name == "XCOPA" and "metric: acc" in h.tooltip and "chance: 50.0%" in h.tooltip
    assert "languages: 11" in h.tooltip and "source: Ponti et al." in h.tooltip
    assert LT.header_for("multiloko_test").name == "MultiLoKo (test)"
    assert LT.header_for("polyglot_mc").name == "Starter MC"


def test_rendered_table_rounds_marks_and_escapes(per_task):
    per_task.loc[per_task["model"] == "org/full", "model"] = "<img src=x onerror=alert(1)>"
    rows = LT.compute_table(per_task, SUITE, meta=pd.DataFrame([{"model": "Human", "hub_id": None,
                                                                   "params_b": 0.00014, "size": "<1B"}]))
    table = LT.LeaderboardTable(rows, SUITE, [LT.header_for(t) for t in STARTER])
    html = H.render(table)
    assert "<img src=x" not in html and "&lt;img src=x" in html
    assert ">Starter MC</th>" in html and ">polyglot_mc<" not in html and 'title="Polyglot starter' in html
    assert ">97.0<" in html and ">0.14M<" in html and 'class="reference"' in html and ">reference</span>" in html
    assert H.params_text(6.7) == "6.7B" and H.params_text(175) == "175B" and H.params_text(0.56) == "560M"


def test_an_empty_table_keeps_its_header_and_says_why():
    empty = LT.LeaderboardTable(pd.DataFrame(columns=LT.COLUMNS + LT.TRAILING), SUITE,
                                [LT.header_for(t) for t in STARTER], LT._why_empty(Filters(search="zzz"), SUITE))
    html = H.render(empty)
    assert "<th" in html and "Starter MC" in html and "search “zzz”" in html and "Widen" in html


def test_table_spec_round_trips_in_the_url():
    spec = LT.TableSpec(benchmark="task:xcopa", merge_sources=True, sort="average")
    from urllib.parse import urlencode
    _, extra = from_query(urlencode({k: v for k, v in table_spec_to_query(spec).items() if v}))
    assert table_spec_from_query(extra) == spec


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    root = tmp_path_factory.mktemp("lb")
    write_starter_runs(root)
    s = ResultStore(root, persistent=False)  # with the shipped reported figures
    yield s
    s.close()


def test_from_the_store_default_view_ranks_only_comparable_rows(store):
    t = LT.leaderboard_table(store)
    assert t.benchmark.id == "suite:starter"
    rows = _by_model(t.rows)
    assert rows.loc[FULL_MODEL, "rank"] == 1
    assert pd.isna(rows.loc[PARTIAL_MODEL, "rank"]) and rows.loc[PARTIAL_MODEL, "coverage"] == "2/5 tasks"
    assert "3 tasks skipped" in rows.loc[PARTIAL_MODEL, "flag"] and SKIP_REASON in rows.loc[PARTIAL_MODEL, "flag"]
    assert set(rows["source"]) == {"evaluated"}  # no published figure covers the starter suite
    assert [h.name for h in t.headers][:2] == ["Starter MC", "Starter QA"]


def test_from_the_store_xcopa_human_is_a_reference_line(store):
    rows = _by_model(LT.leaderboard_table(store, spec=LT.TableSpec(benchmark="task:xcopa")).rows)
    assert rows.loc["Human", "status"] == "reference" and pd.isna(rows.loc["Human", "rank"])
    assert rows.loc["RoBERTa Large (Translate test)", "status"] == "reference"
    assert rows.loc["XLM-R Large", "rank"] == 1


def test_from_the_store_include_empty_never_ranks_and_empty_results_explain(store):
    t = LT.leaderboard_table(store, spec=LT.TableSpec(include_empty=True))
    empty = t.rows[t.rows["status"] == "no results"]
    assert len(empty) > 10 and empty["rank"].isna().all()
    none = LT.leaderboard_table(store, Filters(search="no-such-model"))
    assert none.rows.empty and "no-such-model" in none.message and "Widen" in none.summary()
    with pytest.raises(LT.TableError, match="unknown benchmark set"):
        LT.leaderboard_table(store, spec=LT.TableSpec(benchmark="suite:nope"))


def test_queue_status_says_how_many_tasks_were_skipped_and_why():
    from explorer.tab_queue import status_text

    status, reason = status_text("FINISHED", {"tasks": 5, "skipped": {f"t{i}": "offline" for i in range(10)}})
    assert status == "FINISHED — 5 of 15 tasks; 10 skipped" and reason.startswith("skipped t0, t1") and "offline" in reason
    assert status_text("FINISHED", {"tasks": 5, "skipped": {}}) == ("FINISHED", "")


def test_messages_never_show_html_entities():
    from explorer.formatting import escape_markdown

    text = escape_markdown("Revision 'main' of <org/x> & co")
    assert "&#x27;" not in text and "'main'" in text and "&lt;org/x&gt;" in text and "&amp;" in text
