"""Where finished runs live: a folder or any fsspec URL, with write-once publishing.

    POLYGLOT_STORE unset              <data_dir>/results (a folder on this machine)
    POLYGLOT_STORE=file:///srv/runs   a folder, e.g. on a network disk
    POLYGLOT_STORE=s3://bucket/prefix an S3-compatible object store (s3fs; endpoint and keys from the
                                      AWS_* variables or fsspec's FSSPEC_S3_* variables)
    POLYGLOT_STORE=hf://datasets/org/name  a Hugging Face dataset (huggingface_hub's HfFileSystem; HF_TOKEN)

Layout under the store's root:

    <run_id>/<attempt>/run.json, samples-<task>.parquet, scores.parquet   one upload per publishing attempt
    <run_id>/_published.json    the completion marker, created once; it names the attempt that counts
    <run_id>/run.json, ..., scores.parquet   a plain run folder (``python -m evaluator run --output``,
                                imports, earlier versions): complete once scores.parquet exists

A worker evaluates into a local folder, uploads it as a new attempt and then creates the marker with
a conditional write (``If-None-Match: *`` on S3, a hard link on a local disk). A second publish of the
same run (a retry, or a worker that lost its lease and finished anyway) finds the marker taken and
is refused: it never writes into the published attempt. Readers follow markers only, so an attempt
whose upload was interrupted is never seen.
"""

from __future__ import annotations

import json
import os
import re
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .errors import PolyglotError

MARKER = "_published.json"
SCORES = "scores.parquet"
RUN_JSON = "run.json"
_SAMPLES_PREFIX, _SAMPLES_SUFFIX = "samples-", ".parquet"
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")


def samples_name(task: str) -> str:
    """The file holding a task's per-sample rows in a run folder."""
    return f"{_SAMPLES_PREFIX}{task}{_SAMPLES_SUFFIX}"


def samples_task(name: str) -> str | None:
    """The task whose per-sample rows the file ``name`` holds, or None for any other file."""
    if name.startswith(_SAMPLES_PREFIX) and name.endswith(_SAMPLES_SUFFIX):
        return name[len(_SAMPLES_PREFIX):-len(_SAMPLES_SUFFIX)]
    return None


class StoreError(PolyglotError, RuntimeError):
    """The results store cannot be reached or refused a write; the message is meant for users."""


class AlreadyPublished(PolyglotError):
    """The run already has a completion marker: this attempt was not published."""

    def __init__(self, run_id: str, attempt: str | None):
        super().__init__(f"run {run_id} is already published (attempt {attempt or 'unknown'})")
        self.run_id, self.attempt = run_id, attempt


@dataclass(frozen=True)
class RunFolder:
    """A complete run as the store lists it: its files and their versions, for change detection."""

    name: str  # the top-level name (the run id of published runs)
    folder: str  # where its files are, relative to the root: the name, or name/attempt
    files: tuple[tuple[str, int, str], ...]  # (file name, size, version), sorted
    published: bool

    @property
    def signature(self) -> str:
        return json.dumps([self.folder, self.files])

    def has(self, name: str) -> bool:
        return any(f[0] == name for f in self.files)

    def samples(self) -> dict[str, str]:
        """task -> file name of its per-sample rows."""
        return {samples_task(f[0]): f[0] for f in self.files if samples_task(f[0]) is not None}


@dataclass(frozen=True)
class MarkerProblem:
    name: str
    file: str
    reason: str
    signature: str


@dataclass
class Scan:
    runs: list[RunFolder] = field(default_factory=list)
    problems: list[MarkerProblem] = field(default_factory=list)


def _version(info: dict) -> str:
    for key in ("ETag", "etag", "blob_id", "mtime", "LastModified", "last_commit"):
        if info.get(key) is not None:
            return str(info[key])
    return ""


