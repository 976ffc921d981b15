"""How long a new run takes to appear in the app, from a local folder and from object storage.

    python -m explorer.store_bench                      # file:// baseline and s3:// on a local SeaweedFS
    python -m explorer.store_bench --runs 100 --new 10 --tick 1

In one process, for each store: publish ``--runs`` runs (as workers do), load them into a fresh
explorer store, then publish ``--new`` more one at a time while a refresh runs every ``--tick``
seconds (as the app's scheduler does), and time each from its publish to the moment a query sees it.
Also: publish time, one refresh with nothing new (the cost of every tick), the first load. s3:// is
given as a ratio to file:// measured the same way. Needs requirements-storage.txt for s3://.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from pathlib import Path

from evaluator.run_store import RunStore

from .store import ResultStore
from .synthetic import generate


def _copy_as(src: Path, dest: Path, run_id: str) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    dest.mkdir(parents=True)
    for p in src.iterdir():
        if p.suffix == ".parquet":
            t = pq.read_table(p)
            t = t.set_column(t.schema.get_field_index("run_id"), "run_id", pa.array([run_id] * len(t), pa.string()))
            pq.write_table(t, dest / p.name)
        else:
            info = json.loads(p.read_text())
            (dest / p.name).write_text(json.dumps({**info, "run_id": run_id}))
    return dest


def measure(store: RunStore, sources: list[Path], work: Path, n_runs: int, n_new: int, tick: float) -> dict:
    runs = [_copy_as(sources[i], work / "local" / f"run-{i:04d}", f"run-{i:04d}") for i in range(n_runs + n_new)]
    publish_s = []
    for r in runs[:n_runs]:
        t0 = time.perf_counter()
        store.publish(r, r.name)
        publish_s.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    explorer = ResultStore(work / "app", include_reported=False, persistent=False, runs=store)
    first_load = time.perf_counter() - t0
    idle = []
    for _ in range(5):
        t0 = time.perf_counter()
        explorer.refresh()
        idle.append(time.perf_counter() - t0)
    stop = threading.Event()

    def ticking():
        while not stop.wait(tick):
            explorer.refresh()

    thread = threading.Thread(target=ticking, daemon=True)
    thread.start()
    appear = []
    try:
        for r in runs[n_runs:]:
            time.sleep(tick * 0.37)  # publishes land at any point of the tick
            t0 = time.perf_counter()
            store.publish(r, r.name)
            published = time.perf_counter()
            publish_s.append(published - t0)
            while explorer.query("SELECT count(*) AS n FROM runs WHERE run_id = ?", [r.name])["n"].iloc[0] == 0:
                if time.perf_counter() - published > 10 * tick + 60:
                    raise TimeoutError(f"{r.name} did not appear")
                time.sleep(0.01)
            appear.append(time.perf_counter() - published)
    finally:
        stop.set()
        thread.join(10 * tick + 60)
        explorer.close()
    return {"publish_p50_s": round(statistics.median(publish_s), 3), "first_load_s": round(first_load, 2),
            "idle_refresh_p50_s": round(statistics.median(idle), 3),
            "appear_p50_s": round(statistics.median(appear), 2), "appear_max_s": round(max(appear), 2)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m explorer.store_bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=50, help="runs in the store before timing")
    p.add_argument("--new", type=int, default=10, help="runs published while timing")
    p.add_argument("--tick", type=float, default=1.0, help="seconds between refreshes (the app's --tick)")
    p.add_argument("--languages", type=int, default=30)
    p.add_argument("--tasks", type=int, default=10)
    p.add_argument("--no-s3", action="store_true", help="the file:// baseline only")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="polyglot-store-bench-") as tmp:
        tmp = Path(tmp)
        n = args.runs + args.new
        generate(tmp / "synthetic", models=n, languages=args.languages, tasks=args.tasks, sample_models=n,
                 items_per_language=50, sample_items=5)
        sources = sorted((tmp / "synthetic" / "results").iterdir())
        report = {"runs": args.runs, "new": args.new, "tick_s": args.tick, "languages": args.languages,
                  "tasks": args.tasks}
        report["file"] = measure(RunStore((tmp / "file-store").as_uri()), sources, tmp / "file", args.runs, args.new,
                                 args.tick)
        print("file://", report["file"], flush=True)
        if not args.no_s3:
            from evaluator.local_s3 import LocalS3

            server = LocalS3(tmp / "seaweedfs").start()
            try:
                import fsspec

                fs = fsspec.filesystem("s3", endpoint_url=server.endpoint, key=server.env["AWS_ACCESS_KEY_ID"],
                                       secret=server.env["AWS_SECRET_ACCESS_KEY"], skip_instance_cache=True)
                report["s3"] = measure(RunStore("s3://polyglot/bench", fs=fs), sources, tmp / "s3", args.runs,
                                       args.new, args.tick)
            finally:
                server.stop()
            print("s3://", report["s3"], flush=True)
            report["s3_over_file"] = {k: round(report["s3"][k] / report["file"][k], 2) if report["file"][k] else None
                                      for k in report["file"]}
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
