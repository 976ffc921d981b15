"""lighteval output (``results/<model>/results_<date>.json`` + ``details/<model>/<date>/details_<task>_<date>.parquet``)
as an imported run.

The results file holds ``config_general`` (lighteval_sha, model_name, model_sha/model_dtype or
model_config, max_samples, start_time), ``results`` (per ``[suite|]task|n_shot``: metric values and
``<metric>_stderr``; ``all`` and ``<family>:_average`` are averages and are not imported),
``versions``, ``config_tasks`` (each task's settings, its metrics with ``higher_is_better``,
``effective_num_docs``). A details file has one row per document: ``doc`` (query, choices,
gold_index), ``model_response`` (text, logprobs, input) and ``metric`` (the document's scores).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from evaluator.scope import ALL

from . import harness_map
from .importer import (
    DIRECTION_SUFFIX,
    PERCENT_METRICS,
    ImportedRun,
    ImportFormatError,
    content_id,
    expect,
    finish_scores,
    number,
    score_row,
)

HARNESS = "lighteval"


def _parse_key(key: str) -> tuple[str, str | None]:
    """``lighteval|xcopa_est_cf|0`` or ``xcopa_est_cf|0`` -> (task name, n-shot)."""
    parts = key.split("|")
    if len(parts) >= 3:
        return parts[1], parts[2]
    if len(parts) == 2:
        return parts[0], parts[1]
    return key, None


def _details_files(path: Path, root: Path, date_id: str) -> dict[str, Path]:
    """details_<key>_<date>.parquet of this results file: under a ``details`` folder beside ``results``."""
    found: dict[str, Path] = {}
    folders = [a / "details" for a in [path.parent, *path.parents] if a == root or root in a.parents]
    folders += [path.parent]
    for folder in folders:
        if folder.is_dir():
            for f in folder.rglob(f"details_*_{date_id}.parquet"):
                found.setdefault(f.name[len("details_"):-len(f"_{date_id}.parquet")], f)
    return found


def _date_of(date_id: str) -> str:
    """The file's timestamp (``2025-11-05T14-43-47.148527``, local time of the run) in ISO 8601; lighteval's
    start_time is a monotonic clock reading, not a date."""
    day, _, clock = date_id.partition("T")
    return f"{day}T{clock.replace('-', ':')}" if clock else date_id


def _higher_is_better(config_tasks: dict, name: str) -> dict[str, bool]:
    out = {}
    for key, cfg in config_tasks.items():
        if not isinstance(cfg, dict) or key.split("|")[-1] != name and cfg.get("name") != name:
            continue
        for m in cfg.get("metrics") or cfg.get("metric") or []:
            if isinstance(m, dict) and isinstance(m.get("higher_is_better"), dict):
                out.update({k: v for k, v in m["higher_is_better"].items() if isinstance(v, bool)})
            elif isinstance(m, dict) and isinstance(m.get("higher_is_better"), bool):
                out[str(m.get("metric_name"))] = m["higher_is_better"]
    return out


def _n_docs(config_tasks: dict, name: str):
    for key, cfg in config_tasks.items():
        if isinstance(cfg, dict) and (key.split("|")[-1] == name or cfg.get("name") == name):
            n = cfg.get("effective_num_docs")
            if isinstance(n, int):
                return n
    return None


def read(path: Path, root: Path | None = None) -> ImportedRun:
    path = Path(path)
    root = Path(root or path.parent)
    if root == path.parent:  # a results file named on its own: its details are under the output folder
        root = next((a.parent for a in path.parents if a.name == "results"), root)
    try:
        obj = json.loads(path.read_bytes())
    except (UnicodeDecodeError, ValueError) as exc:
        raise ImportFormatError(path, "(file)", f"not valid JSON ({exc})") from None
    if not isinstance(obj, dict):
        raise ImportFormatError(path, "(file)", "not a lighteval results file (not a JSON object)")
    if "config" in obj and "config_general" not in obj:
        raise ImportFormatError(path, "config_general", "missing: this is lm-evaluation-harness output "
                                "(import it with `lm-eval`)")
    general = expect(obj.get("config_general"), dict, path, "config_general")
    results = expect(obj.get("results"), dict, path, "results")
    versions = expect(obj.get("versions"), dict, path, "versions", required=False)
    config_tasks = expect(obj.get("config_tasks"), dict, path, "config_tasks", required=False)
    model_config = general.get("model_config") if isinstance(general.get("model_config"), dict) else {}
    model = general.get("model_name") or model_config.get("model_name")
    if not isinstance(model, str) or not model:
        raise ImportFormatError(path, "config_general.model_name", "missing or not a string")
    revision = str(general.get("model_sha") or model_config.get("revision") or "")
    dtype = str(general.get("model_dtype") or model_config.get("dtype") or "").removeprefix("torch.")
    date_id = path.stem.removeprefix("results_")
    details = _details_files(path, root, date_id)
    used_details = {k: f for k, f in details.items() if k in results}
    run_id = content_id("lighteval", [path, *sorted(used_details.values())])
    sha = general.get("lighteval_sha") or ""
    started = _date_of(date_id)
    run = {
        "run_id": run_id, "source": "imported", "model": model, "revision": revision, "precision": dtype or "unknown",
        "dtype": dtype, "suite": "lighteval", "suite_version": sha[:12],
        "engine_version": f"lighteval {sha[:12]}".strip(),
        "started_at": started, "finished_at": started, "device": "", "status": "finished", "tasks": {},
        "citation": "lighteval (Hugging Face)",
    }
    scores, samples, claimed, skipped = [], {}, {}, {}
    for key, metrics in results.items():
        name, shots = _parse_key(key)
        if key == "all" or name.endswith(":_average"):
            skipped[key] = "an average over tasks"
            continue
        metrics = expect(metrics, dict, path, f"results.{key}")
        m = harness_map.resolve(HARNESS, name, "")
        if not m.kind:
            m = replace(m, kind="unknown")
        m = harness_map.claim(m, name, claimed)
        names = [k for k in metrics if not k.endswith("_stderr")]
        if not names:
            skipped[key] = "no metric"
            continue
        primary = next((w for w in m.metrics if w in metrics), names[0])
        hib = _higher_is_better(config_tasks, name)
        n_items = _n_docs(config_tasks, name)
        version = str(versions.get(key, versions.get(name, "")))
        for metric_name in names:
            value = number(metrics[metric_name], path, f"results.{key}.{metric_name}")
            se = number(metrics.get(f"{metric_name}_stderr"), path, f"results.{key}.{metric_name}_stderr",
                        allow_missing=True)
            scale = 100.0 if metric_name in PERCENT_METRICS else 1.0
            d = {"harness_task": key, "key": metric_name, "n_shot": shots}
            if scale != 1.0:
                d["scale"] = scale
            metric, is_primary = metric_name, metric_name == primary
            if m.direction:
                d.update(direction=m.direction, headline=metric if is_primary else None)
                metric += DIRECTION_SUFFIX[m.direction]
                is_primary = False
            scores.append(score_row(run, task=m.task, task_version=version, kind=m.kind, language=m.language,
                                    category=m.category, metric=metric, value=value / scale, n_items=n_items,
                                    stderr=None if se is None else se / scale, primary=is_primary,
                                    higher_is_better=hib.get(metric_name, True), details=d))
        t = run["tasks"].setdefault(m.task, {"version": version, "kind": m.kind, "metric": primary,
                                              "harness_tasks": {}, "languages": [], "n_items": 0})
        t["harness_tasks"][key] = {"language": m.language, "category": m.category, "n_shot": shots, "mapped": m.known}
        if m.language not in t["languages"]:
            t["languages"].append(m.language)
        if m.category == ALL and isinstance(n_items, int):
            t["n_items"] += n_items
        if key in used_details:
            samples.setdefault(m.task, []).extend(_samples(used_details[key], key, m, primary, run))
    scores = finish_scores(scores, samples, run, path)
    run["imported"] = {
        "harness": "lighteval", "harness_version": sha, "git_hash": sha, "date": started,
        "model_revision": revision, "config": general, "n_shot": {k: _parse_key(k)[1] for k in results},
        "command": f"lighteval ... \"{','.join(k for k in results if k != 'all')}\"",
        "file": path.name, "sample_files": sorted(f.name for f in used_details.values()),
        "configs": config_tasks, "skipped": skipped,
    }
    return ImportedRun(run_id, str(path), run, scores, samples)


def _field(row: dict, name: str, where: str) -> dict:
    value = row.get(name, row.get(f"__{name}__"))
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise ImportFormatError(where, name, "not JSON") from None
    if not isinstance(value, dict):
        raise ImportFormatError(where, name, "missing or not a record")
    return value


def _samples(file: Path, key: str, m: harness_map.Mapping, primary: str, run: dict) -> list[dict]:
    import pyarrow.parquet as pq

    try:
        records = pq.read_table(file).to_pylist()
    except Exception as exc:  # noqa: BLE001 - any reader failure: the file is not a details file
        raise ImportFormatError(file, "(file)", f"not a Parquet file ({type(exc).__name__}: {exc})"[:300]) from None
    rows = []
    for n, rec in enumerate(records):
        where = f"{file} row {n}"
        doc, resp = _field(rec, "doc", where), _field(rec, "model_response", where)
        metric = _field(rec, "metric", where)
        choices = [str(c) for c in (doc.get("choices") or [])]
        logprobs = resp.get("logprobs") or []
        text = resp.get("text") or []
        gold_index = doc.get("gold_index")
        gi = gold_index[0] if isinstance(gold_index, list) and gold_index else gold_index
        row = {"run_id": run["run_id"], "model": run["model"], "revision": run["revision"],
               "precision": run["precision"], "suite": run["suite"], "suite_version": run["suite_version"],
               "task": m.task, "task_version": run["tasks"].get(m.task, {}).get("version", ""), "kind": m.kind,
               "language": m.language, "category": m.category if m.category != ALL else "",
               "item_id": str(doc.get("id") or n), "turn": 0,
               "prompt": str(doc.get("query") or resp.get("input") or ""), "metric": primary,
               "score": number(metric.get(primary), where, f"metric.{primary}", allow_missing=True),
               "gold": choices[gi] if isinstance(gi, int) and 0 <= gi < len(choices) else None,
               "details": {"harness_task": key, "metrics": metric, "gold_index": gold_index}}
        if m.kind == "multiple_choice" and len(logprobs) == len(choices) and choices:
            lls = [float(x) for x in logprobs]
            row.update(choices=choices, choice_loglik=lls,
                       prediction=choices[max(range(len(lls)), key=lls.__getitem__)])
        else:
            post = resp.get("text_post_processed") or text
            row["generation"] = str(text[0]) if text else ""
            row["prediction"] = str(post[0]) if post else ""
        rows.append(row)
    return rows
