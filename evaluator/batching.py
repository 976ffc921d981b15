"""Batches by token budget, longest first, with back-off when the device runs out of memory."""

from __future__ import annotations

from typing import Callable, Sequence, TypeVar

T = TypeVar("T")


def budget_batches(lengths: Sequence[int], budget: int, max_rows: int = 1024) -> list[list[int]]:
    """Group row indices so that rows × longest row <= budget.

    Rows are taken longest first, so the first batch is the largest: an out-of-memory error shows
    up at once and time estimates only improve.
    """
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        width = lengths[current[0]] if current else lengths[i]
        if current and ((len(current) + 1) * width > budget or len(current) >= max_rows):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


def is_out_of_memory(exc: BaseException) -> bool:
    import torch

    if isinstance(exc, torch.OutOfMemoryError):
        return True
    return isinstance(exc, RuntimeError) and "out of memory" in str(exc).lower()


class TokenBudget:
    """A token budget that halves on out-of-memory errors and remembers the smaller size."""

    def __init__(self, tokens: int, floor: int = 1):
        self.tokens = int(tokens)
        self.floor = floor
        self.backoffs = 0

    def run(self, lengths: Sequence[int], step: Callable[[list[int]], T], on_batch: Callable[[list[int], T], None]) -> None:
        """Run ``step`` over budget batches of ``lengths``; re-split what is left after an OOM."""
        pending = [list(b) for b in budget_batches(lengths, max(self.tokens, max(lengths, default=1)))]
        while pending:
            batch = pending.pop(0)
            try:
                result = step(batch)
            except Exception as exc:  # noqa: BLE001 - only OOM is handled, the rest re-raised
                if not is_out_of_memory(exc) or len(batch) == 1:
                    raise
                _free_cuda_cache()
                self.tokens = max(self.floor, self.tokens // 2)
                self.backoffs += 1
                rest = batch + [i for b in pending for i in b]
                sub = budget_batches([lengths[i] for i in rest], max(self.tokens, max(lengths[i] for i in rest)))
                pending = [[rest[j] for j in b] for b in sub]
                continue
            on_batch(batch, result)


def _free_cuda_cache() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def auto_token_budget(model, device) -> int:
    """A first token budget from free device memory; OOM back-off corrects it if too large."""
    import torch

    if getattr(device, "type", str(device)) != "cuda":
        return 4096
    free, _total = torch.cuda.mem_get_info(device)
    cfg = model.config
    cfg = getattr(cfg, "text_config", None) or cfg
    hidden = getattr(cfg, "hidden_size", 4096)
    inter = getattr(cfg, "intermediate_size", 4 * hidden)
    bytes_per_value = 2 if next(model.parameters()).dtype in (torch.bfloat16, torch.float16) else 4
    # Peak activation per token inside one layer (no autograd): residual, attention, MLP.
    per_token = (6 * hidden + 3 * inter) * bytes_per_value
    budget = int(free * 0.5 / per_token)
    return max(1024, min(budget, 1 << 17))
