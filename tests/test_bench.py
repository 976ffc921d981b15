"""The benchmark script in smoke mode: it runs, prints its table, and both paths agree."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from helpers import REPO

pytestmark = pytest.mark.slow  # starts processes


def test_bench_smoke_prints_the_comparison(tmp_path):
    out = tmp_path / "bench.json"
    res = subprocess.run([sys.executable, "-m", "evaluator.bench", "--smoke", "--items", "belebele,mmlu,xcopa",
                          "--output", str(out)], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    assert "items/s" in res.stdout and "packed (context once)" in res.stdout
    rows = json.loads(out.read_text())["rows"]
    assert {r["items"] for r in rows} == {"belebele", "mmlu", "xcopa"}
    for r in rows:
        assert r["agreement"] == 1.0 and r["max_abs_diff"] < 1e-3  # identical predictions in float32
    packed = {r["items"]: r for r in rows if r["path"].startswith("packed")}
    plain = {r["items"]: r for r in rows if r["path"].startswith("plain")}
    # The packed path computes fewer tokens: the context once instead of once per choice.
    for name in packed:
        assert packed[name]["tokens_computed"] < plain[name]["tokens_computed"]
