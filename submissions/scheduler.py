"""The in-app schedule: every tick, refresh the results store and start a worker when work waits.

With local dispatch (the default) each evaluation runs in a child process (``python -m
evaluator.worker --once``): a crash, an out-of-memory kill or a leak in model code cannot take the
web app down, and the child's memory is returned when it exits. A child that dies mid-run leaves its
request RUNNING with a lease; the next tick's worker reclaims it once the lease has expired.

With a Ray cluster (``POLYGLOT_DISPATCH=ray:...``) the app runs ``evaluator.dispatch`` in a thread
instead: it claims requests and runs each as a Ray task. Ray is imported only then.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

from apscheduler.schedulers.background import BackgroundScheduler

from evaluator.settings import default
from evaluator.store import StoreLayout

log = logging.getLogger("polyglot.scheduler")
REPO_DIR = Path(__file__).resolve().parent.parent


class EvaluationScheduler:
    def __init__(self, data_dir: Path, queue, store=None, tick_s: float = 10.0, lease_s: float = default("lease_s"),
                 run_worker: bool = True, device: str = "auto", dispatch: str = "local", store_url: str = ""):
        self.data_dir = Path(data_dir)
        self.queue = queue
        self.store = store
        self.tick_s = tick_s
        self.lease_s = lease_s
        self.run_worker = run_worker
        self.device = device
        self.store_url = store_url  # "" = $POLYGLOT_STORE or the data folder's results
        self.child: subprocess.Popen | None = None
        self.ray_address = None
        self.dispatcher = None
        if run_worker:
            from evaluator.dispatch import parse_dispatch

            self.ray_address = parse_dispatch(dispatch)
        self._lock = threading.Lock()
        self._scheduler = BackgroundScheduler(daemon=True)

    def start(self) -> None:
        if self.ray_address is not None:
            self._start_dispatcher()
        self._scheduler.add_job(self.tick, "interval", seconds=self.tick_s, id="tick", max_instances=1,
                                coalesce=True)
        self._scheduler.start()
        threading.Thread(target=self.tick, daemon=True).start()

    def _start_dispatcher(self) -> None:
        from evaluator.dispatch import RayDispatcher
        self.dispatcher = RayDispatcher(self.queue, self.data_dir, self.ray_address, queue_url=self.queue.url,
                                        lease_s=self.lease_s, device=self.device, store_url=self.store_url,
                                        log=lambda m: log.info("dispatch: %s", m)).connect()
        threading.Thread(target=self.dispatcher.run_forever, name="ray-dispatch", daemon=True).start()

    def shutdown(self) -> None:
        self._scheduler.shutdown(wait=False)
        if self.dispatcher is not None:
            self.dispatcher.shutdown()
        if self.child and self.child.poll() is None:
            self.child.terminate()

    def tick(self) -> None:
        with self._lock:
            try:
                if self.store is not None:
                    self.store.refresh()
                if self.run_worker and self.dispatcher is None:
                    self._maybe_start_worker()
            except Exception:  # noqa: BLE001 - a failed tick must not stop the schedule
                log.exception("scheduler tick failed")

    def _maybe_start_worker(self) -> None:
        if self.child is not None and self.child.poll() is None:
            return
        self.child = None
        if not self.queue.has_claimable():
            return
        logs = StoreLayout(self.data_dir).logs
        logs.mkdir(parents=True, exist_ok=True)
        out = (logs / "app-worker.log").open("a", encoding="utf-8")
        env = dict(os.environ)
        env.setdefault("PYTHONUNBUFFERED", "1")
        env["POLYGLOT_QUEUE"] = self.queue.url  # the app's own queue (in the environment: a URL may hold a password)
        self.child = subprocess.Popen(
            [sys.executable, "-m", "evaluator.worker", "--data-dir", str(self.data_dir), "--once",
             "--lease", str(self.lease_s), "--device", self.device,
             *(["--store", self.store_url] if self.store_url else [])],
            cwd=REPO_DIR, stdout=out, stderr=subprocess.STDOUT, env=env,
        )
        out.close()
