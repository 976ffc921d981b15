"""Batched generation with stop strings (left padding + attention mask): greedy, or sampled where a task's
reference protocol samples (temperature, top_p and a seed, all recorded with the request)."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .batching import TokenBudget


@dataclass
class GenRequest:
    prompt_ids: list[int]
    stop: tuple[str, ...] = ()
    max_new_tokens: int = 64
    temperature: float = 0.0  # 0: greedy
    top_p: float = 1.0
    seed: int = 0  # sampling seed (torch's generator is seeded with it before each batch)
    # What an endpoint is sent instead of token ids: the prompt text, or the conversation for chat.
    prompt: str = ""
    messages: tuple = ()

    @property
    def sampling(self) -> tuple:
        return (self.temperature, self.top_p, self.seed) if self.temperature > 0 else ()


@dataclass
class GenOutput:
    text: str  # cut at the first stop string
    raw: str  # everything decoded
    n_tokens: int
    stopped_by: str  # "stop_string", "eos" or "length"


def cut_at_stop(text: str, stops) -> tuple[str, bool]:
    """Cut ``text`` at the earliest occurrence of any stop string."""
    cut = len(text)
    for s in stops:
        if s:
            i = text.find(s)
            if i != -1:
                cut = min(cut, i)
    return text[:cut], cut < len(text)


def generate_greedy(model, tokenizer, requests: list[GenRequest], budget: TokenBudget,
                    static_cache: bool = False, progress=None) -> list[GenOutput]:
    from transformers import GenerationConfig

    device = next(model.parameters()).device
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    eos = model.generation_config.eos_token_id if model.generation_config is not None else None
    if eos is None:
        eos = tokenizer.eos_token_id
    outputs: list[GenOutput | None] = [None] * len(requests)
    # Requests with the same stop strings and length limit share batches.
    by_kind: dict[tuple, list[int]] = {}
    for i, r in enumerate(requests):
        by_kind.setdefault((r.stop, r.max_new_tokens, r.sampling), []).append(i)
    for (stop, max_new, sampling), idx in by_kind.items():
        sample = {"do_sample": True, "temperature": sampling[0], "top_p": sampling[1]} if sampling else {"do_sample": False}
        config = GenerationConfig(
            **sample,
            max_new_tokens=max_new,
            pad_token_id=pad_id,
            eos_token_id=eos,
            stop_strings=list(stop) or None,
            cache_implementation="static" if static_cache else None,
        )
        lengths = [len(requests[i].prompt_ids) + max_new for i in idx]

        def step(batch):
            rows = [requests[idx[b]].prompt_ids for b in batch]
            width = max(len(r) for r in rows)
            ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
            mask = torch.zeros((len(rows), width), dtype=torch.long)
            for b, r in enumerate(rows):
                ids[b, width - len(r):] = torch.tensor(r)
                mask[b, width - len(r):] = 1
            if sampling:
                torch.manual_seed(sampling[2])
            with torch.inference_mode():
                out = model.generate(
                    input_ids=ids.to(device), attention_mask=mask.to(device), generation_config=config,
                    tokenizer=tokenizer if stop else None,
                )
            return out[:, width:].cpu()

        def on_batch(batch, new_tokens):
            eos_ids = set(eos if isinstance(eos, list) else [eos])
            for b, row in zip(batch, new_tokens.tolist()):
                n = len(row)
                ended_eos = False
                for t, tok in enumerate(row):
                    if tok in eos_ids or tok == pad_id and t > 0 and row[t - 1] in eos_ids:
                        n = t
                        ended_eos = True
                        break
                raw = tokenizer.decode(row[:n], skip_special_tokens=True)
                text, hit = cut_at_stop(raw, stop)
                reason = "stop_string" if hit else ("eos" if ended_eos else "length")
                outputs[idx[b]] = GenOutput(text=text, raw=raw, n_tokens=n, stopped_by=reason)
            if progress:
                progress(len(batch))

        budget.run(lengths, step, on_batch)
    return outputs  # type: ignore[return-value]
