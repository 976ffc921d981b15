"""Per-layer sentence embeddings for the cross-lingual alignment probe (MEXA).

Each sentence is pooled per layer with the position-weighted mean of MEXA's default
``embd_weighted``: e = sum_t t * h_t / sum_t t over its real (non-pad) tokens, t = 1..T. Rows are
right-padded and the pads get weight 0, so a batch gives the same vectors as one sentence at a time.
"""

from __future__ import annotations

import numpy as np
import torch

from .batching import TokenBudget


def pooled_hidden_states(model, sequences: list[list[int]], budget: TokenBudget, pad_id: int = 0,
                         progress=None) -> list[np.ndarray]:
    """Return, per sequence, an array [n_layers + 1, hidden] (index 0 = embedding output)."""
    device = next(model.parameters()).device
    out: list[np.ndarray | None] = [None] * len(sequences)

    def step(batch):
        width = max(len(sequences[i]) for i in batch)
        ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for b, i in enumerate(batch):
            ids[b, : len(sequences[i])] = torch.tensor(sequences[i])
            mask[b, : len(sequences[i])] = 1
        ids, mask = ids.to(device), mask.to(device)
        with torch.inference_mode():
            res = model(input_ids=ids, attention_mask=mask, output_hidden_states=True, use_cache=False,
                        logits_to_keep=1)
            hs = torch.stack(res.hidden_states, dim=1).float()  # [B, L+1, T, H]
            weights = (torch.arange(1, width + 1, device=device)[None, :] * mask).float()  # [B, T]
            pooled = (hs * weights[:, None, :, None]).sum(2) / weights.sum(1)[:, None, None]
        return pooled.cpu().numpy()

    def on_batch(batch, pooled):
        for b, i in enumerate(batch):
            out[i] = pooled[b]
        if progress:
            progress(len(batch))

    budget.run([len(s) for s in sequences], step, on_batch)
    return out  # type: ignore[return-value]
