"""Models behind OpenAI-compatible endpoints.

Agreement: ``transformers serve`` (transformers' own OpenAI-compatible server, in its own environment
named by $POLYGLOT_SERVE_PYTHON; .ci/run makes it) serves the tiny model on 127.0.0.1, and the
endpoint's greedy generations must equal the local backend's for the same prompts. Faults and the
prompt-logprob path of multiple choice use a small real HTTP server in the test (tests/endpoint_stub.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from evaluator.endpoint import EndpointError, EndpointOptions
from evaluator.runner import RunRequest, run_evaluation
from helpers import REPO, free_port, require_or_skip, wait_for_http
from tests.endpoint_stub import TOKEN_LOGPROB, StubServer, StubState, answer_for

SECRET = "sk-test-never-written-0123456789"
LANGS = ["eng_Latn", "fra_Latn", "jpn_Jpan", "tha_Thai"]
GEN_TASKS = ["polyglot_qa", "polyglot_translate", "polyglot_instruct"]


def _run(tmp: Path, model: str, tasks, *, lm=None, cache=True, **endpoint) -> dict:
    opts = {"served_model": "stub", "backoff_s": 0.01, **endpoint}
    req = RunRequest(model=model, tasks=list(tasks), output=tmp, limit=3, languages=LANGS, device="cpu",
                     precision="float32", cache_path=tmp / "cache.sqlite" if cache else None,
                     endpoint=EndpointOptions(**opts), allow_hub=False)
    return run_evaluation(req, lm=lm)


def _rows(folder: Path, task: str) -> dict:
    return {(r["item_id"], r["turn"]): r for r in pq.read_table(folder / f"samples-{task}.parquet").to_pylist()}


# -- against transformers serve ------------------------------------------------------------
@pytest.fixture(scope="module")
def served_tiny(tiny_model_dir):
    python = os.environ.get("POLYGLOT_SERVE_PYTHON")
    if not python:
        require_or_skip("POLYGLOT_REQUIRE_SERVE", "POLYGLOT_SERVE_PYTHON (a venv with transformers[serving]) is not set")
    exe = Path(python).parent / "transformers"
    port = free_port()
    log = open(tiny_model_dir.parent / "serve.log", "w")  # noqa: SIM115 - open for the server's lifetime
    proc = subprocess.Popen([str(exe), "serve", str(tiny_model_dir), "--host", "127.0.0.1", "--port", str(port),
                             "--device", "cpu", "--dtype", "float32"], stdout=log, stderr=subprocess.STDOUT,
                            # One thread: a tiny model is ten times slower when the threads fight over two cores.
                            env={**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"})
    try:
        wait_for_http(f"http://127.0.0.1:{port}/health", timeout=120, proc=proc)
        yield f"openai-compatible:http://127.0.0.1:{port}/v1", str(tiny_model_dir)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


# ~50 s on two busy cores (a server start of ~13 s, 37 generations on each backend); needs the optional
# transformers serve environment.
@pytest.mark.slow
@pytest.mark.slow_install
@pytest.mark.timeout(600)
def test_served_generations_equal_local_greedy(served_tiny, tiny_lm, tmp_path, monkeypatch):
    """A real server, three generation tasks (one multi-turn), both backends."""
    import torch

    model, served_name = served_tiny
    monkeypatch.setenv("POLYGLOT_TEST_KEY", SECRET)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as for the server: a tiny model is many times slower when threads contend
    try:
        local = _run(tmp_path / "local", str(tiny_lm.folder), GEN_TASKS, lm=tiny_lm)
    finally:
        torch.set_num_threads(threads)
    remote = _run(tmp_path / "remote", model, [*GEN_TASKS, "polyglot_mc", "polyglot_alignment"],
                  served_model=served_name, api_key_env="POLYGLOT_TEST_KEY")
    total = same = 0
    for task in GEN_TASKS:
        a, b = _rows(tmp_path / "local", task), _rows(tmp_path / "remote", task)
        assert a.keys() == b.keys() and a
        for k in a:
            total += 1
            same += a[k]["prediction"] == b[k]["prediction"]
    print(f"endpoint vs local greedy: {same}/{total} identical ({100 * same / total:.1f}%)")
    assert same == total
    # transformers serve ignores echo/logprobs: multiple choice is skipped with the reason, never zero.
    assert "prompt logprobs" in remote["skipped_tasks"]["polyglot_mc"]
    assert "hidden states" in remote["skipped_tasks"]["polyglot_alignment"]
    assert not (tmp_path / "remote" / "samples-polyglot_mc.parquet").exists()
    usage = remote["endpoint"]["usage"]
    assert usage["requests"] >= total and usage["completion_tokens"] > 0 and usage["prompt_tokens"] > 0
    assert set(usage["by_route"]) == {"/completions", "/chat/completions"}
    assert remote["endpoint"]["api_key_env"] == "POLYGLOT_TEST_KEY"
    for f in (tmp_path / "remote").rglob("*"):
        if f.is_file():
            assert SECRET.encode() not in f.read_bytes(), f
    assert local["tasks"].keys() <= remote["tasks"].keys()


# -- against the stub server ---------------------------------------------------------------
@pytest.mark.slow
def test_multiple_choice_from_prompt_logprobs(tmp_path):
    with StubServer() as stub:
        info = _run(tmp_path, f"openai-compatible:{stub.base_url}", ["polyglot_mc"])
    rows = _rows(tmp_path, "polyglot_mc")
    assert rows and info["skipped_tasks"] == {}
    for r in rows.values():
        # One stub token per character of the continuation (its leading space included).
        assert r["choice_n_tokens"] == [len(" " + c) for c in r["choices"]]
        assert r["choice_loglik"] == pytest.approx([TOKEN_LOGPROB * n for n in r["choice_n_tokens"]])
    bodies = [q["body"] for q in stub.state.requests]
    assert all(b["echo"] and b["logprobs"] == 1 and b["model"] == "stub" for b in bodies)


@pytest.mark.slow
def test_no_prompt_logprobs_skips_with_reason(tmp_path):
    with StubServer(StubState(prompt_logprobs=False)) as stub:
        info = _run(tmp_path, f"openai-compatible:{stub.base_url}", ["polyglot_mc", "polyglot_qa"])
    assert "prompt logprobs" in info["skipped_tasks"]["polyglot_mc"]
    assert "polyglot_qa" in info["tasks"] and "polyglot_mc" not in info["tasks"]
    scores = pq.read_table(tmp_path / "scores.parquet").to_pylist()
    assert {s["task"] for s in scores} == {"polyglot_qa"}


@pytest.mark.slow
def test_generation_routes_and_decoding(tmp_path):
    with StubServer() as stub:
        _run(tmp_path, f"openai-compatible:{stub.base_url}", ["polyglot_qa", "polyglot_instruct"])
    reqs = stub.state.requests
    qa = [q for q in reqs if q["path"] == "/v1/completions"]
    chat = [q for q in reqs if q["path"] == "/v1/chat/completions"]
    assert qa and chat
    assert all(q["body"]["temperature"] == 0 and q["body"]["max_tokens"] == 24 and q["body"]["stop"] == ["\n"]
               for q in qa)
    # Multi-turn: the second turn carries the first turn's answer back as the assistant's message.
    second = [q for q in chat if len(q["body"]["messages"]) == 3]
    assert second and all(m["role"] == "assistant" for q in second for m in q["body"]["messages"][1:2])
    rows = _rows(tmp_path, "polyglot_qa")
    assert all(r["prediction"] == answer_for(r["prompt"]).split("\n")[0] for r in rows.values())
    assert all("Authorization" not in q["headers"] for q in reqs)


@pytest.mark.slow
def test_429_then_success_is_retried_and_counted(tmp_path):
    with StubServer(StubState(reject_first=3)) as stub:
        info = _run(tmp_path, f"openai-compatible:{stub.base_url}", ["polyglot_qa"], concurrency=1)
    usage = info["endpoint"]["usage"]
    assert info["status"] == "finished"
    assert usage["retries"] == 3 and usage["requests"] == len(stub.state.requests)
    assert usage["requests"] == info["tasks"]["polyglot_qa"]["n_items"] + 3


@pytest.mark.slow
def test_timeout_is_retried_then_fails_clearly(tmp_path):
    with StubServer(StubState(stall_first=1, stall_s=2.0)) as stub:
        info = _run(tmp_path / "a", f"openai-compatible:{stub.base_url}", ["polyglot_qa"], concurrency=1,
                    timeout_s=0.5)
        assert info["status"] == "finished" and info["endpoint"]["usage"]["retries"] == 1
    with StubServer(StubState(stall_first=10**6, stall_s=1.0)) as stub, \
            pytest.raises(EndpointError, match="no answer within 0.3 s"):
        _run(tmp_path / "b", f"openai-compatible:{stub.base_url}", ["polyglot_qa"], concurrency=1,
                 timeout_s=0.3, max_retries=1)


@pytest.mark.slow
def test_server_down_fails_clearly_and_the_run_resumes(tmp_path):
    port = free_port()
    model = f"openai-compatible:http://127.0.0.1:{port}/v1"
    with pytest.raises(EndpointError, match="cannot connect"):
        _run(tmp_path, model, ["polyglot_qa"], max_retries=1)
    # The server answers 8 requests (two chunks of 4), then goes down: the run stops with the reason.
    with StubServer(StubState(answers_before_down=8), port=port), pytest.raises(EndpointError, match="HTTP 503"):
        _run(tmp_path, model, ["polyglot_qa"], concurrency=1, max_retries=1)
    # Back up: only what was not answered before is asked again.
    with StubServer(port=port) as stub:
        info = _run(tmp_path, model, ["polyglot_qa"], concurrency=1)
    n = info["tasks"]["polyglot_qa"]["n_items"]
    assert info["status"] == "finished"
    assert len(stub.state.requests) == n - 8 and info["engine_stats"]["cache_hits"] == 8
    earlier = info["endpoint"]["earlier_attempts"]
    assert len(earlier) == 2 and earlier[0]["failures"] >= 1 and earlier[1]["requests"] >= 8 + 2


@pytest.mark.slow
def test_bad_endpoint_settings_are_refused(tmp_path, monkeypatch):
    with pytest.raises(EndpointError, match="served model"):
        _run(tmp_path, "openai-compatible:http://127.0.0.1:9/v1", ["polyglot_qa"], served_model="")
    with pytest.raises(EndpointError, match="base URL"):
        _run(tmp_path, "openai-compatible:ftp://x", ["polyglot_qa"])
    monkeypatch.delenv("POLYGLOT_UNSET_KEY", raising=False)
    with pytest.raises(EndpointError, match="POLYGLOT_UNSET_KEY"):
        _run(tmp_path, "openai-compatible:http://127.0.0.1:9/v1", ["polyglot_qa"], api_key_env="POLYGLOT_UNSET_KEY")


@pytest.mark.slow
def test_api_key_is_sent_but_never_written(tmp_path, monkeypatch):
    monkeypatch.setenv("POLYGLOT_TEST_KEY", SECRET)
    with StubServer() as stub:
        info = _run(tmp_path, f"openai-compatible:{stub.base_url}", ["polyglot_qa"], api_key_env="POLYGLOT_TEST_KEY")
    assert all(q["headers"].get("Authorization") == f"Bearer {SECRET}" for q in stub.state.requests)
    assert SECRET not in json.dumps(info)
    for f in tmp_path.rglob("*"):
        if f.is_file():
            assert SECRET.encode() not in f.read_bytes(), f


@pytest.mark.slow
def test_cli_runs_an_endpoint_model(tmp_path):
    with StubServer() as stub:
        out = subprocess.run(
            [sys.executable, "-m", "evaluator", "run", "--model", f"openai-compatible:{stub.base_url}",
             "--served-model", "stub", "--tasks", "polyglot_qa", "--limit", "1", "--languages", "eng_Latn",
             "--output", str(tmp_path / "run"), "--offline", "--quiet"],
            cwd=REPO, capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert info["model"] == "stub" and info["model_source"] == "endpoint"
    assert info["endpoint"]["usage"]["requests"] == 1


@pytest.mark.slow
def test_admins_queue_endpoint_models_and_a_worker_evaluates_them(tmp_path, monkeypatch):
    from evaluator.results import read_json, run_json_path
    from evaluator.worker import process_one
    from submissions.settings import Settings
    from submissions.submit import Submissions
    from workqueue import Queue

    monkeypatch.setenv("POLYGLOT_ADMINS", "boss")
    monkeypatch.setenv("POLYGLOT_TEST_KEY", SECRET)
    settings = Settings(data_dir=tmp_path, suite="smoke")
    queue = Queue(str(tmp_path / "queue.sqlite"))
    subs = Submissions(queue, settings)
    with StubServer() as stub:
        assert subs.submit(f"openai-compatible:{stub.base_url}", submitter="boss").status == "rejected"
        assert subs.submit_endpoint(stub.base_url, "stub", submitter="someone").status == "rejected"
        assert "served model" in subs.submit_endpoint(stub.base_url, " ", submitter="boss").message
        res = subs.submit_endpoint(stub.base_url, "stub", "POLYGLOT_TEST_KEY", submitter="Boss")
        assert res.status == "queued", res.message
        req = queue.get(res.request_id)
        assert (req.source, req.revision, req.api_key_env) == ("endpoint", "stub", "POLYGLOT_TEST_KEY")
        assert process_one(tmp_path, "w1", device="cpu", queue=queue, echo=False) == res.request_id
    done = queue.get(res.request_id)
    assert done.status == "FINISHED", done.error
    info = read_json(run_json_path(next(tmp_path.rglob("run.json")).parent))
    assert info["model"] == "stub" and set(info["tasks"]) == {"polyglot_mc", "polyglot_qa"}
    assert "hidden states" in info["skipped_tasks"]["polyglot_alignment"]
    assert stub.state.requests and all(q["headers"]["Authorization"] == f"Bearer {SECRET}" for q in stub.state.requests)
    queue.close()
    # The explorer lists it next to evaluated models, with where it is served and what was skipped.
    from explorer import views
    from explorer.store import ResultStore

    store = ResultStore(tmp_path, include_reported=False)
    store.refresh()
    prov = views.model_provenance(store, "stub")
    assert set(prov["served_by"]) == {f"stub at {stub.base_url}"} and (prov["requests"] > 0).all()
    skipped = prov[prov["skipped"] != ""]
    assert list(skipped["task"]) == ["polyglot_alignment"] and "hidden states" in skipped["skipped"].iloc[0]


@pytest.mark.slow
def test_refused_echo_skips_multiple_choice_and_nothing_left_fails(tmp_path):
    # The stub has no /v12 routes: every request is refused with 404.
    with StubServer() as stub, pytest.raises(EndpointError, match="no task of the request could be evaluated") as err:
        _run(tmp_path, f"openai-compatible:{stub.base_url}2", ["polyglot_mc"])
    assert "refuses prompt logprobs" in str(err.value) and "HTTP 404" in str(err.value)
