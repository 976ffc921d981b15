"""Throughput benchmark of the scoring engine: the plain path vs the packed (shared-context) path.

Random-initialised models of real shapes (configs in evaluator/model_shapes, nothing downloaded)
score synthetic items shaped like Belebele (long passage, four multi-token answers), MMLU (question
with four single-letter answers) and XCOPA (short premise, two answers), plus the starter suite's
multiple-choice items. Every path runs in this process on the same items; the table gives items/s,
tokens/s, MFU (2·P FLOPs per computed token against the card's bf16 peak), peak GPU memory, and the
agreement of predictions with the plain path.

    python -m evaluator.bench                          # GPU: 1B and 8B shapes, bf16, and fp32 numerics
    python -m evaluator.bench --smoke                  # CPU: the tiny model, a few items (CI)
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from .batching import TokenBudget, auto_token_budget
from .loglikelihood import ChoiceGroup, score_packed, score_plain

SHAPES_DIR = Path(__file__).resolve().parent / "model_shapes"
# Dense bf16 peak of the card (spec sheet), for MFU. Measured matmul ceiling here: ~790 TFLOP/s.
PEAK_BF16 = {"H100": 989e12, "H200": 989e12, "A100": 312e12, "L40S": 362e12}

ITEM_SHAPES = {
    # name: (context length range, number of choices, answer length range)
    "belebele": ((380, 520), 4, (6, 20)),
    "mmlu": ((80, 400), 4, (1, 1)),
    "xcopa": ((8, 20), 2, (4, 12)),
}


@dataclass
class Row:
    shape: str
    items: str
    path: str
    dtype: str
    n_items: int
    seconds: float
    items_per_s: float
    tokens_per_s: float
    tokens_computed: int
    mfu: float | None
    peak_mem_gib: float | None
    agreement: float
    max_abs_diff: float
    near_ties: int
    speedup: float
    oom_backoffs: int
    token_budget: int


def synthetic_groups(kind: str, n: int, vocab: int, seed: int = 0) -> list[ChoiceGroup]:
    (c_lo, c_hi), k, (a_lo, a_hi) = ITEM_SHAPES[kind]
    rng = random.Random(seed)
    hi = min(vocab, 32000) - 1
    groups = []
    for _ in range(n):
        ctx = [1] + [rng.randrange(3, hi) for _ in range(rng.randint(c_lo, c_hi))]
        if a_hi == 1:
            conts = [[t] for t in rng.sample(range(3, hi), k)]
        else:
            conts = [[rng.randrange(3, hi) for _ in range(rng.randint(a_lo, a_hi))] for _ in range(k)]
        groups.append(ChoiceGroup(ctx, conts))
    return groups


def starter_groups(limit: int | None = None) -> list[ChoiceGroup]:
    """The starter suite's multiple-choice items, tokenised with the tiny model's tokenizer."""
    from .cards import get_card
    from .datasets import data_folder, load_items
    from .encoding import encode_choice_group, special_tokens_of
    from .prompts import labels_for, render, template_for
    from .tiny_model import train_tokenizer

    tok = train_tokenizer()
    specials = special_tokens_of(tok)
    card = get_card("polyglot_mc")
    items = load_items(card, data_folder(card, [], allow_hub=False)[0], limit=limit)
    groups = []
    for it in items:
        values = {**labels_for(it.language), **it.fields}
        ctx = render(template_for(card, "template", it.language), values)
        conts = [render(template_for(card, "choice", it.language), {"choice": c}) for c in it.choices]
        ctx_ids, cont_ids = encode_choice_group(tok, specials, ctx, conts)
        groups.append(ChoiceGroup(ctx_ids, cont_ids))
    return groups


def build_model(shape: str, dtype: torch.dtype, device: torch.device):
    from transformers import AutoConfig, AutoModelForCausalLM

    if shape == "tiny":
        from .tiny_model import build_tiny_model
        import tempfile

        folder = build_tiny_model(Path(tempfile.mkdtemp()) / "tiny")
        return AutoModelForCausalLM.from_pretrained(folder, dtype=dtype, attn_implementation="sdpa").to(device).eval()
    cfg_dict = json.loads((SHAPES_DIR / f"{shape}.json").read_text())
    model_type = cfg_dict.pop("model_type")
    config = AutoConfig.for_model(model_type, **cfg_dict)
    config._attn_implementation = "sdpa"
    torch.manual_seed(0)
    with torch.device(device):
        model = AutoModelForCausalLM.from_config(config, dtype=dtype)
    return model.eval()


def n_params(model) -> int:
    return sum(p.numel() for p in model.parameters())


def card_peak(device: torch.device) -> float | None:
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    for key, peak in PEAK_BF16.items():
        if key in name:
            return peak
    return None


def _time_path(fn, model, groups, budget_tokens, device):
    budget = TokenBudget(budget_tokens)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
    from .loglikelihood import ScoringStats

    stats = ScoringStats()
    start = time.perf_counter()
    out = fn(model, groups, budget, 0, stats)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    seconds = time.perf_counter() - start
    peak = torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else None
    return out, seconds, stats, peak, budget


def compare(shape: str, items_name: str, groups, model, device, dtype_name: str, budget_tokens: int,
            with_lm_eval: bool = False) -> list[Row]:
    peak_flops = card_peak(device)
    params = n_params(model)
    # Warm-up on a few items so that kernel selection and allocation are not timed.
    score_packed(model, groups[:4], TokenBudget(budget_tokens))
    score_plain(model, groups[:4], TokenBudget(budget_tokens))
    base, base_s, base_stats, base_peak, base_budget = _time_path(score_plain, model, groups, budget_tokens, device)
    rows = []

    def row(path, out, seconds, stats, peak, budget):
        agree = sum(int(max(range(len(a.loglik)), key=a.loglik.__getitem__) == max(range(len(b.loglik)), key=b.loglik.__getitem__))
                    for a, b in zip(base, out)) / len(groups)
        diff = max(abs(x - y) for a, b in zip(base, out) for x, y in zip(a.loglik, b.loglik))
        ties = sum(int(len(s.loglik) > 1 and sorted(s.loglik)[-1] - sorted(s.loglik)[-2] < 0.05) for s in base)
        mfu = (2 * params * stats.tokens_computed / seconds / peak_flops) if peak_flops and dtype_name != "float32" else None
        return Row(shape, items_name, path, dtype_name, len(groups), round(seconds, 4), round(len(groups) / seconds, 2),
                   round(stats.tokens_computed / seconds, 1), stats.tokens_computed, round(mfu, 4) if mfu else None,
                   round(peak, 2) if peak is not None else None, round(agree, 4), float(f"{diff:.3g}"), ties,
                   round(base_s / seconds, 3), budget.backoffs, budget.tokens)

    rows.append(row("plain (one row per choice)", base, base_s, base_stats, base_peak, base_budget))
    out, s, st, pk, bd = _time_path(score_packed, model, groups, budget_tokens, device)
    rows.append(row("packed (context once)", out, s, st, pk, bd))
    if with_lm_eval:
        lm_row = lm_eval_row(shape, items_name, model, groups, device, dtype_name, base, base_s, params, peak_flops)
        if lm_row:
            rows.append(lm_row)
    return rows


def lm_eval_row(shape, items_name, model, groups, device, dtype_name, base, base_s, params, peak_flops):
    """lm-eval's HF backend on the same token ids, where lm-eval is installed."""
    try:
        from lm_eval.models.huggingface import HFLM
    except ImportError:
        print("  lm-eval is not installed here: its column is skipped (pip install lm-eval==0.4.13)", file=sys.stderr)
        return None
    lm = HFLM(pretrained=model, batch_size=32, device=str(device))
    reqs = [(("", ""), g.context, c) for g in groups for c in g.continuations]
    start = time.perf_counter()
    res = lm._loglikelihood_tokens(reqs, disable_tqdm=True)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    seconds = time.perf_counter() - start
    k = 0
    agree, diff = 0, 0.0
    tokens = 0
    for g, b in zip(groups, base):
        lls = [res[k + j][0] for j in range(len(g.continuations))]
        tokens += sum(len(g.context) + len(c) - 1 for c in g.continuations)
        agree += int(max(range(len(lls)), key=lls.__getitem__) == max(range(len(b.loglik)), key=b.loglik.__getitem__))
        diff = max(diff, max(abs(x - y) for x, y in zip(lls, b.loglik)))
        k += len(g.continuations)
    mfu = (2 * params * tokens / seconds / peak_flops) if peak_flops and dtype_name != "float32" else None
    return Row(shape, items_name, "lm-eval 0.4 HF backend", dtype_name, len(groups), round(seconds, 4),
               round(len(groups) / seconds, 2), round(tokens / seconds, 1), tokens, round(mfu, 4) if mfu else None,
               None, round(agree / len(groups), 4), float(f"{diff:.3g}"), 0, round(base_s / seconds, 3), 0, 0)


