"""Views: pure functions from filters to tables, over the results store.

Each returns a pandas DataFrame: the rows the UI shows, the API returns and the downloads contain.
User input reaches SQL only as bound parameters. Results are cached per store version, so a view
asked twice between two result updates is computed once.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace

import duckdb
import numpy as np
import pandas as pd

from evaluator.errors import PolyglotError
from evaluator.scope import ALL
from evaluator.results import RunInfo
from evaluator.stats import Z95

from .filters import FILTERS, SIZE_BUCKETS, SIZE_SQL, SOURCES, TIERS, Filters
from .formatting import HUB_REPO

from .stats import holm, mcnemar_exact, paired_bootstrap_p, rank_with_ties
from .store import CELL_AGGREGATE

ENTRY = ["model", "revision", "precision", "source"]


class SamplesUnavailable(PolyglotError, ValueError):
    """Per-sample rows that cannot be read; the message says which and why (scores are unaffected)."""


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _in(column: str, values, clauses: list, args: list) -> None:
    if values:
        clauses.append(f"{column} IN ({','.join('?' * len(values))})")
        args.extend(values)


def resolved_languages(store, f: Filters) -> tuple | None:
    """The language codes the filters allow (None: all)."""
    if not f.language_filtered:
        return None

    def compute():
        clauses, args = [], []
        for spec in FILTERS:
            if spec.level == "language":
                _in(spec.column, getattr(f, spec.name), clauses, args)
        codes = store.query(f"SELECT code FROM languages WHERE {' AND '.join(clauses)}", args)["code"].tolist()
        # Codes outside the table (a benchmark's own) still match when asked for by name.
        narrowed = replace(f, languages=()).language_filtered
        extra = [c for c in f.languages if c not in codes and not narrowed]
        return tuple(codes + extra)

    return store.cached(("languages", f.key()), compute)


def where(store, f: Filters, alias: str = "s", entry_only: bool = False) -> tuple[str, list]:
    """SQL conditions (with their parameters) for a score table aliased ``alias``."""
    p = f"{alias}."
    clauses, args = [], []
    for spec in FILTERS:
        values = getattr(f, spec.name)
        if not values or spec.level not in ("entry", "cell") or (entry_only and spec.level != "entry"):
            continue
        if spec.match == "in":
            _in(f"{p}{spec.column}", values, clauses, args)
        elif spec.match == "search":
            terms = [t.strip() for t in values.split(";") if t.strip()]
            if terms:
                clauses.append("(" + " OR ".join(f"{p}model ILIKE ? ESCAPE '\\'" for _ in terms) + ")")
                args.extend(f"%{_escape_like(t)}%" for t in terms)
        elif spec.match == "size":
            sized = f"{p}model IN (SELECT model FROM model_sizes WHERE size IN ({','.join('?' * len(values))}))"
            clauses.append(sized if "unknown" not in values else
                           f"({sized} OR {p}model NOT IN (SELECT model FROM model_sizes))")
            args.extend(values)
        else:
            raise ValueError(f"filter {spec.name}: no SQL for match {spec.match!r}")
    if not entry_only:
        langs = resolved_languages(store, f)
        if langs is not None:
            if not langs:
                clauses.append("FALSE")
            else:
                _in(f"{p}language", langs, clauses, args)
    return (" AND ".join(clauses) or "TRUE"), args


def _table(f: Filters) -> str:
    return "lang_scores" if f.category == ALL else "cat_scores"


def hub_url(model: str, hub_id: str | None = None) -> str | None:
    """The model's own Hub page, only for a well-formed ORG/NAME repository id (never a URL or a path)."""
    target = hub_id or model
    if not isinstance(target, str) or not HUB_REPO.fullmatch(target):
        return None
    return f"https://huggingface.co/{target}"


# -- leaderboard ------------------------------------------------------------------------------

def task_scores(store, f: Filters) -> pd.DataFrame:
    """One row per (model entry, task): mean over the selected languages, its standard error, gap."""
    def compute():
        if not f.language_filtered and f.category == ALL:
            w, args = where(store, f, "s")
            return store.query(f"SELECT s.* FROM task_scores s WHERE {w}", args)
        if f.category == ALL:
            langs = resolved_languages(store, f)
            if not langs:
                return store.query("SELECT * FROM task_scores WHERE FALSE")
            entry_w, entry_args = where(store, f.entry_part, "e", entry_only=True)
            task_w, task_args = [], []
            _in("t.task", f.tasks, task_w, task_args)
            _in("t.kind", f.kinds, task_w, task_args)
            return store.query(
                f"""SELECT e.model, e.revision, e.precision, e.source, t.task, t.kind, c.score, c.se, c.n_languages,
                           c.gap, c.n_items, c.date
                    FROM ({CELL_AGGREGATE} FROM cells WHERE language IN ({','.join('?' * len(langs))})
                          GROUP BY entry_id, task_id) c
                    JOIN entries e USING (entry_id) JOIN task_ids t USING (task_id)
                    WHERE {entry_w} {"AND " + " AND ".join(task_w) if task_w else ""}""",
                [*langs, *entry_args, *task_args],
            )
        w, args = where(store, f, "s")
        cat = [] if f.category == ALL else [f.category]
        return store.query(
            f"""SELECT s.model, s.revision, s.precision, s.source, s.task, any_value(s.kind) AS kind,
                       coalesce(avg(s.value) FILTER (WHERE s.language <> '{ALL}'),
                                any_value(s.value) FILTER (WHERE s.language = '{ALL}')) AS score,
                       sqrt(sum(power((s.ci_high - s.ci_low) / {2 * Z95}, 2))) / count(*) AS se,
                       count(*) FILTER (WHERE s.language <> '{ALL}') AS n_languages,
                       CASE WHEN count(*) FILTER (WHERE s.language <> '{ALL}') > 1 THEN
                            max(s.value) FILTER (WHERE s.language <> '{ALL}')
                            - min(s.value) FILTER (WHERE s.language <> '{ALL}') END AS gap,
                       sum(s.n_items) AS n_items, max(s.created_at) AS date
                FROM {_table(f)} s WHERE s.higher_is_better AND {w} {"AND s.category = ?" if cat else ""}
                GROUP BY ALL""",
            args + cat,
        )

    return store.cached(("task_scores", f.key()), compute)


