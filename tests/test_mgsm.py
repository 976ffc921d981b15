"""MGSM as lm-evaluation-harness 0.4.13 runs it: mgsm_direct and mgsm_native_cot.

The expected prompts, stops and filter results are written here from lm-eval's task YAMLs
(lm_eval/tasks/mgsm/direct/mgsm_direct_<lang>.yaml, native_cot/mgsm_native_cot_<lang>.yaml) and its
filter and metric code. The opt-in cross-check at the end builds lm-eval's own tasks over the same
files and compares prompts, stop lists and scores item by item (skipped without lm-eval).
"""

from __future__ import annotations

import csv
import functools
import json
import os
import random

import pytest
from helpers import BENCHMARKS

from evaluator.cards import get_card
from evaluator.datasets import data_folder, load_items
from evaluator.kinds import short_answer
from evaluator.loaders.mgsm import load_exemplars
from evaluator.metrics.exact_match import extract_number, number_match
from evaluator.metrics.lm_eval_match import FilterError, exact_match, pipeline_from_spec, regex
from evaluator.prompts import labels_for, render, template_for

MGSM = BENCHMARKS / "mgsm"
CODES = {"bn": "ben_Beng", "de": "deu_Latn", "en": "eng_Latn", "es": "spa_Latn", "fr": "fra_Latn", "ja": "jpn_Jpan",
         "ru": "rus_Cyrl", "sw": "swh_Latn", "te": "tel_Telu", "th": "tha_Thai", "zh": "zho_Hans"}
# From the YAMLs: doc_to_text of a test document is QUESTION + " " + question + "\n" + ANSWER, and
# generation_kwargs.until is [QUESTION, "</s>", "<|im_end|>"] (replacing direct_yaml's ["\n\n", "\n"]).
QUESTION = {"bn": "প্রশ্ন:", "de": "Frage:", "en": "Question:", "es": "Pregunta:", "fr": "Question :",
            "ja": "問題：", "ru": "Задача:", "sw": "Swali:", "te": "ప్రశ్న:", "th": "โจทย์:", "zh": "问题："}
DIRECT = {"bn": "Answer:", "de": "Antwort:", "en": "Answer:", "es": "Respuesta:", "fr": "Réponse :", "ja": "Answer:",
          "ru": "Answer:", "sw": "Answer:", "te": "Answer:", "th": "Answer:", "zh": "Answer:"}
COT = {"bn": "ধাপে ধাপে উত্তর:", "de": "Schritt-für-Schritt-Antwort:", "en": "Step-by-Step Answer:",
       "es": "Respuesta paso a paso:", "fr": "Réponse étape par étape :", "ja": "ステップごとの答え:",
       "ru": "Пошаговоерешение:", "sw": "Jibu la Hatua kwa Hatua:", "te": "దశలవారీగా సమాధానం:",
       "th": "คำตอบทีละขั้นตอน:", "zh": "逐步解答:"}
STRICT = {"bn": "The answer is (\\-?[0-9\\.\\,]+)", "de": "Die Antwort lautet (\\-?[0-9\\.\\,]+)",
          "en": "The answer is (\\-?[0-9\\.\\,]+)", "es": "La respuesta es (\\-?[0-9\\.\\,]+)",
          "fr": "La réponse est (\\-?[0-9\\.\\,]+)", "ja": "答えは(\\-?[0-9\\.\\,]+)です。",
          "ru": "Ответ — (\\-?[0-9\\.\\,]+)", "sw": "Jibu ni (\\-?[0-9\\.\\,]+)", "te": "సమాధానం (\\-?[0-9\\.\\,]+)",
          "th": "คำตอบคือ (\\-?[0-9\\.\\,]+)", "zh": "答案是 (\\-?[0-9\\.\\,]+)。"}
# How exemplars.py writes each exemplar's labels (not always as lm-eval's labels: ja/zh full-width
# colons without a space, ru "Пошаговое решение:" with a space), with a final sentence per language.
EXEMPLAR_Q = {**{c: q + " " for c, q in QUESTION.items()}, "ja": "問題：", "zh": "问题："}
EXEMPLAR_A = {**{c: a + " " for c, a in COT.items()}, "ja": "ステップごとの答え：", "zh": "逐步解答：",
              "ru": "Пошаговое решение: "}
