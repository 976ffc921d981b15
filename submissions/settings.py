"""Settings of a deployment, from command-line flags and environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from evaluator.cards import DATA_DIR

from .policy import Policy, read_list


def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


@dataclass
class Settings:
    data_dir: Path
    allow_local_models: bool = False
    max_params_b: float = field(default_factory=lambda: _env_float("POLYGLOT_MAX_PARAMS_B", 100.0))
    suite: str = field(default_factory=lambda: os.environ.get("POLYGLOT_SUITE", "polyglot"))
    lease_s: float = field(default_factory=lambda: _env_float("POLYGLOT_LEASE_S", 120.0))
    tick_s: float = field(default_factory=lambda: _env_float("POLYGLOT_TICK_S", 10.0))
    # Where runs are published and read: empty for <data_dir>/results, else a folder or fsspec URL.
    store_url: str = field(default_factory=lambda: os.environ.get("POLYGLOT_STORE", ""))
    run_worker: bool = True
    worker_device: str = "auto"
    rate_per_user: int = field(default_factory=lambda: int(_env_float("POLYGLOT_RATE_PER_USER", 5)))
    rate_per_client: int = field(default_factory=lambda: int(_env_float("POLYGLOT_RATE_PER_CLIENT", 20)))
    rate_window_days: float = field(default_factory=lambda: _env_float("POLYGLOT_RATE_WINDOW_DAYS", 7))
    # Where the queue lives: None is the data folder's SQLite file; postgresql://... to share it.
    queue_url: str | None = field(default_factory=lambda: os.environ.get("POLYGLOT_QUEUE") or None)
    # Who runs evaluations: "local" (a child process per request, in the app) or a Ray cluster
    # ("ray://HEAD:10001", "ray:auto"); see evaluator.dispatch.
    dispatch: str = field(default_factory=lambda: os.environ.get("POLYGLOT_DISPATCH") or "local")
    # Downloads: the exports folder's size cap, and how many files are built at once per client and overall.
    exports_max_mb: float = field(default_factory=lambda: _env_float("POLYGLOT_EXPORTS_MAX_MB", 2048))
    downloads_per_client: int = field(default_factory=lambda: int(_env_float("POLYGLOT_DOWNLOADS_PER_CLIENT", 2)))
    downloads_overall: int = field(default_factory=lambda: int(_env_float("POLYGLOT_DOWNLOADS_OVERALL", 2)))
    # On a Hugging Face Space (SPACE_ID is set there) submitting needs a Hub login.
    require_login: bool = field(default_factory=lambda: bool(os.environ.get("SPACE_ID")))

    # What "auto" precision means here, fixed when a request is queued so that "auto" and the precision
    # it stands for are one evaluation: $POLYGLOT_AUTO_PRECISION, else what the evaluating device runs
    # "auto" in (float32 on CPU; bfloat16 or float16 on GPUs, which Ray clusters are assumed to have).
    auto_precision: str = field(default_factory=lambda: os.environ.get("POLYGLOT_AUTO_PRECISION", ""))

    def resolved_precision(self, precision: str) -> str:
        if precision != "auto":
            return precision
        if not self.auto_precision:
            from evaluator.model import resolve_device, resolve_dtype

            if self.dispatch.startswith("ray"):
                self.auto_precision = "bfloat16"
            else:
                self.auto_precision = str(resolve_dtype("auto", resolve_device(self.worker_device))).split(".")[-1]
        return self.auto_precision

    def policy(self) -> Policy:
        """Opt-outs from data/opt_out.txt and <data_dir>/opt_out.txt; admins from <data_dir>/admins.txt
        and $POLYGLOT_ADMINS (comma-separated Hub user names). Re-read on every submission."""
        admins = read_list(Path(self.data_dir) / "admins.txt")
        admins |= {a.strip().lower() for a in os.environ.get("POLYGLOT_ADMINS", "").split(",") if a.strip()}
        return Policy(
            per_user=self.rate_per_user, per_client=self.rate_per_client, window_days=self.rate_window_days,
            require_login=self.require_login,
            opt_out=read_list(DATA_DIR / "opt_out.txt", Path(self.data_dir) / "opt_out.txt"), admins=admins,
        )
