"""The load test script, at a reduced size: nothing lost, nothing duplicated."""

from __future__ import annotations

from submissions.load_test import run


def test_concurrent_submissions_and_reads_lose_and_duplicate_nothing():
    report = run(submissions=12, duplicates=6, reads=60, concurrency=12, timeout=120)
    s, r = report["submissions"], report["reads"]
    assert report["ok"], report
    assert s["queued"] == 12 and s["rejected"] == 6 and s["queue_records"] == 12
    assert r["answered"] == 60 and r["errors"] == 0
