"""Write a run in lm-evaluation-harness 0.4's shapes, for tools that read lm-eval output.

    python -m explorer.export lm-eval RUN_ID DIR [--data-dir DIR] [--store URL]

writes ``DIR/<model_name_sanitized>/results_<date>.json`` and one ``samples_<task>_<date>.jsonl`` per
exported task with per-sample rows. Each (task, language, category) of the run becomes one lm-eval
task named ``<task>_<language>[_<category>]`` whose scores are ``<metric>,<filter>`` keys (an imported
run keeps the keys it came with), with ``<metric>_stderr`` from the 95% interval. The task's
``configs[...]["metadata"]["polyglot"]`` names the project task, language, category and headline
metric, so ``python -m explorer.importer lm-eval DIR`` reads the export back to the same scores.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

import pyarrow.parquet as pq


from evaluator.errors import PolyglotError
from evaluator.results import RunInfo
from evaluator.run_store import RUN_JSON, SCORES, RunStore, samples_name
from evaluator.scope import ALL
from evaluator.stats import Z95


class ExportError(PolyglotError, RuntimeError):
    pass


def _open_run(store: RunStore, run_id: str) -> tuple[str, RunInfo]:
    folder = store.published_folder(run_id)
    if folder is None:
        if not store.fs.exists(store.path(run_id, SCORES)):
            raise ExportError(f"no run {run_id} in {store.url}")
        folder = run_id
    return folder, RunInfo.parse(store.fs.cat_file(store.path(folder, RUN_JSON)), default_run_id=run_id)


def _read_table(store: RunStore, folder: str, name: str) -> list[dict]:
    with store.fs.open(store.path(folder, name), "rb") as f:
        return pq.read_table(f).to_pylist()


def _details(value) -> dict:
    if isinstance(value, dict):
        return value
    try:
        return json.loads(value or "{}")
    except ValueError:
        return {}


def _key(row: dict) -> str:
    d = _details(row["details"])
    metric = row["metric"]
    return d["key"] if d.get("key") and not d.get("direction") else (metric if "," in metric else f"{metric},none")


def _name(task: str, language: str, category: str) -> str:
    parts = [task] + ([language] if language != ALL else []) + ([category] if category != ALL else [])
    return "_".join(parts)


def _sanitize(model: str) -> str:
    return model.replace("/", "__").replace(":", "_")


def lm_eval_results(info: RunInfo, scores: list[dict], samples: dict[str, list[dict]]) -> tuple[dict, dict[str, list]]:
    """(the results_*.json object, task name -> sample lines) of one run."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for s in scores:
        groups[(s["task"], s["language"], s["category"])].append(s)
    results, versions, n_shot, hib, n_samples, configs = {}, {}, {}, {}, {}, {}
    names = {}
    for (task, lang, cat), rows in sorted(groups.items()):
        name = _name(task, lang, cat)
        names[(task, lang, cat)] = name
        entry = {"alias": name}
        primary = None
        shots = None
        percent, counts = [], {}
        for s in rows:
            key = _key(s)
            d = _details(s["details"])
            scale = float(d.get("scale") or 1.0) if not d.get("direction") and not d.get("derived") else 1.0
            base, _, filt = key.partition(",")
            if scale != 1.0:
                percent.append(key)
            entry[key] = s["value"] * scale
            counts[key] = s["n_items"]
            if s["ci_low"] is not None and s["ci_high"] is not None:
                entry[f"{base}_stderr,{filt}"] = (s["ci_high"] - s["ci_low"]) / (2 * Z95) * scale
            else:
                entry[f"{base}_stderr,{filt}"] = "N/A"
            hib.setdefault(name, {})[base] = bool(s["higher_is_better"])
            if s["primary"]:
                primary = key
            shots = d.get("n_shot") if shots is None else shots
        primary = primary or _key(rows[0])
        n = max((s["n_items"] or 0 for s in rows), default=0)
        entry["sample_len"] = n
        results[name] = entry
        versions[name] = rows[0]["task_version"] or "0"
        n_shot[name] = shots if isinstance(shots, int) else 0
        n_samples[name] = {"original": n, "effective": n}
        configs[name] = {"task": name, "output_type": "multiple_choice" if rows[0]["kind"] == "multiple_choice"
                         else "generate_until",
                         "metadata": {"polyglot": {"task": task, "language": lang, "category": cat,
                                                   "kind": rows[0]["kind"], "primary_metric": primary,
                                                   "percent_keys": percent, "n_items": counts,
                                                   "run_id": info.run_id}}}
    lines: dict[str, list] = {}
    for task, rows in samples.items():
        for r in rows:
            name = names.get((task, r["language"], ALL)) or names.get((task, r["language"], r.get("category") or ALL))
            if name is None:
                continue
            lines.setdefault(name, []).append(_sample_line(r, configs[name]["metadata"]["polyglot"]["primary_metric"]))
    for ls in lines.values():
        for doc_id, line in enumerate(ls):
            line["doc_id"] = line.pop("_doc_id", doc_id)
    finished = info.finished_at or info.started_at
    try:
        date = datetime.fromisoformat(finished).timestamp()
    except (TypeError, ValueError):
        date = datetime.now(timezone.utc).timestamp()
    model = info.model or ""
    obj = {
        "results": results, "groups": {}, "group_subtasks": {}, "configs": configs, "versions": versions,
        "n-shot": n_shot, "higher_is_better": hib, "n-samples": n_samples,
        "config": {"model": "hf", "model_args": {"pretrained": model, "revision": info.revision or "",
                                                 "dtype": info.precision or ""},
                   "model_revision": info.revision or "", "model_sha": info.revision or "",
                   "model_dtype": info.precision or "", "device": info.device or "",
                   "limit": info.limit, "batch_size": None},
        "git_hash": None, "date": date, "lm_eval_version": None,
        "model_source": "hf", "model_name": model, "model_name_sanitized": _sanitize(model),
        "polyglot": {"run_id": info.run_id, "source": info.source,
                     "engine_version": info.engine_version, "suite": info.suite},
    }
    return obj, lines