def _entry_languages(store, f: Filters) -> pd.DataFrame:
    if f.category == ALL and not f.tasks and not f.kinds:
        w, args = where(store, f, "s")
        return store.query(f"SELECT model, revision, precision, source, count(*) AS n_languages "
                           f"FROM entry_lang_scores s WHERE {w} GROUP BY ALL", args)
    w, args = where(store, f, "s")
    cat = [] if f.category == ALL else [f.category]
    return store.query(
        f"""SELECT s.model, s.revision, s.precision, s.source, count(DISTINCT s.language) AS n_languages
            FROM {_table(f)} s WHERE s.higher_is_better AND s.language <> '{ALL}' AND {w}
            {"AND s.category = ?" if cat else ""} GROUP BY ALL""",
        args + cat,
    )


def model_entries(store, f: Filters) -> pd.DataFrame:
    """Every model entry (model, revision, precision, source) the entry filters allow, results or not."""
    w, args = where(store, f.entry_part, "s", True)
    return store.query(f"SELECT DISTINCT model, revision, precision, source FROM task_scores s WHERE {w}", args)


def model_meta(store) -> pd.DataFrame:
    """Per model: its Hub id, parameters (billions) and size bucket."""
    return store.query(f"SELECT model, hub_id, params_b, {SIZE_SQL} AS size FROM models")


def language_targets(store, f: Filters, tasks) -> dict | None:
    """Under a language filter: per task, how many of the selected languages it has in the store."""
    if not f.language_filtered:
        return None
    w, args = where(store, replace(f.keeping("language"), tasks=tuple(tasks)), "s")
    df = store.query(f"""SELECT s.task, count(DISTINCT s.language) AS n FROM lang_scores s
                         WHERE s.higher_is_better AND s.language <> '{ALL}' AND {w} GROUP BY ALL""", args)
    return dict(zip(df["task"], df["n"]))


def skipped_tasks(store) -> dict:
    """(model, revision, precision, source) -> {task: why} over the entry's runs (a later run that
    evaluated a task clears its skip)."""
    def compute():
        runs = store.query("SELECT model, revision, precision, tasks, skipped FROM runs ORDER BY finished_at")
        out: dict = {}
        for r in runs.itertuples():
            key = (r.model, r.revision, r.precision, "evaluated")
            d = out.setdefault(key, {})
            for t in json.loads(r.tasks or "[]"):
                d.pop(t, None)
            d.update(json.loads(r.skipped or "{}"))
        return out

    return store.cached(("skipped_tasks",), compute)


def reported_citations(store, tasks) -> dict:
    """task -> the citation of its reported figures."""
    df = store.query("SELECT task, any_value(citation) AS citation FROM lang_scores "
                     "WHERE source = 'reported' AND task IN (SELECT unnest(?)) GROUP BY task", [list(tasks)])
    return dict(zip(df["task"], df["citation"]))


LEADERBOARD_FIXED = ["rank", "model", "source", "average", "ci_low", "ci_high", "n_tasks", "n_languages", "parity_gap"]
LEADERBOARD_TRAILING = ["revision", "precision", "params_b", "size", "date", "hub_url"]


def leaderboard(store, f: Filters | None = None, include_empty: bool = False) -> pd.DataFrame:
    """One row per model entry: rank (ties where intervals overlap), mean with 95% interval,
    per-task scores, languages covered, parity gap. Missing results stay missing (NaN)."""
    f = f or Filters()
    return store.cached(("leaderboard", f.key(), include_empty), lambda: _leaderboard(store, f, include_empty))


