"""Views: pure functions from filters to tables, over the results store.

Each returns a pandas DataFrame (the same rows the UI shows, the API returns and the downloads
contain). All user input reaches SQL as bound parameters, never as SQL text.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from evaluator.languages import AGGREGATE

ENTRY = ["model", "revision", "precision", "source"]


@dataclass
class Filters:
    tasks: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    search: str = ""
    models: list[str] = field(default_factory=list)

    def where(self, alias: str = "") -> tuple[str, list]:
        p = f"{alias}." if alias else ""
        clauses, args = [], []
        for col, values in (("task", self.tasks), ("language", self.languages), ("source", self.sources),
                            ("model", self.models)):
            if values:
                clauses.append(f"{p}{col} IN ({','.join('?' * len(values))})")
                args.extend(values)
        terms = [t.strip() for t in (self.search or "").split(";") if t.strip()]
        if terms:
            clauses.append("(" + " OR ".join(f"{p}model ILIKE ? ESCAPE '\\'" for _ in terms) + ")")
            args.extend(f"%{_escape_like(t)}%" for t in terms)
        return (" AND ".join(clauses) or "TRUE"), args


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def hub_url(model: str, hub_id: str | None = None) -> str | None:
    target = hub_id or model
    if not target or target.startswith(("/", "~", ".")) or "/" not in target:
        return None
    return f"https://huggingface.co/{target}"


def task_scores(store, filters: Filters) -> pd.DataFrame:
    """One row per (entry, task): mean over its languages (or the published aggregate)."""
    where, args = filters.where()
    return store.query(
        f"""
        SELECT model, revision, precision, source, task,
               coalesce(avg(value) FILTER (WHERE language <> '{AGGREGATE}'),
                        any_value(value) FILTER (WHERE language = '{AGGREGATE}')) AS score,
               count(DISTINCT language) FILTER (WHERE language <> '{AGGREGATE}') AS n_languages,
               CASE WHEN count(DISTINCT language) FILTER (WHERE language <> '{AGGREGATE}') > 1 THEN
                   max(value) FILTER (WHERE language <> '{AGGREGATE}') - min(value) FILTER (WHERE language <> '{AGGREGATE}')
               END AS gap,
               sum(n_items) AS n_items,
               max(created_at) AS date
        FROM lang_scores
        WHERE higher_is_better AND {where}
        GROUP BY ALL
        """,
        args,
    )


def leaderboard(store, filters: Filters | None = None) -> pd.DataFrame:
    """One row per model entry: average, per-task scores, languages covered, parity gap."""
    filters = filters or Filters()
    per_task = task_scores(store, filters)
    columns = ["rank", "model", "source", "average", "n_tasks", "n_languages", "parity_gap", "revision",
               "precision", "params_b", "date", "hub_url"]
    if per_task.empty:
        return pd.DataFrame(columns=columns)
    langs = store.query(
        f"SELECT model, revision, precision, source, count(DISTINCT language) AS n_languages FROM lang_scores "
        f"WHERE higher_is_better AND language <> '{AGGREGATE}' AND {filters.where()[0]} GROUP BY ALL",
        filters.where()[1],
    )
    wide = per_task.pivot_table(index=ENTRY, columns="task", values="score", aggfunc="first")
    tasks = sorted(wide.columns)
    summary = per_task.groupby(ENTRY, dropna=False).agg(
        average=("score", "mean"), n_tasks=("task", "nunique"),
        parity_gap=("gap", lambda s: s.dropna().mean() if s.notna().any() else np.nan),
        date=("date", "max"),
    )
    table = summary.join(wide, how="left").reset_index()
    table = table.merge(langs, on=ENTRY, how="left")
    table["n_languages"] = table["n_languages"].fillna(0).astype(int)
    meta = store.query("SELECT model, hub_id, params_b FROM reported_models")
    table = table.merge(meta, on="model", how="left")
    requests = getattr(store, "model_params", lambda: {})()
    table["params_b"] = table.apply(
        lambda r: r["params_b"] if pd.notna(r["params_b"]) else requests.get(r["model"]), axis=1
    )
    table["hub_url"] = [hub_url(m, h if isinstance(h, str) else None) for m, h in zip(table["model"], table["hub_id"])]
    table = table.sort_values(["average", "model"], ascending=[False, True], na_position="last").reset_index(drop=True)
    table.insert(0, "rank", range(1, len(table) + 1))
    return table[columns[:7] + tasks + columns[7:]]


def per_language(store, filters: Filters) -> pd.DataFrame:
    """Model × language scores (mean over the selected tasks) with language metadata."""
    where, args = filters.where("s")
    return store.query(
        f"""
        SELECT s.model, s.source, s.language, coalesce(l.name, s.language) AS language_name,
               l.script, l.family, l.tier, avg(s.value) AS score, count(DISTINCT s.task) AS n_tasks,
               sum(s.n_items) AS n_items,
               CASE WHEN count(*) = 1 THEN min(s.ci_low) END AS ci_low,
               CASE WHEN count(*) = 1 THEN min(s.ci_high) END AS ci_high
        FROM lang_scores s LEFT JOIN languages l ON l.code = s.language
        WHERE s.higher_is_better AND s.language <> '{AGGREGATE}' AND {where}
        GROUP BY ALL ORDER BY s.model, s.language
        """,
        args,
    )


def per_category(store, filters: Filters) -> pd.DataFrame:
    """Scores per task category (e.g. idiom, pun, holiday, concept), overall and per language."""
    where, args = filters.where("s")
    return store.query(
        f"""
        SELECT s.model, s.source, s.task, s.category, s.language, s.metric, s.value AS score, s.n_items,
               s.ci_low, s.ci_high
        FROM scores s
        WHERE s."primary" AND s.category <> '*' AND {where}
        ORDER BY s.model, s.task, s.category, s.language
        """,
        args,
    )


def category_summary(store, filters: Filters) -> pd.DataFrame:
    """Per model, task and category: the mean over languages."""
    cats = per_category(store, filters)
    if cats.empty:
        return pd.DataFrame(columns=["model", "source", "task", "category", "score", "n_languages", "n_items"])
    return (cats.groupby(["model", "source", "task", "category"], as_index=False)
            .agg(score=("score", "mean"), n_languages=("language", "nunique"), n_items=("n_items", "sum")))


def parity(store, filters: Filters) -> pd.DataFrame:
    """Per model: best and worst language, gap, spread across languages, worst/best ratio, mean."""
    langs = per_language(store, filters)
    cols = ["model", "source", "mean", "best_language", "best", "worst_language", "worst", "gap", "spread",
            "worst_best_ratio", "n_languages"]
    if langs.empty:
        return pd.DataFrame(columns=cols)
    rows = []
    for (model, source), g in langs.groupby(["model", "source"]):
        g = g.dropna(subset=["score"])
        if g.empty:
            continue
        best, worst = g.loc[g["score"].idxmax()], g.loc[g["score"].idxmin()]
        rows.append({
            "model": model, "source": source, "mean": g["score"].mean(),
            "best_language": best["language_name"], "best": best["score"],
            "worst_language": worst["language_name"], "worst": worst["score"],
            "gap": best["score"] - worst["score"],
            "spread": float(g["score"].std(ddof=0)) if len(g) > 1 else 0.0,
            "worst_best_ratio": worst["score"] / best["score"] if best["score"] > 0 else math.nan,
            "n_languages": len(g),
        })
    return pd.DataFrame(rows, columns=cols).sort_values("mean", ascending=False).reset_index(drop=True)


def model_results(store, model: str) -> dict:
    """Per-language and per-category scores of one model, every task (for the API)."""
    f = Filters(models=[model])
    langs = store.query(
        """SELECT s.source, s.revision, s.precision, s.task, s.task_version, s.language,
                  coalesce(l.name, s.language) AS language_name, s.metric, s.value AS score, s.n_items,
                  s.ci_low, s.ci_high
           FROM lang_scores s LEFT JOIN languages l ON l.code = s.language
           WHERE s.model = ? ORDER BY s.task, s.language""",
        [model],
    )
    return {"model": model, "per_language": langs, "per_category": per_category(store, f)}


def model_provenance(store, model: str) -> pd.DataFrame:
    """Runs of a model: revision, precision, dtype, suite, engine, and per task its version and items."""
    runs = store.query("SELECT * FROM runs WHERE model = ? ORDER BY finished_at DESC", [model])
    rows = []
    for r in runs.itertuples():
        info = json.loads(r.info)
        for task, t in (info.get("tasks") or {}).items():
            rows.append({
                "run_id": r.run_id, "revision": r.revision, "precision": r.precision, "dtype": r.dtype,
                "suite": f"{r.suite} v{r.suite_version}" if r.suite else "", "engine_version": r.engine_version,
                "task": task, "task_version": t.get("version"), "n_items": t.get("n_items"),
                "n_truncated": t.get("n_truncated"), "languages": len(t.get("languages", [])),
                "finished_at": r.finished_at, "device": r.device,
            })
    if not rows:
        cites = store.query(
            "SELECT DISTINCT task, task_version, citation FROM scores WHERE model = ? AND source = 'reported'", [model]
        )
        return cites
    return pd.DataFrame(rows)


def samples(store, run_id: str, task: str, language: str | None = None, category: str | None = None,
            wrong_only: bool = False, page: int = 1, page_size: int = 20) -> tuple[pd.DataFrame, int]:
    """A page of the per-sample rows behind one cell; returns (rows, total matching)."""
    run_dir = store.run_dir(run_id)
    if run_dir is None:
        return pd.DataFrame(), 0
    path = run_dir / f"samples-{task}.parquet"
    if not path.is_file() or task not in _run_tasks(store, run_id):
        return pd.DataFrame(), 0
    clauses, args = ["TRUE"], []
    if language:
        clauses.append("language = ?")
        args.append(language)
    if category:
        clauses.append("category = ?")
        args.append(category)
    if wrong_only:
        clauses.append("score < 1")
    where = " AND ".join(clauses)
    page_size = max(1, min(int(page_size), 200))
    offset = max(0, int(page) - 1) * page_size
    total = int(store.query(f"SELECT count(*) AS n FROM read_parquet(?) WHERE {where}", [str(path), *args])["n"].iloc[0])
    rows = store.query(
        f"""SELECT item_id, language, category, turn, prompt, choices, choice_loglik, generation, gold, prediction,
                   score, metric, truncated, details
            FROM read_parquet(?) WHERE {where} ORDER BY language, item_id, turn LIMIT ? OFFSET ?""",
        [str(path), *args, page_size, offset],
    )
    return rows, total


def _run_tasks(store, run_id: str) -> set[str]:
    runs = store.query("SELECT info FROM runs WHERE run_id = ?", [run_id])
    if runs.empty:
        return set()
    return set((json.loads(runs["info"].iloc[0]).get("tasks") or {}).keys())


def model_names(store) -> list[str]:
    return store.query("SELECT DISTINCT model FROM lang_scores ORDER BY model")["model"].tolist()


def task_names(store) -> list[str]:
    return store.query("SELECT DISTINCT task FROM lang_scores WHERE higher_is_better ORDER BY task")["task"].tolist()


def language_options(store) -> list[tuple[str, str]]:
    df = store.query(
        f"""SELECT DISTINCT s.language, coalesce(l.name, s.language) AS name FROM lang_scores s
            LEFT JOIN languages l ON l.code = s.language WHERE s.language <> '{AGGREGATE}' ORDER BY name"""
    )
    return [(f"{n} ({c})", c) for c, n in zip(df["language"], df["name"])]


def runs_of(store, model: str) -> pd.DataFrame:
    return store.query("SELECT run_id, revision, precision, finished_at FROM runs WHERE model = ? ORDER BY finished_at DESC", [model])


def model_samples(store, model: str) -> pd.DataFrame:
    """Every per-sample row behind a model's evaluated scores (all its runs, all tasks)."""
    files = []
    for r in store.query("SELECT run_id, folder, info FROM runs WHERE model = ?", [model]).itertuples():
        for task in (json.loads(r.info).get("tasks") or {}):
            path = store.layout.run_dir(r.folder) / f"samples-{task}.parquet"
            if path.is_file():
                files.append(str(path))
    if not files:
        return pd.DataFrame()
    return store.query(
        """SELECT run_id, model, revision, precision, task, task_version, language, category, item_id, turn,
                  prompt, choices, choice_loglik, choice_n_tokens, generation, gold, prediction, score, metric,
                  truncated, details, created_at
           FROM read_parquet(?, union_by_name=true) ORDER BY run_id, task, language, item_id, turn""",
        [files],
    )


