"""Independent cross-check: lm-eval's HF backend and ours score XCOPA alike, for two tokenizer families.

Opt-in: needs lm-eval (``pip install lm-eval==0.4.13``) and the real XCOPA files in
../shared/benchmarks; skipped otherwise. Both score the same local items with the same tiny model in
float32; lm-eval reads the files through a task config written here that reuses its own XCOPA
prompt functions. The model runs once with a byte-level BPE tokenizer and once with a
SentencePiece-style one (dummy ``▁`` prefix, byte fallback, as Llama-2 and Mistral), whose
continuation tokens only agree with lm-eval's when taken from the joint encoding.
"""

from __future__ import annotations

import os
import shutil

import pyarrow.parquet as pq
import pytest

from helpers import BENCHMARKS

XCOPA = BENCHMARKS / "xcopa"
pytestmark = [pytest.mark.slow_install, pytest.mark.slow]
LIMIT = None  # all 500 test items of each of the 11 languages
CODES = {"et": "est_Latn", "ht": "hat_Latn", "id": "ind_Latn", "it": "ita_Latn", "qu": "que_Latn", "sw": "swh_Latn",
         "ta": "tam_Taml", "th": "tha_Thai", "tr": "tur_Latn", "vi": "vie_Latn", "zh": "zho_Hans"}
LL_TOLERANCE = 1e-3


def _lm_eval_loglik(tmp_path, lm) -> dict[tuple[str, str], list[float]]:
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
    lls = {}
    for name in names:
        code = name.rsplit("_", 1)[1]
        for s in out["samples"][name]:
            lls[(CODES[code], str(s["doc"]["idx"]))] = [r[0][0] for r in s["resps"]]
    return lls


@pytest.fixture(scope="module", params=["byte_bpe", "sentencepiece_bpe"])
def family_model(request, tmp_path_factory):
    from evaluator.model import load_model, quiet_transformers
    from evaluator.tiny_model import build_tiny_model

    quiet_transformers()
    folder = build_tiny_model(tmp_path_factory.mktemp("models") / request.param, tokenizer_family=request.param)
    return request.param, folder, load_model(str(folder), precision="float32", device="cpu")


@pytest.mark.skipif(not XCOPA.is_dir(), reason="no XCOPA files (../shared/benchmarks or $POLYGLOT_TEST_BENCHMARKS)")
def test_same_choices_and_loglikelihoods_as_lm_eval_on_xcopa(tmp_path, family_model):
    pytest.importorskip("lm_eval")
    from evaluator.runner import RunRequest, run_evaluation

    family, folder, lm = family_model
    theirs = _lm_eval_loglik(tmp_path, lm)
    out = tmp_path / "ours"
    info = run_evaluation(RunRequest(model=str(folder), tasks=["xcopa"], output=out, limit=LIMIT, precision="float32",
                                     device="cpu", data_roots=[BENCHMARKS], allow_hub=False), lm=lm)
    ours = {(r["language"], r["item_id"]): r for r in pq.read_table(out / "samples-xcopa.parquet").to_pylist()}
    assert set(ours) == set(theirs) and len(ours) == 11 * 500

    def argmax(xs):
        return max(range(len(xs)), key=xs.__getitem__)

    same = sum(int(argmax(theirs[k]) == argmax(ours[k]["choice_loglik"])) for k in ours)
    diffs = [abs(a - b) for k in ours for a, b in zip(theirs[k], ours[k]["choice_loglik"])]
    close_items = sum(int(all(abs(a - b) <= LL_TOLERANCE for a, b in zip(theirs[k], ours[k]["choice_loglik"])))
                      for k in ours)
    separate = info["tasks"]["xcopa"]["n_separate_continuations"]
    print(f"lm-eval cross-check on XCOPA ({family}): {len(ours)} items, {100 * same / len(ours):.2f}% same "
          f"predictions, {100 * close_items / len(ours):.2f}% loglikelihoods within {LL_TOLERANCE}, "
          f"max difference {max(diffs):.3g} nats, {separate} items with a continuation encoded alone")
    assert same / len(ours) >= 0.995
    assert close_items / len(ours) >= 0.99
    our_acc = sum(r["score"] for r in ours.values()) / len(ours)
    gold = {k: r["choices"].index(r["gold"]) for k, r in ours.items()}
    their_acc = sum(int(argmax(theirs[k]) == gold[k]) for k in ours) / len(ours)
    assert abs(our_acc - their_acc) <= 0.002
