"""Files of view tables for download (CSV, Parquet or JSON), exactly as shown, cached and bounded.

A download writes only the format asked for, once per (table, its arguments, format, store
version): a repeated call returns the file already written without computing anything. Building a
file takes a slot: at most ``per_client`` at once per client address and ``overall`` at once in
the app (others wait up to ``wait_s``), so downloads cannot starve the rest of the app. The
exports folder is capped at ``max_bytes``, evicting the least recently used files first, and
files unused for ``keep_s`` are removed. Clean-up never follows symbolic links and removes only
folders the app made (marked with ``MARKER``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import stat
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from evaluator.errors import PolyglotError

log = logging.getLogger("polyglot.downloads")
FORMATS = ("csv", "parquet", "json")
MARKER = ".polyglot-export"
_OURS = re.compile(r"^[0-9a-f]{24}$")
_LEGACY = re.compile(r"^\d{9,11}-[0-9a-f]{12}$")  # folders of earlier versions of the app


def _lower_priority() -> None:
    """Nice the calling thread (Linux applies a thread id's priority to that thread alone)."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
    except (AttributeError, OSError):
        pass


class DownloadBusy(PolyglotError, RuntimeError):
    """No slot to build the file now; ``str(exc)`` says what to do."""


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object:
            out[c] = out[c].map(lambda v: json.dumps(v.tolist() if hasattr(v, "tolist") else v, ensure_ascii=False)
                                if isinstance(v, (list, dict)) or hasattr(v, "tolist") else v)
    return out


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x85\u2028\u2029]")
# Spreadsheets run a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formula(value):
    """A text cell a spreadsheet would run as a formula gets a leading quote; anything else as is."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_START) else value


def _csv_safe(df: pd.DataFrame) -> pd.DataFrame:
    """Formulas neutralised; NUL and other control characters (models do generate them), which CSV
    readers choke on, shown as U+FFFD."""
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object or pd.api.types.is_string_dtype(out[c]):
            out[c] = out[c].map(lambda v: _CONTROL.sub("\ufffd", neutralise_formula(v)) if isinstance(v, str) else v)
    return out


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    _csv_safe(df).to_csv(path, index=False)


def _write_parquet(df: pd.DataFrame, path: Path) -> None:
    df.to_parquet(path, index=False)


def _write_json(df: pd.DataFrame, path: Path) -> None:
    path.write_text(df.to_json(orient="records", force_ascii=False, date_format="iso"), encoding="utf-8")


WRITERS: dict[str, Callable[[pd.DataFrame, Path], None]] = {"csv": _write_csv, "parquet": _write_parquet,
                                                            "json": _write_json}


@dataclass(frozen=True)
class Query:
    """Rows DuckDB writes straight to the file (``COPY``): no Python objects on the way and the
    interpreter lock released, so that a large download does not hold up other users' requests."""

    connect: Callable[[], object]  # a DuckDB cursor for the thread that writes the file
    sql: str
    params: tuple = ()


_FORMULA_SQL = r"^[=+\-@\t\r]"
_CONTROL_SQL = r"[\x00-\x08\x0b-\x1f\x7f\x{85}\x{2028}\x{2029}]"
_COPY_OPTIONS = {"csv": "FORMAT csv, HEADER true", "parquet": "FORMAT parquet", "json": "FORMAT json, ARRAY true"}


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _export_expr(name: str, dtype: str, fmt: str) -> str:
    """One column as the DataFrame path writes it: lists and structs as JSON text; in CSV, text
    cells with formulas neutralised and control characters replaced."""
    col = _quoted(name)
    if dtype.endswith("]") or dtype.startswith(("STRUCT", "MAP")):
        col = f"to_json({col})::VARCHAR"
    elif dtype != "VARCHAR":
        return col
    if fmt == "csv":
        col = (f"regexp_replace(CASE WHEN regexp_matches({col}, '{_FORMULA_SQL}') THEN '''' || {col} ELSE {col} END, "
               f"'{_CONTROL_SQL}', '\ufffd', 'g')")
    return f"{col} AS {_quoted(name)}"


def copy_query(query: Query, path: Path, fmt: str) -> None:
    cur = query.connect()
    columns = cur.execute(f"DESCRIBE {query.sql}", list(query.params)).fetchall()
    select = ", ".join(_export_expr(name, dtype, fmt) for name, dtype, *_ in columns)
    target = str(path).replace("'", "''")
    cur.execute(f"COPY (SELECT {select} FROM ({query.sql})) TO '{target}' ({_COPY_OPTIONS[fmt]})", list(query.params))


def write_table(table: pd.DataFrame | Query, path: Path, fmt: str) -> None:
    if isinstance(table, Query):
        copy_query(table, path, fmt)
    else:
        WRITERS[fmt](_plain(table), path)


@dataclass(frozen=True)
class ExportLimits:
    max_bytes: int = 2 * 1024**3
    per_client: int = 2
    overall: int = 2
    wait_s: float = 120.0
    keep_s: float = 24 * 3600.0


