"""The leaderboard table: ranks and averages only across rows that can be compared.

A table is computed for one benchmark set (a suite of data/suites, or one task). A row covers a task
when it has a score for it (and, under a language filter, for every selected language the task has).
Only rows covering every task of the set get an average and a rank; the others show their coverage
("2/5 tasks"). Rows of different sources (evaluated here, reported in papers, imported) are ranked
apart unless merged. Reference rows (human performance, translate-test baselines) are shown at
their average as marked lines, never ranked. ``compute_table`` is the pure part; ``leaderboard_table``
gathers its inputs from the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

import numpy as np
import pandas as pd

from evaluator.cards import all_cards, all_suites
from evaluator.errors import PolyglotError
from evaluator.stats import Z95

from . import views
from .filters import restricting
from .reported import is_reference
from .stats import rank_with_ties

ENTRY = views.ENTRY
# Display names of tasks whose titles do not shorten well, and of reported tasks without a card.
SHORT_NAMES = {
    "polyglot_mc": "Starter MC", "polyglot_qa": "Starter QA", "polyglot_translate": "Starter translation",
    "polyglot_instruct": "Starter instructions", "polyglot_alignment": "Starter alignment",
    "xnli": "XNLI", "pawsx": "PAWS-X", "xstory_cloze": "XStoryCloze", "xwinograd": "XWinograd",
    "multiloko_test": "MultiLoKo (test)", "global_mmlu_lite": "Global-MMLU-Lite", "flores_translate": "FLORES+",
}
# Titles of reported tasks without a card (for tooltips).
REPORTED_TITLES = {
    "xnli": "XNLI: natural language inference", "pawsx": "PAWS-X: paraphrase identification",
    "xstory_cloze": "XStoryCloze: story endings", "xwinograd": "XWinograd: coreference",
    "multiloko_test": "MultiLoKo: local knowledge, blind test split",
}
# Score of random guessing, where the format fixes it (number of choices).
CHANCE = {"xcopa": 0.5, "xnli": 1 / 3, "pawsx": 0.5, "xstory_cloze": 0.5, "xwinograd": 0.5, "belebele": 0.25,
          "global_mmlu": 0.25, "global_mmlu_lite": 0.25}


def chance_of(tasks) -> float | None:
    """The chance level of a view over ``tasks``: that of the task when there is exactly one. A mean over
    several tasks has no single chance level (each language and model may cover different tasks), so none."""
    tasks = tuple(tasks or ())
    return CHANCE.get(tasks[0]) if len(tasks) == 1 else None


# Sources in the order their groups are shown.
SOURCE_ORDER = {"evaluated": 0, "imported": 1, "reported": 2}
STATUS_ORDER = {"ranked": 0, "reference": 0, "partial": 1, "no results": 2}
COLUMNS = ["rank", "status", "group", "model", "source", "average", "ci_low", "ci_high", "coverage", "n_covered",
           "n_tasks", "n_languages", "parity_gap", "flag"]
TRAILING = ["revision", "precision", "params_b", "size", "date", "hub_url"]
# Sort keys besides the task columns: column -> ascending?
SORT_KEYS = {"rank": True, "average": False, "model": True, "coverage": False, "languages": False,
             "parity gap": True, "params": False, "date": False}


class TableError(PolyglotError, ValueError):
    """A table that cannot be computed as asked (an unknown benchmark set or sort key)."""


@dataclass(frozen=True)
class BenchmarkSet:
    id: str  # "suite:<id>" or "task:<id>"
    title: str
    tasks: tuple[str, ...]

    @property
    def label(self) -> str:
        n = len(self.tasks)
        return f"{self.title} ({n} tasks)" if self.id.startswith("suite:") else f"Task: {self.title}"


@dataclass(frozen=True)
class TableSpec:
    """How the table is asked for; ``benchmark`` "" is the store's default set, ``sort`` "" is by rank."""

    benchmark: str = ""
    merge_sources: bool = False
    include_empty: bool = False
    sort: str = ""

    def key(self) -> tuple:
        return tuple(getattr(self, f.name) for f in fields(self))


@dataclass(frozen=True)
class TaskHeader:
    task: str
    name: str
    tooltip: str