def _is_precondition_failed(exc: BaseException) -> bool:
    """True for a refused conditional write. s3fs maps it to FileExistsError only when the server names
    the condition (AWS does; SeaweedFS answers a plain 412 PreconditionFailed)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, FileExistsError):
            return True
        response = getattr(exc, "response", None)
        if isinstance(response, dict):
            err = response.get("Error") or {}
            meta = response.get("ResponseMetadata") or {}
            if err.get("Code") == "PreconditionFailed" or meta.get("HTTPStatusCode") == 412:
                return True
        exc = exc.__cause__ or exc.__context__
    return False


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:400]


class RunStore:
    """Run folders under one root URL, read and written through fsspec."""

    def __init__(self, url: str, fs=None):
        self.url = url.rstrip("/")
        if fs is None:
            import fsspec  # imported here: backends (s3fs, huggingface_hub) load only for their URLs

            try:
                fs, root = fsspec.core.url_to_fs(self.url)
            except (ImportError, ValueError) as exc:
                raise StoreError(f"the results store {self.url} cannot be used: {exc}") from exc
        else:
            root = fs._strip_protocol(self.url)
        self.fs = fs
        self.root = str(root).rstrip("/")
        protocols = (fs.protocol,) if isinstance(fs.protocol, str) else tuple(fs.protocol)
        self.local = "file" in protocols or "local" in protocols
        self._markers: dict[str, tuple[str, str | None, str | None]] = {}  # name -> (signature, attempt, problem)

    @classmethod
    def for_data_dir(cls, data_dir: str | os.PathLike, url: str | None = None) -> "RunStore":
        """The store a deployment uses: ``url``, else $POLYGLOT_STORE, else ``<data_dir>/results``."""
        url = url or os.environ.get("POLYGLOT_STORE") or ""
        if not url:
            url = Path(data_dir).expanduser().resolve().joinpath("results").as_uri()
        return cls(url)

    def __repr__(self) -> str:
        return f"RunStore({self.url!r})"

    # -- paths ----------------------------------------------------------------------------------
    def path(self, *parts: str) -> str:
        return "/".join([self.root, *[p for p in parts if p]])

    def uri(self, folder: str, name: str) -> str:
        """What DuckDB and pyarrow are given: a plain path for a local store, else protocol://path."""
        p = self.path(folder, name)
        return p if self.local else self.fs.unstrip_protocol(p)

    def local_path(self, folder: str, name: str = "") -> Path | None:
        return Path(self.path(folder, name)) if self.local else None

    # -- reading --------------------------------------------------------------------------------
    def scan(self) -> Scan:
        """Every complete run under the root (one listing), and markers that cannot be followed.

        Raises StoreError when the store cannot be listed: an unreachable store is never taken for an
        empty one."""
        try:
            self.fs.invalidate_cache()
            entries = self.fs.find(self.root, detail=True)
        except FileNotFoundError:
            return Scan()  # nothing published yet
        except Exception as exc:  # noqa: BLE001 - any failure of the backend means: not reachable now
            raise StoreError(f"the results store {self.url} cannot be read: {_reason(exc)}") from exc
        tree: dict[str, dict[str, dict[str, tuple[int, str]]]] = {}
        prefix = self.root + "/"
        for path, info in entries.items():
            if info.get("type") == "directory" or not path.startswith(prefix):
                continue
            parts = path[len(prefix):].split("/")
            if len(parts) not in (2, 3) or parts[0][:1] in ("_", "."):
                continue
            sub = "" if len(parts) == 2 else parts[1]
            tree.setdefault(parts[0], {}).setdefault(sub, {})[parts[-1]] = (int(info.get("size") or 0), _version(info))
        scan = Scan()
        seen_markers = set()
        for name in sorted(tree):
            top = tree[name]
            here = top.get("", {})
            if MARKER in here:
                seen_markers.add(name)
                attempt, problem, sig = self._follow_marker(name, here[MARKER])
                if problem:
                    scan.problems.append(MarkerProblem(name, MARKER, problem, sig))
                    continue
                files = top.get(attempt, {})
                if SCORES not in files:
                    scan.problems.append(MarkerProblem(
                        name, MARKER, f"the published attempt {attempt} has no {SCORES}", sig))
                    continue
                scan.runs.append(RunFolder(name, f"{name}/{attempt}", _listing(files), True))
            elif SCORES in here:
                scan.runs.append(RunFolder(name, name, _listing(here), False))
        for gone in set(self._markers) - seen_markers:
            del self._markers[gone]
        return scan

    def _follow_marker(self, name: str, stat: tuple[int, str]) -> tuple[str | None, str | None, str]:
        sig = json.dumps(stat)
        cached = self._markers.get(name)
        if cached and cached[0] == sig:
            return cached[1], cached[2], sig
        attempt, problem = None, None
        try:
            marker = json.loads(self.fs.cat_file(self.path(name, MARKER)))
            attempt = marker.get("attempt") if isinstance(marker, dict) else None
            if not isinstance(attempt, str) or not _SAFE_NAME.match(attempt):
                problem = "the completion marker names no valid attempt"
        except ValueError as exc:
            problem = f"the completion marker is not valid JSON ({exc})"
        except Exception as exc:  # noqa: BLE001
            raise StoreError(f"the results store {self.url} cannot be read: {_reason(exc)}") from exc
        self._markers[name] = (sig, attempt, problem)
        return attempt, problem, sig

    def read_many(self, folders: list[str], name: str) -> dict[str, bytes | Exception]:
        """``name`` of each folder, fetched concurrently where the backend can (S3): folder -> bytes or error."""
        if not folders:
            return {}
        paths = {self.path(f, name): f for f in folders}
        try:
            got = self.fs.cat(list(paths), on_error="return")
        except Exception as exc:  # noqa: BLE001
            return {f: exc for f in folders}
        if not isinstance(got, dict):  # a single path comes back as bytes
            got = {next(iter(paths)): got}
        return {paths[p]: v for p, v in got.items() if p in paths} | {
            f: FileNotFoundError(p) for p, f in paths.items() if p not in got}

    def published_folder(self, run_id: str) -> str | None:
        """The folder of a published run, or None."""
        try:
            marker = json.loads(self.fs.cat_file(self.path(run_id, MARKER)))
        except FileNotFoundError:
            return None
        return f"{run_id}/{marker['attempt']}"

    # -- writing --------------------------------------------------------------------------------
    def check(self) -> None:
        """Raise StoreError when the store cannot be listed (before spending an evaluation on it)."""
        try:
            self.fs.invalidate_cache()
            self.fs.ls(self.root)
        except FileNotFoundError:
            pass  # an empty store: the first publish creates the root
        except Exception as exc:  # noqa: BLE001
            raise StoreError(f"the results store {self.url} cannot be reached: {_reason(exc)}") from exc

    def publish(self, local_dir: Path, run_id: str, worker: str = "") -> str:
        """Upload ``local_dir`` as a new attempt of ``run_id`` and create its completion marker.

        Returns the published folder. Raises AlreadyPublished when the run has a marker already (this
        attempt's upload is then removed) and StoreError when the store fails; in both cases the
        published run, if any, is untouched and no marker names a partial upload."""
        local_dir = Path(local_dir)
        if not _SAFE_NAME.match(run_id):
            raise ValueError(f"not a valid run id: {run_id!r}")
        # The run's own files only: a response cache or a log beside them stays on this machine.
        names = sorted(p.name for p in local_dir.iterdir() if p.is_file() and _is_run_file(p.name))
        if SCORES not in names or RUN_JSON not in names:
            raise ValueError(f"{local_dir} is not a complete run folder (needs {RUN_JSON} and {SCORES})")
        try:
            named = json.loads((local_dir / RUN_JSON).read_text(encoding="utf-8")).get("run_id")
        except (ValueError, AttributeError) as exc:
            raise ValueError(f"{local_dir / RUN_JSON} is not a run's provenance: {exc}") from None
        if named not in (None, run_id):
            raise ValueError(f"{local_dir} holds run {named}, not {run_id}")
        names = [n for n in names if n != SCORES] + [SCORES]
        marker_path = self.path(run_id, MARKER)
        attempt = f"{datetime.now(timezone.utc):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
        folder = f"{run_id}/{attempt}"
        try:
            if self.fs.exists(marker_path):
                raise AlreadyPublished(run_id, self._attempt_of(run_id))
            sizes = {}
            self.fs.makedirs(self.path(folder), exist_ok=True)
            for n in names:
                self.fs.put_file(str(local_dir / n), self.path(folder, n))
                sizes[n] = (local_dir / n).stat().st_size
            self.fs.invalidate_cache(self.path(folder))
            listed = {p.rsplit("/", 1)[-1]: int(i.get("size") or 0)
                      for p, i in self.fs.find(self.path(folder), detail=True).items()}
            short = [n for n, s in sizes.items() if listed.get(n) != s]
            if short:
                raise StoreError(f"the results store {self.url} holds incomplete copies of {', '.join(short)}")
            marker = {"run_id": run_id, "attempt": attempt, "files": sizes, "worker": worker,
                      "published_at": datetime.now(timezone.utc).isoformat()}
            self._create_once(marker_path, json.dumps(marker, indent=2).encode())
        except AlreadyPublished:
            self._discard(folder)
            raise
        except StoreError:
            self._discard(folder)
            raise
        except Exception as exc:  # noqa: BLE001 - whatever the backend raised, nothing was published
            self._discard(folder)
            if _is_precondition_failed(exc):
                raise AlreadyPublished(run_id, self._attempt_of(run_id)) from exc
            raise StoreError(f"the results store {self.url} cannot be written: {_reason(exc)}") from exc
        return folder

    def _create_once(self, path: str, data: bytes) -> None:
        """Create ``path`` with ``data`` unless it exists, atomically where the store allows it."""
        if self.local:
            # Write a temporary file, then hard-link it into place: link() fails if the name exists,
            # and readers never see a half-written marker.
            target = Path(path)
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
            with open(tmp, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            try:
                os.link(tmp, target)
            finally:
                tmp.unlink(missing_ok=True)
            return
        # s3fs sends If-None-Match: * for mode="create"; other backends check, then write.
        self.fs.pipe_file(path, data, mode="create")

    def _attempt_of(self, run_id: str) -> str | None:
        try:
            return json.loads(self.fs.cat_file(self.path(run_id, MARKER))).get("attempt")
        except Exception:  # noqa: BLE001
            return None

    def _discard(self, folder: str) -> None:
        try:
            self.fs.rm(self.path(folder), recursive=True)
        except Exception:  # noqa: BLE001 - best effort: an unpublished attempt is invisible anyway
            pass


def _is_run_file(name: str) -> bool:
    return name in (RUN_JSON, SCORES) or samples_task(name) is not None


def _listing(files: dict[str, tuple[int, str]]) -> tuple[tuple[str, int, str], ...]:
    """The run's own files with their versions (a response cache written beside them changes nothing)."""
    return tuple(sorted((n, s, v) for n, (s, v) in files.items() if _is_run_file(n)))
