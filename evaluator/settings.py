"""Every setting of a deployment in one table: name, environment variable, default, help, and the
command-line flag where there is one. The app (``app.py``, ``submissions.settings``), the worker and
the Ray dispatcher read their settings from here; README documents each one (a test holds it to that).

Standard library only, so every layer (the web app, workers, the queue) can import it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import PolyglotError


class SettingError(PolyglotError, ValueError):
    """An environment variable holds a value its setting cannot take; the message names both."""


def _text(raw: str) -> str:
    return raw


def _optional_text(raw: str) -> str | None:
    return raw or None


def _flag(raw: str) -> bool:
    return raw.strip().lower() not in ("", "0", "false", "no")


@dataclass(frozen=True)
class Setting:
    name: str  # attribute name (Settings field, argparse dest)
    env: str
    default: Any
    help: str
    parse: Callable[[str], Any] = _text
    flag: str | None = None  # app.py's command-line flag, if it has one

    def read(self, environ: Mapping[str, str] | None = None) -> Any:
        """The value from the environment, else the default; a value that does not parse is an error."""
        raw = (os.environ if environ is None else environ).get(self.env)
        if raw is None or raw == "":
            return self.default
        try:
            return self.parse(raw)
        except ValueError as exc:
            raise SettingError(f"{self.env}={raw!r} is not valid: {exc}") from None


SETTINGS: tuple[Setting, ...] = (
    Setting("data_dir", "POLYGLOT_DATA_DIR", "data/store", "data folder: queue, results, caches, logs",
            flag="--data-dir"),
    Setting("host", "POLYGLOT_HOST", "127.0.0.1", "address the web app listens on", flag="--host"),
    Setting("port", "POLYGLOT_PORT", 7860, "port the web app listens on", int, flag="--port"),
    Setting("suite", "POLYGLOT_SUITE", "polyglot",
            "suite evaluated for new submissions (tasks whose data cannot be obtained are skipped)", flag="--suite"),
    Setting("max_params_b", "POLYGLOT_MAX_PARAMS_B", 100.0, "largest model accepted, in billions of parameters",
            float, flag="--max-params-b"),
    Setting("tick_s", "POLYGLOT_TICK_S", 10.0, "seconds between scheduler ticks (claim work, refresh results)",
            float, flag="--tick"),
    Setting("lease_s", "POLYGLOT_LEASE_S", 120.0, "seconds before a silent worker's request is reclaimed",
            float, flag="--lease"),
    Setting("store_url", "POLYGLOT_STORE", "",
            "results store: empty for DATA_DIR/results, else a folder or any fsspec URL (s3://bucket/prefix)",
            flag="--store"),
    Setting("queue_url", "POLYGLOT_QUEUE", None,
            "queue URL: empty for the data folder's SQLite file, or postgresql://...", _optional_text, flag="--queue"),
    Setting("dispatch", "POLYGLOT_DISPATCH", "local",
            "who runs evaluations: local (a child process per request) or a Ray cluster (ray:auto, ray://HEAD:10001)",
            flag="--dispatch"),
    Setting("gpu_memory_gb", "POLYGLOT_GPU_MEMORY_GB", 80.0, "memory of one GPU of the Ray cluster, to size requests",
            float),
    Setting("rate_per_user", "POLYGLOT_RATE_PER_USER", 5, "submissions per Hub user per window (-1: no limit)", int),
    Setting("rate_per_client", "POLYGLOT_RATE_PER_CLIENT", 20, "submissions per client address per window", int),
    Setting("rate_window_days", "POLYGLOT_RATE_WINDOW_DAYS", 7.0, "length of the rate-limit window, in days", float),
    Setting("admins", "POLYGLOT_ADMINS", "", "comma-separated Hub user names with admin rights (also DATA_DIR/admins.txt)"),
    Setting("exports_max_mb", "POLYGLOT_EXPORTS_MAX_MB", 2048.0,
            "size cap of the downloads folder (DATA_DIR/exports), oldest files evicted first", float),
    Setting("downloads_per_client", "POLYGLOT_DOWNLOADS_PER_CLIENT", 2, "downloads built at once per client", int),
    Setting("downloads_overall", "POLYGLOT_DOWNLOADS_OVERALL", 2, "downloads built at once in all", int),
    Setting("auto_precision", "POLYGLOT_AUTO_PRECISION", "",
            "what precision \"auto\" stands for when a request is queued (default: float32 on CPU, bfloat16 on GPUs)"),
    Setting("hub_timeout_s", "POLYGLOT_HUB_TIMEOUT", 8.0, "seconds before an unreachable Hub is reported", float),
    Setting("benchmarks", "POLYGLOT_BENCHMARKS", "",
            "folders (os.pathsep-separated) holding benchmarks in their published layout, tried before the Hub"),
    Setting("hf_token", "HF_TOKEN", None, "Hub token for private or gated models and data (never stored)",
            _optional_text),
    Setting("require_login", "SPACE_ID", False, "set on a Hugging Face Space: submitting needs a Hub login", _flag),
)

BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}


def setting(name: str, environ: Mapping[str, str] | None = None) -> Any:
    """The current value of the setting called ``name``."""
    return BY_NAME[name].read(environ)


def default(name: str) -> Any:
    """The built-in value of the setting called ``name``: what a function uses when its caller says nothing."""
    return BY_NAME[name].default