@dataclass
class LeaderboardTable:
    rows: pd.DataFrame  # COLUMNS + the set's task ids + TRAILING; scores are fractions
    benchmark: BenchmarkSet
    headers: list[TaskHeader]
    message: str = ""  # why the table is empty and how to widen it ("" when it has rows)
    sets: list[BenchmarkSet] = field(default_factory=list)

    @property
    def tasks(self) -> list[str]:
        return [h.task for h in self.headers]

    def summary(self) -> str:
        r = self.rows
        if r.empty:
            return "0 model entries. " + self.message
        counts = r["status"].value_counts().to_dict()
        parts = [f"{len(r)} model entries on {self.benchmark.title}", f"{counts.get('ranked', 0)} ranked"]
        if counts.get("partial"):
            parts.append(f"{counts['partial']} partial (not ranked)")
        if counts.get("reference"):
            parts.append(f"{counts['reference']} reference")
        if counts.get("no results"):
            parts.append(f"{counts['no results']} without results")
        return ", ".join(parts)


def short_name(task: str) -> str:
    if task in SHORT_NAMES:
        return SHORT_NAMES[task]
    card = all_cards().get(task)
    return card.title.split(":")[0].strip() if card else task


def task_title(task: str) -> str:
    card = all_cards().get(task)
    return card.title if card else REPORTED_TITLES.get(task, task)


def header_for(task: str, n_languages: int | None = None, citation: str = "") -> TaskHeader:
    """Display name and tooltip: metric, chance level, number of languages, source."""
    card = all_cards().get(task)
    metric = card.metric if card else ""
    chance = CHANCE.get(task)
    langs = len(card.languages) if card else None
    parts = [task_title(task)]
    if metric:
        parts.append(f"metric: {metric}")
    parts.append(f"chance: {100 * chance:.1f}%" if chance is not None else "chance: none (open answers)")
    if langs or n_languages:
        parts.append(f"languages: {n_languages if n_languages else langs}" + (f" of {langs}" if langs and n_languages
                                                                               and n_languages != langs else ""))
    source = citation or (card.source.citation if card else "")
    if source:
        parts.append(f"source: {source}")
    return TaskHeader(task, short_name(task), " · ".join(parts))


def benchmark_sets(tasks_present) -> list[BenchmarkSet]:
    """Suites with at least one task present, then every present task on its own."""
    present = set(tasks_present)
    sets = [BenchmarkSet(f"suite:{s.id}", s.title, tuple(s.tasks)) for s in all_suites().values()
            if present & set(s.tasks)]
    sets += [BenchmarkSet(f"task:{t}", task_title(t), (t,)) for t in sorted(present)]
    return sets


def _covered(per_task: pd.DataFrame, tasks: tuple, targets: dict | None) -> pd.Series:
    """Whether each (entry, task) row counts as covering its task."""
    ok = per_task["task"].isin(tasks) & per_task["score"].notna()
    if targets is not None:
        need = per_task["task"].map(targets).fillna(0)
        ok &= per_task["n_languages"].fillna(0) >= need
    return ok


def default_set(per_task: pd.DataFrame, sets: list[BenchmarkSet], targets: dict | None = None) -> BenchmarkSet | None:
    """The set that compares most: one evaluated rows complete first, then most (complete rows x tasks),
    then most tasks (a suite over one of its tasks)."""
    if not sets:
        return None
    covered = per_task[_covered(per_task, tuple(per_task["task"].unique()), targets)]
    # entry x task grid of covered cells, built from integer codes (this runs on every uncached view).
    entry_codes, entries = pd.factorize(pd.MultiIndex.from_frame(covered[ENTRY].fillna("")))
    task_codes, task_ids = pd.factorize(covered["task"])
    grid = np.zeros((len(entries), len(task_ids)), bool)
    grid[entry_codes, task_codes] = True
    column = {t: i for i, t in enumerate(task_ids)}
    evaluated = np.array([k[3] == "evaluated" for k in entries], bool)
    best, best_key = sets[0], None
    for s in sets:
        if all(t in column for t in s.tasks):
            complete = grid[:, [column[t] for t in s.tasks]].all(axis=1)
        else:
            complete = np.zeros(len(entries), bool)
        key = (bool((complete & evaluated).any()), int(complete.sum()) * len(s.tasks), len(s.tasks))
        if best_key is None or key > best_key:
            best, best_key = s, key
    return best


