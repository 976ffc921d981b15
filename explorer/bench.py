"""Speed of the explorer at scale: every view's p50/p95, sample paging, store load, app start, memory.

    python -m explorer.bench --data-dir /tmp/polyglot-synthetic --generate     # 1,000 models x 200 languages x 30 tasks
    python -m explorer.bench --data-dir DIR --models 100 --generate             # smaller

Views are timed as pure functions with their cache cleared before every call (the uncached worst
case), over random filter combinations; the app is timed from process start to its first answer.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from evaluator.scope import ALL

from . import views as V
from .leaderboard_table import TableSpec, leaderboard_table
from .store import ResultStore

REPO_DIR = Path(__file__).resolve().parent.parent


def _pct(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def time_views(store: ResultStore, n: int = 30, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    langs = store.query("SELECT DISTINCT language FROM entry_lang_scores")["language"].tolist()
    models = V.model_names(store)
    tasks = V.task_names(store)
    sample_runs = store.query("SELECT DISTINCT run_id FROM sample_files WHERE problem IS NULL")["run_id"].tolist()
    sample_models = store.query("SELECT DISTINCT model FROM runs WHERE run_id IN (SELECT unnest(?))", [sample_runs])["model"].tolist()
    cats = V.filter_options(store)["categories"][1:] or [ALL]
    cases = {
        "leaderboard": lambda: V.leaderboard(store),
        "leaderboard table (default set)": lambda: leaderboard_table(store),
        "leaderboard table, 5 languages": lambda: leaderboard_table(store, V.Filters(languages=rng.sample(langs, min(5, len(langs))))),
        "leaderboard table, one task, merged": lambda: leaderboard_table(store, spec=TableSpec(benchmark=f"task:{rng.choice(tasks)}", merge_sources=True)),
        "leaderboard, 5 languages": lambda: V.leaderboard(store, V.Filters(languages=rng.sample(langs, min(5, len(langs))))),
        "leaderboard, resource tier": lambda: V.leaderboard(store, V.Filters(tiers=[rng.choice(["high", "mid", "low", "extremely low"])])),
        "leaderboard, family": lambda: V.leaderboard(store, V.Filters(families=["Indo-European"])),
        "leaderboard, category": lambda: V.leaderboard(store, V.Filters(category=rng.choice(cats))),
        "leaderboard, task + search": lambda: V.leaderboard(store, V.Filters(tasks=[rng.choice(tasks)], search="model-0")),
        "per language, 10 models": lambda: V.per_language(store, V.Filters(models=rng.sample(models, min(10, len(models))))),
        "per language, 1 task": lambda: V.per_language(store, V.Filters(models=rng.sample(models, min(10, len(models))), tasks=[rng.choice(tasks)])),
        "languages by difficulty": lambda: V.language_difficulty(store, V.Filters()),
        "per category, 10 models": lambda: V.category_summary(store, V.Filters(models=rng.sample(models, min(10, len(models))))),
        "parity, all models": lambda: V.parity(store, V.Filters()),
        "parity, 1 task": lambda: V.parity(store, V.Filters(tasks=[rng.choice(tasks)])),
        "compare two models, 1 task": lambda: V.compare(store, *rng.sample(sample_models or models, 2), V.Filters(tasks=[rng.choice(tasks)])),
        "task details, 10 models": lambda: V.task_metrics(store, V.Filters(models=rng.sample(models, min(10, len(models))), tasks=[rng.choice(tasks)])),
    }
    if sample_runs:
        cases["samples page"] = lambda: V.samples(store, rng.choice(sample_runs), rng.choice(tasks),
                                                  rng.choice(langs), page=rng.randint(1, 3))[0]
        cases["samples, wrong only"] = lambda: V.samples(store, rng.choice(sample_runs), rng.choice(tasks),
                                                         wrong_only=True, page=rng.randint(1, 20))[0]
    out = []
    for name, fn in cases.items():
        times = []
        for _ in range(n):
            store._cache.clear()
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        out.append({"view": name, "p50_ms": round(1000 * _pct(times, 0.5), 1), "p95_ms": round(1000 * _pct(times, 0.95), 1)})
    return out


def time_app_start(data_dir: Path, expected_rows: int = 0) -> dict:
    """Seconds from process start to the first HTTP answer, to the first leaderboard, and to the
    leaderboard with every run loaded; then the API's leaderboard latency."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.monotonic()
    proc = subprocess.Popen([sys.executable, "app.py", "--data-dir", str(data_dir), "--port", str(port), "--no-worker"],
                            cwd=REPO_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    http = api = None
    try:
        while time.monotonic() - start < 180:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2):
                    http = time.monotonic() - start
                    break
            except OSError:
                time.sleep(0.1)
        from gradio_client import Client

        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        rows = client.predict("", "", "", api_name="/leaderboard_table")
        api = time.monotonic() - start
        first_rows = len(rows)
        while len(rows) < expected_rows and time.monotonic() - start < 600:
            time.sleep(0.5)
            rows = client.predict("", "", "", api_name="/leaderboard_table")
        full = time.monotonic() - start
        latencies = []
        for _ in range(20):
            t = time.perf_counter()
            client.predict("", "", "", api_name="/leaderboard_table")
            latencies.append(time.perf_counter() - t)
        peak_mb = _peak_rss_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(30)
    return {"app_peak_memory_mb": peak_mb, "http_s": round(http, 2) if http else None, "first_leaderboard_s": round(api, 2), "first_rows": first_rows,
            "all_runs_loaded_s": round(full, 2), "rows": len(rows),
            "api_leaderboard_p50_ms": round(1000 * _pct(latencies, 0.5), 1),
            "api_leaderboard_p95_ms": round(1000 * _pct(latencies, 0.95), 1)}


