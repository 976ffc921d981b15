"""Import of real lm-evaluation-harness output: lm-eval itself evaluates the tiny model on local XCOPA files.

Opt-in: needs lm-eval (``pip install lm-eval==0.4.13 accelerate``) and the XCOPA files in
../shared/benchmarks (or $POLYGLOT_TEST_BENCHMARKS); skipped otherwise. lm-eval's own command line
writes results_*.json and samples_*.jsonl; the import must give lm-eval's scores, per-sample rows
keyed like the project's XCOPA items, and the same choices as the project's own evaluation.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys

import pyarrow.parquet as pq
import pytest

from helpers import BENCHMARKS

XCOPA = BENCHMARKS / "xcopa"
pytestmark = [pytest.mark.slow_install, pytest.mark.slow]
lm_eval = pytest.importorskip("lm_eval")  # at collection: no tiny model is built just to skip
CODES = {"et": "est_Latn", "sw": "swh_Latn"}
LIMIT = 20


@pytest.mark.skipif(not XCOPA.is_dir(), reason="no XCOPA files (../shared/benchmarks or $POLYGLOT_TEST_BENCHMARKS)")
def test_real_lm_eval_output_imports(tmp_path, tiny_lm, tiny_model_dir):
    from evaluator.run_store import RunStore
    from evaluator.runner import RunRequest, run_evaluation
    from explorer.importer import import_paths
    from explorer.store import ResultStore

    tasks = tmp_path / "tasks"
    tasks.mkdir()
    shutil.copy(os.path.join(os.path.dirname(lm_eval.__file__), "tasks", "xcopa", "utils.py"), tasks / "utils.py")
    for code in CODES:  # lm-eval's own XCOPA task names and prompts, reading the local files
        (tasks / f"xcopa_{code}.yaml").write_text(
            f"task: xcopa_{code}\ndataset_path: json\ndataset_kwargs:\n  data_files:\n"
            f"    test: {XCOPA / 'data' / code / f'test.{code}.jsonl'}\n"
            "output_type: multiple_choice\ntest_split: test\n"
            f"doc_to_text: !function utils.doc_to_text_{code}\ndoc_to_target: label\n"
            "doc_to_choice: !function utils.doc_to_choice\nmetric_list:\n  - metric: acc\n  - metric: acc_norm\n"
            "metadata:\n  version: 1.0\n", encoding="utf-8")
    out = tmp_path / "lm_eval_out"
    cmd = [sys.executable, "-m", "lm_eval", "--model", "hf", "--model_args",
           f"pretrained={tiny_model_dir},dtype=float32,add_bos_token=True",
           "--tasks", ",".join(f"xcopa_{c}" for c in CODES),
           "--include_path", str(tasks), "--output_path", str(out), "--log_samples", "--limit", str(LIMIT),
           "--device", "cpu", "--batch_size", "8"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    results_file = next(out.rglob("results_*.json"))
    theirs = json.loads(results_file.read_text(encoding="utf-8"))

    data = tmp_path / "data"
    store = RunStore((data / "results").as_uri())
    outcome = import_paths("lm-eval", [out], store)[0]
    assert outcome.status == "imported" and outcome.tasks == ("xcopa",)
    assert import_paths("lm-eval", [out], store)[0].status == "already imported"

    rs = ResultStore(data, persistent=False)
    try:
        rows = rs.query("SELECT language, metric, value, n_items, source FROM scores WHERE run_id = ?",
                        [outcome.run_id])
        got = {(r.language, r.metric): r for r in rows.itertuples()}
        for code, lang in CODES.items():
            for metric in ("acc", "acc_norm"):
                assert got[(lang, metric)].value == pytest.approx(theirs["results"][f"xcopa_{code}"][f"{metric},none"])
            assert got[(lang, "acc")].n_items == LIMIT
        assert set(rows["source"]) == {"imported"}
        uri, problem = rs.sample_file(outcome.run_id, "xcopa")
        assert problem is None
        imported = {(r["language"], r["item_id"]): r for r in pq.read_table(uri).to_pylist()}
        assert len(imported) == LIMIT * len(CODES)
        info = json.loads(rs.query("SELECT info FROM runs WHERE run_id = ?", [outcome.run_id])["info"].iloc[0])
        assert info["imported"]["harness_version"] == importlib.metadata.version("lm_eval")
        assert info["imported"]["sample_files"] and "--limit" in info["imported"]["command"]
    finally:
        rs.close()

    # The same items evaluated by the project: item ids line up, and the choices agree.
    ours_dir = tmp_path / "ours"
    run_evaluation(RunRequest(model=str(tiny_model_dir), tasks=["xcopa"], output=ours_dir, limit=LIMIT,
                              languages=list(CODES.values()), precision="float32", device="cpu",
                              data_roots=[BENCHMARKS], allow_hub=False), lm=tiny_lm)
    ours = {(r["language"], r["item_id"]): r for r in pq.read_table(ours_dir / "samples-xcopa.parquet").to_pylist()}
    assert set(ours) == set(imported)
    def choice(r):
        return r["choices"].index(r["prediction"])

    same = sum(choice(ours[k]) == choice(imported[k]) for k in ours)
    print(f"imported lm-eval XCOPA rows: {same}/{len(ours)} choices identical to the project's own evaluation")
    assert same / len(ours) >= 0.95
