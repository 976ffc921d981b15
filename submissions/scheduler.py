"""The in-app schedule: every tick, refresh the results store and start a worker when work waits.

Each evaluation runs in a child process (``python -m evaluator.worker --once``): a crash, an
out-of-memory kill or a leak in model code cannot take the web app down, and the child's memory
is returned when it exits. A child that dies mid-run leaves its request RUNNING with a lease; the
next tick's worker reclaims it once the lease has expired.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler

log = logging.getLogger("polyglot.scheduler")
REPO_DIR = Path(__file__).resolve().parent.parent


class EvaluationScheduler:
    def __init__(self, data_dir: Path, queue, store=None, tick_s: float = 10.0, lease_s: float = 120.0,
                 run_worker: bool = True, device: str = "auto", store_url: str = ""):
        self.data_dir = Path(data_dir)
        self.queue = queue
        self.store = store
        self.tick_s = tick_s
        self.lease_s = lease_s
        self.run_worker = run_worker
        self.device = device
        self.store_url = store_url
        self.child: subprocess.Popen | None = None
        self._lock = threading.Lock()
        self._scheduler = BackgroundScheduler(daemon=True)

    def start(self) -> None:
        self._scheduler.add_job(self.tick, "interval", seconds=self.tick_s, id="tick", max_instances=1,
                                coalesce=True)
        self._scheduler.start()
        threading.Thread(target=self.tick, daemon=True).start()

    def shutdown(self) -> None:
        self._scheduler.shutdown(wait=False)
        if self.child and self.child.poll() is None:
            self.child.terminate()

    def tick(self) -> None:
        with self._lock:
            try:
                if self.store is not None:
                    self.store.refresh()
                if self.run_worker:
                    self._maybe_start_worker()
            except Exception:  # noqa: BLE001 - a failed tick must not stop the schedule
                log.exception("scheduler tick failed")

    def _maybe_start_worker(self) -> None:
        if self.child is not None and self.child.poll() is None:
            return
        self.child = None
        if not self.queue.has_claimable():
            return
        logs = self.data_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        out = (logs / "app-worker.log").open("a", encoding="utf-8")
        env = dict(os.environ)
        env.setdefault("PYTHONUNBUFFERED", "1")
        self.child = subprocess.Popen(
            [sys.executable, "-m", "evaluator.worker", "--data-dir", str(self.data_dir), "--once",
             "--lease", str(self.lease_s), "--device", self.device,
             *(["--store", self.store_url] if self.store_url else [])],
            cwd=REPO_DIR, stdout=out, stderr=subprocess.STDOUT, env=env,
        )
        out.close()