FLEXIBLE = {"name": "flexible-extract", "filter": [
    {"function": "regex", "group_select": -1, "regex_pattern": "(-?[$0-9.,]{2,})|(-?[0-9]+)"}, {"function": "take_first"}]}
EM = {"ignore_case": True, "ignore_punctuation": True}


def write_fixture(folder, questions=("Ducks lay 16 eggs; she eats 3. How many are left?", "2 bolts, half as much: total?"),
                  answers=("13", "1,500")):
    """MGSM's layout: mgsm_<lang>.tsv for every language and an exemplars.py of literals (never run)."""
    folder.mkdir(parents=True, exist_ok=True)
    for code in CODES:
        with (folder / f"mgsm_{code}.tsv").open("w", encoding="utf-8", newline="") as f:
            for q, a in zip(questions, answers):
                f.write(f"[{code}] {q}\t{a}\n")
    exemplars = {code: {str(k): {"q": f"{EXEMPLAR_Q[code]}[{code}] exemplar question {k}?",
                                 "a": f"{EXEMPLAR_A[code]}Worked solution {k}: {k} + {k} = {2 * k}."}
                        for k in range(1, 9)} for code in CODES}
    (folder / "exemplars.py").write_text(
        '"""Prompts for mgsm."""\nimport os\nos.remove(__file__)  # must never run\n'
        f"EXEMPLAR_NUMBER_ANSWERS = {[2 * k for k in range(1, 9)]!r}\nMGSM_EXEMPLARS = {exemplars!r}\n", encoding="utf-8")
    return folder


def prompts(card, items):
    prefixes = short_answer.fewshot_prefixes(card, items)
    return [prefix + render(template_for(card, "template", it.language), {**labels_for(it.language), **it.fields})
            for it, (prefix, _) in zip(items, prefixes)]


@pytest.fixture
def fixture_folder(tmp_path):
    return write_fixture(tmp_path / "mgsm")


def test_direct_prompts_and_stops_are_lm_evals_in_every_language(fixture_folder):
    card = get_card("mgsm")
    items = load_items(card, fixture_folder)
    assert len(items) == 22
    for it, prompt in zip(items, prompts(card, items)):
        code = it.item_id.split("-")[0]
        assert prompt == f"{QUESTION[code]} {it.fields['question']}\n{DIRECT[code]}"
        assert set(short_answer.stops_for(card, it.language)) == {QUESTION[code], "</s>", "<|im_end|>"}
    assert card.max_new_tokens == 256  # lm-eval's default max_gen_toks: the task sets none
    assert [it.gold for it in items[:2]] == [["13"], ["1500"]]  # answer_number as an integer string


def test_native_cot_prompt_is_eight_shots_in_lm_evals_order(fixture_folder):
    card = get_card("mgsm_native_cot")
    items = load_items(card, fixture_folder, ["jpn_Jpan", "rus_Cyrl", "eng_Latn"])
    got = dict(zip([it.item_id for it in items], prompts(card, items)))
    # lm-eval 0.4.13 (default sampler, fewshot seed 1234) gives the first two test documents these
    # exemplar orders (keys of MGSM_EXEMPLARS), whatever the language.
    first, second = [8, 1, 7, 6, 5, 3, 4, 2], [6, 2, 1, 8, 5, 7, 3, 4]
    for code, lang in (("ja", "jpn_Jpan"), ("ru", "rus_Cyrl"), ("en", "eng_Latn")):
        for n, order in ((1, first), (2, second)):
            # doc_to_text(train) + target_delimiter " " + answer[len(ANSWER)+1:], joined and ended by "\n\n"
            shots = "".join(
                f"{EXEMPLAR_Q[code]}[{code}] exemplar question {k}?\n{COT[code]} "
                f"{(EXEMPLAR_A[code] + f'Worked solution {k}: {k} + {k} = {2 * k}.')[len(COT[code]) + 1:]}\n\n"
                for k in order)
            question = load_items(card, fixture_folder, [lang])[n - 1].fields["question"]
            assert got[f"{code}-{n:03d}"] == f"{shots}{QUESTION[code]} {question}\n{COT[code]}"
    # lm-eval's quirks kept: the Japanese solution loses its first character, the Russian one keeps a space.
    assert "\nステップごとの答え: orked solution 8" in got["ja-001"]
    assert "\nПошаговоерешение:  Worked solution 8" in got["ru-001"]


