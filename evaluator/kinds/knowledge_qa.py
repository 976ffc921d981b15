"""Few-shot short answers scored by normalised exact match and F1: MultiLoKo's protocol.

The prompt is the language's instruction and its five examples, then the question
(``data/multiloko_prompts.json``, as MultiLoKo's ``examples/prompts.py`` renders them). An item is
asked in the language its ``meta["prompt_language"]`` names: the human English translations are
asked with the English prompt, so that the mother-tongue effect compares like with like. The answer is
the first non-empty line of the generation, cut at the language's next question marker; it is scored
as MultiLoKo's ``eval.py`` scores it (``metrics.multiloko``).
"""

from __future__ import annotations

import json
from functools import lru_cache

from ..cards import DATA_DIR
from ..generation import GenRequest
from ..metrics import multiloko
from ..pooling import mean_scores
from ..results import Score
from ._common import as_messages, base_row, encode_prompt

PROMPTS_FILE = DATA_DIR / "multiloko_prompts.json"


@lru_cache(maxsize=1)
def prompt_table() -> dict[str, dict]:
    return json.loads(PROMPTS_FILE.read_text(encoding="utf-8"))["languages"]


def _entry(prompt_language: str) -> dict:
    table = prompt_table()
    if prompt_language not in table:
        raise KeyError(f"no MultiLoKo prompt for {prompt_language!r}; known: {', '.join(sorted(table))}")
    return table[prompt_language]


def render_prompt(prompt_language: str, question: str, output_type: str) -> str:
    entry = _entry(prompt_language)
    item = {"question": question, "output_type": output_type}
    shots = "".join(entry["shot"].format(shot_question=x["question"], shot_answer=x["answer"],
                                         shot_output_type=x["output_type"], **item) for x in entry["examples"])
    return entry["header"].format(**item) + shots + entry["query"].format(**item)


def extract_answer(generation: str, prompt_language: str) -> str:
    """The first non-empty line, cut where the model starts the next question."""
    question_marker = _entry(prompt_language)["markers"][0]
    for line in generation.split("\n"):
        line = line.split(question_marker)[0].strip()
        if line:
            return line
    return ""


def units(items) -> int:
    return len(items)


def run(card, items, engine) -> list[dict]:
    lm = engine.lm
    prompts, requests, truncated, languages = [], [], [], []
    for it in items:
        language = it.meta["prompt_language"]
        prompt = render_prompt(language, it.fields["question"], it.fields["output_type"])
        ids, cut = encode_prompt(lm, prompt, card.max_new_tokens)
        stops = (*card.stop_strings(it.language), _entry(language)["markers"][0])
        prompts.append(prompt)
        truncated.append(cut)
        languages.append(language)
        requests.append(GenRequest(ids, stops, card.max_new_tokens, prompt=prompt,
                                    messages=as_messages(card, prompt)))
    outputs = engine.generate(requests)
    rows = []
    for it, prompt, out, cut, language in zip(items, prompts, outputs, truncated, languages):
        prediction = extract_answer(out.text, language)
        rows.append({
            **base_row(it, prompt, cut),
            "generation": out.raw,
            "gold": " | ".join(it.gold),
            "prediction": prediction,
            "score": multiloko.exact_match(prediction, it.gold),
            "metric": "exact_match",
            "details": {"stopped_by": out.stopped_by, "n_tokens": out.n_tokens,
                        "normalised": multiloko.normalize_answer(prediction),
                        "correct": {"f1": multiloko.f1(prediction, it.gold)}, **it.meta},
        })
    return rows


def aggregate(card, rows: list[dict]) -> list[Score]:
    """Mean EM (primary) and F1 per language and per category (local / english_translation)."""
    return mean_scores(card, rows, (card.metric, "f1"))
