"""One contract over every task card in data/tasks (discovered, never listed).

For each card: its loader reads a small fixture written here in the loader's documented layout;
the kind runs on the items of a few languages (each with a template of its own among them) with
the tiny model, two new tokens at most, so every prompt placeholder must be filled; every language is in data/languages.csv; the metric is one its kind
knows and is the primary score; the card names its reference (implementation and headline metric); a
category difference it declares (the explorer's mother-tongue effect, say) is over two of its categories
and both are scored.
A card whose loader has no fixture writer below fails loudly: add one in its published layout.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import string
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from evaluator.aggregate import aggregate_task
from evaluator.cache import ResponseCache
from evaluator.cards import DATA_DIR, CardError, _card_from_dict, all_cards
from evaluator.datasets import load_items
from evaluator.engine import Engine
from evaluator.kinds import KINDS, Kind, kind_module
from evaluator.languages import language_table
from evaluator.loaders import all_loaders
from evaluator.metrics.registry import METRICS, known_metrics

CARD_FILES = sorted((DATA_DIR / "tasks").glob("*.json"))


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def _code(card, lang):
    return card.options.get("file_codes", {}).get(lang, lang)


# -- one writer per loader, in the layout its module docstring documents -----------------------

def _belebele(card, langs, root):
    for lang in langs:
        write_jsonl(root / "data" / f"{_code(card, lang)}.jsonl", [{
            "link": "https://en.wikinews.org/x", "question_number": 1, "flores_passage": "The ferry left at noon.",
            "question": "When did the ferry leave?", "mc_answer1": "At noon", "mc_answer2": "At dawn",
            "mc_answer3": "At night", "mc_answer4": "Never", "correct_answer_num": "1", "dialect": lang,
            "ds": "2023-05-03"}])


def _global_mmlu(card, langs, root):
    for lang in langs:
        table = pa.table({
            "sample_id": ["astronomy/test/0"], "subject": ["astronomy"], "subject_category": ["STEM"],
            "question": ["Which planet is largest?"], "option_a": ["Mars"], "option_b": ["Jupiter"],
            "option_c": ["Venus"], "option_d": ["Mercury"], "answer": ["B"], "required_knowledge": [""],
            "time_sensitive": ["No"], "reference": [""], "culture": [""], "region": [""], "country": [""],
            "cultural_sensitivity_label": ["CA"], "is_annotated": [True]})
        folder = root / _code(card, lang)
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, folder / f"{card.source.split}-00000-of-00001.parquet")


def _xcopa(card, langs, root):
    short = {"test": "test", "validation": "val", "val": "val"}[card.source.split]
    for lang in langs:
        code = _code(card, lang)
        write_jsonl(root / "data" / code / f"{short}.{code}.jsonl", [
            {"premise": "The man turned on the faucet.", "choice1": "The toilet filled with water.",
             "choice2": "Water flowed from the spout.", "question": "effect", "label": 1, "idx": 1, "changed": False},
            {"premise": "The girl found a bug in her cereal.", "choice1": "She poured milk in the bowl.",
             "choice2": "She lost her appetite.", "question": "effect", "label": 1, "idx": 2, "changed": False}])


def _flores(card, langs, root):
    for lang in {*langs, "eng_Latn"}:
        write_jsonl(root / card.source.split / f"{_code(card, lang)}.jsonl", [
            {"id": 1, "iso_639_3": lang[:3], "iso_15924": lang[4:], "text": f"First sentence in {lang}.",
             "url": "", "domain": "wikinews", "topic": "travel"},
            {"id": 2, "iso_639_3": lang[:3], "iso_15924": lang[4:], "text": f"Second sentence in {lang}.",
             "url": "", "domain": "wikivoyage", "topic": "travel"}])


def _ifeval(card, langs, root):
    pattern = card.options.get("file_pattern", "data/{code}_input_data.jsonl")
    for lang in langs:
        code = card.options["file_codes"][lang]
        prefix = f"{code}:" if card.options.get("checker") == "m_ifeval" and code not in ("", "en") else ""
        write_jsonl(root / pattern.format(code=code), [
            {"key": 1, "prompt": "Write a short poem about the sea. Give it a title in double angular brackets.",
             "instruction_id_list": [f"{prefix}detectable_format:title"], "kwargs": [{}]}])


def _multi_if(card, langs, root):
    path = root / card.options.get("file", "multiIF_20241018.csv")
    path.parent.mkdir(parents=True, exist_ok=True)
    turn = {"turn_1_prompt": json.dumps({"role": "user", "content": "Describe a river. Do not use any commas."}),
            "turn_1_instruction_id_list": json.dumps(["punctuation:no_comma"]),
            "turn_1_kwargs": json.dumps([json.dumps({})]),
            "turn_2_prompt": json.dumps({"role": "user", "content": "Now add a title in double angular brackets."}),
            "turn_2_instruction_id_list": json.dumps(["punctuation:no_comma", "detectable_format:title"]),
            "turn_2_kwargs": json.dumps([json.dumps({}), json.dumps({})]),
            "turn_3_prompt": "None", "turn_3_instruction_id_list": "None", "turn_3_kwargs": "None"}
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["key", "language", *turn])
        writer.writeheader()
        for n, lang in enumerate(langs):
            writer.writerow({"key": f"k{n}", "language": card.options["file_codes"][lang], **turn})


def _multiloko(card, langs, root):
    for lang in langs:
        name = card.options["file_codes"][lang]
        row = {"text": "A paragraph.", "question": "Which city hosts the festival?", "targets": ["Tartu"],
               "target": "Tartu hosts it.", "id": "page-1", "output_type": "a city"}
        write_jsonl(root / name / "dev.jsonl", [row])
        if name != "english":
            write_jsonl(root / name / "dev_translated_human_english.jsonl", [row])


def _mgsm(card, langs, root):
    root.mkdir(parents=True, exist_ok=True)
    for lang in langs:
        (root / f"mgsm_{card.options['file_codes'][lang]}.tsv").write_text(
            "Janet has 3 apples and buys 2 more. How many apples does she have?\t5\n", encoding="utf-8")
    # The few-shot train split: exemplars.py of literals, MGSM_EXEMPLARS[code][key] = {q, a}.
    exemplars = {card.options["file_codes"][lang]: {str(k): {"q": f"Question {k}?", "a": f"Step by step: {k} + {k} = {2 * k}."}
                                                    for k in range(1, 9)} for lang in langs}
    (root / "exemplars.py").write_text(f"MGSM_EXEMPLARS = {exemplars!r}\n", encoding="utf-8")


def _starter(rows):
    def write(card, langs, root):
        for lang in langs:
            write_jsonl(root / f"{lang}.jsonl", rows)
    return write


WRITERS = {
    "belebele": _belebele,
    "global_mmlu": _global_mmlu,
    "xcopa": _xcopa,
    "flores_translation": _flores,
    "flores_parallel": _flores,
    "ifeval": _ifeval,
    "multi_if": _multi_if,
    "multiloko": _multiloko,
    "mgsm": _mgsm,
    "starter_mc": _starter([{"id": "mc-1", "category": "idiom", "question": "What is 'a piece of cake'?",
                             "choices": ["Easy", "Hard", "Sweet"], "answer": 0}]),
    "starter_qa": _starter([{"id": "qa-1", "category": "arithmetic", "question": "How much is 2 + 3?",
                             "answers": ["5"], "answer_type": "number"}]),
    "starter_translate": _starter([{"id": "tr-1", "category": "idiom", "eng": "It is a piece of cake.",
                                    "text": "C'est du gâteau."}]),
    "starter_instruct": _starter([{"id": "if-1", "category": "format", "turns": [
        {"prompt": "List two fruits as markdown bullet points.", "instruction_id_list":
         ["detectable_format:number_bullet_lists"], "kwargs": [{"num_bullets": 2}]}]}]),
    "starter_parallel": _starter([{"id": "par-1", "text": "The train leaves at seven."},
                                  {"id": "par-2", "text": "My sister is a nurse."}]),
}


def _template_fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _templates(card) -> list[str]:
    found = [v for v in card.prompt.values() if isinstance(v, str)]
    for per_lang in card.prompt.get("by_language", {}).values():
        found += [v for v in per_lang.values() if isinstance(v, str)]
    return found


@pytest.mark.slow
@pytest.mark.parametrize("card_file", CARD_FILES, ids=[p.stem for p in CARD_FILES])
def test_card_contract(card_file, tmp_path, tiny_lm):
    card_id = json.loads(card_file.read_text(encoding="utf-8"))["id"]
    card = all_cards()[card_id]

    missing = [lang for lang in card.languages if lang not in language_table()]
    assert not missing, f"{card.id}: languages not in data/languages.csv: {missing}"

    known = known_metrics(card.kind, card)
    assert card.metric in known, f"{card.id}: metric {card.metric!r} is not one {card.kind} knows ({', '.join(known)})"

    ref = card.reference
    assert ref is not None, f"{card.id}: the card names no reference (add a 'reference' block)"
    assert ref.implementation.strip() and ref.headline_metric.strip()

    if card.source.loader not in WRITERS:
        pytest.fail(f"{card.id}: no fixture writer for loader {card.source.loader!r}; add one to tests/test_cards.py")
    folder = tmp_path / "data"
    WRITERS[card.source.loader](card, list(card.languages), folder)
    items = load_items(card, folder)
    assert {it.language for it in items} >= set(card.languages), f"{card.id}: languages without items"

    # The kind itself renders the prompts (a placeholder without a value raises there), on two
    # languages and every language with a template of its own; scoring all of them would be slow.
    own = set(card.prompt.get("by_language", {})) & set(card.languages)
    sample = sorted(set(card.languages[:2]) | own)
    run_items = load_items(card, folder, sample)
    quick = dataclasses.replace(card, generation={**card.generation, "max_new_tokens": 2})
    rows = kind_module(card.kind).run(quick, run_items, Engine(tiny_lm, ResponseCache(None)))
    assert rows and all(isinstance(r["prompt"], str) and r["prompt"] for r in rows)
    fields = set().union(*map(_template_fields, _templates(card))) if _templates(card) else set()
    for r in rows:
        left = [f for f in fields if "{" + f + "}" in r["prompt"]]
        assert not left, f"{card.id}: unfilled placeholders {left} in {r['prompt']!r}"

    scores = aggregate_task(quick, rows)
    primary = {s.metric for s in scores if s.primary}
    assert card.metric in primary, f"{card.id}: primary scores are {primary}, not {card.metric!r}"

    diff = card.category_difference
    if diff is not None:
        assert diff.name.isidentifier()  # a column name (its categories are checked as the card loads)
        scored = {s.category for s in scores if s.primary and s.metric == card.metric}
        assert {diff.category, diff.minus} <= scored, f"{card.id}: {diff.name} needs scores of both categories"
        assert bool(diff.reported_task) == bool(diff.reported_metric), f"{card.id}: reported task without metric"


def test_a_category_difference_must_name_the_cards_own_categories():
    from evaluator.cards import CardError, _card_from_dict

    card = json.loads((DATA_DIR / "tasks" / "multiloko.json").read_text(encoding="utf-8"))
    assert _card_from_dict(card, "multiloko").category_difference.minus == "english_translation"
    for bad in ({**card["category_difference"], "minus": "nope"}, {**card["category_difference"], "extra": 1},
                {**card["category_difference"], "name": "not a column"}):
        with pytest.raises(CardError):
            _card_from_dict({**card, "category_difference": bad}, "multiloko")


def _card_dict(**changes) -> dict:
    card = json.loads((DATA_DIR / "tasks" / "polyglot_mc.json").read_text(encoding="utf-8"))
    return {**card, **changes}


def test_a_metric_its_kind_does_not_register_is_a_card_error():
    with pytest.raises(CardError, match=r"metric 'accuracy' is not one multiple_choice tasks report; known: acc, "):
        _card_from_dict(_card_dict(metric="accuracy"), "x.json")
    with pytest.raises(CardError, match="higher_is_better is the metric's"):
        _card_from_dict(_card_dict(higher_is_better=False), "x.json")
    assert _card_from_dict(_card_dict(metric="acc_norm_byte"), "x.json").metric == "acc_norm_byte"


def test_every_kind_module_follows_the_kind_contract_and_registers_a_headline_metric():
    # The kinds are the package's public modules: a helper module must be private (``_common``).
    assert set(KINDS) >= {c.kind for c in all_cards().values()}
    for kind in KINDS:
        assert isinstance(kind_module(kind), Kind), kind
        assert known_metrics(kind), f"{kind} registers no headline metric"
    assert {m.kind for m in METRICS} == set(KINDS)
    for m in METRICS:
        assert callable(m.item_function()), m.name


def test_every_card_loader_is_declared_once_by_a_loader_module():
    loaders = all_loaders()
    assert {c.source.loader for c in all_cards().values()} <= set(loaders)
    assert set(WRITERS) <= set(loaders)
