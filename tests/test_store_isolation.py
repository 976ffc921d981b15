"""One broken file never hides the rest: damaged result files injected under a running app.

Each test writes real run folders (the evaluator's format), damages one file, and checks through the
app's API what a user sees: every other run, the reason for the broken one, and its return once the
file is repaired, at the next scheduler tick and without a restart.
"""

from __future__ import annotations

import time

import pandas as pd
import pytest

from helpers import wait_until
from evaluator.languages import language_table
from explorer.synthetic import generate

pytestmark = pytest.mark.slow  # starts processes

N_MODELS = 15
TICK = "0.5"


@pytest.fixture
def data_dir(tmp_path):
    data = tmp_path / "store"
    generate(data, models=N_MODELS, languages=4, tasks=2, sample_models=2, items_per_language=10, sample_items=3)
    return data


def _entries(client, **kw) -> list[dict]:
    return client.predict(kw.get("task", ""), kw.get("language", ""), "evaluated", api_name="/leaderboard_table")


def _wait_entries(client, n: int, timeout: float = 60.0) -> list[dict]:
    return wait_until(lambda: (rows := _entries(client)) and len(rows) == n and rows, timeout=timeout, interval=0.25,
                      what=f"{n} entries on the leaderboard")


def _problems(client) -> list[dict]:
    return client.predict(api_name="/store_problems")


def _truncate(path) -> bytes:
    good = path.read_bytes()
    path.write_bytes(good[: len(good) // 2])
    return good


def test_truncated_scores_file_hides_only_its_run_and_its_repair_brings_it_back(data_dir, start_app):
    victim = data_dir / "results" / "synthetic-0007" / "scores.parquet"
    good = _truncate(victim)
    # A fresh host: no explorer cache, the broken run is there from the first load.
    app = start_app(data_dir, "--no-worker", "--tick", TICK)
    client = app.client()
    rows = _wait_entries(client, N_MODELS - 1)
    assert "synthetic-org/model-0007" not in {r["model"] for r in rows}
    (problem,) = _problems(client)
    assert problem["run"] == "synthetic-0007" and problem["file"] == "scores.parquet"
    assert "truncated" in problem["reason"] and problem["effect"] == "not shown"
    # Filters keep working (they showed "Error" while every refresh failed).
    language = sorted(language_table())[0]
    assert len(_entries(client, language=language)) == N_MODELS - 1
    assert len(client.predict("", "evaluated", api_name="/language_difficulty")) == 4
    time.sleep(3)  # several ticks: the reason is logged once, and no tick fails
    log = app.output()
    assert log.count("synthetic-0007 not loaded") == 1, log
    assert "Traceback" not in log and "tick failed" not in log

    victim.write_bytes(good)
    start = time.monotonic()
    rows = _wait_entries(client, N_MODELS, timeout=15)
    assert time.monotonic() - start < 5  # at the next ticks, without a restart
    assert _problems(client) == []


def test_garbled_run_json_is_listed_with_its_reason_and_returns_after_repair(data_dir, start_app):
    app = start_app(data_dir, "--no-worker", "--tick", TICK)
    client = app.client()
    _wait_entries(client, N_MODELS)
    run_json = data_dir / "results" / "synthetic-0003" / "run.json"
    good = run_json.read_bytes()
    run_json.write_bytes(b'{"run_id": "synthetic-0003", "model": ')  # cut off mid-write

    rows = _wait_entries(client, N_MODELS - 1, timeout=15)
    assert "synthetic-org/model-0003" not in {r["model"] for r in rows}
    (problem,) = wait_until(lambda: _problems(client), timeout=10, interval=0.25, what="the problem listed")
    assert problem["run"] == "synthetic-0003" and problem["file"] == "run.json"
    assert "not valid JSON" in problem["reason"]

    run_json.write_bytes(good)
    _wait_entries(client, N_MODELS, timeout=15)
    assert _problems(client) == []
    assert "Traceback" not in app.output()


def test_truncated_samples_file_breaks_only_that_task_of_samples_compare_and_download(data_dir, start_app):
    broken = data_dir / "results" / "synthetic-0000" / "samples-synthetic_00.parquet"
    good = _truncate(broken)
    app = start_app(data_dir, "--no-worker", "--tick", TICK)
    client = app.client()
    _wait_entries(client, N_MODELS)  # the scores of that run are unaffected
    a, b = "synthetic-org/model-0000", "synthetic-org/model-0001"

    with pytest.raises(Exception) as err:
        client.predict("synthetic-0000", "synthetic_00", "", "", False, 1, 20, api_name="/samples")
    message = str(err.value)
    assert "synthetic_00" in message and "cannot be read" in message and "scores are unaffected" in message
    assert "Invalid Input Error" not in message and str(data_dir) not in message
    other = client.predict("synthetic-0000", "synthetic_01", "", "", False, 1, 20, api_name="/samples")
    assert other["total"] == 4 * 3 and len(other["rows"]) == 12

    methods = {r["task"]: r["method"] for r in client.predict(a, b, "", "", api_name="/compare")}
    assert methods == {"synthetic_00": "unpaired z (per-sample rows unreadable)", "synthetic_01": "McNemar (exact)"}

    downloaded = pd.read_csv(client.predict(a, "csv", api_name="/download_samples"))
    assert set(downloaded["task"]) == {"synthetic_01"} and len(downloaded) == 12

    (problem,) = _problems(client)
    assert problem["file"] == "samples-synthetic_00.parquet" and "per-sample rows of synthetic_00" in problem["effect"]

    broken.write_bytes(good)
    wait_until(lambda: _problems(client) == [], timeout=15, interval=0.25, what="the repaired file loaded")
    assert client.predict("synthetic-0000", "synthetic_00", "", "", False, 1, 20, api_name="/samples")["total"] == 12
    methods = {r["task"]: r["method"] for r in client.predict(a, b, "", "", api_name="/compare")}
    assert set(methods.values()) == {"McNemar (exact)"}
    assert len(pd.read_csv(client.predict(a, "csv", api_name="/download_samples"))) == 24
