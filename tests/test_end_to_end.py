"""A user's story: submit a tiny model, watch it run, find it ranked, download its rows."""

from __future__ import annotations

import csv
import subprocess
import sys

import pytest
from helpers import REPO, wait_until

from workqueue import Queue

pytestmark = pytest.mark.slow  # starts processes

STARTER_TASKS = ("polyglot_mc", "polyglot_qa", "polyglot_translate", "polyglot_instruct", "polyglot_alignment")
# The shared-folder story checks the hand-over between processes, not the tasks: the smoke suite (no
# generation of long answers) keeps it to a fraction of the starter suite's time.
SMOKE_TASKS = ("polyglot_mc", "polyglot_qa", "polyglot_alignment")


def expected_rows(tasks=STARTER_TASKS) -> dict[tuple[str, str], int]:
    """Per (task, language): how many sample rows these tasks give (computed from their files)."""
    from evaluator.cards import get_card
    from evaluator.datasets import data_folder, load_items

    out: dict[tuple[str, str], int] = {}
    for task in tasks:
        card = get_card(task)
        for it in load_items(card, data_folder(card, [], allow_hub=False)[0]):
            if card.kind == "alignment" and it.language == card.options["pivot"]:
                continue
            key = (task, it.language)
            out[key] = out.get(key, 0) + (len(it.turns) if card.kind == "instruction" else 1)
    return out


def _finished(client, request_id):
    rows = {r["id"]: r for r in client.predict(api_name="/queue_status")}
    r = rows[request_id]
    if r["status"] == "FAILED":
        raise AssertionError(f"evaluation failed: {r['error']}")
    return r if r["status"] == "FINISHED" else None


def _check_results(client, model: str, tasks=STARTER_TASKS):
    expected = expected_rows(tasks)
    rows = client.predict("", "", "evaluated", api_name="/leaderboard_table")
    mine = [r for r in rows if r["model"] == model]
    assert len(mine) == 1, rows
    row = mine[0]
    assert row["n_languages"] == 12 and row["n_tasks"] == len(tasks)
    for task in tasks:
        assert 0.0 <= row[task] <= 1.0
    res = client.predict(model, api_name="/model_results")
    per_lang = {(r["task"], r["language"]): r for r in res["per_language"]}
    assert set(per_lang) == set(expected)
    for key, r in per_lang.items():
        assert r["n_items"] == expected[key], key
        assert 0.0 <= r["score"] <= 1.0
    cats = {r["category"] for r in res["per_category"]}
    assert {"idiom", "pun", "holiday", "concept"} <= cats
    if "polyglot_instruct" in tasks:
        assert "turn_2" in cats
    return row


def test_submit_evaluate_rank_and_download(tmp_path, tiny_model_dir, start_app):
    app = start_app(tmp_path / "store", "--allow-local-models", "--tick", "1", "--lease", "60")
    client = app.client()
    # The leaderboard is not empty before anything is evaluated: the reported figures are there.
    reported = client.predict("", "", "reported", api_name="/leaderboard_table")
    assert len(reported) >= 14 and all(r["source"] == "reported" for r in reported)

    res = client.predict(str(tiny_model_dir), "main", "auto", api_name="/submit")
    assert res["status"] == "queued", res
    seen = set()

    def poll():
        r = {x["id"]: x for x in client.predict(api_name="/queue_status")}[res["request_id"]]
        seen.add(r["status"])
        if r["status"] == "FAILED":
            raise AssertionError(r["error"])
        return r if r["status"] == "FINISHED" else None

    done = wait_until(poll, timeout=600, interval=0.5, what="evaluation finished")
    n_rows = sum(expected_rows().values())
    pivot_sentences = 40  # English sentences of the alignment task are embedded but give no rows
    assert done["done"] == done["total"] == n_rows + pivot_sentences
    assert seen & {"RUNNING", "FINISHED"}
    wait_until(lambda: any(r["model"] == str(tiny_model_dir)
                           for r in client.predict("", "", "evaluated", api_name="/leaderboard_table")),
               timeout=30, what="model on the leaderboard")
    _check_results(client, str(tiny_model_dir))

    path = client.predict(str(tiny_model_dir), "csv", api_name="/download_samples")
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == n_rows
    assert {r["task"] for r in rows} == set(STARTER_TASKS)
    assert all(0.0 <= float(r["score"]) <= 1.0 for r in rows)

    again = client.predict(str(tiny_model_dir), "main", "auto", api_name="/submit")
    assert again["status"] == "rejected" and res["request_id"] in again["message"]


def test_app_and_separate_worker_share_a_data_folder(tmp_path, tiny_model_dir, start_app):
    data = tmp_path / "store"
    app = start_app(data, "--allow-local-models", "--no-worker", "--tick", "1", "--suite", "smoke")
    worker = subprocess.Popen([sys.executable, "-m", "evaluator.worker", "--data-dir", str(data), "--poll", "0.5"],
                              cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        client = app.client()
        res = client.predict(str(tiny_model_dir), "main", "float32", api_name="/submit")
        assert res["status"] == "queued", res
        done = wait_until(lambda: _finished(client, res["request_id"]), timeout=600, interval=0.5, what="finished")
        assert "claimed_by" not in done  # who holds a request is for admins only
        claimed_by = Queue(data / "queue.sqlite").get(res["request_id"]).claimed_by
        assert claimed_by and claimed_by.split(":")[1] == str(worker.pid)  # claimed by the separate worker process
        wait_until(lambda: any(r["model"] == str(tiny_model_dir)
                               for r in client.predict("", "", "evaluated", api_name="/leaderboard_table")),
                   timeout=30, what="model on the leaderboard")
        _check_results(client, str(tiny_model_dir), SMOKE_TASKS)
    finally:
        worker.terminate()
        out, _ = worker.communicate(timeout=30)
    for text in (out, app.output()):
        assert "Conflicting lock" not in text and "database is locked" not in text


def test_failed_evaluation_shows_its_reason(tmp_path, tiny_model_dir, start_app):
    """A model that passes the file checks but cannot load fails with the loader's reason."""
    import shutil

    broken = tmp_path / "broken-model"
    shutil.copytree(tiny_model_dir, broken)
    (broken / "model.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ")  # empty tensor table
    app = start_app(tmp_path / "store", "--allow-local-models", "--tick", "1")
    client = app.client()
    res = client.predict(str(broken), "main", "auto", api_name="/submit")
    assert res["status"] == "queued", res

    def failed():
        r = {x["id"]: x for x in client.predict(api_name="/queue_status")}[res["request_id"]]
        return r if r["status"] == "FAILED" else None

    r = wait_until(failed, timeout=180, interval=0.5, what="failure recorded")
    assert r["error"] and r["error_kind"] == "model"
