"""lm-evaluation-harness's answer filters and its ``exact_match``, reproduced for generation tasks.

A card lists its filter pipelines in lm-eval's own YAML shape (``filter_list``: a name and a list of
``{"function": ..., args}`` steps), so a card can be read side by side with the task YAML it
reproduces. Each function here does what the lm-eval 0.4.13 function of the same name does to one
response (``lm_eval/filters/extraction.py``, ``selection.py``; ``api/metrics.py``'s
``exact_match_hf_evaluate``, which is HF ``evaluate``'s exact_match).
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from functools import lru_cache

from ..errors import PolyglotError

INVALID = "[invalid]"  # lm-eval's RegexFilter fallback when nothing matches


class FilterError(PolyglotError, ValueError):
    pass


def remove_whitespace(text: str) -> str:
    return text.strip()


@lru_cache(maxsize=64)
def _compiled(pattern: str) -> re.Pattern:
    return re.compile(pattern)


def regex(text: str, regex_pattern: str, group_select: int = 0, fallback: str = INVALID) -> str:
    """lm-eval's RegexFilter: the ``group_select``-th of all matches; of a match with several groups,
    the first non-empty group; stripped; ``fallback`` when nothing matches (or the index is out of range,
    where lm-eval would raise)."""
    matches = _compiled(regex_pattern).findall(text)
    if not matches:
        return fallback
    try:
        match = matches[group_select]
    except IndexError:
        return fallback
    if isinstance(match, tuple):
        match = next((m for m in match if m), fallback)
    return match.strip()


def take_first(text: str) -> str:
    # lm-eval keeps the first of several sampled responses; a greedy run has one.
    return text


FILTERS = {"remove_whitespace": remove_whitespace, "regex": regex, "take_first": take_first}


@dataclass(frozen=True)
class FilterPipeline:
    name: str
    steps: tuple[tuple[str, tuple[tuple[str, object], ...]], ...]

    def __call__(self, text: str) -> str:
        for function, args in self.steps:
            text = FILTERS[function](text, **dict(args))
        return text


def pipeline_from_spec(spec: dict) -> FilterPipeline:
    """A pipeline from one entry of a card's ``filter_list`` (lm-eval's YAML shape)."""
    if "name" not in spec or "filter" not in spec:
        raise FilterError(f"a filter_list entry needs 'name' and 'filter': {spec!r}")
    steps = []
    for step in spec["filter"]:
        step = dict(step)
        function = step.pop("function", None)
        if function not in FILTERS:
            raise FilterError(f"filter {spec['name']!r}: unknown function {function!r}; known: {', '.join(FILTERS)}")
        if function == "regex" and "regex_pattern" not in step:
            raise FilterError(f"filter {spec['name']!r}: regex needs a regex_pattern")
        steps.append((function, tuple(sorted(step.items()))))
    return FilterPipeline(spec["name"], tuple(steps))


_PUNCTUATION_TABLE = str.maketrans("", "", string.punctuation)


def exact_match(prediction: str, reference: str, *, ignore_case: bool = False, ignore_punctuation: bool = False,
                ignore_numbers: bool = False, regexes_to_ignore: tuple[str, ...] | list[str] = ()) -> float:
    """HF evaluate's exact_match as lm-eval calls it on one item: regexes removed, then lower-cased,
    then ASCII punctuation deleted (``string.punctuation`` only: "।", "。", "，" stay)."""
    for pattern in regexes_to_ignore or ():
        prediction = re.sub(pattern, "", prediction)
        reference = re.sub(pattern, "", reference)
    if ignore_case:
        prediction, reference = prediction.lower(), reference.lower()
    if ignore_punctuation:
        prediction, reference = prediction.translate(_PUNCTUATION_TABLE), reference.translate(_PUNCTUATION_TABLE)
    if ignore_numbers:
        digits = str.maketrans("", "", string.digits)
        prediction, reference = prediction.translate(digits), reference.translate(digits)
    # numpy's fixed-width strings, which the reference compares, drop trailing NUL characters.
    return float(prediction.rstrip("\x00") == reference.rstrip("\x00"))


EXACT_MATCH_OPTIONS = ("ignore_case", "ignore_punctuation", "ignore_numbers", "regexes_to_ignore")


def exact_match_options(spec: dict) -> dict:
    """The keyword options of an lm-eval ``metric_list`` entry for exact_match."""
    if spec.get("metric") != "exact_match":
        raise FilterError(f"only lm-eval's exact_match is reproduced, not {spec.get('metric')!r}")
    unknown = set(spec) - {"metric", "aggregation", "higher_is_better", *EXACT_MATCH_OPTIONS}
    if unknown:
        raise FilterError(f"exact_match: unknown options {sorted(unknown)}")
    return {k: spec[k] for k in EXACT_MATCH_OPTIONS if k in spec}