def _leaderboard(store, f: Filters, include_empty: bool) -> pd.DataFrame:
    per_task = task_scores(store, f)
    if per_task.empty and not include_empty:
        return pd.DataFrame(columns=LEADERBOARD_FIXED + LEADERBOARD_TRAILING)
    wide = per_task.pivot(index=ENTRY, columns="task", values="score")
    tasks = sorted(wide.columns)
    per_task = per_task.assign(se2=per_task["se"] ** 2, has_se=per_task["se"].notna())
    g = per_task.groupby(ENTRY, dropna=False)
    summary = g.agg(average=("score", "mean"), n_tasks=("task", "nunique"), parity_gap=("gap", "mean"),
                    date=("date", "max"), se2=("se2", "sum"), with_se=("has_se", "sum"))
    # Standard error of a mean of independent task means; unknown if any task has no interval.
    summary["se"] = np.where(summary["with_se"] == summary["n_tasks"], np.sqrt(summary["se2"]) / summary["n_tasks"], np.nan)
    summary = summary.drop(columns=["se2", "with_se"])
    table = summary.join(wide, how="left").reset_index()
    if include_empty:
        table = model_entries(store, f).merge(table, on=ENTRY, how="left")
        table["n_tasks"] = table["n_tasks"].fillna(0).astype(int)
    table = table.merge(_entry_languages(store, f), on=ENTRY, how="left")
    table["n_languages"] = table["n_languages"].fillna(0).astype(int)
    table = table.merge(model_meta(store), on="model", how="left")
    table["size"] = table["size"].fillna("unknown")
    table["ci_low"] = table["average"] - Z95 * table["se"]
    table["ci_high"] = table["average"] + Z95 * table["se"]
    lo = table["ci_low"].fillna(table["average"]).to_numpy()
    hi = table["ci_high"].fillna(table["average"]).to_numpy()
    table["rank"] = rank_with_ties(np.nan_to_num(lo, nan=-np.inf), np.nan_to_num(hi, nan=-np.inf))
    table["hub_url"] = [hub_url(m, h if isinstance(h, str) else None) for m, h in zip(table["model"], table["hub_id"])]
    table = table.sort_values(["rank", "average", "model"], ascending=[True, False, True], na_position="last")
    return table[LEADERBOARD_FIXED + tasks + LEADERBOARD_TRAILING].reset_index(drop=True)


# -- languages --------------------------------------------------------------------------------

def _default_models(store, f: Filters, n: int = 10) -> tuple:
    if f.models:
        return f.models
    # The best on these tasks, whatever the language and category filters.
    lb = leaderboard(store, replace(f.keeping("entry", "cell"), models=()))
    return tuple(lb["model"].head(n))


def per_language(store, f: Filters) -> pd.DataFrame:
    """Model × language: mean over the selected tasks, 95% interval, language name, script, family, tier.
    Without chosen models, the ten best of the leaderboard."""
    f = replace(f, models=_default_models(store, f))

    def compute():
        w, args = where(store, f, "s")
        if _by_language_only(f):
            return store.query(
                f"""SELECT s.model, s.source, s.language, coalesce(l.name, s.language) AS language_name,
                           l.script, l.family, l.tier, s.score, s.ci_low, s.ci_high, s.n_tasks, s.n_items
                    FROM entry_lang_scores s LEFT JOIN languages l ON l.code = s.language
                    WHERE {w} ORDER BY s.model, language_name""",
                args,
            )
        cat = [] if f.category == ALL else [f.category]
        return store.query(
            f"""SELECT s.model, s.source, s.language, coalesce(l.name, s.language) AS language_name,
                       l.script, l.family, l.tier, avg(s.value) AS score,
                       CASE WHEN count(*) = 1 THEN min(s.ci_low) ELSE avg(s.value)
                            - {Z95} * sqrt(sum(power((s.ci_high - s.ci_low) / {2 * Z95}, 2))) / count(*) END AS ci_low,
                       CASE WHEN count(*) = 1 THEN min(s.ci_high) ELSE avg(s.value)
                            + {Z95} * sqrt(sum(power((s.ci_high - s.ci_low) / {2 * Z95}, 2))) / count(*) END AS ci_high,
                       count(DISTINCT s.task) AS n_tasks, sum(s.n_items) AS n_items
                FROM {_table(f)} s LEFT JOIN languages l ON l.code = s.language
                WHERE s.higher_is_better AND s.language <> '{ALL}' AND {w} {"AND s.category = ?" if cat else ""}
                GROUP BY ALL ORDER BY s.model, language_name""",
            args + cat,
        )

    return store.cached(("per_language", f.key()), compute)


def _by_language_only(f: Filters) -> bool:
    """True when the per-language means over all tasks (a materialised table) answer the view."""
    return not f.tasks and not f.kinds and f.category == ALL


def language_difficulty(store, f: Filters) -> pd.DataFrame:
    """Languages ranked by difficulty, hardest first: the mean score of the selected models on the (task,
    language) cells they share. A cell counts only when at least half of the models evaluated on that task
    (and at least two, where the selection has two) cover the language, so a language that only one
    model was run on (a random tiny model, say) is not ranked on that model's score alone. Without chosen
    models, the ten best of the leaderboard, as in the other views (over a thousand models the cells
    are millions of rows: seconds per filter change)."""
    f = replace(f, models=_default_models(store, f))

    def compute():
        w, args = where(store, f, "s")
        cat = [] if f.category == ALL else [f.category]
        return store.query(
            f"""WITH cells AS (
                    SELECT s.model, s.task, s.language, avg(s.value) AS v FROM {_table(f)} s
                    WHERE s.higher_is_better AND s.language <> '{ALL}' AND {w}
                          {"AND s.category = ?" if cat else ""}
                    GROUP BY ALL),
                task_models AS (SELECT task, count(DISTINCT model) AS n FROM cells GROUP BY task),
                shared AS (
                    SELECT c.task, c.language FROM cells c JOIN task_models t USING (task)
                    GROUP BY c.task, c.language, t.n
                    HAVING 2 * count(DISTINCT c.model) >= t.n
                       AND count(DISTINCT c.model) >= least(2, (SELECT count(DISTINCT model) FROM cells)))
                SELECT c.language, coalesce(l.name, c.language) AS language_name, l.script, l.family, l.tier,
                       avg(c.v) AS mean_score, stddev_pop(c.v) AS spread, count(DISTINCT c.model) AS n_models,
                       count(DISTINCT c.task) AS n_tasks, string_agg(DISTINCT c.task, ', ' ORDER BY c.task) AS tasks
                FROM cells c JOIN shared USING (task, language) LEFT JOIN languages l ON l.code = c.language
                GROUP BY ALL ORDER BY mean_score ASC, language_name""",
            args + cat,
        )

    return store.cached(("difficulty", f.key()), compute)