def task_metrics(store, filters: Filters) -> pd.DataFrame:
    """Every metric of the selected tasks per model and language (directions, strict/loose, ...)."""
    where, args = filters.where("s")
    long = store.query(
        f"""SELECT s.model, s.source, s.task, s.language, coalesce(l.name, s.language) AS language_name,
                   s.metric, s.value, s.n_items
            FROM scores s LEFT JOIN languages l ON l.code = s.language
            WHERE s.category = '*' AND {where}""",
        args,
    )
    if long.empty:
        return pd.DataFrame(columns=["model", "source", "task", "language", "language_name", "n_items"])
    wide = long.pivot_table(index=["model", "source", "task", "language", "language_name"], columns="metric",
                            values="value", aggfunc="first").reset_index()
    n = long.groupby(["model", "source", "task", "language"], as_index=False)["n_items"].max()
    return wide.merge(n, on=["model", "source", "task", "language"], how="left")


def alignment_layers(store, filters: Filters) -> pd.DataFrame:
    """Cross-lingual alignment per layer (MEXA), from the details of alignment scores."""
    where, args = filters.where("s")
    df = store.query(
        f"""SELECT s.model, s.task, s.language, s.details FROM scores s
            WHERE s.kind = 'alignment' AND s."primary" AND s.category = '*' AND {where}""",
        args,
    )
    rows = []
    for r in df.itertuples():
        per_layer = json.loads(r.details or "{}").get("per_layer") or []
        rows += [{"model": r.model, "task": r.task, "language": r.language, "layer": i, "alignment": v}
                 for i, v in enumerate(per_layer)]
    return pd.DataFrame(rows, columns=["model", "task", "language", "layer", "alignment"])
