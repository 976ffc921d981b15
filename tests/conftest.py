"""Shared fixtures: a tiny real model built offline, a running app on a free port, queues. Helpers that are
not fixtures live in helpers.py."""

from __future__ import annotations

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from pathlib import Path

import pytest
from helpers import RunningApp, free_port, require_or_skip

# Runs under test see only the benchmarks a test passes explicitly.
os.environ.pop("POLYGLOT_BENCHMARKS", None)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    from evaluator.tiny_model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("models") / "tiny-llama")


@pytest.fixture(scope="session")
def tiny_lm(tiny_model_dir):
    from evaluator.model import load_model, quiet_transformers

    quiet_transformers()
    return load_model(str(tiny_model_dir), precision="float32", device="cpu")


@pytest.fixture
def start_app():
    apps: list[RunningApp] = []

    def start(data_dir: Path, *extra: str) -> RunningApp:
        app = RunningApp(data_dir, *extra)
        apps.append(app)
        return app

    yield start
    for app in apps:
        app.stop()


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL server on a temporary folder and Unix socket, for the whole session."""
    try:
        import psycopg  # noqa: F401
        import psycopg_pool  # noqa: F401
    except ImportError:
        require_or_skip("POLYGLOT_REQUIRE_POSTGRES", "psycopg is not installed (pip install -r requirements-cluster.txt)")
    from workqueue.pg_local import LocalPostgres, find_binaries

    if find_binaries() is None:
        require_or_skip("POLYGLOT_REQUIRE_POSTGRES", "PostgreSQL server binaries are not installed (apt-get install postgresql)")
    server = LocalPostgres(port=free_port()).start()
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server) -> str:
    """A fresh empty database on the session's server."""
    import uuid

    return postgres_server.create_database(f"t_{uuid.uuid4().hex[:12]}")


@pytest.fixture(params=["sqlite", "postgresql"])
def queue_url(request, tmp_path) -> str:
    """The same test against the embedded SQLite queue and a PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store' / 'queue.sqlite'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def open_queues():
    """Open queues (``open_queues(url, lease_s=...)``), closed after the test."""
    from workqueue import Queue

    opened = []

    def make(url, **kw):
        q = Queue(url, **kw)
        opened.append(q)
        return q

    yield make
    for q in opened:
        q.close()
