"""A Ray cluster on one machine, for tests and benchmarks of dispatch: nodes started with
``ray start`` inside a loopback-only network namespace, and killed whole.

Ray binds the machine's routable address; inside a new network namespace with only the loopback
interface up, a local cluster stays on 127.0.0.1 and is reachable from nowhere else. The calling
thread enters the namespace; processes it starts afterwards (Ray's, an app's) inherit it; leaving
restores the original one. Creating a namespace needs root (CAP_SYS_ADMIN).
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

CLONE_NEWNET = 0x40000000
REPO_DIR = Path(__file__).resolve().parent.parent


@contextmanager
def loopback_only():
    """Yields True inside a new loopback-only namespace, False where one cannot be made."""
    libc = ctypes.CDLL(None, use_errno=True)
    try:
        original = os.open("/proc/self/ns/net", os.O_RDONLY)
    except OSError:
        yield False
        return
    try:
        if libc.unshare(CLONE_NEWNET) != 0:
            yield False
            return
        try:
            subprocess.run(["ip", "link", "set", "lo", "up"], check=True, capture_output=True, timeout=10)
            yield True
        finally:
            if libc.setns(original, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "could not return to the original network namespace")
    finally:
        os.close(original)


def ray_start(*args: str, log: Path, gpus: int = 1, cpus: int = 1) -> subprocess.Popen:
    """One Ray node (``ray start --block``) in its own session, so that it can be killed whole."""
    ray_bin = Path(sys.executable).parent / "ray"
    out = open(log, "a")
    return subprocess.Popen([str(ray_bin) if ray_bin.exists() else shutil.which("ray") or "ray", "start", "--block",
                             "--disable-usage-stats", f"--num-cpus={cpus}", f"--num-gpus={gpus}", *args],
                            cwd=REPO_DIR, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def start_node(*args: str, log: Path, gpus: int = 1, cpus: int = 1, timeout: float = 180) -> subprocess.Popen:
    """``ray_start`` and wait until the node runs; raises with the end of its log when it did not."""
    import time

    proc = ray_start(*args, log=log, gpus=gpus, cpus=cpus)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace") if log.exists() else ""
        if "Ray runtime started" in text:
            return proc
        if proc.poll() is not None:
            break
        time.sleep(0.5)
    stop_session(proc)
    tail = "\n".join((log.read_text(errors="replace") if log.exists() else "").splitlines()[-5:])
    raise RuntimeError(f"the Ray node did not start: {tail}")


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


def start_dispatcher(data_dir: Path, address: str, *extra: str, log: Path) -> subprocess.Popen:
    """``python -m evaluator.dispatch`` on a cluster: a GCS address (host:port) or a ray:// Ray Client URL."""
    out = open(log, "a")
    target = address if address.startswith("ray://") else f"ray:{address}"
    return subprocess.Popen([sys.executable, "-m", "evaluator.dispatch", "--ray", target, "--data-dir",
                             str(data_dir), "--device", "cpu", "--poll", "0.5", *extra], cwd=REPO_DIR, stdout=out,
                            stderr=subprocess.STDOUT, start_new_session=True)
