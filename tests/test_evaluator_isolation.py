"""The evaluator runs on a bare GPU machine: it imports without Gradio, DuckDB or the web app."""

from __future__ import annotations

import subprocess
import sys

from conftest import REPO

BLOCK = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {"gradio", "gradio_client", "duckdb", "plotly", "apscheduler", "explorer"}:
            raise ImportError(f"{name} must not be needed by the evaluator")
sys.meta_path.insert(0, Block())
"""


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
