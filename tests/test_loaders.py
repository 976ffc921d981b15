"""Loaders on files of each benchmark's published format.

Hub-only datasets are tested on small files written here in their documented layout; XCOPA, MGSM
and M-IFEval are also read from real samples in ../shared/benchmarks when that folder exists.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import httpx2
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from huggingface_hub import errors

from helpers import BENCHMARKS
from evaluator.cards import get_card
from evaluator.datasets import data_folder, load_items
from evaluator.hub import explain_hub_error
from evaluator.prompts import labels_for, render, template_for

BENCH = BENCHMARKS
needs_shared = pytest.mark.skipif(not BENCH.is_dir(), reason="../shared/benchmarks is not present")


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def test_belebele_hub_layout(tmp_path):
    row = {"link": "https://en.wikibooks.org/x", "question_number": 1, "flores_passage": " A passage. ",
           "question": "Which one?", "mc_answer1": "w", "mc_answer2": "x", "mc_answer3": "y", "mc_answer4": "z",
           "correct_answer_num": "2", "dialect": "eng_Latn", "ds": "2023-05-03"}
    write_jsonl(tmp_path / "data" / "eng_Latn.jsonl", [row, {**row, "question_number": 2, "correct_answer_num": "4"}])
    card = get_card("belebele")
    items = load_items(card, tmp_path, ["eng_Latn"])
    assert [i.gold for i in items] == [1, 3]  # 1-based answer numbers become 0-based indices
    assert items[0].choices == ["A", "B", "C", "D"]
    prompt = render(template_for(card, "template", "eng_Latn"), {**labels_for("eng_Latn"), **items[0].fields})
    assert prompt == "P: A passage.\nQ: Which one?\nA: w\nB: x\nC: y\nD: z\nAnswer:"


def test_global_mmlu_parquet_layout_with_cultural_labels(tmp_path):
    table = pa.table({
        "sample_id": ["astronomy/test/0", "world_religions/test/3"], "subject": ["astronomy", "world_religions"],
        "subject_category": ["STEM", "Humanities"], "question": ["Q1?", "Q2?"], "option_a": ["a", "a"],
        "option_b": ["b", "b"], "option_c": ["c", "c"], "option_d": ["d", "d"], "answer": ["C", "A"],
        "required_knowledge": ["", ""], "time_sensitive": ["No", "No"], "reference": ["", ""], "culture": ["", ""],
        "region": ["", ""], "country": ["", ""], "cultural_sensitivity_label": ["CA", "CS"], "is_annotated": [True, True],
    })
    (tmp_path / "sw").mkdir()
    pq.write_table(table, tmp_path / "sw" / "test-00000-of-00001.parquet")
    items = load_items(get_card("global_mmlu_lite"), tmp_path, ["swh_Latn"])
    assert [(i.gold, i.category) for i in items] == [(2, "CA"), (0, "CS")]
    assert items[0].meta["also_categories"] == ["subject:STEM"]


def test_xcopa_hub_parquet_layout_and_lm_eval_prompt(tmp_path):
    (tmp_path / "et").mkdir()
    pq.write_table(pa.table({"premise": ["Mees keeras kraani lahti."], "choice1": ["Tualett täitus veega."],
                             "choice2": ["Vesi voolas kraanist."], "question": ["effect"], "label": [1], "idx": [1],
                             "changed": [False]}), tmp_path / "et" / "test-00000-of-00001.parquet")
    card = get_card("xcopa")
    (item,) = load_items(card, tmp_path, ["est_Latn"])
    prompt = render(template_for(card, "template", "est_Latn"), item.fields)
    assert prompt == "Mees keeras kraani lahti seetõttu"
    assert item.choices == ["tualett täitus veega.", "vesi voolas kraanist."] and item.gold == 1


@needs_shared
def test_xcopa_real_files():
    card = get_card("xcopa")
    folder, origin = data_folder(card, [BENCH], allow_hub=False)
    items = load_items(card, folder)
    assert len(items) == 11 * 500 and origin.startswith("local:")
    assert {i.category for i in items} == {"cause", "effect"}
    assert all(i.gold in (0, 1) for i in items)


@needs_shared
def test_mgsm_real_files():
    card = get_card("mgsm")
    items = load_items(card, data_folder(card, [BENCH], allow_hub=False)[0])
    assert len(items) == 11 * 250
    assert all(i.gold[0].lstrip("-").replace(".", "").isdigit() for i in items)


@needs_shared
def test_m_ifeval_real_files():
    card = get_card("m_ifeval")
    items = load_items(card, data_folder(card, [BENCH], allow_hub=False)[0])
    counts = {l: sum(i.language == l for i in items) for l in card.languages}
    lines = {l: sum(1 for line in (BENCH / "m-ifeval" / "data" / f"{c}_input_data.jsonl").open(encoding="utf-8") if line.strip())
             for l, c in card.options["file_codes"].items()}
    assert counts == lines and counts["eng_Latn"] == 541
    for it in items:
        (turn,) = it.turns
        assert len(turn["instruction_id_list"]) == len(turn["kwargs"])
        assert all(v is not None for kw in turn["kwargs"] for v in kw.values())


def test_ifeval_nulls_are_dropped(tmp_path):
    write_jsonl(tmp_path / "ifeval_input_data.jsonl", [{
        "key": 1000, "prompt": "Write a haiku.", "instruction_id_list": ["punctuation:no_comma", "length_constraints:number_words"],
        "kwargs": [{"num_words": None, "relation": None}, {"num_words": 30, "relation": "less than"}]}])
    (item,) = load_items(get_card("ifeval"), tmp_path)
    assert item.turns[0]["kwargs"] == [{}, {"num_words": 30, "relation": "less than"}]


def test_multiloko_layout_and_english_translations(tmp_path):
    q = {"text": "para", "question": "Quand ?", "targets": ["2010", "en 2010"], "target": "long", "id": "001_x.txt",
         "output_type": "une date"}
    write_jsonl(tmp_path / "french" / "dev.jsonl", [q])
    write_jsonl(tmp_path / "french" / "dev_translated_human_english.jsonl", [{**q, "question": "When?"}])
    items = load_items(get_card("multiloko"), tmp_path, ["fra_Latn"])
    assert [(i.item_id, i.category) for i in items] == [("001_x.txt", "local"), ("001_x.txt:en", "english_translation")]
    assert items[1].meta["supplementary"] is True and items[0].gold == ["2010", "en 2010"]


def test_flores_translation_and_parallel_with_code_mapping(tmp_path):
    write_jsonl(tmp_path / "devtest" / "eng_Latn.jsonl", [{"id": i, "text": f"Sentence {i}.", "domain": "wikinews"} for i in (1, 2, 3)])
    write_jsonl(tmp_path / "devtest" / "cmn_Hans.jsonl", [{"id": i, "text": f"句子{i}。", "domain": "wikinews"} for i in (1, 2)])
    items = load_items(get_card("flores_translate"), tmp_path, ["zho_Hans"])
    assert len(items) == 4
    assert {i.meta["direction"] for i in items} == {"eng_Latn-zho_Hans", "zho_Hans-eng_Latn"}
    par = load_items(get_card("mexa_flores"), tmp_path, ["zho_Hans"])
    assert {i.language for i in par} == {"eng_Latn", "zho_Hans"}  # the English pivot always comes along


def test_multi_if_double_encoded_kwargs_and_cumulative_turns(tmp_path):
    path = tmp_path / "multiIF_20241018.csv"
    cols = ["turns", "responses", "turn_1_prompt", "turn_1_instruction_id_list", "turn_1_kwargs", "turn_2_prompt",
            "turn_2_instruction_id_list", "turn_2_kwargs", "turn_3_prompt", "turn_3_instruction_id_list",
            "turn_3_kwargs", "key", "turn_index", "language"]
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.DictWriter(f, cols)
        w.writeheader()
        w.writerow({"turns": "", "responses": "", "key": "1:1:fr", "turn_index": "0", "language": "French",
                    "turn_1_prompt": json.dumps({"role": "user", "content": "Écris un poème."}),
                    "turn_1_instruction_id_list": json.dumps(["punctuation:no_comma"]),
                    "turn_1_kwargs": json.dumps(["{}"]),
                    "turn_2_prompt": json.dumps({"role": "user", "content": "Termine par « fin »."}),
                    "turn_2_instruction_id_list": json.dumps(["punctuation:no_comma", "startend:end_checker"]),
                    "turn_2_kwargs": json.dumps(["{}", json.dumps({"end_phrase": "fin"})]),
                    "turn_3_prompt": "None", "turn_3_instruction_id_list": "", "turn_3_kwargs": ""})
        w.writerow({"turns": "", "responses": "", "key": "2:1:en", "turn_index": "0", "language": "English",
                    "turn_1_prompt": json.dumps({"role": "user", "content": "Hi"}),
                    "turn_1_instruction_id_list": "[]", "turn_1_kwargs": "[]", "turn_2_prompt": "",
                    "turn_2_instruction_id_list": "", "turn_2_kwargs": "", "turn_3_prompt": "",
                    "turn_3_instruction_id_list": "", "turn_3_kwargs": ""})
    (item,) = load_items(get_card("multi_if"), tmp_path, ["fra_Latn"])
    assert len(item.turns) == 2
    assert item.turns[1]["instruction_id_list"] == ["punctuation:no_comma", "startend:end_checker"]
    assert item.turns[1]["kwargs"] == [{}, {"end_phrase": "fin"}]


def test_gated_dataset_message_says_how_to_get_access():
    response = httpx2.Response(401, request=httpx2.Request("GET", "https://huggingface.co/api/datasets/x"))
    err = explain_hub_error(errors.GatedRepoError("gated", response=response), "openlanguagedata/flores_plus",
                            kind="dataset")
    assert "accept its conditions" in str(err) and "HF_TOKEN" in str(err)
    assert "datasets/openlanguagedata/flores_plus" in str(err)


def test_hub_dataset_offline_fails_fast_and_is_skipped(tmp_path):
    from evaluator.runner import RunRequest, prepare_items

    req = RunRequest(model="unused", tasks=["belebele", "polyglot_mc"], output=tmp_path, skip_unavailable=True,
                     limit=2)
    cards, items, skipped, origins = prepare_items(req)
    assert [c.id for c in cards] == ["polyglot_mc"]
    assert "cannot be reached" in skipped["belebele"]
