"""Cross-lingual alignment of hidden states on parallel sentences (MEXA), against English."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from ..encoding import encode_context
from ..metrics.alignment import layer_hits, pooled
from ..metrics.registry import metric_of
from ..pooling import score_row
from ..scope import ALL
from ..results import Score
from ._common import base_row

PIVOT = "eng_Latn"


def units(items) -> int:
    return len(items)


def run(card, items, engine) -> list[dict]:
    lm = engine.lm
    pivot = card.options.get("pivot", PIVOT)
    seqs = [encode_context(lm.tokenizer, lm.specials, it.fields["text"]) for it in items]
    vectors = engine.embed(seqs)
    by_lang: dict[str, dict[str, tuple]] = defaultdict(dict)
    for it, vec, ids in zip(items, vectors, seqs):
        by_lang[it.language][it.item_id] = (it, vec, ids)
    if pivot not in by_lang:
        raise ValueError(f"{card.id}: the pivot language {pivot} has no sentences")
    rows = []
    for lang, sents in sorted(by_lang.items()):
        if lang == pivot:
            continue
        ids = sorted(set(sents) & set(by_lang[pivot]))
        if not ids:
            continue
        eng = np.stack([by_lang[pivot][i][1] for i in ids])
        oth = np.stack([sents[i][1] for i in ids])
        hits = layer_hits(eng, oth)  # [n, layers]
        for k, item_id in enumerate(ids):
            it = sents[item_id][0]
            rows.append({
                **base_row(it, it.fields["text"], False), "gold": by_lang[pivot][item_id][0].fields["text"],
                "prediction": "", "score": float(hits[k].mean()), "metric": "alignment_mean",
                "details": {"hits_per_layer": hits[k].astype(int).tolist(), "n_sentences": len(ids),
                            "n_tokens": len(sents[item_id][2]), "pivot": pivot},
            })
    return rows


def aggregate(card, rows: list[dict]) -> list[Score]:
    """Per language: alignment averaged over layers (primary) and at the best layer."""
    out = []
    by_lang = defaultdict(list)
    for r in rows:
        by_lang[r["language"]].append(r)
    for lang, rs in sorted(by_lang.items()):
        hits = np.array([r["details"]["hits_per_layer"] for r in rs], dtype=float)
        per_layer = hits.mean(axis=0)
        summary = pooled(per_layer)
        details = {"per_layer": [round(float(x), 4) for x in per_layer], "best_layer": summary["argmax_layer"]}
        mean, best = metric_of(card, "alignment_mean"), metric_of(card, "alignment_max")
        out.append(score_row(lang, ALL, mean, [r["score"] for r in rs], card.metric == mean.name, details))
        out.append(score_row(lang, ALL, best, hits[:, summary["argmax_layer"]].tolist(), card.metric == best.name,
                             details))
    return out
