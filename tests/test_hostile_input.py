"""Hostile input: a corpus of 200+ cases plus property-based tests.

Every case is refused with a clear message; none is queued, writes outside the data folder,
reaches SQL as text, renders as live HTML, or loads code.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import REPO
from explorer import views
from explorer.formatting import model_cell, plain_text
from explorer.store import ResultStore
from hostile_corpus import API_ARGUMENTS, FORMULA_CELLS, LINKY_NAMES, MODEL_IDS, PRECISIONS, REVISIONS, SEARCHES
from workqueue import Queue
from submissions.settings import Settings
from submissions.submit import Submissions
from submissions.validate import REPO_ID, Rejected, check_model_id
from test_validate import FakeHub


def test_the_corpus_has_at_least_200_cases():
    assert len(MODEL_IDS) + len(REVISIONS) + len(PRECISIONS) + len(SEARCHES) >= 200
    assert len(API_ARGUMENTS) >= 30 and len(FORMULA_CELLS) >= 6 and len(LINKY_NAMES) >= 3
    assert len(set(MODEL_IDS)) == len(MODEL_IDS)


@pytest.fixture
def submissions(tmp_path):
    hub = FakeHub()
    data = tmp_path / "store"
    q = Queue(data / "queue.sqlite")
    subs = Submissions(q, Settings(data_dir=data, rate_per_client=-1), hub_client_factory=lambda: hub)
    return subs, q, hub, tmp_path


def _files_outside(root: Path, data: Path) -> set[str]:
    return {str(p) for p in root.rglob("*") if data not in p.parents and p != data}


@pytest.mark.parametrize("model_id", MODEL_IDS, ids=lambda s: repr(s)[:40])
def test_hostile_model_ids_are_refused_clearly(submissions, model_id):
    subs, q, hub, root = submissions
    before = _files_outside(root, root / "store")
    res = subs.submit(model_id, "main", "auto", client="198.51.100.7")
    assert res.status == "rejected", model_id
    assert res.message and len(res.message) < 600 and "Traceback" not in res.message
    assert q.list() == [] and hub.calls == []  # refused before any Hub call
    assert _files_outside(root, root / "store") == before


@pytest.mark.parametrize("revision", REVISIONS, ids=lambda s: repr(s)[:40])
def test_hostile_revisions_are_refused_before_the_hub(submissions, revision):
    subs, q, hub, _ = submissions
    res = subs.submit("org/model", revision, "auto")
    if revision == "":
        assert res.status == "queued"  # an empty revision means main
        return
    assert res.status == "rejected" and "revision" in res.message.lower()
    assert hub.calls == [] and q.list() == []


@pytest.mark.parametrize("precision", PRECISIONS, ids=lambda s: repr(s)[:40])
def test_precisions_outside_the_list_are_refused(submissions, precision):
    subs, q, hub, _ = submissions
    res = subs.submit("org/model", "main", precision)
    assert res.status == "rejected" and "precision" in res.message.lower()
    assert q.list() == []


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return ResultStore(tmp_path_factory.mktemp("store"))


@pytest.mark.parametrize("text", SEARCHES, ids=lambda s: repr(s)[:40])
def test_filter_and_search_strings_never_reach_sql_as_text(store, text):
    before = len(views.leaderboard(store))
    got = views.leaderboard(store, views.Filters(search=text, tasks=[text], languages=[text], sources=[text]))
    assert got.empty
    found = views.leaderboard(store, views.Filters(search=text))
    assert len(found) <= before
    assert len(views.leaderboard(store)) == before  # nothing was dropped or changed
    views.per_language(store, views.Filters(models=[text], tasks=[text]))
    views.samples(store, text, text, text, text, True, 1, 20)
    views.model_results(store, text)


def test_percent_and_underscore_in_search_are_literal(store):
    assert views.leaderboard(store, views.Filters(search="%")).empty
    assert not views.leaderboard(store, views.Filters(search="bloom")).empty


@pytest.mark.parametrize("name", MODEL_IDS, ids=lambda s: repr(s)[:40])
def test_names_never_render_as_html_or_links(name):
    cell = model_cell(name, None)
    assert "<" not in cell and ">" not in cell.replace("\\>", "")
    assert not re.search(r"(?<!\\)\]\(", cell)  # no Markdown link survives
    assert model_cell(name, "javascript:alert(1)") == plain_text(name)  # only Hub URLs become links
    assert model_cell(name, f"https://huggingface.co/{name}") in (plain_text(name), f"[{plain_text(name)}](https://huggingface.co/{name})")


@pytest.mark.parametrize("name", LINKY_NAMES + [m for m in MODEL_IDS if "." in m or ":" in m or "@" in m],
                         ids=lambda s: repr(s)[:40])
def test_names_that_look_like_links_leave_nothing_a_renderer_would_link(name):
    for url in (None, f"https://huggingface.co/{name}", "https://evil.example/"):
        cell = model_cell(name, url)
        label = cell[1:cell.index("](")] if cell.startswith("[") and "](https://huggingface.co/" in cell else cell
        assert not re.search(r"(?i)(https?|ftp|javascript|data):|www\.|\w@\w", label), label
    assert not model_cell(name, "https://evil.example/").startswith("[")


@pytest.mark.slow
def test_remote_code_is_never_enabled_and_weights_are_safetensors_only():
    hits = subprocess.run(["git", "grep", "-nE", r"trust_remote_code\s*=\s*True", "--", "*.py", ":!tests/"], cwd=REPO,
                          capture_output=True, text=True).stdout
    assert hits == ""
    loader = (REPO / "evaluator" / "model.py").read_text()
    assert "use_safetensors=True" in loader and "trust_remote_code=False" in loader


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=300))
def test_any_text_as_model_id_is_either_a_valid_repo_id_or_refused(submissions, text):
    subs, q, hub, _ = submissions
    try:
        check_model_id(text)
        valid = True
    except Rejected as exc:
        valid = False
        assert str(exc)
    if valid:
        assert REPO_ID.match(text.strip())
        assert all(ord(c) < 128 for c in text.strip())


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=200), st.text(max_size=50), st.text(max_size=50))
def test_submit_never_raises_on_any_input(submissions, model_id, revision, precision):
    subs, q, hub, _ = submissions
    res = subs.submit(model_id, revision, precision)
    assert res.status in ("queued", "rejected") and res.message


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(st.text(max_size=100))
def test_views_never_raise_on_any_filter_text(store, text):
    views.leaderboard(store, views.Filters(search=text, languages=[text]))
    views.parity(store, views.Filters(models=[text]))
