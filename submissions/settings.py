"""Settings of a deployment, from command-line flags and environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


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
    run_worker: bool = True
    worker_device: str = "auto"