# -- categories -------------------------------------------------------------------------------

def per_category(store, f: Filters) -> pd.DataFrame:
    """Scores per category (idiom, pun, holiday, concept, CS/CA, turn, ...) and language."""
    f = replace(f, models=_default_models(store, f))

    def compute():
        w, args = where(store, f, "s")
        return store.query(
            f"""SELECT s.model, s.source, s.task, s.category, s.language, s.metric, s.value AS score, s.n_items,
                       s.ci_low, s.ci_high
                FROM cat_scores s WHERE s."primary" AND {w} ORDER BY s.model, s.task, s.category, s.language""",
            args,
        )

    return store.cached(("per_category", f.key()), compute)


def category_summary(store, f: Filters) -> pd.DataFrame:
    """Per model, task and category: the mean over languages."""
    cats = per_category(store, f)
    if cats.empty:
        return pd.DataFrame(columns=["model", "source", "task", "category", "score", "n_languages", "n_items"])
    return (cats.groupby(["model", "source", "task", "category"], as_index=False)
            .agg(score=("score", "mean"), n_languages=("language", "nunique"), n_items=("n_items", "sum")))


# -- parity -----------------------------------------------------------------------------------

# Then one column per category difference of the task cards (category_difference_columns).
PARITY_COLUMNS = ["model", "source", "mean", "best_language", "best", "worst_language", "worst", "gap", "spread",
                  "worst_best_ratio", "n_languages"]


def parity(store, f: Filters) -> pd.DataFrame:
    """Per model: best and worst language, gap, spread (std), worst/best ratio, mean, and the category
    differences of the task cards (MultiLoKo's mother-tongue effect) where the data allows. A small gap
    with a low mean is not parity: both shown."""
    def compute():
        w, args = where(store, f, "s")
        cat = [] if f.category == ALL else [f.category]
        if _by_language_only(f):
            per_lang = f"SELECT s.model, s.source, s.language, s.score AS v FROM entry_lang_scores s WHERE {w}"
            params = args
        else:
            per_lang = f"""SELECT s.model, s.source, s.language, avg(s.value) AS v FROM {_table(f)} s
                           WHERE s.higher_is_better AND s.language <> '{ALL}' AND {w}
                           {"AND s.category = ?" if cat else ""} GROUP BY ALL"""
            params = args + cat
        table = store.query(
            f"""WITH per_lang AS ({per_lang})
                SELECT p.model, p.source, avg(p.v) AS mean,
                       arg_max(coalesce(l.name, p.language), p.v) AS best_language, max(p.v) AS best,
                       arg_min(coalesce(l.name, p.language), p.v) AS worst_language, min(p.v) AS worst,
                       max(p.v) - min(p.v) AS gap, stddev_pop(p.v) AS spread,
                       CASE WHEN max(p.v) > 0 THEN min(p.v) / max(p.v) END AS worst_best_ratio,
                       count(*) AS n_languages
                FROM per_lang p LEFT JOIN languages l ON l.code = p.language
                GROUP BY p.model, p.source ORDER BY mean DESC""",
            params,
        )
        table = table.merge(category_differences(store, f), on=["model", "source"], how="left")
        return table[PARITY_COLUMNS + category_difference_columns()]

    return store.cached(("parity", f.key()), compute)


def category_differences(store, f: Filters) -> pd.DataFrame:
    """Per model, the difference of two categories each task card declares (``category_difference``:
    MultiLoKo's mother-tongue effect is local questions minus their English translation), mean over
    languages. Evaluated runs give it from their per-category scores; reported figures carry it directly."""
    from evaluator.cards import all_cards

    w, args = where(store, f.entry_part, "s", True)
    out = pd.DataFrame(columns=["model", "source"])
    for card in all_cards().values():
        d = card.category_difference
        if d is None:
            continue
        evaluated = store.query(
            f"""WITH c AS (
                    SELECT s.model, s.source, s.language,
                           any_value(s.value) FILTER (WHERE s.category = ?) AS minuend,
                           any_value(s.value) FILTER (WHERE s.category = ?) AS subtrahend
                    FROM cat_scores s WHERE s.task = ? AND {w} GROUP BY ALL)
                SELECT model, source, avg(minuend - subtrahend) AS "{d.name}" FROM c
                WHERE minuend IS NOT NULL AND subtrahend IS NOT NULL GROUP BY ALL""",
            [d.category, d.minus, card.id, *args],
        )
        frames = [evaluated]
        if d.reported_task:
            frames.append(store.query(
                f"""SELECT s.model, s.source, any_value(s.value) AS "{d.name}" FROM metric_scores s
                    WHERE s.task = ? AND s.metric = ? AND {w} GROUP BY ALL""",
                [d.reported_task, d.reported_metric, *args],
            ))
        one = pd.concat(frames, ignore_index=True).drop_duplicates(["model", "source"])
        out = out.merge(one, on=["model", "source"], how="outer")
    return out


def category_difference_columns() -> list[str]:
    """The columns ``category_differences`` adds to the parity view, one per card that declares one."""
    from evaluator.cards import all_cards

    return [c.category_difference.name for c in all_cards().values() if c.category_difference is not None]


