"""Independent cross-check: lm-eval's HF backend and ours choose the same XCOPA answers.

Opt-in: needs lm-eval (``pip install lm-eval==0.4.13``) and the real XCOPA files in
../shared/benchmarks; skipped otherwise. Both score the same local items with the same tiny model in
float32; lm-eval reads the files through a task config written here that reuses its own XCOPA
prompt functions.
"""

from __future__ import annotations

import os
import shutil

import pyarrow.parquet as pq
import pytest

from conftest import BENCHMARKS

XCOPA = BENCHMARKS / "xcopa"
pytestmark = pytest.mark.slow_install
LIMIT = None  # all 500 test items of each of the 11 languages
CODES = {"et": "est_Latn", "ht": "hat_Latn", "id": "ind_Latn", "it": "ita_Latn", "qu": "que_Latn", "sw": "swh_Latn",
         "ta": "tam_Taml", "th": "tha_Thai", "tr": "tur_Latn", "vi": "vie_Latn", "zh": "zho_Hans"}


def _lm_eval_predictions(tmp_path, lm) -> dict[tuple[str, str], int]:
    lm_eval = pytest.importorskip("lm_eval")
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager

    tasks_dir = tmp_path / "lm_eval_tasks"
    tasks_dir.mkdir()
    utils = os.path.join(os.path.dirname(lm_eval.__file__), "tasks", "xcopa", "utils.py")
    shutil.copy(utils, tasks_dir / "utils.py")
    names = []
    for code in CODES:
        name = f"xcopa_local_{code}"
        names.append(name)
        (tasks_dir / f"{name}.yaml").write_text(
            f"task: {name}\ndataset_path: json\ndataset_kwargs:\n  data_files:\n"
            f"    test: {XCOPA / 'data' / code / f'test.{code}.jsonl'}\n"
            "output_type: multiple_choice\ntest_split: test\n"
            f"doc_to_text: !function utils.doc_to_text_{code}\ndoc_to_target: label\n"
            "doc_to_choice: !function utils.doc_to_choice\nmetric_list:\n  - metric: acc\n",
            encoding="utf-8",
        )
    model = HFLM(pretrained=lm.model, tokenizer=lm.tokenizer, batch_size=16, device="cpu", add_bos_token=True)
    out = lm_eval.simple_evaluate(model=model, tasks=names, task_manager=TaskManager(include_path=str(tasks_dir)),
                                  limit=LIMIT, log_samples=True, bootstrap_iters=0)
    preds = {}
    for name in names:
        code = name.rsplit("_", 1)[1]
        for s in out["samples"][name]:
            lls = [r[0][0] for r in s["resps"]]
            preds[(CODES[code], str(s["doc"]["idx"]))] = max(range(len(lls)), key=lls.__getitem__)
    return preds


@pytest.mark.skipif(not XCOPA.is_dir(), reason="no XCOPA files (../shared/benchmarks or $POLYGLOT_TEST_BENCHMARKS)")
def test_same_choices_as_lm_eval_on_xcopa(tmp_path, tiny_lm, tiny_model_dir):
    pytest.importorskip("lm_eval")
    from evaluator.runner import RunRequest, run_evaluation

    theirs = _lm_eval_predictions(tmp_path, tiny_lm)
    out = tmp_path / "ours"
    run_evaluation(RunRequest(model=str(tiny_model_dir), tasks=["xcopa"], output=out, limit=LIMIT, precision="float32",
                              device="cpu", data_roots=[BENCHMARKS], allow_hub=False), lm=tiny_lm)
    ours = {(r["language"], r["item_id"]): r for r in pq.read_table(out / "samples-xcopa.parquet").to_pylist()}
    assert set(ours) == set(theirs) and len(ours) == 11 * 500
    same = sum(int(theirs[k] == ours[k]["choices"].index(ours[k]["prediction"])) for k in ours)
    agreement = same / len(ours)
    print(f"lm-eval cross-check on XCOPA: {same}/{len(ours)} identical choices ({100 * agreement:.2f}%)")
    assert agreement >= 0.995
    our_acc = sum(r["score"] for r in ours.values()) / len(ours)
    gold = {k: r["choices"].index(r["gold"]) for k, r in ours.items()}
    their_acc = sum(int(theirs[k] == gold[k]) for k in ours) / len(ours)
    assert abs(our_acc - their_acc) <= 0.002