def print_table(rows: list[Row], device_name: str) -> None:
    print(f"\ndevice: {device_name}")
    head = f"{'shape':14} {'items':9} {'path':28} {'dtype':9} {'n':>5} {'items/s':>9} {'tok/s':>11} {'MFU':>6} {'GiB':>6} {'agree':>6} {'max|Δll|':>9} {'ties':>5} {'×plain':>7}"
    print(head)
    print("-" * len(head))
    for r in rows:
        mfu = f"{100 * r.mfu:.0f}%" if r.mfu else "n/a"
        mem = f"{r.peak_mem_gib:.1f}" if r.peak_mem_gib is not None else "n/a"
        print(f"{r.shape:14} {r.items:9} {r.path:28} {r.dtype:9} {r.n_items:>5} {r.items_per_s:>9.1f} {r.tokens_per_s:>11.0f} "
              f"{mfu:>6} {mem:>6} {r.agreement:>6.3f} {r.max_abs_diff:>9.2g} {r.near_ties:>5} {r.speedup:>7.2f}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m evaluator.bench", description=__doc__.split("\n\n")[0])
    p.add_argument("--smoke", action="store_true", help="tiny model on CPU, a few items (CI)")
    p.add_argument("--shapes", default=None, help="comma-separated: tiny, qwen2.5-0.5b, llama-3.2-1b, llama-3-8b")
    p.add_argument("--items", default="belebele,mmlu,xcopa,starter", help="item shapes to run")
    p.add_argument("--n", type=int, default=None, help="items per shape (default 512 on GPU, 48 on CPU)")
    p.add_argument("--dtype", default=None, help="bfloat16 (GPU default) or float32 (CPU default)")
    p.add_argument("--fp32-check", action="store_true", help="also compare the paths in float32 (numerics guard)")
    p.add_argument("--token-budget", type=int, default=None)
    p.add_argument("--lm-eval", action="store_true", help="also time lm-eval's HF backend if it is installed")
    p.add_argument("--output", type=Path, default=None, help="write the rows as JSON here")
    args = p.parse_args(argv)

    device = torch.device("cuda" if torch.cuda.is_available() and not args.smoke else "cpu")
    device_name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    shapes = (args.shapes or ("tiny" if device.type == "cpu" else "llama-3.2-1b,llama-3-8b")).split(",")
    n = args.n or (12 if args.smoke else 48 if device.type == "cpu" else 512)
    dtypes = [args.dtype or ("bfloat16" if device.type == "cuda" else "float32")]
    if args.fp32_check and "float32" not in dtypes:
        dtypes.append("float32")
    missing = [m for m in ("transformers",) if __import__("importlib").util.find_spec(m) is None]
    if missing:
        print(f"missing packages: {', '.join(missing)}", file=sys.stderr)
        return 2
    rows: list[Row] = []
    for shape in shapes:
        for dtype_name in dtypes:
            model = build_model(shape, getattr(torch, dtype_name), device)
            budget = args.token_budget or (auto_token_budget(model, device) if device.type == "cuda" else 4096)
            vocab = model.config.vocab_size
            print(f"{shape}: {n_params(model) / 1e9:.3f}B parameters, {dtype_name}, token budget {budget}", file=sys.stderr)
            for items_name in args.items.split(","):
                if items_name == "starter":
                    groups = starter_groups()[: (n if args.smoke else None)]
                else:
                    groups = synthetic_groups(items_name, n if dtype_name != "float32" or device.type == "cpu" else max(16, n // 8), vocab)
                rows += compare(shape, items_name, groups, model, device, dtype_name, budget, args.lm_eval)
            del model
            if device.type == "cuda":
                torch.cuda.empty_cache()
    print_table(rows, device_name)
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps({"device": device_name, "rows": [asdict(r) for r in rows]}, indent=2))
    bad = [r for r in rows if r.dtype == "float32" and r.max_abs_diff >= 1e-3 and not r.path.startswith("lm-eval")]
    if bad:
        print("numerics guard FAILED: the paths disagree in float32", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
