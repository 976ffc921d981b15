"""Published figures shipped in ``data/reported`` as a "reported" source, each with its citation.

Each CSV starts with a ``# source:`` line naming where its figures come from. Reported scores are
never mixed with evaluated ones: every row carries ``source = "reported"`` and the citation.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from functools import cache
from pathlib import Path

from evaluator.cards import DATA_DIR
from evaluator.languages import normalise_language
from evaluator.results import Score
from evaluator.scope import ALL

REPORTED_DIR = DATA_DIR / "reported"

# file -> (task id, task version label, metric, scale to [0, 1])
LMEVAL_FILES = {
    "lmeval_harness_results_xcopa_acc.csv": "xcopa",
    "lmeval_harness_results_xnli_acc.csv": "xnli",
    "lmeval_harness_results_xstory_cloze_acc.csv": "xstory_cloze",
    "lmeval_harness_results_xwinograd_acc.csv": "xwinograd",
    "lmeval_harness_results_pawsx_acc.csv": "pawsx",
}


def read_cited_csv(path: Path) -> tuple[str, list[dict]]:
    text = path.read_text(encoding="utf-8")
    first, _, rest = text.partition("\n")
    citation = first.removeprefix("#").strip().removeprefix("source:").strip()
    return citation, list(csv.DictReader(io.StringIO(rest)))


def _num(value: str) -> float | None:
    value = (value or "").strip().strip("()")
    try:
        return float(value)
    except ValueError:
        return None


KINDS = {"xcopa": "multiple_choice", "xnli": "multiple_choice", "xstory_cloze": "multiple_choice",
         "xwinograd": "multiple_choice", "pawsx": "multiple_choice", "m_ifeval": "instruction",
         "multiloko_test": "short_answer", "flores101_perplexity": "perplexity"}


def _row(model, task, version, language, metric, value, citation, *, primary=True, n_items=None,
         higher_is_better=True, category=ALL, details=None, ci=(None, None)) -> Score:
    return Score(run_id=f"reported:{task}", source="reported", model=model, revision="", precision="",
                 suite="reported", suite_version="", task=task, task_version=version, kind=KINDS[task],
                 language=language, category=category, metric=metric, value=value, n_items=n_items, ci_low=ci[0],
                 ci_high=ci[1], primary=primary, higher_is_better=higher_is_better, engine_version="",
                 created_at=None, citation=citation, details=details or {})


def reported_scores(folder: Path = REPORTED_DIR) -> list[Score]:
    rows: list[Score] = []
    for name, task in LMEVAL_FILES.items():
        citation, records = read_cited_csv(folder / name)
        for r in records:
            for lang, v in r.items():
                if lang == "model" or _num(v) is None:
                    continue
                rows.append(_row(r["model"], task, "lm-eval v0.3", normalise_language(lang), "acc", _num(v) / 100, citation))

    citation, records = read_cited_csv(folder / "xcopa_readme_leaderboard.csv")
    for r in records:
        for lang in ("et", "ht", "id", "it", "qu", "sw", "ta", "th", "tr", "vi", "zh"):
            if _num(r[lang]) is not None:
                rows.append(_row(r["model"], "xcopa", f"paper ({r['paper']})", normalise_language(lang), "acc",
                                 _num(r[lang]) / 100, citation, n_items=500))

    citation, records = read_cited_csv(folder / "m-ifeval_leaderboard.csv")
    for r in records:
        for lang in ("en", "es", "fr", "ja"):
            if _num(r[lang]) is not None:
                rows.append(_row(r["model"], "m_ifeval", "paper", normalise_language(lang), "inst_strict",
                                 _num(r[lang]) / 100, citation))

    citation, records = read_cited_csv(folder / "multiloko_test_leaderboard.csv")
    for r in records:
        em, se2 = _num(r["avg_em"]), _num(r["avg_em_2se"])
        details = {"rank": r["rank"], "avg_em_2se": se2}
        rows.append(_row(r["model"], "multiloko_test", "blind test", ALL, "em", em / 100, citation,
                         details=details, ci=((em - se2) / 100, (em + se2) / 100)))
        for metric in ("gap", "mte", "min_em", "max_em"):
            if _num(r[metric]) is not None:
                rows.append(_row(r["model"], "multiloko_test", "blind test", ALL, metric,
                                 _num(r[metric]) / 100, citation, primary=False,
                                 higher_is_better=metric not in ("gap",)))

    citation, records = read_cited_csv(folder / "bloom176b_vs_opt175b_flores101_byte_perplexity.csv")
    for r in records:
        for model in ("BLOOM-176B", "OPT-175B"):
            if _num(r.get(model)) is not None:
                rows.append(_row(model, "flores101_perplexity", "bigscience fork", normalise_language(r["language_iso3"]),
                                 "byte_perplexity", _num(r[model]), citation, primary=False, higher_is_better=False))
    return [_same_metric_as_card(r) for r in rows]


def _same_metric_as_card(row: Score) -> Score:
    """A reported figure ranks beside evaluated ones only when it is the task card's headline metric."""
    from evaluator.cards import all_cards

    card = all_cards().get(row.task)
    if card is not None and row.primary and row.metric != card.metric:
        row = replace(row, primary=False)
    return row


@cache
def reported_models(folder: Path = REPORTED_DIR) -> dict[str, dict]:
    """Reported model name -> {hub_id, params_b, note}."""
    with (folder / "models.csv").open(encoding="utf-8") as f:
        return {r["name"]: {"hub_id": r["hub_id"] or None, "params_b": _num(r["params_b"]), "note": r["note"]}
                for r in csv.DictReader(f)}


def cultural_study(folder: Path = REPORTED_DIR) -> tuple[str, list[dict]]:
    """The human-rated cultural-nuance translation study (0-3 scale); shown as a reference table."""
    return read_cited_csv(folder / "be_my_cheese_headline.csv")


# Reported rows that are not models to rank: human performance and translate-test baselines
# (a pipeline through English, not a multilingual model). The shipped CSVs mark them only in the
# name ("Human", "... (Translate test)"); a ``reference`` note in models.csv marks any other.
_REFERENCE_NAME = re.compile(r"^human\b|translate[- ]test", re.IGNORECASE)


def is_reference(name: str) -> bool:
    if not isinstance(name, str):
        return False
    note = (reported_models().get(name) or {}).get("note") or ""
    return bool(_REFERENCE_NAME.search(name)) or note.lower().startswith("reference")