def _sample_line(r: dict, primary_key: str) -> dict:
    d = _details(r["details"])
    base, _, filt = primary_key.partition(",")
    choices = r.get("choices") or []
    line = {"doc": d.get("doc") or {"item_id": r["item_id"]}, "filter": d.get("filter") or filt or "none",
            "metrics": [base], base: r["score"], "prompt_hash": r.get("prompt_hash"),
            "polyglot": {"item_id": r["item_id"], "category": r.get("category") or ""}}
    if isinstance(d.get("doc_id"), int):
        line["_doc_id"] = d["doc_id"]
    if choices:
        lls = r.get("choice_loglik") or []
        line["target"] = str(choices.index(r["gold"])) if r.get("gold") in choices else str(r.get("gold"))
        prompt = r.get("prompt") or ""
        line["arguments"] = {f"gen_args_{i}": {"arg_0": prompt, "arg_1": c} for i, c in enumerate(choices)}
        line["resps"] = [[[str(ll), "False"]] for ll in lls]
        line["filtered_resps"] = [[str(ll), "False"] for ll in lls]
    else:
        line["target"] = r.get("gold") if r.get("gold") is not None else ""
        line["arguments"] = {"gen_args_0": {"arg_0": r.get("prompt") or "", "arg_1": {}}}
        line["resps"] = [[r.get("generation") or ""]]
        line["filtered_resps"] = [r.get("prediction") or ""]
    return line


def export_lm_eval(store: RunStore, run_id: str, out_dir: Path) -> Path:
    """Write the run as lm-eval output under ``out_dir``; returns the results file."""
    folder, info = _open_run(store, run_id)
    scores = _read_table(store, folder, SCORES)
    samples = {}
    for task in info.tasks:
        name = samples_name(task)
        if store.fs.exists(store.path(folder, name)):
            samples[task] = _read_table(store, folder, name)
    obj, lines = lm_eval_results(info, [s for s in scores if s["run_id"] == info.run_id], samples)
    date_id = datetime.fromtimestamp(obj["date"], timezone.utc).strftime("%Y-%m-%dT%H-%M-%S.%f")
    target = Path(out_dir) / obj["model_name_sanitized"]
    target.mkdir(parents=True, exist_ok=True)
    for name, ls in lines.items():
        with (target / f"samples_{name}_{date_id}.jsonl").open("w", encoding="utf-8") as f:
            for line in ls:
                f.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")
    path = target / f"results_{date_id}.json"
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    return path


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m explorer.export",
                                description="Export a run in another harness's format")
    p.add_argument("format", choices=["lm-eval"])
    p.add_argument("run_id")
    p.add_argument("dir")
    p.add_argument("--data-dir", default=None, help="data folder (default: $POLYGLOT_DATA_DIR or ./data/store)")
    p.add_argument("--store", default=None, help="results store URL (default: $POLYGLOT_STORE or DATA_DIR/results)")
    args = p.parse_args(argv)
    from evaluator.store import resolve_data_dir

    store = RunStore.for_data_dir(resolve_data_dir(args.data_dir), args.store)
    try:
        path = export_lm_eval(store, args.run_id, Path(args.dir))
    except ExportError as exc:
        print(f"not exported: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
