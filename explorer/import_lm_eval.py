"""lm-evaluation-harness 0.4.x output (``results_<date>.json`` + ``samples_<task>_<date>.jsonl``) as an imported run.

The results file holds ``results`` (per task: ``<metric>,<filter>`` and ``<metric>_stderr,<filter>``),
``versions``, ``n-shot``, ``higher_is_better``, ``n-samples``, ``configs`` (each task's prompt
settings), ``config`` (model, ``model_args``, batch size, limit, seeds), ``git_hash``, ``date`` and the
tracker's ``model_name``/``model_name_sanitized``. Group rows (``group_subtasks``) are aggregates of
their subtasks and are kept only where the mapping table names them (e.g. ``global_mmlu_full_am``).
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
    iso_date,
    number,
    score_row,
)

HARNESS = "lm-eval"
SKIP_KEYS = {"alias", "name", "sample_len", "samples", " ", ""}
OUTPUT_KINDS = {"multiple_choice": "multiple_choice", "loglikelihood": "multiple_choice",
                "generate_until": "short_answer", "loglikelihood_rolling": "perplexity"}


def _split_key(key: str) -> tuple[str, str]:
    metric, _, filt = key.partition(",")
    return metric, filt or "none"


def _model(obj: dict, config: dict, path) -> tuple[str, str, str, dict | str]:
    args = config.get("model_args")
    if isinstance(args, str):
        parsed = dict(kv.split("=", 1) for kv in args.split(",") if "=" in kv)
    elif isinstance(args, dict):
        parsed = args
    elif args is None:
        parsed = {}
    else:
        raise ImportFormatError(path, "config.model_args",
                                f"expected an object or a string, found {type(args).__name__}")
    model = obj.get("model_name") or next((str(parsed[k]) for k in ("peft", "delta", "pretrained", "model", "path",
                                                                    "engine") if parsed.get(k)), None)
    if not model:
        raise ImportFormatError(path, "config.model_args", "names no model (pretrained=...)")
    revision = config.get("model_sha") or config.get("model_revision") or parsed.get("revision") or ""
    dtype = str(config.get("model_dtype") or parsed.get("dtype") or "").removeprefix("torch.")
    return str(model), str(revision), dtype, args


def _command(config: dict, n_shot: dict, tasks: list[str]) -> str:
    """The lm_eval command line the file's settings correspond to (lm-eval does not record it)."""
    args = config.get("model_args")
    if isinstance(args, dict):
        args = ",".join(f"{k}={v}" for k, v in args.items())
    parts = ["lm_eval", "--model", str(config.get("model", "hf")), "--model_args", str(args or ""),
             "--tasks", ",".join(tasks)]
    shots = {v for v in n_shot.values() if isinstance(v, int)}
    if len(shots) == 1 and shots != {0}:
        parts += ["--num_fewshot", str(shots.pop())]
    if config.get("limit") is not None:
        parts += ["--limit", str(config["limit"])]
    if config.get("batch_size") is not None:
        parts += ["--batch_size", str(config["batch_size"])]
    return " ".join(parts)


def _hint(name: str, configs: dict) -> dict | None:
    """What an export of this project says about the task (configs[name].metadata.polyglot)."""
    cfg = configs.get(name) if isinstance(configs.get(name), dict) else {}
    hint = (cfg.get("metadata") or {}).get("polyglot") if isinstance(cfg.get("metadata"), dict) else None
    return hint if isinstance(hint, dict) else None


def _mapping(name: str, configs: dict, path) -> harness_map.Mapping:
    """This project's task for ``name``: an export of this project names it in the task's metadata."""
    cfg = configs.get(name) if isinstance(configs.get(name), dict) else {}
    hint = _hint(name, configs)
    kind = OUTPUT_KINDS.get(str(cfg.get("output_type", "")), "")
    if hint is not None:
        try:
            return harness_map.Mapping(str(hint["task"]), str(hint["language"]), str(hint.get("category", ALL)),
                                       str(hint.get("kind") or kind), (str(hint["primary_metric"]),),
                                       "", "", True)
        except KeyError as exc:
            raise ImportFormatError(path, f"configs.{name}.metadata.polyglot", f"missing {exc}") from None
    m = harness_map.resolve(HARNESS, name, kind)
    return m if m.kind else replace(m, kind=kind or "unknown")


