"""Helpers for the Ray dispatch tests: a cluster in a loopback-only namespace, dispatchers, kills."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path


from conftest import REPO, require_or_skip


def need_ray():
    try:
        import ray  # noqa: F401
    except ImportError:
        require_or_skip("POLYGLOT_REQUIRE_RAY", "ray is not installed (pip install -r requirements-cluster.txt)")


def start_dispatcher(data_dir: Path, address: str, *extra: str, log: Path) -> subprocess.Popen:
    out = open(log, "a")
    return subprocess.Popen([sys.executable, "-m", "evaluator.dispatch", "--ray", f"ray:{address}", "--data-dir",
                             str(data_dir), "--device", "cpu", "--poll", "0.5", *extra], cwd=REPO, stdout=out,
                            stderr=subprocess.STDOUT, start_new_session=True)


def task_pids(request_id: str) -> list[int]:
    """Ray worker processes running an attempt of the request (their title is the task's name)."""
    out = subprocess.run(["pgrep", "-f", f"ray::polyglot-{request_id}-"], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def session_pids(sid: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.getsid(int(entry)) == sid:
                    pids.append(int(entry))
            except OSError:
                pass
    return pids


def kill_session(proc: subprocess.Popen) -> None:
    """SIGKILL a process started with start_new_session and everything it started (a whole Ray node)."""
    for pid in session_pids(proc.pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait(20)


def stop_session(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            pass
    if session_pids(proc.pid):
        kill_session(proc)