# -- comparing two models -----------------------------------------------------------------------

COMPARE_COLUMNS = ["task", "language", "language_name", "n_items", "score_a", "score_b", "difference", "method",
                   "p_value", "p_holm", "significant"]


def compare(store, model_a: str, model_b: str, f: Filters | None = None, alpha: float = 0.05) -> pd.DataFrame:
    """Per task and language, A − B with a paired test over the items both answered (McNemar's exact
    test for 0/1 scores, a paired bootstrap otherwise); p-values Holm-corrected over all cells."""
    f = f or Filters()
    return store.cached(("compare", model_a, model_b, f.key(), alpha), lambda: _compare(store, model_a, model_b, f, alpha))


def _sample_files(store, model: str, tasks: tuple = ()) -> list[str]:
    return store.sample_files(model, tasks)[0]


def _unreadable_tasks(store, model: str, tasks: tuple = ()) -> set[str]:
    return {task for task, _ in store.sample_files(model, tasks)[1]}


def _compare(store, model_a, model_b, f, alpha):
    fa, fb = _sample_files(store, model_a, f.tasks), _sample_files(store, model_b, f.tasks)
    # Tasks whose per-sample rows cannot be read on either side are compared from their intervals.
    unreadable = _unreadable_tasks(store, model_a, f.tasks) | _unreadable_tasks(store, model_b, f.tasks)
    langs = resolved_languages(store, f)
    rows = []
    if fa and fb:
        lang_clause = f"AND a.language IN ({','.join('?' * len(langs))})" if langs else ""
        try:
            pairs = store.query(
                f"""SELECT a.task, a.language, a.item_id, a.turn, a.score AS a, b.score AS b
                    FROM read_parquet(?, union_by_name=true) a
                    JOIN read_parquet(?, union_by_name=true) b USING (task, language, item_id, turn)
                    WHERE TRUE {lang_clause}""",
                [fa, fb, *(langs or [])],
            )
        except duckdb.Error:  # a file damaged since it was loaded: compare from the intervals instead
            pairs = pd.DataFrame(columns=["task", "language", "a", "b"])
        for (task, language), g in pairs.groupby(["task", "language"]):
            a, b = g["a"].to_numpy(float), g["b"].to_numpy(float)
            binary = np.isin(a, (0, 1)).all() and np.isin(b, (0, 1)).all()
            p = mcnemar_exact(int(((a == 1) & (b == 0)).sum()), int(((a == 0) & (b == 1)).sum())) if binary \
                else paired_bootstrap_p(a, b)
            rows.append({"task": task, "language": language, "n_items": len(g), "score_a": a.mean(), "score_b": b.mean(),
                         "difference": a.mean() - b.mean(), "method": "McNemar (exact)" if binary else "paired bootstrap",
                         "p_value": p})
    if not rows or unreadable:
        # Without per-sample rows on both sides (e.g. reported figures): unpaired, from the intervals.
        paired = {(r["task"], r["language"]) for r in rows}
        w, args = where(store, f, "s")
        cells = store.query(
            f"""SELECT s.task, s.language, s.model, s.value, (s.ci_high - s.ci_low) / {2 * Z95} AS se, s.n_items
                FROM lang_scores s WHERE s.model IN (?, ?) AND s.language <> '{ALL}' AND {w}""",
            [model_a, model_b, *args],
        )
        for (task, language), g in cells.groupby(["task", "language"]):
            if set(g["model"]) != {model_a, model_b} or (task, language) in paired:
                continue
            if paired and task not in unreadable:
                continue
            ra, rb = g[g["model"] == model_a].iloc[0], g[g["model"] == model_b].iloc[0]
            se = math.sqrt((ra["se"] or 0) ** 2 + (rb["se"] or 0) ** 2) if pd.notna(ra["se"]) and pd.notna(rb["se"]) else None
            z = (ra["value"] - rb["value"]) / se if se else None
            p = math.erfc(abs(z) / math.sqrt(2)) if z is not None else float("nan")
            rows.append({"task": task, "language": language, "n_items": int(min(ra["n_items"] or 0, rb["n_items"] or 0)),
                         "score_a": ra["value"], "score_b": rb["value"], "difference": ra["value"] - rb["value"],
                         "method": ("no interval" if not se else "unpaired z (per-sample rows unreadable)"
                                    if task in unreadable else "unpaired z (no per-sample rows)"), "p_value": p})
    if not rows:
        return pd.DataFrame(columns=COMPARE_COLUMNS)
    out = pd.DataFrame(rows)
    out["p_holm"] = holm(out["p_value"].to_numpy())
    out["significant"] = out["p_holm"] < alpha
    names = store.query("SELECT code, name FROM languages")
    out = out.merge(names.rename(columns={"code": "language", "name": "language_name"}), on="language", how="left")
    out["language_name"] = out["language_name"].fillna(out["language"])
    return out[COMPARE_COLUMNS].sort_values(["task", "language_name"]).reset_index(drop=True)


# -- one model --------------------------------------------------------------------------------

