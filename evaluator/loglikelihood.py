"""Loglikelihood of multiple-choice continuations, batched, in two equivalent ways.

``plain``: one right-padded row per (item, choice), ``(context + continuation)[:-1]``, the way
lm-eval's HF backend scores. ``packed`` (the default): one row per item holding the context once
followed by every choice, ``[ctx | c1[:-1] | c2[:-1] | ...]``, with a tree-shaped attention mask
(each choice sees the context and itself) and position ids that restart after the context. The
context is computed once instead of k times; when every choice is a single token the row is the
context alone. Both paths take log-softmax in fp32 on the answer positions only.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .batching import TokenBudget

# Architectures whose attention honours a custom 4-D mask and explicit position ids (rotary
# positions). Others, e.g. ALiBi models that derive positions from a 2-D mask, use ``plain``.
PACKED_MODEL_TYPES = {
    "llama", "mistral", "mixtral", "qwen2", "qwen2_moe", "qwen3", "qwen3_moe", "gemma", "gemma2",
    "gemma3_text", "phi3", "olmo", "olmo2", "granite", "cohere", "cohere2", "stablelm", "starcoder2",
    "smollm3", "glm", "helium", "exaone4", "ministral", "apertus",
}


@dataclass
class ChoiceGroup:
    """One multiple-choice item as token ids: the context and each choice's continuation."""

    context: list[int]
    continuations: list[list[int]]
    # The same as text, for endpoints (scored server-side; the ids are empty there).
    context_text: str = ""
    continuation_texts: tuple[str, ...] = ()


@dataclass
class ChoiceScores:
    loglik: list[float]
    is_greedy: list[bool]
    n_tokens: list[int]


@dataclass
class ScoringStats:
    path: str = "packed"
    rows: int = 0
    tokens_computed: int = 0
    padded_tokens: int = 0
    batches: int = 0
    oom_backoffs: int = 0


def supports_packed(model) -> bool:
    return getattr(model.config, "model_type", "") in PACKED_MODEL_TYPES


def _selected_logits(model, input_ids, attention_mask, position_ids, rows, positions):
    """Logits [N, V] at the (row, position) pairs only.

    The language-model head is the costliest layer per position for large vocabularies, so the
    hidden states are gathered before it (a forward pre-hook on the output embedding); elementwise
    steps after the head (e.g. logit soft-capping) are unaffected by the gathering.
    """
    lo, hi = int(positions.min()), int(positions.max())
    keep = torch.arange(lo, hi + 1, device=input_ids.device)
    head = model.get_output_embeddings()
    handle = None
    if head is not None:
        def gather(module, args):
            return (args[0][rows, positions - lo].unsqueeze(0), *args[1:])

        handle = head.register_forward_pre_hook(gather)
    try:
        out = model(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids,
                    logits_to_keep=keep, use_cache=False)
    finally:
        if handle is not None:
            handle.remove()
    logits = out.logits
    if head is not None and logits.shape[:2] == (1, len(rows)):
        return logits[0]
    return logits[rows, positions - lo]


def _gather(logits, targets):
    """fp32 log-probabilities and greedy flags of ``targets`` from selected logits [N, V]."""
    logprobs = torch.log_softmax(logits.float(), dim=-1)
    tok_lp = logprobs.gather(1, targets[:, None]).squeeze(1)
    greedy = logits.argmax(dim=-1) == targets
    return tok_lp, greedy


def _finish(slot_lp, slot_greedy, groups) -> list[ChoiceScores]:
    out, k = [], 0
    for g in groups:
        n = len(g.continuations)
        out.append(ChoiceScores(loglik=slot_lp[k : k + n].tolist(), is_greedy=slot_greedy[k : k + n].tolist(),
                                n_tokens=[len(c) for c in g.continuations]))
        k += n
    return out


@dataclass
class _Row:
    """One input row: token ids, position ids, segment ids (0 context, j+1 choice j) and the
    (query position, target token, output slot) triples to read from it."""

    ids: list[int]
    positions: list[int]
    segments: list[int]
    targets: list[tuple[int, int, int]]


def _plain_rows(groups: list[ChoiceGroup]) -> list[_Row]:
    rows, slot = [], 0
    for g in groups:
        lc = len(g.context)
        for cont in g.continuations:
            ids = (g.context + cont)[:-1]
            rows.append(_Row(ids, list(range(len(ids))), [0] * len(ids),
                             [(lc - 1 + t, tok, slot) for t, tok in enumerate(cont)]))
            slot += 1
    return rows