def test_fewshot_order_follows_the_item_index_not_the_subset(fixture_folder):
    card = get_card("mgsm_native_cot")
    items = load_items(card, fixture_folder, ["eng_Latn"])
    both = short_answer.fewshot_prefixes(card, items)
    alone = short_answer.fewshot_prefixes(card, items[1:])
    assert alone[0] == both[1] and both[0][1] != both[1][1]
    rnd = random.Random(1234)
    assert [both[0][1], both[1][1]] == [[f"en-train-{k + 1}" for k in rnd.sample(range(8), 8)] for _ in range(2)]


def test_exemplars_file_is_read_as_literals_never_run(fixture_folder):
    exemplars = load_exemplars(fixture_folder, "en")
    assert (fixture_folder / "exemplars.py").is_file()  # running it would have deleted it
    assert [e["id"] for e in exemplars] == [f"en-train-{k}" for k in range(1, 9)]
    assert exemplars[0]["question"] == "Question: [en] exemplar question 1?" and exemplars[0]["answer_number"] == "2"


def test_missing_exemplars_and_bad_answers_are_clear_errors(tmp_path, fixture_folder):
    (fixture_folder / "exemplars.py").unlink()
    with pytest.raises(FileNotFoundError, match="few-shot train split"):
        load_items(get_card("mgsm_native_cot"), fixture_folder, ["eng_Latn"])
    load_items(get_card("mgsm"), fixture_folder, ["eng_Latn"])  # the direct task needs no train split
    bad = write_fixture(tmp_path / "bad", answers=("13", "about 5"))
    with pytest.raises(ValueError, match="answer_number 'about 5' is not an integer"):
        load_items(get_card("mgsm"), bad, ["eng_Latn"])


# Response, lm-eval's flexible-extract answer, the target, exact_match.
FLEXIBLE_CASES = [
    ("5 10-dollar bills", "10", "510", 0.0),  # two numbers, never joined
    ("5 10-dollar bills", "10", "10", 1.0),
    ("$1,000.", "$1,000.", "1000", 1.0),  # "$", "," and "." are ASCII punctuation: ignored
    ("The answer is 18.", "18.", "18", 1.0),
    ("-3", "-3", "3", 1.0),  # so is the minus sign: lm-eval counts -3 as 3
    ("-3", "-3", "-3", 1.0),
    ("1000!", "1000", "1000", 1.0),
    ("1000。", "1000", "1000", 1.0),
    ("১০০০", "[invalid]", "1000", 0.0),  # Bengali digits: [0-9] is ASCII only
    ("๑๐๐๐ บาท", "[invalid]", "1000", 0.0),  # Thai digits likewise
    ("So 2 3-hour trips, 1,000 in total", "1,000", "1000", 1.0),
    ("1000.5", "1000.5", "1000", 0.0),
    ("no number here", "[invalid]", "1000", 0.0),
    ("7, then 1000", "1000", "1000", 1.0),  # "7," is a match too; the last one counts
]


@pytest.mark.parametrize("response,answer,target,score", FLEXIBLE_CASES)
def test_flexible_extract_and_exact_match_as_lm_eval(response, answer, target, score):
    assert pipeline_from_spec(FLEXIBLE)(response) == answer
    assert exact_match(answer, target, **EM) == score


