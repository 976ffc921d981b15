"""What tests share besides fixtures: the repository's folders, waiting for a condition or a server,
a running app on a free port, and skipping (or failing, where required) when a part is not installed."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
# Real benchmark samples for loader and cross-check tests (never copied into the repository).
BENCHMARKS = Path(os.environ.get("POLYGLOT_TEST_BENCHMARKS", SHARED / "benchmarks"))
ARTIFACTS = REPO / "tests" / "artifacts"


def import_reference(module: str):
    """A reference implementation (lm-eval) for a cross-check: skipped where it is not installed, except
    in CI's reference environment (POLYGLOT_REQUIRE_LM_EVAL=1), where a missing one is a failure."""
    if os.environ.get("POLYGLOT_REQUIRE_LM_EVAL") == "1":
        import importlib

        return importlib.import_module(module)
    return pytest.importorskip(module)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_http(url: str, timeout: float = 60.0, proc: subprocess.Popen | None = None) -> float:
    import urllib.request

    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return time.monotonic() - start
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


class RunningApp:
    def __init__(self, data_dir: Path, *extra: str):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.data_dir = data_dir
        self.log_path = data_dir.parent / f"app-{self.port}.log"
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.log = self.log_path.open("w")
        # Its own process group, so that a test can kill the app together with its worker child.
        self.proc = subprocess.Popen(
            [sys.executable, "app.py", "--data-dir", str(data_dir), "--port", str(self.port), *extra],
            cwd=REPO, stdout=self.log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
        )
        self.startup_s = wait_for_http(self.url, 90, self.proc)

    def client(self):
        from gradio_client import Client

        return Client(self.url, verbose=False)

    def stop(self) -> None:
        import signal

        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if not self.log.closed:
            self.log.close()

    def crash(self) -> None:
        """SIGKILL the app and every process it started (its in-app worker too)."""
        import signal

        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(20)
        self.log.close()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


def wait_until(predicate, timeout: float, interval: float = 1.0, what: str = "condition"):
    start = time.monotonic()
    last = None
    while time.monotonic() - start < timeout:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise TimeoutError(f"{what} not reached within {timeout}s (last: {last!r})")


def require_or_skip(variable: str, reason: str):
    """Skip with the reason outside CI; fail where ``variable``=1 says the part must be tested."""
    if os.environ.get(variable) == "1":
        pytest.fail(f"{reason} ({variable}=1)")
    pytest.skip(reason)