def read(path: Path, root: Path | None = None) -> ImportedRun:
    path = Path(path)
    raw = path.read_bytes()
    try:
        obj = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise ImportFormatError(path, "(file)", f"not valid JSON ({exc})") from None
    if not isinstance(obj, dict):
        raise ImportFormatError(path, "(file)", "not an lm-evaluation-harness results file (not a JSON object)")
    if "config_general" in obj and "config" not in obj:
        raise ImportFormatError(path, "config", "missing: this is lighteval output (import it with `lighteval`)")
    results = expect(obj.get("results"), dict, path, "results")
    config = expect(obj.get("config"), dict, path, "config")
    versions = expect(obj.get("versions"), dict, path, "versions")
    n_shot = expect(obj.get("n-shot"), dict, path, "n-shot", required=False)
    hib = expect(obj.get("higher_is_better"), dict, path, "higher_is_better", required=False)
    n_samples = expect(obj.get("n-samples"), dict, path, "n-samples", required=False)
    configs = expect(obj.get("configs"), dict, path, "configs", required=False)
    group_subtasks = expect(obj.get("group_subtasks"), dict, path, "group_subtasks", required=False)
    # Standalone tasks are listed in group_subtasks too, with no subtasks.
    groups = {g for g, subtasks in group_subtasks.items() if subtasks}
    groups |= set(expect(obj.get("groups"), dict, path, "groups", required=False))
    model, revision, dtype, model_args = _model(obj, config, path)

    date_id = path.stem.removeprefix("results_")
    sample_files = {}
    for name in results:
        f = path.with_name(f"samples_{name}_{date_id}.jsonl")
        if f.is_file():
            sample_files[name] = f
    run_id = content_id("lmeval", [path, *sorted(sample_files.values())])
    version = str(obj.get("lm_eval_version") or "0.4")
    started = iso_date(obj.get("date"))
    run = {
        "run_id": run_id, "source": "imported", "model": model, "revision": revision, "precision": dtype or "unknown",
        "dtype": dtype, "suite": "lm-eval", "suite_version": version, "engine_version": f"lm-eval {version}",
        "started_at": started, "finished_at": started, "device": str(config.get("device") or ""),
        "status": "finished", "tasks": {}, "citation": "lm-evaluation-harness (EleutherAI)",
    }
    scores, samples, claimed, skipped = [], {}, {}, {}
    for name, metrics in results.items():
        metrics = expect(metrics, dict, path, f"results.{name}")
        m = _mapping(name, configs, path)
        if name in groups and (not m.known or m.language == ALL):
            skipped[name] = "group: an aggregate of its subtasks"
            continue
        m = harness_map.claim(m, name, claimed)
        keys = [k for k in metrics if k not in SKIP_KEYS and "_stderr" not in _split_key(k)[0]]
        if not keys:
            skipped[name] = "no metric"
            continue
        wanted = [w if "," in w else f"{w},none" for w in m.metrics]
        primary = next((w for w in wanted if w in metrics), keys[0])
        task_hib = hib.get(name) if isinstance(hib.get(name), dict) else {}
        ns = n_samples.get(name) if isinstance(n_samples.get(name), dict) else {}
        n_items = ns.get("effective") if isinstance(ns.get("effective"), int) else metrics.get("sample_len")
        shots = n_shot.get(name)
        for key in keys:
            base, filt = _split_key(key)
            value = number(metrics[key], path, f"results.{name}.{key}")
            se = number(metrics.get(f"{base}_stderr,{filt}"), path, f"results.{name}.{base}_stderr,{filt}",
                        allow_missing=True)
            hint = _hint(name, configs)
            percent = key in hint.get("percent_keys", []) if hint else base in PERCENT_METRICS
            scale = 100.0 if percent else 1.0
            metric = base if filt == "none" else key
            details = {"harness_task": name, "key": key, "n_shot": shots}
            if scale != 1.0:
                details["scale"] = scale
            is_primary = key == primary
            if m.direction:
                details.update(direction=m.direction, headline=metric if is_primary else None)
                metric += DIRECTION_SUFFIX[m.direction]
                is_primary = False
            hb = task_hib.get(base)
            n = (hint.get("n_items") or {}).get(key, n_items) if hint else n_items
            scores.append(score_row(run, task=m.task, task_version=str(versions.get(name, "")), kind=m.kind,
                                    language=m.language, category=m.category, metric=metric, value=value / scale,
                                    n_items=n if isinstance(n, int) else None,
                                    stderr=None if se is None else se / scale, primary=is_primary,
                                    higher_is_better=hb if isinstance(hb, bool) else True, details=details))
        t = run["tasks"].setdefault(m.task, {"version": str(versions.get(name, "")), "kind": m.kind,
                                              "metric": _split_key(primary)[0] if _split_key(primary)[1] == "none"
                                              else primary, "harness_tasks": {}, "languages": [], "n_items": 0})
        t["harness_tasks"][name] = {"language": m.language, "category": m.category, "n_shot": shots,
                                    "version": versions.get(name), "mapped": m.known}
        if m.language not in t["languages"]:
            t["languages"].append(m.language)
        if m.category == ALL and isinstance(n_items, int):
            t["n_items"] += n_items
        if name in sample_files:
            rows = _samples(sample_files[name], name, m, primary, configs.get(name) or {}, run)
            samples.setdefault(m.task, []).extend(rows)
    scores = finish_scores(scores, samples, run, path)
    run["imported"] = {
        "harness": "lm-evaluation-harness", "harness_version": version, "git_hash": obj.get("git_hash"),
        "upper_git_hash": obj.get("upper_git_hash"), "date": started, "model_args": model_args,
        "model_revision": revision, "model_source": obj.get("model_source") or config.get("model"),
        "config": config, "n_shot": n_shot, "command": _command(config, n_shot, list(results)),
        "file": path.name, "sample_files": sorted(f.name for f in sample_files.values()),
        "configs": configs, "task_hashes": obj.get("task_hashes"), "skipped": skipped,
        "transformers_version": obj.get("transformers_version"),
        "chat_template_sha": obj.get("chat_template_sha"), "system_instruction_sha": obj.get("system_instruction_sha"),
    }
    return ImportedRun(run_id, str(path), run, scores, samples)


