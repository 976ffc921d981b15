"""Claims per second: N worker processes claim and finish requests until the queue is empty.

    python -m workqueue.bench                       # 8 workers, 2,000 requests, SQLite then PostgreSQL
    python -m workqueue.bench --workers 4 --requests 500 --postgres postgresql://...

The embedded SQLite queue is the baseline, measured in the same run; PostgreSQL is a throwaway
server on a temporary folder and Unix socket (``workqueue.pg_local``) unless ``--postgres`` names
one (its ``requests`` table must be empty). Each worker opens its own queue, claims, and finishes
what it claimed, as evaluation workers do; the run checks that every request was claimed exactly
once. Also measured: how long a LISTEN/NOTIFY wake-up takes to reach a waiting worker.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from .queue import Queue


def _worker(url: str, name: str, start, out) -> None:
    q = Queue(url)
    start.wait()
    got = []
    while True:
        r = q.claim(name)
        if r is None:
            break
        q.finish(r.id, name, r.id)
        got.append(r.id)
    q.close()
    out.put(got)


def claims_per_second(url: str, workers: int, requests: int) -> dict:
    q = Queue(url)
    for i in range(requests):
        q.add(model_id=f"bench/m{i}", revision="main", sha="0" * 40, precision="auto", source="hub", suite="bench",
              tasks=["t"])
    ctx = mp.get_context("spawn")
    start, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(url, f"w{i}", start, out)) for i in range(workers)]
    for p in procs:
        p.start()
    time.sleep(3.0)  # every worker has imported and opened its queue
    t0 = time.perf_counter()
    start.set()
    results = [out.get(timeout=600) for _ in procs]
    wall = time.perf_counter() - t0
    for p in procs:
        p.join(30)
    claimed = [i for r in results for i in r]
    finished = sum(1 for r in q.list(limit=requests + 1) if r.status == "FINISHED")
    q.close()
    return {"workers": workers, "requests": requests, "wall_s": round(wall, 3),
            "claims_per_s": round(len(claimed) / wall, 1), "claimed": len(claimed),
            "claimed_twice": len(claimed) - len(set(claimed)), "finished": finished,
            "per_worker": sorted(len(r) for r in results)}


def notify_latency(url: str, rounds: int = 20) -> dict:
    waiter, sender = Queue(url), Queue(url)
    waiter.wait_for_work(0)
    delays = []
    for i in range(rounds):
        sent = {}

        def send(i=i):
            sent["t"] = time.perf_counter()
            sender.add(model_id=f"wake/m{i}", revision="main", sha="1" * 40, precision="auto", source="hub",
                       suite="bench", tasks=["t"])

        threading.Timer(0.05, send).start()
        if waiter.wait_for_work(10):
            delays.append(time.perf_counter() - sent["t"])
        time.sleep(0.05)
    waiter.close()
    sender.close()
    return {"rounds": rounds, "woken": len(delays),
            "median_ms": round(1000 * statistics.median(delays), 2) if delays else None}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m workqueue.bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--workers", type=int, default=8)
    p.add_argument("--requests", type=int, default=2000)
    p.add_argument("--postgres", default=None, help="an empty PostgreSQL database (default: a throwaway server)")
    args = p.parse_args(argv)
    report = {}
    with tempfile.TemporaryDirectory(prefix="polyglot-qbench-") as tmp:
        report["sqlite"] = claims_per_second(f"sqlite:///{Path(tmp) / 'queue.sqlite'}", args.workers, args.requests)
        if args.postgres:
            url, server = args.postgres, None
        else:
            from .pg_local import LocalPostgres

            server = LocalPostgres(port=54329).start()
            url = server.url
        try:
            report["postgresql"] = claims_per_second(url, args.workers, args.requests)
            report["postgresql_notify"] = notify_latency(url)
        finally:
            if server is not None:
                server.stop()
    report["postgresql_vs_sqlite"] = round(report["postgresql"]["claims_per_s"] / report["sqlite"]["claims_per_s"], 2)
    print(json.dumps(report, indent=2))
    ok = all(report[k]["claimed"] == args.requests and report[k]["claimed_twice"] == 0 for k in ("sqlite", "postgresql"))
    print(f"\n{args.workers} workers, {args.requests} requests: SQLite {report['sqlite']['claims_per_s']} claims/s, "
          f"PostgreSQL {report['postgresql']['claims_per_s']} claims/s ({report['postgresql_vs_sqlite']}x); "
          f"NOTIFY wake-up median {report['postgresql_notify']['median_ms']} ms; "
          + ("each claimed once" if ok else "CLAIMS LOST OR DUPLICATED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