class Exports:
    """The exports folder: cached download files, bounded in concurrency and size."""

    def __init__(self, folder: Path, limits: ExportLimits | None = None):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.limits = limits or ExportLimits()
        self._slots = threading.BoundedSemaphore(max(1, self.limits.overall))
        self._pool = ThreadPoolExecutor(max(1, self.limits.overall), thread_name_prefix="export",
                                        initializer=_lower_priority)
        self._lock = threading.Lock()
        self._clients: Counter = Counter()
        self._building: dict[str, threading.Lock] = {}
        self.built = 0  # files written (a cache hit writes none)

    def path_for(self, key: tuple, name: str, fmt: str) -> Path:
        digest = hashlib.sha256(repr((*key, fmt)).encode()).hexdigest()[:24]
        return self.folder / digest / f"{name}.{fmt}"

    def file(self, key: tuple, name: str, fmt: str, make: Callable[[], pd.DataFrame | Query],
             client: str | None = None) -> str:
        """The file of ``make()`` in ``fmt``, built at most once per ``key`` (which must hold the store
        version). ``client`` (an address) is held to ``per_client`` builds at once; None is not counted."""
        if fmt not in WRITERS:
            raise ValueError(f"format must be one of {', '.join(FORMATS)}")
        path = self.path_for(key, name, fmt)
        if self._cached(path):
            return str(path)
        who = client or ""
        with self._lock:
            if who and self._clients[who] >= self.limits.per_client:
                raise DownloadBusy(f"{self._clients[who]} downloads of yours are being prepared; wait for them "
                                   "to finish, then try again.")
            self._clients[who] += 1
            building = self._building.setdefault(path.parent.name, threading.Lock())
        try:
            with building:  # the same file asked for twice at once is built once
                if self._cached(path):
                    return str(path)
                if not self._slots.acquire(timeout=self.limits.wait_s):
                    raise DownloadBusy("The server is preparing many downloads; try again in a minute.")
                try:
                    # Built on a thread of its own at a lower CPU priority: reading users come first.
                    self._pool.submit(self._build, path, fmt, make).result()
                finally:
                    self._slots.release()
        finally:
            with self._lock:
                self._clients[who] -= 1
                if self._clients[who] <= 0:
                    del self._clients[who]
                if not building.locked():
                    self._building.pop(path.parent.name, None)
        self.prune(keep=path.parent)
        return str(path)

    def _cached(self, path: Path) -> bool:
        try:
            if stat.S_ISREG(os.lstat(path).st_mode) and stat.S_ISREG(os.lstat(path.parent / MARKER).st_mode):
                os.utime(path.parent / MARKER, follow_symlinks=False)  # recently used: evicted last
                return True
        except OSError:
            pass
        return False

    def _build(self, path: Path, fmt: str, make: Callable[[], pd.DataFrame | Query]) -> None:
        df = make()
        sub = path.parent
        sub.mkdir(exist_ok=True)
        if not sub.is_dir() or sub.is_symlink():
            raise OSError(f"{sub.name} in the exports folder is not the app's")
        (sub / MARKER).touch()
        tmp = sub / f".{uuid.uuid4().hex[:8]}.tmp"
        try:
            write_table(df, tmp, fmt)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        self.built += 1

    # -- clean-up ------------------------------------------------------------------------
    def _ours(self) -> list[tuple[float, int, Path]]:
        """(last use, bytes, folder) of every folder the app made; links and foreign entries are left alone."""
        out = []
        try:
            entries = list(os.scandir(self.folder))
        except OSError:
            return out
        for e in entries:
            try:
                if not e.is_dir(follow_symlinks=False):
                    continue
                sub = Path(e.path)
                if _OURS.match(e.name):
                    marker = os.lstat(sub / MARKER)
                    if not stat.S_ISREG(marker.st_mode):
                        continue
                    used = marker.st_mtime
                elif _LEGACY.match(e.name):
                    used = os.lstat(sub).st_mtime
                else:
                    continue
                size = sum(s.st_size for s in (os.lstat(f.path) for f in os.scandir(sub)) if stat.S_ISREG(s.st_mode))
                out.append((used, size, sub))
            except OSError:
                continue
        return out

    def prune(self, keep: Path | None = None, now: float | None = None) -> int:
        """Remove folders unused for ``keep_s``, then the least recently used until the folder fits
        ``max_bytes``; returns how many were removed."""
        now = time.time() if now is None else now
        folders = sorted(self._ours())
        total = sum(size for _, size, _ in folders)
        removed = 0
        for used, size, sub in folders:
            if keep is not None and sub == keep:
                continue
            if (now - used > self.limits.keep_s or total > self.limits.max_bytes) and _remove_folder(sub):
                total -= size
                removed += 1
        return removed


def _remove_folder(sub: Path) -> bool:
    """Unlink the regular files directly in ``sub``, then ``sub`` itself; never follows a link, and
    leaves anything else (a link, a folder) and hence the folder in place."""
    try:
        for f in os.scandir(sub):
            if f.is_file(follow_symlinks=False):
                os.unlink(f.path)
        os.rmdir(sub)
        return True
    except OSError as exc:
        log.warning("export folder %s not removed: %s", sub.name, exc.strerror or exc)
        return False
