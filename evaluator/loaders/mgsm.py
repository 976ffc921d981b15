"""MGSM (Shi et al. 2022) in the layout of the Hub repository juletxara/mgsm (and google-research/url-nlp).

Test split: ``mgsm_<lang>.tsv``, question TAB answer_number, no header. Train split (the 8 chain-of-thought
exemplars per language): ``exemplars.py``, whose ``MGSM_EXEMPLARS[lang][key]`` holds ``q`` and ``a`` and
``EXEMPLAR_NUMBER_ANSWERS`` the numbers, as the Hub's loading script reads them. The file is parsed
as literals and never executed.
"""

from __future__ import annotations

import ast
import csv
from pathlib import Path

from ..items import Item

EXEMPLARS_FILE = "exemplars.py"


def _answer_number(text: str, where: str) -> str:
    # The Hub script stores answer_number as an integer after dropping thousands separators
    # ("2,125" -> 2125); lm-eval's target is that integer as a string.
    try:
        return str(int(text.strip().replace(",", "")))
    except ValueError:
        raise ValueError(f"{where}: answer_number {text!r} is not an integer") from None


def _literals(path: Path) -> dict:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    except SyntaxError as exc:
        raise ValueError(f"{path}: not readable as Python literals: {exc}") from None
    values = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                values[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                continue  # not a literal: never evaluated
    return values


def load_exemplars(folder: Path, code: str) -> list[dict]:
    """The train split of one language in key order: id, question, answer (the worked solution), answer_number."""
    path = folder / EXEMPLARS_FILE
    if not path.is_file():
        raise FileNotFoundError(f"MGSM exemplars missing (the few-shot train split): {path}")
    values = _literals(path)
    exemplars = values.get("MGSM_EXEMPLARS", {}).get(code)
    if not exemplars:
        raise ValueError(f"{path}: no MGSM_EXEMPLARS[{code!r}]")
    numbers = values.get("EXEMPLAR_NUMBER_ANSWERS", [])
    out = []
    for key in sorted(exemplars, key=int):
        ex = exemplars[key]
        if not isinstance(ex, dict) or not {"q", "a"} <= ex.keys():
            raise ValueError(f"{path}: MGSM_EXEMPLARS[{code!r}][{key!r}] needs 'q' and 'a'")
        index = int(key) - 1
        out.append({"id": f"{code}-train-{key}", "question": ex["q"], "answer": ex["a"],
                    "answer_number": str(numbers[index]) if index < len(numbers) else ""})
    return out


def load(card, language: str, folder: Path) -> list[Item]:
    code = card.options["file_codes"][language]
    path = folder / f"mgsm_{code}.tsv"
    if not path.is_file():
        raise FileNotFoundError(f"MGSM file missing: {path}")
    # A card that asks for few-shot examples gets the train split with every item (one shared list).
    exemplars = load_exemplars(folder, code) if card.options.get("fewshot") else None
    items = []
    with path.open(encoding="utf-8", newline="") as f:
        for n, row in enumerate(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE), 1):
            if not row:
                continue
            if len(row) != 2:
                raise ValueError(f"{path}:{n}: expected 2 tab-separated fields, got {len(row)}")
            question, answer = row
            meta = {"answer_type": "number", "index": len(items)}
            if exemplars is not None:
                meta["exemplars"] = exemplars
            # The question is kept as written: lm-eval's prompt concatenates it unchanged.
            items.append(Item(item_id=f"{code}-{n:03d}", language=language, category="arithmetic",
                              fields={"question": question}, gold=[_answer_number(answer, f"{path}:{n}")],
                              meta=meta))
    return items


# The loader names cards use (``source.loader``), found by evaluator.loaders.
LOADERS = {"mgsm": load}