def model_results(store, model: str) -> dict:
    """Per-language and per-category scores of one model, every task (for the API)."""
    langs = store.query(
        """SELECT s.source, s.revision, s.precision, s.task, s.task_version, s.language,
                  coalesce(l.name, s.language) AS language_name, s.metric, s.value AS score, s.n_items,
                  s.ci_low, s.ci_high
           FROM lang_scores s LEFT JOIN languages l ON l.code = s.language
           WHERE s.model = ? ORDER BY s.task, s.language""",
        [model],
    )
    cats = store.query(
        """SELECT s.source, s.task, s.category, s.language, s.metric, s.value AS score, s.n_items, s.ci_low, s.ci_high
           FROM cat_scores s WHERE s.model = ? AND s."primary" ORDER BY s.task, s.category, s.language""",
        [model],
    )
    return {"model": model, "per_language": langs, "per_category": cats}


def model_provenance(store, model: str) -> pd.DataFrame:
    """Runs of a model: revision, precision, suite, engine, and per task its version, items and truncations;
    for a model behind an endpoint, where it is served and the requests and tokens spent; skipped tasks
    with their reasons."""
    runs = store.query("SELECT * FROM runs WHERE model = ? ORDER BY finished_at DESC", [model])
    rows = []
    for r in runs.itertuples():
        info = RunInfo.parse(r.info, default_run_id=r.run_id)
        guard, endpoint = info.numerics_guard, info.endpoint
        usage = endpoint.get("usage") or {}
        served = {"served_by": f"{endpoint.get('served_model')} at {endpoint.get('base_url')}" if endpoint else "",
                  "requests": usage.get("requests"),
                  "tokens": (usage.get("prompt_tokens") or 0) + (usage.get("completion_tokens") or 0) if usage else None}
        imported = info.imported
        for task, t in info.tasks.items():
            rows.append({
                **served, "run_id": r.run_id, "source": info.source, "revision": r.revision,
                "precision": r.precision, "dtype": r.dtype,
                "scoring_path": guard.get("path", ""),
                "path_agreement": guard.get("argmax_agreement"), "near_ties": guard.get("near_ties"),
                "suite": f"{r.suite} v{r.suite_version}" if r.suite else "", "engine_version": r.engine_version,
                "task": task, "task_version": t.get("version"), "n_items": t.get("n_items"),
                "n_truncated": t.get("n_truncated"), "n_unchecked_instructions": t.get("n_unchecked_instructions"),
                "n_separate_continuations": t.get("n_separate_continuations"),
                "languages": len(t.get("languages", [])),
                "data": (t.get("dataset") or {}).get("origin", ""), "finished_at": r.finished_at, "device": r.device,
                "skipped": "",
                **(_imported_provenance(imported, t) if imported else {}),
            })
        for task, why in info.skipped_tasks.items():
            rows.append({**served, "run_id": r.run_id, "revision": r.revision, "precision": r.precision, "task": task,
                         "suite": f"{r.suite} v{r.suite_version}" if r.suite else "", "finished_at": r.finished_at,
                         "skipped": str(why)})
    if not rows:
        return store.query(
            "SELECT DISTINCT task, task_version, citation FROM scores WHERE model = ? AND source = 'reported'", [model])
    return pd.DataFrame(rows)


def _imported_provenance(imported: dict, task: dict) -> dict:
    """Where an imported run's figures come from: harness, version, command, n-shot, date, commit."""
    harness_tasks = task.get("harness_tasks") or {}
    shots = sorted({str(h.get("n_shot")) for h in harness_tasks.values() if h.get("n_shot") is not None})
    return {"harness": f"{imported.get('harness', '')} {imported.get('harness_version') or ''}".strip(),
            "harness_tasks": ", ".join(sorted(harness_tasks)), "n_shot": ", ".join(shots),
            "command": imported.get("command", ""), "date": imported.get("date") or "",
            "git_hash": imported.get("git_hash") or "", "imported_from": imported.get("file", "")}


def task_metrics(store, f: Filters) -> pd.DataFrame:
    """Every metric of the selected tasks per model and language (directions, strict/loose, ...)."""
    f = replace(f, models=_default_models(store, f))

    def compute():
        w, args = where(store, f, "s")
        long = store.query(
            f"""SELECT s.model, s.source, s.task, s.language, coalesce(l.name, s.language) AS language_name,
                       s.metric, s.value, s.n_items
                FROM (SELECT * FROM lang_scores UNION ALL SELECT * FROM metric_scores) s
                LEFT JOIN languages l ON l.code = s.language WHERE {w}""",
            args,
        )
        if long.empty:
            return pd.DataFrame(columns=["model", "source", "task", "language", "language_name", "n_items"])
        wide = long.pivot_table(index=["model", "source", "task", "language", "language_name"], columns="metric",
                                values="value", aggfunc="first").reset_index()
        n = long.groupby(["model", "source", "task", "language"], as_index=False)["n_items"].max()
        return wide.merge(n, on=["model", "source", "task", "language"], how="left")

    return store.cached(("task_metrics", f.key()), compute)


REFERENCE_COLUMNS = ["task", "implementation", "version", "reference_task", "headline_metric", "metric",
                     "differences", "url"]


def task_references(tasks=()) -> pd.DataFrame:
    """What each task card reproduces: implementation, version, headline metric, deliberate differences.

    ``tasks`` restricts the rows (empty: every card); a card without a reference block gets an empty row."""
    from evaluator.cards import all_cards

    rows = []
    for card in all_cards().values():
        if tasks and card.id not in tasks:
            continue
        ref = card.reference
        rows.append({"task": card.id, "implementation": ref.implementation if ref else "",
                     "version": ref.version if ref else "", "reference_task": ref.task if ref else "",
                     "headline_metric": ref.headline_metric if ref else "", "metric": card.metric,
                     "differences": ref.differences if ref else "", "url": ref.url if ref else ""})
    return pd.DataFrame(rows, columns=REFERENCE_COLUMNS)