def compute_table(per_task: pd.DataFrame, bench: BenchmarkSet, *, targets: dict | None = None,
                  entries: pd.DataFrame | None = None, languages: pd.DataFrame | None = None,
                  meta: pd.DataFrame | None = None, skipped: dict | None = None, reference=is_reference,
                  merge_sources: bool = False, sort: str = "") -> pd.DataFrame:
    """The table for one benchmark set, from per-(entry, task) scores (``views.task_scores``).

    targets: task -> languages a row needs (under a language filter); entries: extra model entries to
    list without results; languages: entry -> n_languages; meta: model -> hub_id, params_b, size;
    skipped: entry -> {task: why} of its runs; reference: model name -> is a reference row."""
    tasks = list(bench.tasks)
    per = per_task[per_task["task"].isin(tasks)].copy()
    per["covered"] = _covered(per, bench.tasks, targets)
    wide = per.groupby(ENTRY + ["task"], dropna=False)["score"].first().unstack("task").reindex(columns=tasks)
    cov = per[per["covered"]].drop_duplicates(ENTRY + ["task"])
    cov = cov.assign(se2=cov["se"].astype(float) ** 2, has_se=cov["se"].notna().astype(int),
                     date=pd.to_datetime(cov["date"], utc=True, errors="coerce"),
                     score=cov["score"].astype(float), gap=cov["gap"].astype(float))
    g = cov.groupby(ENTRY, dropna=False)  # built-in aggregations only: they stay vectorised
    summary = g.agg(n_covered=("task", "size"), mean=("score", "mean"), parity_gap=("gap", "mean"),
                    date=("date", "max"), se2=("se2", "sum"), with_se=("has_se", "sum"))
    table = wide.join(summary, how="left").reset_index()
    if entries is not None and len(entries):
        table = entries[ENTRY].drop_duplicates().merge(table, on=ENTRY, how="left")
    table = table.drop(columns=[c for c in ("mean",) if c not in table]) if table.empty else table
    for c in ("n_covered", "with_se"):
        table[c] = table[c].fillna(0).astype(int) if c in table else 0
    n = len(tasks)
    complete = table["n_covered"] == n
    is_ref = np.array([bool(reference(m)) for m in table["model"]], dtype=bool)
    reported = (table["source"] == "reported").to_numpy(dtype=bool)
    any_task = table[tasks].notna().any(axis=1).to_numpy(dtype=bool) if tasks else np.zeros(len(table), bool)
    table["status"] = np.select([is_ref & reported, complete.to_numpy(dtype=bool), any_task],
                                ["reference", "ranked", "partial"], "no results") if len(table) else []
    # An average exists only over the whole set; its interval only when every task has one.
    table["average"] = np.where(complete, table.get("mean"), np.nan).astype(float)
    se = np.where(complete & (table["with_se"] == n), np.sqrt(table.get("se2", 0).astype(float)) / max(n, 1), np.nan)
    table["ci_low"] = table["average"] - Z95 * se
    table["ci_high"] = table["average"] + Z95 * se
    table["parity_gap"] = np.where(complete, table.get("parity_gap"), np.nan).astype(float)
    table["n_tasks"] = n
    table["coverage"] = [f"{k}/{n} tasks" for k in table["n_covered"]]
    table["group"] = "all sources" if merge_sources else table["source"]
    table["rank"] = pd.array([pd.NA] * len(table), dtype="Int64")
    for idx in table[table["status"] == "ranked"].groupby("group").groups.values():
        sub = table.loc[idx]
        lo = sub["ci_low"].fillna(sub["average"]).to_numpy(float)
        hi = sub["ci_high"].fillna(sub["average"]).to_numpy(float)
        table.loc[idx, "rank"] = rank_with_ties(lo, hi)
    table = _with_context(table, languages, meta, skipped, tasks)
    table = _sorted(table, sort, tasks, merge_sources)
    return table[COLUMNS + tasks + TRAILING].reset_index(drop=True)


def _with_context(table, languages, meta, skipped, tasks) -> pd.DataFrame:
    if languages is not None and len(languages):
        table = table.merge(languages[ENTRY + ["n_languages"]], on=ENTRY, how="left")
    else:
        table["n_languages"] = np.nan
    table["n_languages"] = table["n_languages"].fillna(0).astype(int)
    if meta is not None and len(meta):
        table = table.merge(meta[["model", "hub_id", "params_b", "size"]], on="model", how="left")
    else:
        table["hub_id"], table["params_b"], table["size"] = None, np.nan, None
    table["size"] = table["size"].fillna("unknown")
    table["hub_url"] = [views.hub_url(m, h if isinstance(h, str) else None) for m, h in zip(table["model"], table["hub_id"])]
    table["flag"] = [skip_flag((skipped or {}).get(tuple(k)), tasks)
                     for k in table[ENTRY].itertuples(index=False, name=None)]
    return table


def skip_flag(skipped: dict | None, tasks) -> str:
    """"3 tasks skipped: a, b, c (why)" for the tasks of the set a row's runs skipped."""
    if not skipped:
        return ""
    here = {t: why for t, why in skipped.items() if t in tasks}
    if not here:
        return ""
    by_reason: dict[str, list[str]] = {}
    for t, why in here.items():
        by_reason.setdefault(str(why), []).append(short_name(t))
    reasons = "; ".join(f"{', '.join(ts)}: {why}" for why, ts in by_reason.items())
    return f"{len(here)} task{'s' if len(here) > 1 else ''} skipped ({reasons})"