def test_remove_whitespace_and_strict_match():
    card = get_card("mgsm")
    scores, answers = short_answer.lm_eval_scores(card, "  18\n", ["18"], "eng_Latn")
    assert answers["exact_match_remove_whitespace"] == "18" and scores["exact_match_remove_whitespace"] == 1.0
    scores, _ = short_answer.lm_eval_scores(card, " 18 dollars", ["18"], "eng_Latn")
    assert scores == {"exact_match_remove_whitespace": 0.0, "exact_match_flexible_extract": 1.0, "exact_match_number": 1.0}
    cot = get_card("mgsm_native_cot")
    scores, answers = short_answer.lm_eval_scores(cot, "5+13=18. 答えは18です。次は3", ["18"], "jpn_Jpan")
    assert answers["exact_match_strict_match"] == "18" and answers["exact_match_flexible_extract"] == "3"
    assert scores["exact_match_strict_match"] == 1.0 and scores["exact_match_flexible_extract"] == 0.0
    # Bengali's strict-match is lm-eval's English sentence.
    _, answers = short_answer.lm_eval_scores(cot, "উত্তর হল 18। The answer is 18.", ["18"], "ben_Beng")
    assert answers["exact_match_strict_match"] == "18."
    assert regex("Ответ — 1.234,5", STRICT["ru"]) == "1.234,5"


def test_exact_match_ignores_ascii_punctuation_and_case_only():
    assert exact_match("ABC", "abc", **EM) == 1.0
    assert exact_match("18।", "18", **EM) == 0.0  # the danda is not in string.punctuation
    assert exact_match("18，", "18", **EM) == 0.0
    assert exact_match("1 8", "18", **EM) == 0.0
    assert exact_match("18.", "18") == 0.0
    assert exact_match("x18", "18", regexes_to_ignore=["x"]) == 1.0


def test_card_filter_specs_are_checked():
    with pytest.raises(FilterError, match="unknown function"):
        pipeline_from_spec({"name": "x", "filter": [{"function": "majority_vote"}]})
    with pytest.raises(FilterError, match="regex_pattern"):
        pipeline_from_spec({"name": "x", "filter": [{"function": "regex"}]})
    cot = get_card("mgsm_native_cot")
    for code, lang in CODES.items():
        (strict,) = [s for s in short_answer.filter_specs(cot, lang) if s["name"] == "strict-match"]
        assert strict["filter"] == [{"function": "regex", "regex_pattern": STRICT[code]}, {"function": "take_first"}]
    assert short_answer.metrics(cot) == ("exact_match_flexible_extract", "exact_match_strict_match", "exact_match_number")


def test_lenient_number_no_longer_joins_separate_numbers():
    assert extract_number("5 10-dollar bills", "eng_Latn") == 10
    assert extract_number("2 3-hour", "eng_Latn") == 3
    assert number_match("She pays with 5 10-dollar bills, so 50", ["50"], "eng_Latn") == 1.0
    assert extract_number("1 250 €", "fra_Latn") == 1250  # a space groups thousands in French
    assert extract_number("1\u202f250", "fra_Latn") == 1250
    assert extract_number("1 250", "eng_Latn") == 250


@pytest.mark.slow
def test_runs_end_to_end_and_stores_every_metric(tiny_lm, fixture_folder):
    from evaluator.aggregate import aggregate_task
    from evaluator.cache import ResponseCache
    from evaluator.engine import Engine

    card = get_card("mgsm_native_cot")
    items = load_items(card, fixture_folder, ["eng_Latn", "zho_Hans"], limit=1)
    rows = short_answer.run(card, items, Engine(tiny_lm, ResponseCache(None)))
    assert [r["metric"] for r in rows] == ["exact_match_flexible_extract"] * 2
    assert all(len(r["details"]["fewshot"]) == 8 and "exemplars" not in r["details"] for r in rows)
    assert rows[0]["prompt"].count("Step-by-Step Answer:") == 9
    scores = aggregate_task(card, rows)
    assert {(s.metric, s.primary) for s in scores if s.category == "*"} == {
        ("exact_match_flexible_extract", True), ("exact_match_strict_match", False), ("exact_match_number", False)}