def shown_task_references(store, f: Filters) -> pd.DataFrame:
    """The references of the selected tasks, else of those ``task_metrics`` shows, else of every card."""
    if f.tasks:
        return task_references(tuple(f.tasks))
    metrics = task_metrics(store, f)
    return task_references(tuple(metrics["task"].unique()) if not metrics.empty else ())


def reported_sources(store) -> pd.DataFrame:
    """Per reported task and version: its citation and how many models it has figures for."""
    return store.query(
        "SELECT task, task_version, any_value(citation) AS citation, count(DISTINCT model) AS models "
        "FROM scores WHERE source = 'reported' GROUP BY task, task_version ORDER BY task")


RUN_COUNT_COLUMNS = ["model", "run_id", "task", "n_items", "n_truncated", "n_separate_continuations",
                     "n_unchecked_instructions"]


def task_run_counts(store, f: Filters) -> pd.DataFrame:
    """Per run and task, the items scored under a fallback rule: truncated prompts, multiple-choice
    continuations encoded alone (degenerate joint split), instructions the checker could not check."""
    f = replace(f, models=_default_models(store, f))
    runs = store.query("SELECT model, run_id, info FROM runs ORDER BY model, finished_at DESC")
    rows = []
    for r in runs.itertuples():
        if f.models and r.model not in f.models:
            continue
        for task, t in RunInfo.parse(r.info, default_run_id=r.run_id).tasks.items():
            if f.tasks and task not in f.tasks:
                continue
            rows.append({"model": r.model, "run_id": r.run_id, "task": task, "n_items": t.get("n_items"),
                         "n_truncated": t.get("n_truncated"),
                         "n_separate_continuations": t.get("n_separate_continuations"),
                         "n_unchecked_instructions": t.get("n_unchecked_instructions")})
    return pd.DataFrame(rows, columns=RUN_COUNT_COLUMNS)


def alignment_layers(store, f: Filters) -> pd.DataFrame:
    """Cross-lingual alignment per layer (MEXA), from the details of alignment scores."""
    f = replace(f, models=_default_models(store, f))
    w, args = where(store, f, "s")
    df = store.query(f"SELECT s.model, s.task, s.language, s.details FROM lang_scores s WHERE s.kind = 'alignment' AND {w}",
                     args)
    rows = []
    for r in df.itertuples():
        per_layer = json.loads(r.details or "{}").get("per_layer") or []
        rows += [{"model": r.model, "task": r.task, "language": r.language, "layer": i, "alignment": v}
                 for i, v in enumerate(per_layer)]
    return pd.DataFrame(rows, columns=["model", "task", "language", "layer", "alignment"])


# -- samples ----------------------------------------------------------------------------------

SAMPLE_COLUMNS = ["item_id", "language", "category", "turn", "prompt", "choices", "choice_loglik", "generation", "gold",
                  "prediction", "score", "metric", "truncated", "details"]


def samples(store, run_id: str, task: str, language: str | None = None, category: str | None = None,
            wrong_only: bool = False, page: int = 1, page_size: int = 20) -> tuple[pd.DataFrame, int]:
    """A page of the per-sample rows behind one cell; returns (rows, total matching)."""
    path, problem = store.sample_file(run_id, task)
    if problem:
        raise SamplesUnavailable(f"The per-sample rows of {task} in run {run_id} cannot be read ({problem}); "
                                 "its scores are unaffected.")
    if path is None or task not in _run_tasks(store, run_id):
        return pd.DataFrame(columns=SAMPLE_COLUMNS), 0
    clauses, args = ["TRUE"], []
    if language:
        clauses.append("language = ?")
        args.append(language)
    if category:
        clauses.append("category = ?")
        args.append(category)
    if wrong_only:
        clauses.append("score < 1")
    cond = " AND ".join(clauses)
    page_size = max(1, min(int(page_size), 200))
    offset = max(0, int(page) - 1) * page_size
    try:
        rows = store.query(
            f"""SELECT {', '.join(SAMPLE_COLUMNS)}, count(*) OVER () AS total_rows FROM read_parquet(?)
                WHERE {cond} ORDER BY language, item_id, turn LIMIT ? OFFSET ?""",
            [path, *args, page_size, offset],
        )
        if rows.empty:
            total = int(store.query(f"SELECT count(*) AS n FROM read_parquet(?) WHERE {cond}", [path, *args])["n"].iloc[0])
            return rows.drop(columns=["total_rows"]), total
    except duckdb.Error:
        raise SamplesUnavailable(f"The per-sample rows of {task} in run {run_id} cannot be read (the file is damaged); "
                                 "its scores are unaffected.") from None
    return rows.drop(columns=["total_rows"]), int(rows["total_rows"].iloc[0])


SAMPLE_PAGE_SIZE = 20


@dataclass(frozen=True)
class SampleOptions:
    """What the Samples view offers for one run: its tasks, its languages as (label, code), its categories."""

    tasks: list
    languages: list
    categories: list


