"""Re-score saved responses offline: ``python -m evaluator score-instructions --input IN --output OUT``.

Input rows are IFEval's format plus the response: ``key``, ``prompt``, ``instruction_id_list``,
``kwargs`` and ``response`` (one JSON object a line). M-IFEval's prefixed ids (``fr:...``) carry their
language; plain ids are checked by ``--checker`` (``ifeval`` or ``multi_if``), or per row by a
``checker`` field. Output rows add ``follow_instruction_list_strict``, ``follow_instruction_list_loose``,
``follow_all_instructions_strict``/``_loose`` and, where an instruction could not be checked, its reason
in ``unchecked`` (such an instruction counts as not followed).
"""

from __future__ import annotations

import json
from pathlib import Path

from .errors import PolyglotError
from .metrics import ifeval

REQUIRED = ("prompt", "instruction_id_list", "kwargs", "response")


class InputError(PolyglotError, ValueError):
    pass


def score_row(row: dict, checker: str = "ifeval") -> dict:
    missing = [k for k in REQUIRED if k not in row]
    if missing:
        raise InputError(f"missing field(s) {', '.join(missing)}")
    ids, kwargs = row["instruction_id_list"], row["kwargs"]
    if not isinstance(ids, list) or not isinstance(kwargs, list) or len(ids) != len(kwargs):
        raise InputError("instruction_id_list and kwargs must be lists of the same length")
    if not isinstance(row["response"], str):
        raise InputError("response must be a string")
    results = ifeval.evaluate_response(ids, kwargs, row["response"], row.get("checker") or checker, row["prompt"])
    strict = [r.strict for r in results]
    loose = [r.loose for r in results]
    out = {**row, "follow_instruction_list_strict": strict, "follow_instruction_list_loose": loose,
           "follow_all_instructions_strict": all(strict), "follow_all_instructions_loose": all(loose)}
    unchecked = [{"id": r.instruction_id, "reason": r.error} for r in results if r.error]
    if unchecked:
        out["unchecked"] = unchecked
    return out


def aggregate(rows: list[dict]) -> dict[str, float]:
    """Prompt-level and instruction-level accuracy, strict and loose (IFEval's four metrics)."""
    if not rows:
        raise InputError("no rows to score")
    strict = [x for r in rows for x in r["follow_instruction_list_strict"]]
    loose = [x for r in rows for x in r["follow_instruction_list_loose"]]
    return {
        "prompt_strict": sum(r["follow_all_instructions_strict"] for r in rows) / len(rows),
        "inst_strict": sum(strict) / len(strict) if strict else float("nan"),
        "prompt_loose": sum(r["follow_all_instructions_loose"] for r in rows) / len(rows),
        "inst_loose": sum(loose) / len(loose) if loose else float("nan"),
    }


def score_file(input_path: Path, output_path: Path, checker: str = "ifeval") -> dict:
    """Score every row; nothing is written unless every row is valid (errors name their line)."""
    if checker not in ifeval.CHECKERS:
        raise InputError(f"unknown checker {checker!r}; known: {', '.join(sorted(ifeval.CHECKERS))}")
    scored = []
    with Path(input_path).open(encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                if not isinstance(row, dict):
                    raise InputError("a row must be a JSON object")
                scored.append(score_row(row, checker))
            except (json.JSONDecodeError, InputError) as exc:
                raise InputError(f"{input_path}:{n}: {exc}") from exc
    metrics = aggregate(scored)
    tmp = Path(output_path).with_name(Path(output_path).name + ".tmp")
    with tmp.open("w", encoding="utf-8") as f:
        for r in scored:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    tmp.replace(output_path)
    return {"rows": len(scored), "unchecked_instructions": sum(len(r.get("unchecked", [])) for r in scored),
            **metrics}
