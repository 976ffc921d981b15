"""The results store: an in-process DuckDB over the run folders, plus the reported figures.

Evaluators write Parquet files (see evaluator.results); this store reads every complete run
(``results/*/scores.parquet``) and the shipped reported figures into DuckDB tables. ``refresh``
(called on every scheduler tick) loads new runs incrementally and rebuilds only the small summary
tables, so new results appear within a tick, without a restart. Per-sample rows stay in their
Parquet files and are read on demand, a page at a time.

Tables
    lang_scores   headline score per model entry, task and language (the base of most views)
    cat_scores    headline score per category (idiom, CS/CA, turn_2, ...) and language
    metric_scores every other metric (directions, strict/loose, alignment max, ...)
    scores        a view: the three above together
    entries, task_ids, cells   the language-level scores again, narrow and integer-keyed, sorted by language
    task_scores   per model entry and task: mean over languages, its standard error, gap, coverage
    entry_lang_scores  per model entry and language: mean over tasks (parity, difficulty, heatmaps)
    entry_langs   per model entry: how many languages it covers
    runs          provenance of each evaluated run (run.json)
    models        parameters and Hub ids where known
    languages     the language table (names, scripts, families, resource tiers)
A model entry is (model, revision, precision, source); when a model entry was evaluated twice on a
task, its latest run counts.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Callable

import duckdb
import pandas as pd

from evaluator.languages import language_table
from evaluator.results import SCORE_SCHEMA, read_json
from evaluator.store import StoreLayout

from .reported import reported_models, reported_scores

ENTRY = "model, revision, precision, source"
SCHEMA_VERSION = "5"
Z95 = 1.959963984540054
# Per (entry, task) from the cells table: mean over languages, its standard error, coverage, gap.
CELL_AGGREGATE = """SELECT entry_id, task_id, avg(value) AS score, sqrt(sum(se * se)) / count(*) AS se,
                           count(*) AS n_languages, CASE WHEN count(*) > 1 THEN max(value) - min(value) END AS gap,
                           sum(n_items) AS n_items, max(created_at) AS date"""
RUN_COLUMNS = ["run_id", "folder", "model", "revision", "precision", "dtype", "suite", "suite_version",
               "engine_version", "started_at", "finished_at", "device", "info"]


def _empty_scores() -> pd.DataFrame:
    return SCORE_SCHEMA.empty_table().to_pandas()


class ResultStore:
    def __init__(self, data_dir: str | Path, include_reported: bool = True,
                 params_provider: Callable[[], dict[str, float]] | None = None, cache_size: int = 512,
                 memory_limit: str = "1GB", persistent: bool = True, background: bool = False):
        self.layout = StoreLayout(data_dir)
        self._write_lock = threading.RLock()  # one writer (refresh) at a time
        self._cache_lock = threading.Lock()
        self._local = threading.local()  # each reading thread has its own cursor
        self._params_provider = params_provider
        self._cache: OrderedDict = OrderedDict()
        self._cache_size = cache_size
        self.version = 0  # bumped on every change; cached views key on it
        self.loading = True
        self._con, self._db_path, self._private = _open_database(self.layout.root, persistent, memory_limit)
        self._reader = self._con.cursor()
        with self._write_lock:
            self._create_tables(include_reported)
            self._loaded = {r.path: (r.mtime_ns, r.size)
                            for r in self._wquery("SELECT * FROM loaded_files").itertuples()}
            self._latest = self._latest_runs()
        if background:
            # Serve what the store already holds (its cache of an earlier session, the reported figures)
            # while new runs load.
            threading.Thread(target=self._initial_load, daemon=True, name="store-load").start()
        else:
            self._initial_load()

    def _initial_load(self) -> None:
        try:
            self.refresh(rebuild=True)
        finally:
            self.loading = False

    def _wquery(self, sql: str, params=None) -> pd.DataFrame:
        """A query by the writer, inside its transaction."""
        return self._con.execute(sql, params or []).df()

    # -- loading -------------------------------------------------------------------------
    def _register(self, name: str, df: pd.DataFrame, sql: str) -> None:
        self._con.register(name, df)
        try:
            self._con.execute(sql)
        finally:
            self._con.unregister(name)

    def _create_tables(self, include_reported: bool) -> None:
        """Create the tables (or keep those of a matching earlier session) and reload the reported figures."""
        con = self._con
        with self._write_lock:
            con.execute("BEGIN TRANSACTION")
            current = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'meta'").fetchall()[0][0]
            version = con.execute("SELECT value FROM meta WHERE key = 'schema'").fetchall() if current else []
            if not version or version[0][0] != SCHEMA_VERSION:
                for (name,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall():
                    con.execute(f'DROP TABLE IF EXISTS "{name}" CASCADE')
                con.execute("DROP VIEW IF EXISTS scores")
                con.execute("CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
                con.execute("INSERT INTO meta VALUES ('schema', ?)", [SCHEMA_VERSION])
                con.execute("CREATE TABLE loaded_files (path VARCHAR, mtime_ns BIGINT, size BIGINT)")
                self._register("empty_df", _empty_scores(), "CREATE TABLE score_template AS SELECT * FROM empty_df")
                for name in ("lang_scores", "cat_scores", "metric_scores"):
                    con.execute(f"CREATE TABLE {name} AS SELECT * FROM score_template")
                con.execute("""CREATE VIEW scores AS SELECT * FROM lang_scores UNION ALL SELECT * FROM cat_scores
                               UNION ALL SELECT * FROM metric_scores""")
                self._register("runs_df", pd.DataFrame(columns=RUN_COLUMNS).astype(str),
                               "CREATE TABLE runs AS SELECT * FROM runs_df")
            langs = pd.DataFrame([l.__dict__ for l in language_table().values()])
            self._register("languages_df", langs, "CREATE OR REPLACE TABLE languages AS SELECT * FROM languages_df")
            rep = pd.DataFrame(reported_scores()) if include_reported else _empty_scores()
            if len(rep):
                rep["details"] = rep["details"].map(json.dumps)
                rep["created_at"] = pd.to_datetime(rep["created_at"], utc=True)
            for name in ("lang_scores", "cat_scores", "metric_scores"):
                con.execute(f"DELETE FROM {name} WHERE source = 'reported'")
            self._register("reported_df", rep, "CREATE OR REPLACE TEMP TABLE reported_new AS SELECT * FROM reported_df")
            self._insert_from("reported_new")
            con.execute("DROP TABLE reported_new")
            self._reported_models = pd.DataFrame(
                [{"model": k, "hub_id": v["hub_id"], "params_b": v["params_b"]} for k, v in reported_models().items()])
            has_summaries = con.execute(
                "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'task_scores'").fetchall()[0][0]
            if not has_summaries:
                self._rebuild_summaries()  # views work (on the reported figures) while the first runs load
            con.execute("COMMIT")

    def _insert_from(self, source: str) -> None:
        con = self._con
        # Sorted by language: language filters then skip most row groups (DuckDB zone maps).
        con.execute(f"""INSERT INTO lang_scores BY NAME SELECT * FROM {source} WHERE "primary" AND category = '*'
                        ORDER BY language, task""")
        con.execute(f"""INSERT INTO cat_scores BY NAME SELECT * FROM {source} WHERE category <> '*'""")
        con.execute(f"""INSERT INTO metric_scores BY NAME SELECT * FROM {source} WHERE NOT "primary" AND category = '*'""")

    def _score_files(self) -> dict[str, tuple[int, int]]:
        if not self.layout.results.is_dir():
            return {}
        out = {}
        for p in self.layout.results.glob("*/scores.parquet"):
            try:
                st = p.stat()
            except FileNotFoundError:
                continue
            out[str(p)] = (st.st_mtime_ns, st.st_size)
        return out

    def refresh(self, force: bool = False, rebuild: bool = False) -> bool:
        """Load runs added since the last call (everything again when files changed or vanished).

        All changes land in one transaction: readers see the old tables until the new ones are
        complete. Returns True when anything changed."""
        files = self._score_files()
        if not force and not rebuild and files == self._loaded:
            return False
        with self._write_lock:
            con = self._con
            con.execute("BEGIN TRANSACTION")
            try:
                changed = [p for p, sig in self._loaded.items() if files.get(p) != sig]
                latest_before = self._latest
                if force or changed:
                    for name in ("lang_scores", "cat_scores", "metric_scores"):
                        con.execute(f"DELETE FROM {name} WHERE source = 'evaluated'")
                    con.execute("DELETE FROM runs")
                    self._latest = set()
                    new = sorted(files)
                else:
                    new = sorted(p for p in files if p not in self._loaded)
                self._load_runs(new)
                self._register("loaded_df", pd.DataFrame([(p, m, z) for p, (m, z) in files.items()],
                                                         columns=["path", "mtime_ns", "size"]),
                               "DELETE FROM loaded_files; INSERT INTO loaded_files SELECT * FROM loaded_df")
                self._rebuild_summaries()
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                self._latest = latest_before
                raise
            self._loaded = files
            con.execute("CHECKPOINT")
            with self._cache_lock:
                self.version += 1
                self._cache.clear()
        return True

    def _load_runs(self, paths: list[str]) -> None:
        if not paths:
            return
        runs = []
        for p in paths:
            try:
                info = read_json(Path(p).parent / "run.json")
            except (OSError, ValueError):
                info = {}
            runs.append({"run_id": info.get("run_id") or Path(p).parent.name, "folder": Path(p).parent.name,
                         "model": info.get("model"), "revision": info.get("revision"), "precision": info.get("precision"),
                         "dtype": info.get("dtype"), "suite": info.get("suite"), "suite_version": info.get("suite_version"),
                         "engine_version": info.get("engine_version"), "started_at": info.get("started_at"),
                         "finished_at": info.get("finished_at"), "device": info.get("device"),
                         "info": json.dumps(info, default=str)})
        con = self._con
        self._register("runs_new", pd.DataFrame(runs, columns=RUN_COLUMNS), "INSERT INTO runs SELECT * FROM runs_new")
        latest = self._latest_runs()
        superseded = self._latest - latest
        if superseded:
            # A newer run of the same model entry and task replaces the older one's rows.
            self._register("superseded_df", pd.DataFrame(sorted(superseded), columns=["run_id", "task"]),
                           "CREATE OR REPLACE TEMP TABLE superseded AS SELECT * FROM superseded_df")
            for name in ("lang_scores", "cat_scores", "metric_scores"):
                con.execute(f"DELETE FROM {name} WHERE (run_id, task) IN (SELECT run_id, task FROM superseded)")
        self._register("latest_df", pd.DataFrame(sorted(latest), columns=["run_id", "task"]),
                       "CREATE OR REPLACE TEMP TABLE latest AS SELECT * FROM latest_df")
        con.execute("""CREATE OR REPLACE TEMP TABLE new_scores AS SELECT s.* FROM read_parquet(?, union_by_name=true) s
                       SEMI JOIN latest l ON s.run_id = l.run_id AND s.task = l.task""", [paths])
        self._insert_from("new_scores")
        con.execute("DROP TABLE new_scores")
        self._latest = latest

    def _latest_runs(self) -> set[tuple[str, str]]:
        """(run, task) pairs that count: for each model entry and task, the most recent run."""
        runs = self._wquery("SELECT run_id, model, revision, precision, finished_at, info FROM runs")
        rows = []
        for r in runs.itertuples():
            for task in (json.loads(r.info).get("tasks") or {}):
                rows.append((r.run_id, r.model, r.revision, r.precision, r.finished_at or "", task))
        if not rows:
            return set()
        df = pd.DataFrame(rows, columns=["run_id", "model", "revision", "precision", "finished_at", "task"])
        df = df.sort_values(["finished_at", "run_id"]).drop_duplicates(["model", "revision", "precision", "task"], keep="last")
        return set(zip(df["run_id"], df["task"]))

    def _rebuild_summaries(self) -> None:
        con = self._con
        # Narrow integer-keyed copy of the language-level scores, sorted by language: the leaderboard under
        # language filters aggregates it in a few tens of milliseconds even with millions of rows.
        con.execute(f"""CREATE OR REPLACE TABLE entries AS SELECT (row_number() OVER ())::INTEGER AS entry_id, *
                        FROM (SELECT DISTINCT {ENTRY} FROM lang_scores WHERE higher_is_better)""")
        con.execute("""CREATE OR REPLACE TABLE task_ids AS SELECT (row_number() OVER ())::INTEGER AS task_id, task, kind
                       FROM (SELECT task, any_value(kind) AS kind FROM lang_scores WHERE higher_is_better GROUP BY task)""")
        con.execute(f"""
            CREATE OR REPLACE TABLE cells AS
            SELECT e.entry_id, t.task_id, l.language, l.value, (l.ci_high - l.ci_low) / {2 * Z95} AS se, l.n_items,
                   l.created_at, l.ci_low, l.ci_high
            FROM lang_scores l JOIN entries e USING (model, revision, precision, source) JOIN task_ids t USING (task)
            WHERE l.higher_is_better AND l.language <> '*' ORDER BY l.language
        """)
        con.execute(f"""
            CREATE OR REPLACE TABLE task_scores AS
            SELECT e.model, e.revision, e.precision, e.source, t.task, t.kind, c.score, c.se, c.n_languages, c.gap,
                   c.n_items, c.date
            FROM ({CELL_AGGREGATE} FROM cells GROUP BY entry_id, task_id) c
            JOIN entries e USING (entry_id) JOIN task_ids t USING (task_id)
            UNION ALL BY NAME
            SELECT {ENTRY}, task, any_value(kind) AS kind, any_value(value) AS score,
                   any_value((ci_high - ci_low) / {2 * Z95}) AS se, 0 AS n_languages, NULL AS gap, sum(n_items) AS n_items,
                   max(created_at) AS date
            FROM lang_scores WHERE higher_is_better AND language = '*'
              AND (model, revision, precision, source, task) NOT IN
                  (SELECT model, revision, precision, source, task FROM lang_scores WHERE language <> '*')
            GROUP BY ALL
        """)
        con.execute(f"""
            CREATE OR REPLACE TABLE entry_lang_scores AS
            SELECT e.model, e.revision, e.precision, e.source, c.language, c.score, c.se, c.n_tasks, c.n_items,
                   -- one task: its own (asymmetric, Wilson) interval; several: mean ± 1.96 standard errors
                   CASE WHEN c.n_tasks = 1 THEN c.lo ELSE c.score - {Z95} * c.se END AS ci_low,
                   CASE WHEN c.n_tasks = 1 THEN c.hi ELSE c.score + {Z95} * c.se END AS ci_high
            FROM (SELECT entry_id, language, avg(value) AS score, sqrt(sum(se * se)) / count(*) AS se,
                         count(*) AS n_tasks, sum(n_items) AS n_items, min(ci_low) AS lo, min(ci_high) AS hi
                  FROM cells GROUP BY ALL) c
            JOIN entries e USING (entry_id) ORDER BY c.language
        """)
        con.execute(f"""
            CREATE OR REPLACE TABLE entry_langs AS
            SELECT {ENTRY}, count(*) AS n_languages FROM entry_lang_scores GROUP BY ALL
        """)
        meta = self._reported_models.copy()
        extra = self._params_provider() if self._params_provider else {}
        if extra:
            meta = pd.concat([meta, pd.DataFrame([{"model": k, "hub_id": None, "params_b": v} for k, v in extra.items()])])
        meta = meta.drop_duplicates("model", keep="last")
        self._register("models_df", meta, "CREATE OR REPLACE TABLE models AS SELECT * FROM models_df")
        con.execute("""CREATE OR REPLACE TABLE model_sizes AS SELECT model, CASE WHEN params_b < 1 THEN '<1B'
                       WHEN params_b < 3 THEN '1-3B' WHEN params_b < 8 THEN '3-8B' WHEN params_b < 20 THEN '8-20B'
                       WHEN params_b < 75 THEN '20-75B' ELSE '>75B' END AS size FROM models WHERE params_b IS NOT NULL""")

    # -- reading -------------------------------------------------------------------------
    def query(self, sql: str, params: list | tuple | None = None) -> pd.DataFrame:
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            with self._cache_lock:
                cur = self._reader.cursor()
            self._local.cursor = cur
        return cur.execute(sql, params or []).df()

    def cached(self, key: tuple, compute: Callable[[], pd.DataFrame]):
        """A view's result, reused until the store changes (keys hold the view name and its filters)."""
        with self._cache_lock:
            full = (self.version, *key)
            if full in self._cache:
                self._cache.move_to_end(full)
                return self._cache[full]
        value = compute()
        with self._cache_lock:
            if full[0] == self.version:
                self._cache[full] = value
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return value

    def status(self) -> str:
        """A line for the page while runs are still loading (empty once loaded)."""
        return "Loading results into the explorer… the tables fill in as soon as they are ready." if self.loading else ""

    def run_dir(self, run_id: str) -> Path | None:
        """The folder of a known run (ids come from the runs table, never from a path in a request)."""
        rows = self.query("SELECT folder FROM runs WHERE run_id = ?", [run_id])
        if rows.empty:
            return None
        return self.layout.run_dir(rows["folder"].iloc[0])

    def close(self) -> None:
        with self._write_lock:
            self._con.close()
        if self._private:
            for suffix in ("", ".wal"):
                Path(str(self._db_path) + suffix).unlink(missing_ok=True)


def _open_database(root: Path, persistent: bool, memory_limit: str):
    """The store's own DuckDB file: ``<data_dir>/cache/explorer.duckdb``, kept between restarts so that
    only new runs are loaded; a private temporary file when another process holds that one (DuckDB
    files take one process) or the folder is not writable."""
    import atexit
    import os
    import tempfile
    import uuid

    config = {"threads": 2, "memory_limit": memory_limit, "preserve_insertion_order": False}
    if persistent:
        shared = root / "cache" / "explorer.duckdb"
        try:
            shared.parent.mkdir(parents=True, exist_ok=True)
            return duckdb.connect(str(shared), config=config), shared, False
        except (duckdb.IOException, duckdb.Error, OSError):
            pass
    folder = root / "tmp"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        folder = Path(tempfile.gettempdir())
    path = folder / f"explorer-{os.getpid()}-{uuid.uuid4().hex[:8]}.duckdb"

    def remove():
        for suffix in ("", ".wal"):
            Path(str(path) + suffix).unlink(missing_ok=True)

    atexit.register(remove)
    return duckdb.connect(str(path), config=config), path, True