def sample_options(store, run_id: str) -> SampleOptions:
    """The tasks, languages (named from the language table) and categories of a run's scores."""
    if not run_id:
        return SampleOptions([], [], [])
    cells = store.query(
        f"""SELECT DISTINCT s.task, s.language, coalesce(l.name, s.language) AS language_name, s.category
            FROM scores s LEFT JOIN languages l ON l.code = s.language
            WHERE s.run_id = ? AND s.language <> '{ALL}'""", [run_id])
    langs = cells.drop_duplicates("language").sort_values(["language_name", "language"])
    return SampleOptions(
        tasks=sorted(cells["task"].unique()),
        languages=[(f"{n} ({c})", c) for c, n in zip(langs["language"], langs["language_name"])],
        categories=sorted(c for c in cells["category"].unique() if c != ALL),
    )


def sample_runs(store, models=()) -> pd.DataFrame:
    """Runs with readable per-sample rows, newest first (only those of ``models`` when given)."""
    models = tuple(models or ())
    clause = "AND r.model IN (SELECT unnest(?))" if models else ""
    return store.query(
        f"""SELECT DISTINCT r.run_id, r.model, r.revision, r.precision, r.finished_at
            FROM runs r JOIN sample_files s USING (run_id)
            WHERE s.problem IS NULL {clause} ORDER BY r.finished_at DESC NULLS LAST, r.run_id""",
        [list(models)] if models else [])


def sample_models(store) -> list[str]:
    """Models with readable per-sample rows (what the per-sample download offers)."""
    return sorted(sample_runs(store)["model"].unique())


def page_bounds(total: int, page, page_size: int = SAMPLE_PAGE_SIZE) -> tuple[int, int]:
    """(the page to show, the number of pages): ``page`` clamped to 1..last, one page when nothing matches."""
    pages = max(1, -(-int(total) // max(1, int(page_size))))
    try:
        k = int(page)
    except (TypeError, ValueError):
        k = 1
    return min(max(1, k), pages), pages


def sample_problems(store, model: str) -> list[str]:
    """Why some of a model's per-sample files cannot be read (empty when all can)."""
    return [reason for _, reason in store.sample_files(model)[1]]


def skipped_of_runs(store, run_ids) -> dict[str, dict]:
    """run id -> {"tasks": n evaluated, "skipped": {task: why}} from the runs' provenance."""
    ids = [i for i in run_ids if i]
    if store is None or not ids:
        return {}
    runs = store.query("SELECT run_id, tasks, skipped FROM runs WHERE run_id IN (SELECT unnest(?))", [ids])
    return {run_id: {"tasks": len(json.loads(tasks or "[]")), "skipped": json.loads(skipped or "{}")}
            for run_id, tasks, skipped in runs.itertuples(index=False)}


def _run_tasks(store, run_id: str) -> set[str]:
    runs = store.query("SELECT info FROM runs WHERE run_id = ?", [run_id])
    if runs.empty:
        return set()
    return set(RunInfo.parse(runs["info"].iloc[0], default_run_id=run_id).tasks)


# Every per-sample row of a list of sample files (the one parameter), as shown and downloaded.
MODEL_SAMPLES_SQL = """SELECT run_id, model, revision, precision, task, task_version, language, category, item_id,
                              turn, prompt, choices, choice_loglik, choice_n_tokens, generation, gold, prediction,
                              score, metric, truncated, details, created_at
                       FROM read_parquet(?, union_by_name=true) ORDER BY run_id, task, language, item_id, turn"""


def model_samples(store, model: str) -> pd.DataFrame:
    """Every readable per-sample row behind a model's evaluated scores (all its runs, all tasks);
    ``sample_problems`` says which files were left out and why."""
    files = _sample_files(store, model)
    if not files:
        return pd.DataFrame()
    try:
        return store.query(MODEL_SAMPLES_SQL, [files])
    except duckdb.Error:
        raise SamplesUnavailable(f"The per-sample rows of {model} cannot be read (a file is damaged).") from None


# -- choices for the filters ------------------------------------------------------------------

def model_names(store) -> list[str]:
    return store.cached(("model_names",), lambda: store.query(
        "SELECT DISTINCT model FROM task_scores ORDER BY model"))["model"].tolist()


def task_names(store) -> list[str]:
    return store.cached(("task_names",), lambda: store.query(
        "SELECT DISTINCT task FROM task_scores ORDER BY task"))["task"].tolist()


def filter_options(store) -> dict[str, list]:
    """Values offered by each filter (from what the store holds)."""
    def compute():
        langs = store.query(
            f"""SELECT DISTINCT s.language AS code, coalesce(l.name, s.language) AS name, l.script, l.family, l.tier
                FROM (SELECT DISTINCT language FROM lang_scores) s LEFT JOIN languages l ON l.code = s.language
                WHERE s.language <> '{ALL}' ORDER BY name""")
        cats = store.query("SELECT DISTINCT category FROM cat_scores ORDER BY category")["category"].tolist()
        kinds = store.query("SELECT DISTINCT kind FROM task_scores ORDER BY kind")["kind"].tolist()
        return {
            "tasks": task_names(store), "kinds": kinds, "categories": [ALL] + cats,
            "languages": [(f"{n} ({c})", c) for c, n in zip(langs["code"], langs["name"])],
            "scripts": sorted(x for x in langs["script"].dropna().unique()),
            "families": sorted(x for x in langs["family"].dropna().unique()),
            "tiers": [t for t in TIERS if t in set(langs["tier"].dropna())],
            "sources": list(SOURCES), "sizes": list(SIZE_BUCKETS),
        }

    return store.cached(("filter_options",), compute)


def runs_of(store, model: str) -> pd.DataFrame:
    return store.query("SELECT run_id, revision, precision, finished_at FROM runs WHERE model = ? ORDER BY finished_at DESC",
                       [model])
