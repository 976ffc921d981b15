"""The evaluator runs on a bare GPU machine: it imports without Gradio, DuckDB or the web app."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from helpers import REPO

BLOCK = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"gradio", "gradio_client", "duckdb", "plotly", "apscheduler", "explorer"}:
            raise ImportError(f"{name} must not be needed by the evaluator")
sys.meta_path.insert(0, Block())
"""


@pytest.mark.slow
def test_evaluator_modules_import_without_the_app_stack():
    code = BLOCK + (
        "import evaluator.worker, evaluator.runner, evaluator.__main__, evaluator.bench, evaluator.engine, evaluator.run_store\n"
        "import evaluator.kinds, evaluator.metrics.ifeval, evaluator.metrics.chrf, evaluator.catalogue\n"
        "print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.stdout.strip() == "ok", out.stderr


def test_worker_requirements_leave_out_the_app_stack():
    text = (REPO / "requirements-worker.txt").read_text()
    for pkg in ("gradio", "duckdb", "plotly", "apscheduler"):
        assert pkg not in text
    assert "torch==2.13.0" in text


@pytest.mark.slow
def test_the_default_install_never_imports_the_cluster_parts():
    """The embedded queue and local dispatch work without ray or psycopg installed (blocked here)."""
    code = BLOCK.replace('"explorer"}', '"explorer", "ray", "psycopg", "psycopg_pool"}') + (
        "import tempfile, pathlib\n"
        "from workqueue import open_queue\n"
        "import evaluator.worker, evaluator.dispatch\n"
        "q = open_queue(pathlib.Path(tempfile.mkdtemp()) / 'queue.sqlite')\n"
        "q.add(model_id='org/m', revision='main', sha='a' * 40, precision='auto', source='hub', suite='s', tasks=[])\n"
        "assert q.claim('w') is not None and evaluator.dispatch.parse_dispatch('local') is None\n"
        "print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300,
                         env={k: v for k, v in os.environ.items() if k != "POLYGLOT_QUEUE"})
    assert out.stdout.strip() == "ok", out.stderr
    for name in ("requirements.txt", "requirements-dev.txt", "requirements-worker.txt"):
        text = (REPO / name).read_text()
        assert not re.search(r"^\s*(ray|psycopg)", text, re.M), name
    assert "ray[client]==" in (REPO / "requirements-cluster.txt").read_text()