def sort_columns(tasks) -> dict[str, bool]:
    return {**SORT_KEYS, **{t: False for t in tasks}}


def _sorted(table: pd.DataFrame, sort: str, tasks, merged: bool) -> pd.DataFrame:
    keys = sort_columns(tasks)
    if sort and sort not in keys:
        raise TableError(f"cannot sort by {sort!r}; one of: {', '.join(keys)}")
    # The default order: each source's group, its ranked and reference rows by average, then partial
    # rows by coverage, then rows without results.
    table = table.assign(_g=0 if merged else table["source"].map(SOURCE_ORDER).fillna(9),
                         _s=table["status"].map(STATUS_ORDER), _sort_model=table["model"].str.lower())
    order = ["_g", "_s", "average", "n_covered", "_sort_model"]
    asc = [True, True, False, False, True]
    table = table.sort_values(order, ascending=asc, na_position="last", kind="mergesort")
    if sort and sort != "rank":
        column = {"languages": "n_languages", "parity gap": "parity_gap", "params": "params_b",
                  "coverage": "n_covered", "model": "_sort_model"}.get(sort, sort)
        table = table.sort_values(column, ascending=keys[sort], na_position="last", kind="mergesort")
    return table.drop(columns=["_g", "_s", "_sort_model"])


# -- from the store (the queries: explorer.views) ------------------------------------------------

def leaderboard_table(store, f: views.Filters | None = None, spec: TableSpec | None = None) -> LeaderboardTable:
    f, spec = f or views.Filters(), spec or TableSpec()
    return store.cached(("leaderboard_table", f.key(), spec.key()), lambda: _leaderboard_table(store, f, spec))


def _leaderboard_table(store, f: views.Filters, spec: TableSpec) -> LeaderboardTable:
    # The set decides the tasks: the task filter only narrows which sets are offered.
    base = replace(f, tasks=())
    per_task = views.task_scores(store, base)
    present = sorted(set(per_task["task"])) if len(per_task) else []
    offered = [t for t in present if not f.tasks or t in f.tasks]
    sets = benchmark_sets(offered) if f.tasks else benchmark_sets(present)
    if f.tasks:
        sets = [s for s in sets if set(s.tasks) & set(f.tasks)]
    targets_all = views.language_targets(store, f, present)
    if spec.benchmark:
        bench = next((s for s in sets if s.id == spec.benchmark), None)
        if bench is None:
            bench = _named_set(spec.benchmark)
    else:
        bench = default_set(per_task, sets, targets_all)
    if bench is None:
        empty = pd.DataFrame(columns=COLUMNS + TRAILING)
        return LeaderboardTable(empty, BenchmarkSet("", "no benchmark", ()), [], _why_empty(f, None), sets)
    entries = views.model_entries(store, f) if spec.include_empty else None
    langs = views._entry_languages(store, replace(f, tasks=bench.tasks))
    rows = compute_table(per_task, bench, targets=targets_all, entries=entries, languages=langs,
                         meta=views.model_meta(store), skipped=views.skipped_tasks(store),
                         merge_sources=spec.merge_sources, sort=spec.sort)
    if not spec.include_empty:
        rows = rows[rows["status"] != "no results"].reset_index(drop=True)
    n_lang = per_task[per_task["task"].isin(bench.tasks)].groupby("task")["n_languages"].max().to_dict()
    cites = views.reported_citations(store, bench.tasks)
    headers = [header_for(t, int(n_lang[t]) if t in n_lang and pd.notna(n_lang[t]) else None, cites.get(t, ""))
               for t in bench.tasks]
    return LeaderboardTable(rows, bench, headers, "" if len(rows) else _why_empty(f, bench), sets)


def _named_set(set_id: str) -> BenchmarkSet:
    kind, _, name = set_id.partition(":")
    if kind == "suite" and name in all_suites():
        s = all_suites()[name]
        return BenchmarkSet(set_id, s.title, tuple(s.tasks))
    if kind == "task" and (name in all_cards() or name in REPORTED_TITLES):
        return BenchmarkSet(set_id, task_title(name), (name,))
    raise TableError(f"unknown benchmark set {set_id!r}: use suite:<id> (one of {', '.join(all_suites())}) or task:<id>")


def _why_empty(f: views.Filters, bench: BenchmarkSet | None) -> str:
    """Why nothing matched, and which filters to widen."""
    active = restricting(f)
    where = f" on {bench.title}" if bench else ""
    if not active:
        return f"No model has results{where} yet. Choose another benchmark set, or submit a model."
    return (f"No model has results{where} for " + "; ".join(active) + ". Widen or clear these filters, "
            "choose another benchmark set, or tick “Include models without results”.")
