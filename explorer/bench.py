"""Speed of the explorer at scale: every view's p50/p95, sample paging, store load, app start, memory.

    python -m explorer.bench --data-dir /tmp/polyglot-synthetic --generate     # 1,000 models x 200 languages x 30 tasks
    python -m explorer.bench --data-dir DIR --models 100 --generate             # smaller
    python -m explorer.bench --data-dir DIR --browser                           # + what a visitor waits for

Views are timed as pure functions with their cache cleared before every call (the uncached worst
case), over random filter combinations; the app is timed from process start to its first answer.
``--browser`` drives Chromium (playwright) through the running app: first leaderboard paint, a
filter change until the table stops changing, an Explorer sub-tab, a new heatmap. The same pass runs
first on a small baseline store (10 models) in the same process, so each figure is printed with its
ratio to that baseline (what the scale costs) and to its target.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from evaluator.scope import ALL

from . import views as V
from .leaderboard_table import TableSpec, leaderboard_table
from .store import ResultStore

REPO_DIR = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("POLYGLOT_CHROMIUM", "/usr/bin/chromium")
# What a visitor may wait at 1,000 models x 200 languages x 30 tasks, in milliseconds (and MB).
TARGETS = {"api_leaderboard_p95_ms": 250, "first_paint_ms": 2000, "filter_to_table_ms": 400,
           "explorer_subtab_ms": 800, "new_heatmap_ms": 800, "app_peak_memory_mb": 2048}


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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_app(data_dir: Path):
    """The app on a free port of 127.0.0.1 (no worker); yields (process, url, start time)."""
    port = _free_port()
    start = time.monotonic()
    proc = subprocess.Popen([sys.executable, "app.py", "--data-dir", str(data_dir), "--port", str(port), "--no-worker"],
                            cwd=REPO_DIR, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        yield proc, f"http://127.0.0.1:{port}/", start
    finally:
        proc.terminate()
        proc.wait(30)


def time_app_start(data_dir: Path, expected_rows: int = 0, browser: bool = False) -> dict:
    """Seconds from process start to the first HTTP answer, to the first leaderboard, and to the
    leaderboard with every run loaded; then the API's leaderboard latency (and, with ``browser``,
    what a visitor waits for in Chromium)."""
    with running_app(data_dir) as (proc, url, start):
        http = api = None
        while time.monotonic() - start < 180:
            try:
                with urllib.request.urlopen(url, timeout=2):
                    http = time.monotonic() - start
                    break
            except OSError:
                time.sleep(0.1)
        from gradio_client import Client

        client = Client(url, verbose=False)
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
        out = {"http_s": round(http, 2) if http else None, "first_leaderboard_s": round(api, 2),
               "first_rows": first_rows, "all_runs_loaded_s": round(full, 2), "rows": len(rows),
               "api_leaderboard_p50_ms": round(1000 * _pct(latencies, 0.5), 1),
               "api_leaderboard_p95_ms": round(1000 * _pct(latencies, 0.95), 1)}
        if browser:
            out.update(time_browser(url))
        out["app_peak_memory_mb"] = _peak_rss_mb(proc.pid)
    return out


# Resolves once `selector` has not changed for `quiet` ms after `since` (performance.now() of the
# action), with the time of its last change: the moment the visitor sees the final result.
_SETTLED = """([selector, since, quiet]) => new Promise(resolve => {
  const el = document.querySelector(selector) || document.body;
  let last = since;
  const obs = new MutationObserver(() => { last = performance.now(); });
  obs.observe(el, {subtree: true, childList: true, characterData: true, attributes: true});
  const check = () => {
    const now = performance.now();
    if (last > since && now - last >= quiet) { obs.disconnect(); resolve(last - since); }
    else if (now - since > 60000) { obs.disconnect(); resolve(null); }
    else setTimeout(check, 25);
  };
  setTimeout(check, 25);
})"""


def _settle(page, selector: str, action, quiet: int = 600) -> float | None:
    """Milliseconds from ``action`` until ``selector`` last changed (None: it never did in 60 s)."""
    page.evaluate("() => { window.__benchSince = performance.now(); }")
    action()
    since = page.evaluate("() => window.__benchSince")
    return page.evaluate(_SETTLED, [selector, since, quiet])


def time_browser(url: str, rounds: int = 5) -> dict:
    """A visitor's waits in Chromium, p50/max over ``rounds``: first leaderboard paint (navigation to
    the first rows), a search until the table settles, an Explorer sub-tab, a new heatmap."""
    from playwright.sync_api import sync_playwright

    paint, filters, subtabs, heatmaps = [], [], [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            for _ in range(rounds):
                page.goto(url, wait_until="commit")
                page.wait_for_function("() => (document.querySelector('#leaderboard-summary') || {}).innerText"
                                       "?.includes('model entries')", timeout=120_000)
                paint.append(page.evaluate("() => performance.now()"))
            search = page.locator("#filter-search textarea, #filter-search input").first
            for i in range(rounds):
                search.fill(f"model-0{i}")
                filters.append(_settle(page, "#leaderboard-table", lambda: search.press("Enter")))
            search.fill("")
            search.press("Enter")
            page.get_by_role("tab", name="Explorer").click()
            page.locator("#language-heatmap .ytick").first.wait_for(timeout=120_000)
            for _ in range(rounds):
                for name in ("Per category", "Per language"):
                    subtabs.append(_settle(page, "body", lambda n=name: page.get_by_role("tab", name=n).click()))
            for i in range(rounds):
                group = ("tier", "script", "family")[i % 3]
                heatmaps.append(_settle(page, "#language-heatmap", lambda g=group: page.get_by_label(g, exact=True).check()))
        finally:
            browser.close()

    def summary(values):
        got = [v for v in values if v is not None]
        return {"p50": round(_pct(got, 0.5)) if got else None, "max": round(max(got)) if got else None,
                "unsettled": len(values) - len(got)}

    return {"first_paint_ms": summary(paint), "filter_to_table_ms": summary(filters),
            "explorer_subtab_ms": summary(subtabs), "new_heatmap_ms": summary(heatmaps)}


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


def _figure(app: dict | None, key: str):
    value = (app or {}).get(key)
    return value.get("p50") if isinstance(value, dict) else value


def print_targets(app: dict, baseline: dict | None) -> list[dict]:
    """Each target with the measured figure (browser waits: p50 over the rounds), the same figure on
    the baseline store and their ratio."""
    rows = []
    print(f"\n{'target':26} {'measured':>9} {'baseline':>9} {'ratio':>6} {'target':>7}  met")
    for key, target in TARGETS.items():
        got, base = _figure(app, key), _figure(baseline, key)
        if got is None:
            continue
        ratio = round(got / base, 2) if base else None
        rows.append({"figure": key, "measured": got, "baseline": base, "ratio": ratio, "target": target,
                     "met": got < target})
        print(f"{key:26} {got:>9} {base if base is not None else '-':>9} {ratio if ratio else '-':>6} {target:>7}  "
              f"{'yes' if got < target else 'NO'}")
    return rows


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
    p.add_argument("--browser", action="store_true", help="also time a visitor's waits in Chromium, against a "
                   "10-model baseline store timed the same way first")
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
        baseline = None
        if args.browser:
            from .synthetic import generate

            base_dir = Path(tempfile.mkdtemp(prefix="polyglot-bench-baseline-"))
            try:
                generate(base_dir, 10, 20, 5, 2)
                baseline = report["baseline (10 models x 20 languages x 5 tasks)"] = time_app_start(
                    base_dir, _entries(base_dir), browser=True)
            finally:
                shutil.rmtree(base_dir, ignore_errors=True)
        for label, clear in (("first start (empty explorer cache)", True), ("restart", False)):
            if clear:
                shutil.rmtree(args.data_dir / "cache", ignore_errors=True)
            app = time_app_start(args.data_dir, entries, browser=args.browser and not clear)
            report[f"app {label}"] = app
            print(f"app, {label}: answers HTTP after {app['http_s']} s, first leaderboard after "
                  f"{app['first_leaderboard_s']} s ({app['first_rows']} rows), all {app['rows']} rows after "
                  f"{app['all_runs_loaded_s']} s; /leaderboard_table p50 {app['api_leaderboard_p50_ms']} ms, "
                  f"p95 {app['api_leaderboard_p95_ms']} ms; app peak memory {app['app_peak_memory_mb']} MB")
        report["targets"] = print_targets(report["app restart"], baseline)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