def gold_responses(gold: str, code: str) -> list[str]:
    """Varied responses around the gold number, for item-by-item agreement of filters and metric."""
    n = int(gold)
    bengali = str(n).translate(str.maketrans("0123456789", "০১২৩৪৫৬৭৮৯"))
    sentence = STRICT[code].replace("(\\-?[0-9\\.\\,]+)", f"{n:,}")
    return [f" {n}", f"{n}\n", f"The answer is {n}.", f" ${n:,}", f"{n:,}.", f" {n} dollars", f"5 10-dollar bills, so {n}",
            f"{n} and then 3", f"-{n}", f"{n}.0", f"Answer: {n + 1}", "I do not know", f"{sentence}", f" {bengali}",
            f"{n}。", f"  {n}  ", f"{n}!", f"The answer is {n:,}.", f"2 3-hour trips. {sentence} Then 7 more."]


def lm_eval_tasks(folder, variant: str, code: str, num_fewshot: int):
    """lm-eval's own task for one language, reading the files of ``folder`` as the Hub's script does."""
    lm_eval = pytest.importorskip("lm_eval")
    import datasets
    from lm_eval.api.task import ConfigurableTask
    from lm_eval.tasks._yaml_loader import load_yaml

    from evaluator.loaders.mgsm import _literals

    data = folder.parent / f"lm_eval_{code}"
    data.mkdir(exist_ok=True)
    with (folder / f"mgsm_{code}.tsv").open(encoding="utf-8", newline="") as f, \
            (data / "test.jsonl").open("w", encoding="utf-8") as out:
        for q, a in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            out.write(json.dumps({"question": q, "answer": None, "answer_number": int(a.replace(",", "")),
                                  "equation_solution": None}) + "\n")
    lit = _literals(folder / "exemplars.py")
    with (data / "train.jsonl").open("w", encoding="utf-8") as out:
        for k, ex in lit["MGSM_EXEMPLARS"][code].items():
            out.write(json.dumps({"question": ex["q"], "answer": ex["a"],
                                  "answer_number": lit["EXEMPLAR_NUMBER_ANSWERS"][int(k) - 1],
                                  "equation_solution": None}) + "\n")
    features = datasets.Features({"question": datasets.Value("string"), "answer": datasets.Value("string"),
                                  "answer_number": datasets.Value("int32"), "equation_solution": datasets.Value("string")})
    config = load_yaml(os.path.join(os.path.dirname(lm_eval.__file__), "tasks", "mgsm", variant,
                                    f"mgsm_{variant}_{code}.yaml"))
    config.update(dataset_path="json", dataset_name=None, num_fewshot=num_fewshot,
                  dataset_kwargs={"data_files": {"train": str(data / "train.jsonl"), "test": str(data / "test.jsonl")},
                                  "features": features})
    task = ConfigurableTask(config=config)
    task.set_fewshot_seed(1234)
    task.build_all_requests(rank=0, world_size=1)
    return task


def agreement(folder, card_id: str) -> tuple[int, int, list]:
    """(comparisons, identical, first differences) of prompts, stops, filtered answers and scores."""
    card = get_card(card_id)
    variant, shots = ("direct", 0) if card_id == "mgsm" else ("native_cot", 8)
    total = same = 0
    diffs = []
    for code, lang in CODES.items():
        task = lm_eval_tasks(folder, variant, code, shots)
        items = load_items(card, folder, [lang])
        ours = prompts(card, items)
        assert len(task.instances) == len(items)
        for inst, it, prompt in zip(task.instances, items, ours):
            ctx, gen_kwargs = inst.arguments
            assert prompt == ctx, (it.item_id, prompt[-200:], ctx[-200:])
            assert set(short_answer.stops_for(card, lang)) == set(gen_kwargs["until"]) and not gen_kwargs["do_sample"]
            assert "max_gen_toks" not in gen_kwargs  # so lm-eval's default 256, as the card
            inst.resps = gold_responses(it.gold[0], code)
        # lm-eval's filters keep the first response; score each response as its own instance.
        responses = [inst.resps for inst in task.instances]
        golds = [task.doc_to_target(inst.doc) for inst in task.instances]
        metric_fn, metric_kwargs = task._metric_fn_list["exact_match"], task._metric_fn_kwargs["exact_match"]
        for r in range(len(responses[0])):
            for inst, resp in zip(task.instances, responses):
                inst.resps = [resp[r]]
            task.apply_filters()
            for inst, it, gold in zip(task.instances, items, golds):
                scores, answers = short_answer.lm_eval_scores(card, inst.resps[0], it.gold, lang)
                for name, filtered in inst.filtered_resps.items():
                    metric = short_answer.filter_metric(name)
                    # process_results renders the target template anew each call (slow); after the first
                    # response, its metric call is made directly with the target rendered once.
                    ref = (task.process_results(inst.doc, [filtered]) if r == 0 else
                           metric_fn(references=[gold], predictions=[filtered], **metric_kwargs))["exact_match"]
                    total += 1
                    if (answers[metric], scores[metric]) == (filtered, float(ref)):
                        same += 1
                    elif len(diffs) < 5:
                        diffs.append((it.item_id, inst.resps[0], name, answers[metric], filtered, scores[metric], ref))
    return total, same, diffs


