"""Who may submit: login on Spaces, rate limits per user and per address, opt-outs, admins."""

from __future__ import annotations

import pytest

from workqueue import Queue
from submissions.settings import Settings
from submissions.submit import Submissions
from test_validate import FakeHub


def make(tmp_path, **settings):
    q = Queue(tmp_path / "store" / "queue.sqlite")
    s = Settings(data_dir=tmp_path / "store", **settings)
    return Submissions(q, s, hub_client_factory=FakeHub), q


def test_per_user_limit_over_the_window(tmp_path):
    subs, q = make(tmp_path, rate_per_user=5, rate_per_client=-1)
    for i in range(5):
        assert subs.submit(f"org/m{i}", submitter="alice").status == "queued"
    res = subs.submit("org/m5", submitter="alice")
    assert res.status == "rejected" and "limit of 5 submissions per 7 days" in res.message
    assert subs.submit("org/m5", submitter="carol").status == "queued"  # other users are not affected
    assert len(q.list()) == 6


def test_per_address_limit_and_addresses_are_stored_hashed(tmp_path):
    subs, q = make(tmp_path, rate_per_client=2, rate_per_user=-1)
    assert subs.submit("org/a", client="203.0.113.9").status == "queued"
    assert subs.submit("org/b", client="203.0.113.9").status == "queued"
    assert "address" in subs.submit("org/c", client="203.0.113.9").message
    assert subs.submit("org/c", client="203.0.113.10").status == "queued"
    assert all("203.0.113" not in (r.client or "") for r in q.list())


def test_admins_are_exempt(tmp_path, monkeypatch):
    monkeypatch.setenv("POLYGLOT_ADMINS", "Bob, dave")
    subs, _ = make(tmp_path, rate_per_user=1, rate_per_client=-1)
    for i in range(3):
        assert subs.submit(f"org/m{i}", submitter="bob").status == "queued"


def test_opt_out_list_refuses_models_and_whole_organisations(tmp_path):
    subs, q = make(tmp_path)
    (tmp_path / "store").mkdir(parents=True, exist_ok=True)
    (tmp_path / "store" / "opt_out.txt").write_text("# authors' requests\nOrg/Private-Model\nnoeval-lab/*\n")
    assert "asked not to have it evaluated" in subs.submit("org/private-model").message
    assert "asked not to have it evaluated" in subs.submit("noeval-lab/anything").message
    assert subs.submit("org/other").status == "queued"


def test_login_is_required_where_configured(tmp_path):
    subs, q = make(tmp_path, require_login=True)
    res = subs.submit("org/model")
    assert res.status == "rejected" and "Log in" in res.message
    assert subs.submit("org/model", submitter="alice").status == "queued"


@pytest.mark.parametrize("space_id,expected", [("org/space", True), ("", False)])
def test_spaces_require_login_by_default(tmp_path, monkeypatch, space_id, expected):
    monkeypatch.setenv("SPACE_ID", space_id)
    assert Settings(data_dir=tmp_path).require_login is expected