def _gen_args(line: dict, where: str) -> list[dict]:
    args = line.get("arguments")
    if isinstance(args, dict):  # the tracker's sanitised form: gen_args_<i>: {arg_<j>: ...}
        return [args[k] for k in sorted(args, key=lambda k: int(k.rsplit("_", 1)[-1]))]
    if isinstance(args, list):  # as simple_evaluate returns them
        return [{f"arg_{j}": a for j, a in enumerate(arg)} for arg in args]
    raise ImportFormatError(where, "arguments", "missing or not an object")


def _samples(file: Path, name: str, m: harness_map.Mapping, primary: str, config: dict, run: dict) -> list[dict]:
    base, filt = _split_key(primary)
    mc = m.kind == "multiple_choice" or config.get("output_type") == "multiple_choice"
    rows = []
    with file.open(encoding="utf-8") as f:
        for n, text in enumerate(f, start=1):
            if not text.strip():
                continue
            where = f"{file}:{n}"
            try:
                line = json.loads(text)
            except ValueError as exc:
                raise ImportFormatError(where, "(line)", f"not valid JSON ({exc})") from None
            if not isinstance(line, dict):
                raise ImportFormatError(where, "(line)", "not a JSON object")
            if line.get("filter", "none") != filt:
                continue
            doc_id = line.get("doc_id")
            if not isinstance(doc_id, int) or isinstance(doc_id, bool):
                raise ImportFormatError(where, "doc_id", "missing or not an integer")
            doc = line.get("doc") if isinstance(line.get("doc"), dict) else {}
            args = _gen_args(line, where)
            resps = expect(line.get("resps"), list, where, "resps")
            filtered = expect(line.get("filtered_resps"), list, where, "filtered_resps")
            score = number(line.get(base), where, base, allow_missing=True)
            hint = line.get("polyglot") if isinstance(line.get("polyglot"), dict) else {}
            item_id = hint.get("item_id") or m.item_key(doc, doc_id)
            target = line.get("target")
            row = {"run_id": run["run_id"], "model": run["model"], "revision": run["revision"],
                   "precision": run["precision"], "suite": run["suite"], "suite_version": run["suite_version"],
                   "task": m.task, "task_version": run["tasks"].get(m.task, {}).get("version", ""), "kind": m.kind,
                   "language": m.language,
                   "category": hint.get("category") or (m.category if m.category != ALL else ""),
                   "item_id": str(item_id), "turn": 0, "prompt": str(args[0].get("arg_0", "")) if args else "",
                   "prompt_hash": line.get("prompt_hash"), "score": score, "metric": base,
                   "details": {"harness_task": name, "doc_id": doc_id, "filter": filt, "doc": doc,
                               "metrics": {k: line[k] for k in (line.get("metrics") or []) if k in line},
                               "doc_hash": line.get("doc_hash"), "target_hash": line.get("target_hash"),
                               "target": target}}
            if mc:
                choices = [str(a.get("arg_1", "")) for a in args]
                try:
                    lls = [float(r[0][0]) if isinstance(r[0], (list, tuple)) else float(r[0]) for r in resps]
                except (TypeError, ValueError, IndexError):
                    raise ImportFormatError(where, "resps", "not loglikelihoods of the choices") from None
                row.update(choices=choices, choice_loglik=lls)
                if lls:
                    row["prediction"] = choices[max(range(len(lls)), key=lls.__getitem__)]
                digit = isinstance(target, int) or (isinstance(target, str) and target.isdigit())
                gold = int(target) if digit else None
                row["gold"] = choices[gold] if gold is not None and gold < len(choices) else str(target)
            else:
                first = resps[0] if resps else None
                row["generation"] = str(first[0] if isinstance(first, list) and first else first or "")
                fr = filtered[0] if filtered else None
                row["prediction"] = str(fr[0] if isinstance(fr, list) and fr else fr or "")
                row["gold"] = target if isinstance(target, str) else json.dumps(target, ensure_ascii=False)
            rows.append(row)
    return rows