@pytest.fixture
def compiled_once(monkeypatch):
    """lm-eval compiles its Jinja templates anew at every render; compiling each once renders the same
    text (the same environment, a pure render) and keeps the cross-check within a minute."""
    lm_eval_utils = pytest.importorskip("lm_eval.utils")
    monkeypatch.setattr(lm_eval_utils.env, "from_string", functools.lru_cache(maxsize=None)(lm_eval_utils.env.from_string))


@pytest.mark.slow_install
@pytest.mark.parametrize("card_id", ["mgsm", "mgsm_native_cot"])
def test_same_prompts_stops_and_scores_as_lm_eval_on_the_fixture(fixture_folder, compiled_once, card_id):
    total, same, diffs = agreement(fixture_folder, card_id)
    assert total == 11 * 2 * 19 * 2 and same == total, diffs


@pytest.mark.slow_install
@pytest.mark.skipif(not (MGSM / "mgsm_en.tsv").is_file(), reason="no MGSM files (../shared/benchmarks)")
@pytest.mark.parametrize("card_id", ["mgsm", "mgsm_native_cot"])
def test_same_prompts_stops_and_scores_as_lm_eval_on_real_mgsm(tmp_path, compiled_once, card_id):
    # The real test split; the real exemplars where the samples have them, else the fixture's.
    folder = tmp_path / "mgsm"
    write_fixture(folder)
    for code in CODES:
        (folder / f"mgsm_{code}.tsv").write_bytes((MGSM / f"mgsm_{code}.tsv").read_bytes())
    if (MGSM / "exemplars.py").is_file():
        (folder / "exemplars.py").write_bytes((MGSM / "exemplars.py").read_bytes())
    total, same, diffs = agreement(folder, card_id)
    print(f"{card_id}: {same}/{total} identical")
    assert total == 11 * 250 * 19 * 2 and same == total, diffs


@pytest.mark.skipif(not (MGSM / "mgsm_en.tsv").is_file(), reason="no MGSM files (../shared/benchmarks)")
def test_real_mgsm_loads_and_scores_its_gold():
    card = get_card("mgsm")
    folder, _ = data_folder(card, [BENCHMARKS], allow_hub=False)
    items = load_items(card, folder)
    assert len(items) == 11 * 250
    assert {it.gold[0] for it in items if it.item_id == "en-001"} == {"18"}
    for it in items:
        grouped, _ = short_answer.lm_eval_scores(card, f"So 2 3-hour trips.\nThe answer is {int(it.gold[0]):,}.", it.gold,
                                                 it.language)
        plain, _ = short_answer.lm_eval_scores(card, f" {it.gold[0]}", it.gold, it.language)
        assert grouped["exact_match_flexible_extract"] == 1.0 and grouped["exact_match_remove_whitespace"] == 0.0
        assert plain == {"exact_match_remove_whitespace": 1.0, "exact_match_flexible_extract": 1.0,
                         "exact_match_number": 1.0}, it.item_id