def _peak_rss_mb(pid: int) -> float | None:
    """Peak resident memory of a running process (Linux /proc), children included."""
    total = 0.0
    try:
        pids = [pid] + [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        for p in pids:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1]) / 1024
    except OSError:
        return None
    return round(total)


def _entries(data_dir: Path) -> int:
    store = ResultStore(data_dir, persistent=False)
    try:
        return len(leaderboard_table(store).rows)
    finally:
        store.close()


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m explorer.bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", type=Path, required=True)
    p.add_argument("--generate", action="store_true", help="write synthetic results first")
    p.add_argument("--models", type=int, default=1000)
    p.add_argument("--languages", type=int, default=200)
    p.add_argument("--tasks", type=int, default=30)
    p.add_argument("--sample-models", type=int, default=50)
    p.add_argument("--repeats", type=int, default=30)
    p.add_argument("--skip-app", action="store_true")
    args = p.parse_args(argv)
    if args.generate:
        from .synthetic import generate

        shutil.rmtree(args.data_dir, ignore_errors=True)
        print("generated:", json.dumps(generate(args.data_dir, args.models, args.languages, args.tasks, args.sample_models)))
    shutil.rmtree(args.data_dir / "cache", ignore_errors=True)
    t = time.monotonic()
    store = ResultStore(args.data_dir)
    cold = time.monotonic() - t
    store.close()
    t = time.monotonic()
    store = ResultStore(args.data_dir)
    warm = time.monotonic() - t
    rows = int(store.query("SELECT count(*) AS n FROM lang_scores")["n"].iloc[0])
    print(f"\nstore: {rows:,} language-level scores; first load {cold:.1f} s, restart {warm:.1f} s")
    results = time_views(store, args.repeats)
    print(f"\n{'view':32} {'p50 ms':>8} {'p95 ms':>8}")
    for r in results:
        print(f"{r['view']:32} {r['p50_ms']:>8} {r['p95_ms']:>8}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak memory of this process: {peak:.0f} MB")
    store.close()
    report = {"rows": rows, "store_first_load_s": round(cold, 1), "store_restart_s": round(warm, 1), "views": results,
              "peak_memory_mb": round(peak)}
    if not args.skip_app:
        entries = report["entries"] = _entries(args.data_dir)
        for label, clear in (("first start (empty explorer cache)", True), ("restart", False)):
            if clear:
                shutil.rmtree(args.data_dir / "cache", ignore_errors=True)
            app = time_app_start(args.data_dir, entries)
            report[f"app {label}"] = app
            print(f"app, {label}: answers HTTP after {app['http_s']} s, first leaderboard after "
                  f"{app['first_leaderboard_s']} s ({app['first_rows']} rows), all {app['rows']} rows after "
                  f"{app['all_runs_loaded_s']} s; /leaderboard_table p50 {app['api_leaderboard_p50_ms']} ms, "
                  f"p95 {app['api_leaderboard_p95_ms']} ms; app peak memory {app['app_peak_memory_mb']} MB")
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