def _packed_rows(groups: list[ChoiceGroup]) -> list[_Row]:
    rows, slot = [], 0
    for g in groups:
        lc = len(g.context)
        ids, pos, seg, targets = list(g.context), list(range(lc)), [0] * lc, []
        for j, cont in enumerate(g.continuations):
            start = len(ids)
            targets.append((lc - 1, cont[0], slot + j))
            targets += [(start + t - 1, cont[t], slot + j) for t in range(1, len(cont))]
            body = cont[:-1]
            ids += body
            pos += range(lc, lc + len(body))
            seg += [j + 1] * len(body)
        rows.append(_Row(ids, pos, seg, targets))
        slot += len(g.continuations)
    return rows


def tree_mask(segments: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """Additive 4-D mask [B, 1, T, T]: causal, and a choice never sees another choice.

    ``segments`` is [B, T]: 0 for context, j+1 for choice j, -1 for padding. Padding queries see
    only themselves, so no row of the mask is empty (empty rows give NaN in SDPA).
    """
    b, t = segments.shape
    causal = torch.ones(t, t, dtype=torch.bool, device=segments.device).tril()
    q = segments[:, :, None]
    k = segments[:, None, :]
    allowed = causal & ((k == 0) | (k == q)) & (k >= 0) & (q >= 0)
    eye = torch.eye(t, dtype=torch.bool, device=segments.device)
    allowed = allowed | ((q < 0) & eye)
    mask = torch.zeros(b, 1, t, t, dtype=dtype, device=segments.device)
    mask.masked_fill_(~allowed[:, None], torch.finfo(dtype).min)
    return mask


def _score_rows(model, rows: list[_Row], groups: list[ChoiceGroup], budget: TokenBudget, pad_id: int,
                stats: ScoringStats, progress) -> list[ChoiceScores]:
    """Run right-padded rows in token-budget batches; sum fp32 log-probabilities into output slots."""
    device = next(model.parameters()).device
    dtype = next(model.parameters()).dtype
    n_slots = sum(len(g.continuations) for g in groups)
    slot_lp = torch.zeros(n_slots, dtype=torch.float64)
    slot_greedy = torch.ones(n_slots, dtype=torch.bool)

    def step(batch):
        width = max(len(rows[i].ids) for i in batch)
        n = len(batch)
        ids = torch.full((n, width), pad_id, dtype=torch.long)
        pos = torch.zeros((n, width), dtype=torch.long)
        seg = torch.full((n, width), -1, dtype=torch.long)
        r_idx, p_idx, tgt, slots = [], [], [], []
        for b, i in enumerate(batch):
            row = rows[i]
            length = len(row.ids)
            ids[b, :length] = torch.tensor(row.ids)
            pos[b, :length] = torch.tensor(row.positions)
            pos[b, length:] = torch.arange(row.positions[-1] + 1, row.positions[-1] + 1 + width - length)
            seg[b, :length] = torch.tensor(row.segments)
            for qpos, tok, slot in row.targets:
                r_idx.append(b)
                p_idx.append(qpos)
                tgt.append(tok)
                slots.append(slot)
        with torch.inference_mode():
            if bool((seg > 0).any()):
                mask = tree_mask(seg.to(device), dtype)
            else:
                # No choice segments (the plain path, or single-token choices): plain causal attention.
                mask = (seg >= 0).long().to(device)
            logits = _selected_logits(model, ids.to(device), mask, pos.to(device),
                                      torch.tensor(r_idx, device=device), torch.tensor(p_idx, device=device))
            lp, gr = _gather(logits, torch.tensor(tgt, device=device))
        stats.rows += n
        stats.tokens_computed += int((seg >= 0).sum())
        stats.padded_tokens += n * width
        stats.batches += 1
        return torch.tensor(slots), lp.double().cpu(), gr.cpu()

    def on_batch(batch, result):
        slots, lp, gr = result
        slot_lp.index_add_(0, slots, lp)
        slot_greedy.index_put_((slots[~gr],), torch.zeros(int((~gr).sum()), dtype=torch.bool))
        if progress:
            progress(len(batch))

    budget.run([len(r.ids) for r in rows], step, on_batch)
    stats.oom_backoffs = budget.backoffs
    return _finish(slot_lp, slot_greedy, groups)


def score_plain(model, groups: list[ChoiceGroup], budget: TokenBudget, pad_id: int = 0,
                stats: ScoringStats | None = None, progress=None) -> list[ChoiceScores]:
    """One right-padded row per choice, ``(context + continuation)[:-1]``: the baseline path."""
    stats = stats or ScoringStats()
    stats.path = "plain"
    return _score_rows(model, _plain_rows(groups), groups, budget, pad_id, stats, progress)


def score_packed(model, groups: list[ChoiceGroup], budget: TokenBudget, pad_id: int = 0,
                 stats: ScoringStats | None = None, progress=None) -> list[ChoiceScores]:
    """One row per item: the context once, then every choice (tree attention)."""
    stats = stats or ScoringStats()
    stats.path = "packed"
    return _score_rows(model, _packed_rows(groups), groups, budget, pad_id, stats, progress)
