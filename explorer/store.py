"""The results store: an in-process DuckDB over the run folders, plus the reported figures.

Evaluators write Parquet files (see evaluator.results); this store reads every complete run
(``results/*/scores.parquet``) together with the shipped reported figures into DuckDB tables, and
rebuilds them when the set of files changes (``refresh``, called on every scheduler tick), so new
results appear without a restart. Per-sample rows stay in their Parquet files and are read on
demand, page by page.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import duckdb
import pandas as pd

from evaluator.languages import language_table
from evaluator.results import SCORE_SCHEMA, read_json
from evaluator.store import StoreLayout

from .reported import reported_models, reported_scores


def _empty_scores() -> pd.DataFrame:
    return SCORE_SCHEMA.empty_table().to_pandas()


class ResultStore:
    def __init__(self, data_dir: str | Path, include_reported: bool = True):
        self.layout = StoreLayout(data_dir)
        self._con = duckdb.connect(":memory:", config={"threads": 2})
        self._lock = threading.RLock()
        self._signature: tuple | None = None
        self.version = 0  # bumped on every rebuild; caches key on it
        self._load_static(include_reported)
        self.refresh(force=True)

    # -- loading -------------------------------------------------------------------------
    def _load_static(self, include_reported: bool) -> None:
        langs = pd.DataFrame([l.__dict__ for l in language_table().values()])
        rep = pd.DataFrame(reported_scores()) if include_reported else _empty_scores()
        if len(rep):
            rep["details"] = rep["details"].map(lambda d: json.dumps(d))
            rep["created_at"] = pd.to_datetime(rep["created_at"], utc=True)
        models = pd.DataFrame(
            [{"model": k, **v} for k, v in reported_models().items()] or [{"model": "", "hub_id": None, "params_b": None, "note": ""}]
        )
        with self._lock:
            self._con.register("languages_df", langs)
            self._con.execute("CREATE OR REPLACE TABLE languages AS SELECT * FROM languages_df")
            self._con.unregister("languages_df")
            self._con.register("reported_df", rep)
            self._con.execute("CREATE OR REPLACE TABLE reported_scores AS SELECT * FROM reported_df")
            self._con.unregister("reported_df")
            self._con.register("reported_models_df", models)
            self._con.execute("CREATE OR REPLACE TABLE reported_models AS SELECT * FROM reported_models_df")
            self._con.unregister("reported_models_df")

    def _score_files(self) -> list[Path]:
        if not self.layout.results.is_dir():
            return []
        return sorted(self.layout.results.glob("*/scores.parquet"))

    def refresh(self, force: bool = False) -> bool:
        """Rebuild the tables when result files were added or replaced. True if rebuilt."""
        files = self._score_files()
        signature = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files if p.exists())
        if not force and signature == self._signature:
            return False
        runs = []
        for p in files:
            try:
                runs.append({**read_json(p.parent / "run.json"), "folder": p.parent.name})
            except (OSError, ValueError):
                continue
        runs_df = pd.DataFrame(
            [{"run_id": r.get("run_id"), "model": r.get("model"), "revision": r.get("revision"),
              "precision": r.get("precision"), "dtype": r.get("dtype"), "suite": r.get("suite"),
              "suite_version": r.get("suite_version"), "engine_version": r.get("engine_version"),
              "started_at": r.get("started_at"), "finished_at": r.get("finished_at"),
              "device": r.get("device"), "folder": r["folder"], "info": json.dumps(r, default=str)} for r in runs],
            columns=["run_id", "folder", "model", "revision", "precision", "dtype", "suite", "suite_version",
                     "engine_version", "started_at", "finished_at", "device", "info"],
        )
        with self._lock:
            con = self._con
            if files:
                con.execute(
                    "CREATE OR REPLACE TEMP TABLE evaluated AS SELECT * FROM read_parquet(?, union_by_name=true)",
                    [[str(p) for p in files]],
                )
            else:
                con.register("empty_df", _empty_scores())
                con.execute("CREATE OR REPLACE TEMP TABLE evaluated AS SELECT * FROM empty_df")
                con.unregister("empty_df")
            # A model evaluated twice (same revision and precision) keeps its latest result per cell.
            con.execute("""
                CREATE OR REPLACE TABLE scores AS
                SELECT * FROM (SELECT * FROM evaluated UNION ALL BY NAME SELECT * FROM reported_scores)
                QUALIFY row_number() OVER (
                    PARTITION BY model, revision, precision, source, task, language, category, metric
                    ORDER BY created_at DESC NULLS LAST, run_id DESC) = 1
            """)
            con.register("runs_df", runs_df)
            con.execute("CREATE OR REPLACE TABLE runs AS SELECT * FROM runs_df")
            con.unregister("runs_df")
            # Language-level primary scores: the base of the leaderboard and most views.
            con.execute("""
                CREATE OR REPLACE TABLE lang_scores AS
                SELECT model, revision, precision, source, task, task_version, kind, language, metric,
                       value, n_items, ci_low, ci_high, higher_is_better, created_at, citation, run_id
                FROM scores WHERE "primary" AND category = '*'
            """)
            self._signature = signature
            self.version += 1
        return True

    # -- reading -------------------------------------------------------------------------
    def query(self, sql: str, params: list | tuple | None = None) -> pd.DataFrame:
        with self._lock:
            return self._con.execute(sql, params or []).df()

    def run_dir(self, run_id: str) -> Path | None:
        """The folder of a known run (ids come from the runs table, never from a path in a request)."""
        rows = self.query("SELECT folder FROM runs WHERE run_id = ?", [run_id])
        if rows.empty:
            return None
        return self.layout.run_dir(rows["folder"].iloc[0])

    def close(self) -> None:
        with self._lock:
            self._con.close()
