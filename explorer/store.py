"""The results store: an in-process DuckDB over the run folders, plus the reported figures.

Evaluators write Parquet files (see evaluator.results) and publish them to the results store (a
folder or object storage, see evaluator.run_store); this store reads every complete run and the
shipped reported figures into DuckDB tables. ``refresh`` (called on every scheduler tick) loads new
runs incrementally and rebuilds only the small summary tables, so new results appear within a tick,
without a restart. Each run is loaded on its own: one whose files cannot be read is quarantined
with its reason (``problems``) and tried again once its files change. Per-sample rows stay in their
Parquet files and are read on demand, a page at a time.

Tables
    lang_scores   headline score per model entry, task and language (the base of most views)
    cat_scores    headline score per category (idiom, CS/CA, turn_2, ...) and language
    metric_scores every other metric (directions, strict/loose, alignment max, ...)
    scores        a view: the three above together
    entries, task_ids, cells   the language-level scores again, narrow and integer-keyed, sorted by language
    task_scores   per model entry and task: mean over languages, its standard error, gap, coverage
    entry_lang_scores  per model entry and language: mean over tasks (parity, difficulty, heatmaps)
    runs          provenance of each evaluated run (run.json)
    sample_files  where each run's per-sample rows are, and why they cannot be read when they cannot
    loaded_runs   the runs loaded, with the signature of their files (what the next refresh compares)
    models        parameters and Hub ids where known
    languages     the language table (names, scripts, families, resource tiers)
A model entry is (model, revision, precision, source); when a model entry was evaluated twice on a
task, its latest run counts.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import duckdb
import pandas as pd

from evaluator.languages import language_table
from evaluator.results import SCORE_SCHEMA, RunInfo, RunInfoError
from evaluator.run_store import RUN_JSON, SCORES, RunFolder, RunStore, StoreError, samples_name
from evaluator.scope import ALL
from evaluator.stats import Z95
from evaluator.store import StoreLayout

from .filters import SIZE_SQL
from .reported import reported_models, reported_scores

log = logging.getLogger("polyglot.store")
ENTRY = "model, revision, precision, source"
SCHEMA_VERSION = "7"
# Per (entry, task) from the cells table: mean over languages, its standard error, coverage, gap.
CELL_AGGREGATE = """SELECT entry_id, task_id, avg(value) AS score, sqrt(sum(se * se)) / count(*) AS se,
                           count(*) AS n_languages, CASE WHEN count(*) > 1 THEN max(value) - min(value) END AS gap,
                           sum(n_items) AS n_items, max(created_at) AS date"""
RUN_COLUMNS = ["run_id", "folder", "model", "revision", "precision", "dtype", "suite", "suite_version",
               "engine_version", "started_at", "finished_at", "device", "info", "source", "tasks", "skipped"]
PROBLEM_COLUMNS = ["run", "file", "reason", "effect", "since"]


@dataclass(frozen=True)
class Problem:
    """A run that is not loaded: which file, why, and the run's signature when that was found."""

    name: str
    file: str
    reason: str
    signature: str
    since: str
    retry: bool = False  # the store failed to serve a file (not the file's fault): try again every tick


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _file_error(exc: Exception, uri: str, name: str) -> str:
    """DuckDB's message about one file, without the SQL around it and with the file's own name."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    for prefix in ("Invalid Input Error: ", "IO Error: ", "Binder Error: ", "Conversion Error: "):
        text = text.removeprefix(prefix)
    text = text.replace(f"'{uri}'", name).replace(uri, name)
    if "too small to be a Parquet file" in text or "magic bytes" in text.lower():
        text += " (truncated or not Parquet)"
    return text[:300]


def _empty_scores() -> pd.DataFrame:
    return SCORE_SCHEMA.empty_table().to_pandas()


class ResultStore:
    def __init__(self, data_dir: str | Path, include_reported: bool = True,
                 params_provider: Callable[[], dict[str, float]] | None = None, cache_size: int = 512,
                 memory_limit: str = "1GB", persistent: bool = True, background: bool = False,
                 runs: RunStore | None = None):
        self.layout = StoreLayout(data_dir)
        self.runs = runs or RunStore.for_data_dir(data_dir)
        self._problems: dict[str, Problem] = {}
        self._store_problem: str | None = None
        self._write_lock = threading.RLock()  # one writer (refresh) at a time
        self._cache_lock = threading.Lock()
        self._local = threading.local()  # each reading thread has its own cursor
        self._params_provider = params_provider
        self._cache: OrderedDict = OrderedDict()
        self._cache_size = cache_size
        self.version = 0  # bumped on every change; cached views key on it
        self.loading = True
        self._con, self._db_path, self._private = _open_database(self.layout.root, persistent, memory_limit)
        if not self.runs.local:
            # DuckDB reads the store's files through fsspec (its own httpfs extension is not needed).
            self._con.register_filesystem(self.runs.fs)
        self._reader = self._con.cursor()
        self._export_con = None
        with self._write_lock:
            self._create_tables(include_reported)
            self._loaded = dict(self._wquery("SELECT name, signature FROM loaded_runs").itertuples(index=False))
            self._latest = self._latest_runs()
        if background:
            # Serve what the store already holds (its cache of an earlier session, the reported figures)
            # while new runs load.
            threading.Thread(target=self._initial_load, daemon=True, name="store-load").start()
        else:
            self._initial_load()

    def _initial_load(self) -> None:
        try:
            self.refresh(rebuild=self._release_data_changed)
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
        """Create the tables (or keep those of a matching earlier session); reload the reported figures when they changed."""
        con = self._con
        with self._write_lock:
            con.execute("BEGIN TRANSACTION")
            current = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'meta'").fetchall()[0][0]
            meta = dict(con.execute("SELECT key, value FROM meta").fetchall()) if current else {}
            if meta.get("schema") != SCHEMA_VERSION or meta.get("store") != self.runs.url:
                for (name,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall():
                    con.execute(f'DROP TABLE IF EXISTS "{name}" CASCADE')
                con.execute("DROP VIEW IF EXISTS scores")
                con.execute("CREATE TABLE meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
                con.execute("INSERT INTO meta VALUES ('schema', ?), ('store', ?)", [SCHEMA_VERSION, self.runs.url])
                meta = {}
                con.execute("CREATE TABLE loaded_runs (name VARCHAR, folder VARCHAR, signature VARCHAR)")
                con.execute("CREATE TABLE sample_files (run_id VARCHAR, task VARCHAR, uri VARCHAR, problem VARCHAR)")
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
            # The shipped figures and the language table change only with a new release: a restart with
            # the same ones keeps the summaries of its cache instead of rebuilding them over every loaded
            # score (seconds at scale, while the first visitors are being served).
            digest = ":".join(str(int(pd.util.hash_pandas_object(df.astype(str), index=False).sum())) if len(df) else "-"
                              for df in (rep, langs))
            self._release_data_changed = meta.get("release_data") != digest
            if self._release_data_changed:
                for name in ("lang_scores", "cat_scores", "metric_scores"):
                    con.execute(f"DELETE FROM {name} WHERE source = 'reported'")
                self._register("reported_df", rep,
                               "CREATE OR REPLACE TEMP TABLE reported_new AS SELECT * FROM reported_df")
                self._insert_from("reported_new")
                con.execute("DROP TABLE reported_new")
                con.execute("INSERT OR REPLACE INTO meta VALUES ('release_data', ?)", [digest])
            self._reported_models = pd.DataFrame(
                [{"model": k, "hub_id": v["hub_id"], "params_b": v["params_b"]} for k, v in reported_models().items()])
            has_summaries = con.execute(
                "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'task_scores'").fetchall()[0][0]
            if not has_summaries or self._release_data_changed:
                self._rebuild_summaries()  # views work (on the reported figures) while the first runs load
            con.execute("COMMIT")

    def _insert_from(self, source: str) -> None:
        con = self._con
        # Sorted by language: language filters then skip most row groups (DuckDB zone maps).
        con.execute(f"""INSERT INTO lang_scores BY NAME SELECT * FROM {source} WHERE "primary" AND category = '{ALL}'
                        ORDER BY language, task""")
        con.execute(f"""INSERT INTO cat_scores BY NAME SELECT * FROM {source} WHERE category <> '{ALL}'""")
        con.execute(f"""INSERT INTO metric_scores BY NAME SELECT * FROM {source} WHERE NOT "primary" AND category = '{ALL}'""")

    def refresh(self, force: bool = False, rebuild: bool = False) -> bool:
        """Load runs added since the last call (everything again when a loaded run changed or vanished).

        Each run is read on its own: a run whose files cannot be read is quarantined (see
        ``problems``) and everything else loads; it is tried again as soon as its files change.
        All changes land in one transaction: readers see the old tables until the new ones are
        complete. Returns True when anything changed."""
        try:
            scan = self.runs.scan()
        except StoreError as exc:
            self._note_store_problem(str(exc))
            return False
        self._note_store_problem(None)
        current = {r.name: r for r in scan.runs}
        marker_problems = {p.name: Problem(p.name, p.file, p.reason, p.signature, _now()) for p in scan.problems}
        with self._write_lock:
            changed = [n for n, sig in self._loaded.items() if current.get(n) is None or current[n].signature != sig]
            full = force or bool(changed)
            # A quarantined run is read again only once its files change.
            problems = {n: p for n, p in self._problems.items()
                        if n in current and current[n].signature == p.signature and not p.retry}
            for n, mp in marker_problems.items():
                old = self._problems.get(n)
                problems[n] = old if old is not None and (old.signature, old.reason) == (mp.signature, mp.reason) else mp
            candidates = [r for n, r in current.items() if n not in problems and (full or n not in self._loaded)]
            if not candidates and not full and not rebuild:
                self._set_problems(problems)
                return False
            runs, bad = self._read_run_infos(candidates, keep_existing=not full)
            runs, bad_scores = self._stage_scores(runs)
            bad.update(bad_scores)
            samples = self._check_samples(runs)
            for r in candidates:
                if r.name in bad:
                    file, reason, retry = bad[r.name]
                    problems[r.name] = Problem(r.name, file, reason, r.signature, _now(), retry)
            if not runs and not full and not rebuild:
                self._con.execute("DROP TABLE IF EXISTS staged_scores")
                self._set_problems(problems)
                return False
            con = self._con
            con.execute("BEGIN TRANSACTION")
            latest_before = self._latest
            try:
                if full:
                    for name in ("lang_scores", "cat_scores", "metric_scores"):
                        con.execute(f"DELETE FROM {name} WHERE source <> 'reported'")
                    con.execute("DELETE FROM runs; DELETE FROM sample_files; DELETE FROM loaded_runs")
                    self._latest = set()
                self._load_runs(runs, samples)
                self._rebuild_summaries()
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                self._latest = latest_before
                raise
            finally:
                con.execute("DROP TABLE IF EXISTS staged_scores")
            loaded = {} if full else dict(self._loaded)
            loaded.update({r.name: r.signature for r, _ in runs})
            self._loaded = loaded
            self._set_problems(problems)
            with self._cache_lock:
                self.version += 1
                self._cache.clear()
            try:
                con.execute("CHECKPOINT")
            except duckdb.TransactionException:
                # Another cursor's write transaction is open: the write-ahead log is folded in at the next
                # refresh or by DuckDB itself; nothing is lost, and the new runs are already shown.
                log.debug("checkpoint deferred: a transaction is active")
        return True

    def _read_run_infos(self, candidates: list[RunFolder], keep_existing: bool):
        """(run folder, its provenance) for each candidate whose run.json is usable; the others' reasons."""
        existing = dict(self._wquery("SELECT run_id, folder FROM runs").itertuples(index=False)) if keep_existing else {}
        ok, bad = [], {}
        texts = self.runs.read_many([r.folder for r in candidates if r.has(RUN_JSON)], RUN_JSON)
        for r in candidates:
            if not r.has(RUN_JSON):
                bad[r.name] = (RUN_JSON, "the run has scores but no run.json", False)
                continue
            data = texts.get(r.folder)
            if isinstance(data, Exception):  # unreadable now (the store failed): tried again once it changes
                bad[r.name] = (RUN_JSON, f"cannot be read ({type(data).__name__}: {data})"[:300], True)
                continue
            try:
                info = RunInfo.parse(data, default_run_id=r.name)
            except RunInfoError as exc:
                bad[r.name] = (RUN_JSON, str(exc), False)
                continue
            if info.run_id in existing:
                bad[r.name] = (RUN_JSON, f"run {info.run_id} is already loaded from {existing[info.run_id]}", False)
                continue
            existing[info.run_id] = r.folder
            ok.append((r, info))
        return ok, bad

    def _stage_scores(self, runs: list[tuple[RunFolder, RunInfo]]):
        """Read the runs' scores into a temporary table, all at once, or one run at a time when that fails.

        Runs outside any transaction: a file that cannot be read costs only its own run."""
        con = self._con
        con.execute("""CREATE OR REPLACE TEMP TABLE staged_scores AS
                       SELECT *, ''::VARCHAR AS filename FROM score_template LIMIT 0""")
        if not runs:
            return [], {}
        uris = [self.runs.uri(r.folder, SCORES) for r, _ in runs]
        read = "INSERT INTO staged_scores BY NAME SELECT * FROM read_parquet(?, union_by_name=true, filename=true)"
        bad = {}
        try:
            con.execute(read, [uris])
        except duckdb.Error:
            con.execute("DELETE FROM staged_scores")
            for (r, _), uri in zip(runs, uris):
                try:
                    con.execute(read, [[uri]])
                except duckdb.Error as exc:
                    bad[r.name] = (SCORES, _file_error(exc, uri, SCORES), isinstance(exc, duckdb.IOException))
        counts = {(f, rid): n for f, rid, n in con.execute(
            "SELECT filename, run_id, count(*) FROM staged_scores GROUP BY ALL").fetchall()}
        ok = []
        for (r, info), uri in zip(runs, uris):
            if r.name in bad:
                continue
            if not counts.get((uri, info.run_id)):
                others = sorted({str(rid) for f, rid in counts if f == uri})
                bad[r.name] = (SCORES, f"holds no scores of run {info.run_id}"
                               + (f" (it names {', '.join(others[:3])})" if others else " (no rows)"), False)
                continue
            ok.append((r, info))
        dropped = [uri for (r, _), uri in zip(runs, uris) if r.name in bad]
        if dropped:
            con.execute("DELETE FROM staged_scores WHERE filename IN (SELECT unnest(?))", [dropped])
        return ok, bad

    def _check_samples(self, runs: list[tuple[RunFolder, RunInfo]]) -> pd.DataFrame:
        """(run_id, task, uri, problem) for every per-sample file of the runs; problem is NULL when readable."""
        rows = []
        for r, info in runs:
            files = r.samples()
            for task in info.tasks:
                if task in files:
                    rows.append({"run_id": info.run_id, "task": task, "uri": self.runs.uri(r.folder, files[task]),
                                 "problem": None})
        if not rows:
            return pd.DataFrame(columns=["run_id", "task", "uri", "problem"])
        con = self._con
        check = "SELECT count(*) FROM parquet_file_metadata(?)"
        try:
            con.execute(check, [[x["uri"] for x in rows]]).fetchall()
        except duckdb.Error:
            for x in rows:
                try:
                    con.execute(check, [[x["uri"]]]).fetchall()
                except duckdb.Error as exc:
                    name = x["uri"].rsplit("/", 1)[-1]
                    x["problem"] = f"{name}: {_file_error(exc, x['uri'], name)}"
        return pd.DataFrame(rows, columns=["run_id", "task", "uri", "problem"])

    def _load_runs(self, runs: list[tuple[RunFolder, RunInfo]], samples: pd.DataFrame) -> None:
        con = self._con
        if not runs:
            return
        rows = [{"run_id": i.run_id, "folder": r.folder, "model": i.model, "revision": i.revision,
                 "precision": i.precision, "dtype": i.dtype, "suite": i.suite, "suite_version": i.suite_version,
                 "engine_version": i.engine_version, "started_at": i.started_at, "finished_at": i.finished_at,
                 "device": i.device, "info": json.dumps(i.raw, default=str),
                 # What the leaderboard reads of every run, kept apart from the (large) provenance: parsing
                 # all of run.json again on each refresh cost seconds at a thousand runs.
                 "source": i.source, "tasks": json.dumps(list(i.tasks)),
                 "skipped": json.dumps(i.skipped_tasks, default=str)} for r, i in runs]
        self._register("runs_new", pd.DataFrame(rows, columns=RUN_COLUMNS), "INSERT INTO runs SELECT * FROM runs_new")
        self._register("samples_new", samples, "INSERT INTO sample_files SELECT * FROM samples_new")
        self._register("loaded_new", pd.DataFrame([(r.name, r.folder, r.signature) for r, _ in runs],
                                                  columns=["name", "folder", "signature"]),
                       "INSERT INTO loaded_runs SELECT * FROM loaded_new")
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
        con.execute("""CREATE OR REPLACE TEMP TABLE new_scores AS SELECT s.* EXCLUDE (filename) FROM staged_scores s
                       SEMI JOIN latest l ON s.run_id = l.run_id AND s.task = l.task""")
        self._insert_from("new_scores")
        con.execute("DROP TABLE new_scores")
        self._latest = latest

    # -- problems ------------------------------------------------------------------------
    def _set_problems(self, problems: dict[str, Problem]) -> None:
        for name, p in list(problems.items()):
            old = self._problems.get(name)
            if old is None or (old.signature, old.reason) != (p.signature, p.reason):
                log.warning("results of %s not loaded: %s: %s", name, p.file, p.reason)
            elif old.since != p.since:
                problems[name] = old  # the same problem as before: keep when it was first seen
        for name in set(self._problems) - set(problems):
            if name in self._loaded:
                log.warning("results of %s loaded again", name)
        self._problems = problems

    def _note_store_problem(self, reason: str | None) -> None:
        if reason and reason != self._store_problem:
            log.warning("%s; showing the results loaded earlier", reason)
        self._store_problem = reason

    def problems(self) -> pd.DataFrame:
        """What could not be loaded and why: quarantined runs, unreadable per-sample files, the store itself."""
        rows = [{"run": p.name, "file": p.file, "reason": p.reason, "effect": "not shown", "since": p.since}
                for p in sorted(self._problems.values(), key=lambda p: p.name)]
        samples = self.query("""SELECT r.folder, s.task, s.problem FROM sample_files s JOIN runs r USING (run_id)
                                WHERE s.problem IS NOT NULL ORDER BY r.folder, s.task""")
        rows += [{"run": f.split("/")[0], "file": samples_name(t), "reason": pr.split(": ", 1)[-1],
                  "effect": f"scores shown; per-sample rows of {t} unavailable", "since": ""}
                 for f, t, pr in samples.itertuples(index=False)]
        if self._store_problem:
            rows.insert(0, {"run": "", "file": self.runs.url, "reason": self._store_problem,
                            "effect": "new results wait", "since": ""})
        return pd.DataFrame(rows, columns=PROBLEM_COLUMNS)

    def _latest_runs(self) -> set[tuple[str, str]]:
        """(run, task) pairs that count: for each model entry (source included) and task, the most recent run."""
        # An imported run never replaces an evaluated one of the same model (nor the other way round):
        # the source is part of the entry.
        rows = self._wquery("""SELECT run_id, task FROM (
                                   SELECT run_id, model, revision, precision, source, coalesce(finished_at, '') AS done,
                                          unnest(from_json(tasks, '["VARCHAR"]')) AS task FROM runs)
                               QUALIFY row_number() OVER (PARTITION BY model, revision, precision, source, task
                                                          ORDER BY done DESC, run_id DESC) = 1""")
        return set(zip(rows["run_id"], rows["task"]))

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
            WHERE l.higher_is_better AND l.language <> '{ALL}' ORDER BY l.language
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
            FROM lang_scores WHERE higher_is_better AND language = '{ALL}'
              AND (model, revision, precision, source, task) NOT IN
                  (SELECT model, revision, precision, source, task FROM lang_scores WHERE language <> '{ALL}')
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
        meta = self._reported_models.copy()
        extra = self._params_provider() if self._params_provider else {}
        if extra:
            meta = pd.concat([meta, pd.DataFrame([{"model": k, "hub_id": None, "params_b": v} for k, v in extra.items()])])
        meta = meta.drop_duplicates("model", keep="last")
        self._register("models_df", meta, "CREATE OR REPLACE TABLE models AS SELECT * FROM models_df")
        con.execute(f"CREATE OR REPLACE TABLE model_sizes AS SELECT model, {SIZE_SQL} AS size FROM models "
                    "WHERE params_b IS NOT NULL")

    # -- reading -------------------------------------------------------------------------
    def cursor(self):
        """This thread's reading cursor (for statements that are not a table query, e.g. COPY)."""
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            with self._cache_lock:
                cur = self._reader.cursor()
            self._local.cursor = cur
        return cur

    def export_cursor(self):
        """A cursor for writing downloads straight from the per-sample files: a database of its own,
        one thread, so that a large download takes at most one core from the store's readers."""
        with self._cache_lock:
            if self._export_con is None:
                self._export_con = duckdb.connect(config={"threads": 1, "memory_limit": "512MB",
                                                          "preserve_insertion_order": True})
                if not self.runs.local:
                    self._export_con.register_filesystem(self.runs.fs)
            return self._export_con.cursor()

    def query(self, sql: str, params: list | tuple | None = None) -> pd.DataFrame:
        return self.cursor().execute(sql, params or []).df()

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

    def sample_file(self, run_id: str, task: str) -> tuple[str | None, str | None]:
        """(where the per-sample rows of a run's task are, why they cannot be read): from the tables,
        never from a path in a request."""
        rows = self.query("SELECT uri, problem FROM sample_files WHERE run_id = ? AND task = ?", [run_id, task])
        if rows.empty:
            return None, None
        return rows["uri"].iloc[0], rows["problem"].iloc[0] if isinstance(rows["problem"].iloc[0], str) else None

    def sample_files(self, model: str, tasks: tuple = ()) -> tuple[list[str], list[tuple[str, str]]]:
        """(readable per-sample files of a model's runs, (task, reason) for those that cannot be read)."""
        rows = self.query("""SELECT s.task, s.uri, s.problem FROM sample_files s JOIN runs r USING (run_id)
                             WHERE r.model = ? ORDER BY r.run_id, s.task""", [model])
        if tasks:
            rows = rows[rows["task"].isin(tasks)]
        ok, bad = rows[rows["problem"].isna()], rows[rows["problem"].notna()]
        return ok["uri"].tolist(), list(zip(bad["task"], bad["problem"]))

    def close(self) -> None:
        with self._write_lock:
            self._con.close()
            if self._export_con is not None:
                self._export_con.close()
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
