"""MultiLoKo asked and scored as its reference asks and scores it.

The reference's ``eval.py`` and ``examples/prompts.py`` (with 7,500 example predictions) are read
from ``../shared/research/reference-code/multiloko`` (skipped without it).
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
import types

import pyarrow.parquet as pq
import pytest

from helpers import SHARED
from evaluator.cards import get_card
from evaluator.kinds.knowledge_qa import extract_answer, prompt_table, render_prompt
from evaluator.metrics.multiloko import exact_match, f1, normalize_answer

REFERENCE = SHARED / "research" / "reference-code" / "multiloko"


def _need_reference():
    if not (REFERENCE / "eval.py").is_file():
        pytest.skip(f"MultiLoKo reference code not found under {REFERENCE}")


@pytest.fixture(scope="module")
def ref_eval():
    _need_reference()
    if importlib.util.find_spec("editdistance") is None:  # only its edit-distance metric needs it
        sys.modules.setdefault("editdistance", types.ModuleType("editdistance"))
    spec = importlib.util.spec_from_file_location("multiloko_reference_eval", REFERENCE / "eval.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def ref_prompts():
    _need_reference()
    source = (REFERENCE / "prompts.py").read_text(encoding="utf-8")
    # The reference's Russian example list lacks its commas (a syntax error as published).
    source = re.sub(r'("output_type": "[^"]*"\})\n', r"\1,\n", source)
    namespace: dict = {}
    exec(compile(source, str(REFERENCE / "prompts.py"), "exec"), namespace)
    return namespace


def _predictions():
    with (REFERENCE / "example_predictions.jsonl").open(encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def test_normalised_answers_identical_on_all_example_predictions(ref_eval):
    rows = _predictions()
    assert len(rows) == 7500
    differ = [r["prediction"] for r in rows if normalize_answer(r["prediction"]) != ref_eval.postprocess_answers(r["prediction"])]
    assert not differ, differ[:5]


def test_exact_match_and_f1_identical_to_eval_py(ref_eval):
    rows = _predictions()
    compared = 0
    for a, b in zip(rows, rows[1:]):
        pred = a["prediction"]
        # Targets that hit and miss: the prediction itself decorated, the next prediction, a partial overlap.
        targets = [b["prediction"], f"The «{pred.upper()}»!", " ".join(pred.split()[:1]) or "x"]
        ref_targets = ref_eval.postprocess_answers(targets)
        ref_pred = ref_eval.postprocess_answers(pred)
        assert exact_match(pred, targets) == ref_eval.exact_match(ref_pred, ref_targets)
        assert f1(pred, targets) == pytest.approx(ref_eval.f1(ref_pred, ref_targets), abs=0)
        compared += 1
    assert compared == 7499


def test_prompts_identical_to_the_reference_in_every_language(ref_prompts):
    import jinja2

    assert set(prompt_table()) == set(ref_prompts["fewshot"]) and len(prompt_table()) == 31
    for language, template in ref_prompts["fewshot"].items():
        for question, output_type in [("Qui a écrit « Les Misérables » en {1862} ?", "un nom"), ("Q?", "")]:
            theirs = jinja2.Template(template).render(few_shot=ref_prompts["fewshot_examples"][language],
                                                      question=question, output_type=output_type)
            assert render_prompt(language, question, output_type) == theirs, language
        assert prompt_table()[language]["markers"] == list(ref_prompts["FA_TOKENS"][language])


def test_normalisation_rules():
    assert normalize_answer("The Eiffel Tower!") == "eiffel tower"
    assert normalize_answer("Le «Louvre»") == "le louvre"  # articles are English only
    assert normalize_answer("《红楼梦》。") == "红楼梦"
    assert normalize_answer("東京 都") == "東京 都"  # CJK spaces are kept, as in eval.py
    assert exact_match("an apple", ["Apple"]) == 1.0 and exact_match("", ["x"]) == 0.0
    assert f1("Jacques Chirac", ["Chirac"]) == pytest.approx(2 / 3)


def test_answer_is_the_first_line_cut_at_the_next_question():
    assert extract_answer(" 1989\n\nQ: next", "english") == "1989"
    assert extract_answer("\n 2010 Q : et ensuite", "french") == "2010"
    assert extract_answer("", "german") == ""


@pytest.mark.slow
def test_english_translations_are_asked_in_english_and_scored(tmp_path, tiny_lm, tiny_model_dir):
    from evaluator.runner import RunRequest, run_evaluation

    folder = tmp_path / "data" / "multiloko" / "french"
    folder.mkdir(parents=True)
    q = {"text": "p", "question": "Quand a été fondée la ville ?", "targets": ["1900"], "target": "long",
         "id": "001_x.txt", "output_type": "une date"}
    (folder / "dev.jsonl").write_text(json.dumps(q, ensure_ascii=False) + "\n", encoding="utf-8")
    (folder / "dev_translated_human_english.jsonl").write_text(
        json.dumps({**q, "question": "When was the city founded?", "output_type": "a date"}) + "\n", encoding="utf-8")
    out = tmp_path / "run"
    run_evaluation(RunRequest(model=str(tiny_model_dir), tasks=["multiloko"], output=out, precision="float32",
                              device="cpu", languages=["fra_Latn"], data_roots=[tmp_path / "data"], allow_hub=False),
                   lm=tiny_lm)
    rows = {r["category"]: r for r in pq.read_table(out / "samples-multiloko.parquet").to_pylist()}
    assert rows["local"]["prompt"] == render_prompt("french", q["question"], "une date")
    assert rows["english_translation"]["prompt"] == render_prompt("english", "When was the city founded?", "a date")
    assert rows["english_translation"]["prompt"].endswith("Q: When was the city founded? Produce only a date.\nA:")
    for r in rows.values():
        assert r["score"] == exact_match(r["prediction"], ["1900"])
    scores = pq.read_table(out / "scores.parquet").to_pylist()
    metrics = {(s["category"], s["metric"]) for s in scores}
    assert {("*", "exact_match"), ("*", "f1"), ("local", "exact_match"), ("english_translation", "exact_match")} <= metrics
    assert get_card("multiloko").kind == "knowledge_qa"
