"""The load test script, at a reduced size: nothing lost, nothing duplicated."""

from __future__ import annotations

import pytest

from submissions.load_test import run


def test_concurrent_submissions_and_reads_lose_and_duplicate_nothing():
    report = run(submissions=12, duplicates=6, reads=60, concurrency=12, timeout=120)
    s, r = report["submissions"], report["reads"]
    assert report["ok"], report
    assert s["queued"] == 12 and s["rejected"] == 6 and s["queue_records"] == 12
    assert r["answered"] == 60 and r["errors"] == 0


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_a_flood_of_concurrent_submissions_through_the_app_never_passes_the_rate_limit(database, request, monkeypatch):
    if database == "postgresql":
        monkeypatch.setenv("POLYGLOT_QUEUE", request.getfixturevalue("postgres_url"))
    else:
        monkeypatch.delenv("POLYGLOT_QUEUE", raising=False)
    report = run(submissions=40, duplicates=0, reads=0, concurrency=20, timeout=120, per_client=10)
    s = report["submissions"]
    assert s["errors"] == 0 and s["answered"] == 40, report["first_errors"]
    assert s["queue_records"] == 10 and s["queued"] == 10 and s["rejected"] == 30
    assert s["queued_over_limit"] == 0
