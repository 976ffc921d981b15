"""The offline command line: list tasks, run a model, write results and per-sample rows."""

from __future__ import annotations

import json
import subprocess
import sys

import pyarrow.parquet as pq

import pytest
from helpers import REPO

pytestmark = pytest.mark.slow  # starts processes


def run_cli(*args, check=True):
    return subprocess.run([sys.executable, "-m", "evaluator", *args], cwd=REPO, capture_output=True, text=True,
                          check=check, timeout=600)


def test_tasks_lists_languages_and_item_counts():
    out = run_cli("tasks", "--json").stdout
    rows = {r["id"]: r for r in json.loads(out)}
    assert rows["polyglot_mc"]["items"] == 12 * 24
    assert "eng_Latn" in rows["polyglot_mc"]["languages"]


def test_run_writes_results_and_samples_then_reuses_them(tmp_path, tiny_model_dir):
    out = tmp_path / "run"
    res = run_cli("run", "--model", str(tiny_model_dir), "--tasks", "polyglot_mc,polyglot_qa", "--limit", "5",
                  "--output", str(out), "--device", "cpu", "--offline")
    summary = json.loads(res.stdout.strip().splitlines()[-1])
    assert summary["output"] == str(out)
    info = json.loads((out / "run.json").read_text())
    assert info["status"] == "finished" and info["tasks"]["polyglot_mc"]["n_items"] == 12 * 5
    assert info["numerics_guard"]["path"] == "packed" and info["numerics_guard"]["max_abs_diff"] < 1e-3
    samples = pq.read_table(out / "samples-polyglot_mc.parquet").to_pylist()
    assert len(samples) == 60 and all(len(s["choice_loglik"]) == 4 for s in samples)
    scores = pq.read_table(out / "scores.parquet").to_pylist()
    assert {s["task"] for s in scores} == {"polyglot_mc", "polyglot_qa"}
    assert all(0 <= s["value"] <= 1 for s in scores)
    # every score carries its provenance
    s = scores[0]
    assert s["revision"] and s["task_version"] and s["n_items"] and s["engine_version"] and s["created_at"]
    assert "evaluating" in res.stderr  # progress bar

    # a second run of the unchanged tasks reuses the rows already written
    again = run_cli("run", "--model", str(tiny_model_dir), "--tasks", "polyglot_mc,polyglot_qa", "--limit", "5",
                    "--output", str(out), "--device", "cpu", "--offline")
    assert "reusing 60 rows" in again.stderr

    # publish it to a results store: once; a second publish is refused with the reason
    store = (tmp_path / "results").as_uri()
    info = json.loads((out / "run.json").read_text())
    published = json.loads(run_cli("publish", str(out), "--store", store).stdout)
    assert published["run_id"] == info["run_id"] and published["folder"].startswith(info["run_id"] + "/")
    copied = {p.name for p in (tmp_path / "results" / published["folder"]).iterdir()}
    assert copied == {"run.json", "scores.parquet", "samples-polyglot_mc.parquet", "samples-polyglot_qa.parquet"}
    refused = run_cli("publish", str(out), "--store", store, check=False)
    assert refused.returncode == 2 and "already published" in refused.stderr


def test_bad_model_path_is_a_clear_error(tmp_path):
    res = run_cli("run", "--model", str(tmp_path / "nope"), "--tasks", "polyglot_mc", "--output", str(tmp_path / "o"),
                  "--offline", check=False)
    assert res.returncode == 2 and "error:" in res.stderr
