"""Load test of a local app: concurrent submissions and leaderboard reads through the API.

    python -m submissions.load_test                      # 100 submissions, 1,000 reads, own app on a temp folder
    python -m submissions.load_test --submissions 20 --reads 100
    python -m submissions.load_test --submissions 200 --duplicates 0 --reads 0 --per-client 20   # rate limit
    POLYGLOT_QUEUE=postgresql://... python -m submissions.load_test                              # on PostgreSQL
    python -m submissions.load_test --downloads 8                # leaderboard latency while 8 downloads run

It starts the app on localhost with a fresh data folder (local models allowed, no in-app worker,
rate limits off unless ``--per-client N``), submits distinct tiny models plus duplicates of some of
them, all at once, then reads the leaderboard concurrently. It checks that every call was
answered, every distinct model was queued exactly once (or, with a per-client limit, exactly N of
them: ``queued_over_limit`` must be 0) and every duplicate refused, and prints p50/p95 latencies
and errors. A PostgreSQL queue given in ``POLYGLOT_QUEUE`` must be empty. Bounded: every call has
a time-out and the whole run a deadline.

With ``--downloads N`` it measures instead what downloads do to everyone else: on a synthetic
store with per-sample rows, the leaderboard's p95 latency alone, then while N concurrent
``/download_samples`` calls (distinct models) run, then while the same N calls are repeated (served
from the cache); with the seconds and bytes of each download call. Downloads refused as busy (the
per-client and overall bounds) are counted, not errors.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

REPO_DIR = Path(__file__).resolve().parent.parent



def _stop(app: subprocess.Popen | None) -> None:
    """Stop the app a load test started: SIGTERM, then SIGKILL after 20 s."""
    if app is None:
        return
    app.terminate()
    try:
        app.wait(20)
    except subprocess.TimeoutExpired:
        app.kill()

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, int(round(q * (len(ordered) - 1)))))
    return ordered[k]


def tiny_models(root: Path, n: int) -> list[Path]:
    """n copies of a tiny random model, each with a distinct folder hash (a distinct commit)."""
    from evaluator.tiny_model import build_tiny_model

    base = build_tiny_model(root / "base")
    out = []
    for i in range(n):
        dest = root / f"model-{i:03d}"
        shutil.copytree(base, dest)
        cfg = json.loads((dest / "config.json").read_text())
        cfg["load_test_variant"] = i  # a distinct folder hash, i.e. a distinct commit
        (dest / "config.json").write_text(json.dumps(cfg))
        out.append(dest)
    return out


def _start_app(data: Path, port: int, per_client: int = -1, app_dir: Path = REPO_DIR) -> subprocess.Popen:
    env = {**os.environ, "POLYGLOT_RATE_PER_CLIENT": str(per_client), "POLYGLOT_RATE_PER_USER": "-1",
           "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    proc = subprocess.Popen([sys.executable, "app.py", "--data-dir", str(data), "--port", str(port),
                             "--allow-local-models", "--no-worker"], cwd=app_dir, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2):
                return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("the app did not start")


def _fire(url: str, calls: list[tuple], concurrency: int, timeout: float) -> list[dict]:
    from gradio_client import Client

    clients: dict[int, Client] = {}

    def one(i, args, api_name):
        import threading

        tid = threading.get_ident()
        if tid not in clients:
            clients[tid] = Client(url, verbose=False)
        start = time.perf_counter()
        try:
            job = clients[tid].submit(*args, api_name=api_name)
            result = job.result(timeout=timeout)
            return {"i": i, "ok": True, "seconds": time.perf_counter() - start, "result": result}
        except Exception as exc:  # noqa: BLE001 - counted as an error, reported
            return {"i": i, "ok": False, "seconds": time.perf_counter() - start, "error": f"{type(exc).__name__}: {exc}"}

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        futures = [pool.submit(one, i, args, api) for i, (args, api) in enumerate(calls)]
        return [f.result() for f in as_completed(futures)]


def run(submissions: int, duplicates: int, reads: int, concurrency: int, timeout: float, per_client: int = -1) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="polyglot-load-"))
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    app = None
    try:
        models = tiny_models(tmp / "models", submissions)
        app = _start_app(tmp / "store", port, per_client)
        subs = [((str(m), "main", "float32"), "/submit") for m in models]
        subs += [((str(models[i % len(models)]), "main", "float32"), "/submit") for i in range(duplicates)]
        t0 = time.perf_counter()
        sub_res = _fire(url, subs, concurrency, timeout)
        sub_wall = time.perf_counter() - t0
        reads_calls = [(("", "", ""), "/leaderboard_table")] * reads
        t0 = time.perf_counter()
        read_res = _fire(url, reads_calls, concurrency, timeout)
        read_wall = time.perf_counter() - t0

        from workqueue import open_queue

        with open_queue(tmp / "store" / "queue.sqlite") as queue:
            queued = queue.list(limit=100000)
        answered = [r for r in sub_res if r["ok"]]
        statuses = [r["result"]["status"] for r in answered]
        expected = submissions if per_client < 0 else min(submissions, per_client)
        report = {
            "submissions": {
                "sent": len(subs), "answered": len(answered), "errors": len(sub_res) - len(answered),
                "queued": statuses.count("queued"), "rejected": statuses.count("rejected"),
                "queue_records": len(queued), "distinct_models_in_queue": len({r.model_id for r in queued}),
                "per_client_limit": per_client,
                "queued_over_limit": max(0, len(queued) - per_client) if per_client >= 0 else 0,
                "p50_ms": round(1000 * _percentile([r["seconds"] for r in sub_res], 0.5), 1),
                "p95_ms": round(1000 * _percentile([r["seconds"] for r in sub_res], 0.95), 1),
                "wall_s": round(sub_wall, 2), "concurrency": concurrency,
            },
            "reads": {
                "sent": reads, "answered": sum(r["ok"] for r in read_res),
                "errors": sum(not r["ok"] for r in read_res),
                "p50_ms": round(1000 * _percentile([r["seconds"] for r in read_res], 0.5), 1),
                "p95_ms": round(1000 * _percentile([r["seconds"] for r in read_res], 0.95), 1),
                "wall_s": round(read_wall, 2), "requests_per_s": round(reads / read_wall, 1) if read_wall else 0.0,
            },
            "first_errors": [r["error"] for r in sub_res + read_res if not r["ok"]][:5],
        }
        s = report["submissions"]
        report["ok"] = (s["errors"] == 0 and report["reads"]["errors"] == 0 and s["queued"] == expected
                        and s["rejected"] == len(subs) - expected and s["queue_records"] == expected
                        and s["distinct_models_in_queue"] == expected and s["queued_over_limit"] == 0)
        return report
    finally:
        _stop(app)
        shutil.rmtree(tmp, ignore_errors=True)


def _latencies(results: list[dict]) -> dict:
    seconds = [r["seconds"] for r in results if r["ok"]]
    return {"answered": len(seconds), "errors": sum(not r["ok"] for r in results),
            "p50_ms": round(1000 * _percentile(seconds, 0.5), 1), "p95_ms": round(1000 * _percentile(seconds, 0.95), 1)}


def _reads_during(url: str, work: list[tuple], reads: int, timeout: float) -> tuple[list[dict], list[dict]]:
    """Leaderboard reads, one at a time like a user clicking, while ``work`` runs concurrently
    (at least ``reads`` of them, and on until the work is done)."""
    import threading

    from gradio_client import Client

    reader = Client(url, verbose=False)
    out: list[dict] = []
    done = threading.Event()

    def background():
        # The downloading clients run in a process of their own, like other users: their work
        # must not slow this process's reads.
        try:
            if work:
                from concurrent.futures import ProcessPoolExecutor
                from multiprocessing import get_context

                with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
                    out.extend(pool.submit(_fire, url, work, len(work), timeout).result())
        finally:
            done.set()

    thread = threading.Thread(target=background, daemon=True)
    thread.start()
    time.sleep(3.0 if work else 0)  # the downloading process has started and its calls are under way
    read_res = []
    while len(read_res) < reads or (not done.is_set() and len(read_res) < 50 * reads):
        start = time.perf_counter()
        try:
            reader.submit("", "", "", api_name="/leaderboard_table").result(timeout=timeout)
            read_res.append({"ok": True, "seconds": time.perf_counter() - start})
        except Exception as exc:  # noqa: BLE001 - counted as an error, reported
            read_res.append({"ok": False, "seconds": time.perf_counter() - start, "error": f"{type(exc).__name__}: {exc}"})
    thread.join(timeout)
    return read_res, out


def run_downloads(downloads: int = 8, reads: int = 40, models: int = 20, languages: int = 60, tasks: int = 6,
                  sample_items: int = 20, timeout: float = 300.0, app_dir: Path = REPO_DIR) -> dict:
    """Leaderboard latency alone, during ``downloads`` concurrent per-sample downloads, and during
    the same downloads repeated; seconds and bytes of each download call."""
    from explorer.synthetic import generate

    tmp = Path(tempfile.mkdtemp(prefix="polyglot-load-"))
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    app = None
    try:
        generate(tmp / "store", models=models, languages=languages, tasks=tasks, sample_models=downloads,
                 items_per_language=50, sample_items=sample_items)
        app = _start_app(tmp / "store", port, app_dir=app_dir)
        _reads_during(url, [], 5, timeout)  # warm
        alone, _ = _reads_during(url, [], reads, timeout)
        work = [((f"synthetic-org/model-{i:04d}", "csv"), "/download_samples") for i in range(downloads)]
        during, first = _reads_during(url, work, reads, timeout)
        repeat_during, repeat = _reads_during(url, work, reads, timeout)
        exports = tmp / "store" / "exports"

        def calls(results):
            ok = [r for r in results if r["ok"]]
            sizes = [Path(_path_of(r["result"])).stat().st_size for r in ok]
            busy = [r for r in results if not r["ok"] and ("busy" in r["error"].lower() or "being prepared" in r["error"])]
            return {"answered": len(ok), "busy": len(busy), "errors": len(results) - len(ok) - len(busy),
                    "max_s": round(max((r["seconds"] for r in ok), default=0.0), 2),
                    "mean_s": round(sum(r["seconds"] for r in ok) / len(ok), 2) if ok else None,
                    "mb_per_call": round(sum(sizes) / len(sizes) / 1e6, 2) if sizes else None}

        written = sum(f.stat().st_size for f in exports.rglob("*") if f.is_file())
        report = {"leaderboard_alone": _latencies(alone), "leaderboard_during_downloads": _latencies(during),
                  "leaderboard_during_repeats": _latencies(repeat_during),
                  "downloads": calls(first), "repeats": calls(repeat),
                  "exports_mb_written": round(written / 1e6, 2), "concurrent_downloads": downloads,
                  "first_errors": [r["error"] for r in first + repeat + during if not r["ok"]][:5]}
        report["ok"] = (report["downloads"]["errors"] == 0 and report["repeats"]["errors"] == 0
                        and report["leaderboard_during_downloads"]["errors"] == 0)
        return report
    finally:
        _stop(app)
        shutil.rmtree(tmp, ignore_errors=True)


def _path_of(result) -> str:
    return result["path"] if isinstance(result, dict) else result


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m submissions.load_test", description=__doc__.split("\n\n")[0])
    p.add_argument("--submissions", type=int, default=100)
    p.add_argument("--duplicates", type=int, default=20, help="extra submissions of models already sent")
    p.add_argument("--reads", type=int, default=1000)
    p.add_argument("--concurrency", type=int, default=50)
    p.add_argument("--timeout", type=float, default=120.0, help="seconds allowed per call")
    p.add_argument("--per-client", type=int, default=-1, help="per-address rate limit to enforce (default: off)")
    p.add_argument("--downloads", type=int, default=0,
                   help="measure leaderboard latency while this many concurrent downloads run (instead of submissions)")
    p.add_argument("--models", type=int, default=20, help="models in the synthetic store (with --downloads)")
    p.add_argument("--app-dir", type=Path, default=REPO_DIR, help="the checkout whose app.py is run")
    args = p.parse_args(argv)
    if args.downloads:
        report = run_downloads(args.downloads, reads=args.reads if args.reads != 1000 else 40, models=args.models,
                               timeout=args.timeout * 3, app_dir=args.app_dir)
        print(json.dumps(report, indent=2))
        a, d, r = (report["leaderboard_alone"], report["leaderboard_during_downloads"],
                   report["leaderboard_during_repeats"])
        print(f"\nleaderboard p95: {a['p95_ms']} ms alone, {d['p95_ms']} ms during {args.downloads} downloads, "
              f"{r['p95_ms']} ms during repeated downloads")
        print(f"downloads: {report['downloads']}; repeated: {report['repeats']}")
        print("OK" if report["ok"] else "FAILED")
        return 0 if report["ok"] else 1
    report = run(args.submissions, args.duplicates, args.reads, args.concurrency, args.timeout, args.per_client)
    print(json.dumps(report, indent=2))
    s, r = report["submissions"], report["reads"]
    print(f"\nsubmissions: {s['sent']} sent, {s['answered']} answered, {s['queued']} queued, {s['rejected']} refused "
          f"(duplicates or limits), {s['errors']} errors; p50 {s['p50_ms']} ms, p95 {s['p95_ms']} ms (concurrency {s['concurrency']})")
    if s["per_client_limit"] >= 0:
        print(f"rate limit {s['per_client_limit']} per address: {s['queue_records']} queued, "
              f"{s['queued_over_limit']} over the limit")
    print(f"reads: {r['sent']} sent, {r['answered']} answered, {r['errors']} errors; p50 {r['p50_ms']} ms, "
          f"p95 {r['p95_ms']} ms, {r['requests_per_s']} req/s")
    print("OK" if report["ok"] else "FAILED")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
