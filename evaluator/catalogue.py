"""The list of tasks with their languages and, where the data is at hand, item counts."""

from __future__ import annotations

from pathlib import Path

from .cards import all_cards
from .datasets import benchmark_roots, load_items, local_folder


def task_catalogue(data_roots: list[str | Path] | None = None) -> list[dict]:
    roots = benchmark_roots(data_roots)
    rows = []
    for card in all_cards().values():
        folder = local_folder(card, roots)
        items, availability = None, ""
        if folder is not None:
            try:
                items = len(load_items(card, folder))
                availability = "in this repository" if card.source.local else f"local: {folder}"
            except (FileNotFoundError, ValueError, KeyError) as exc:
                availability = f"local folder unreadable: {exc}"
        else:
            rev = card.source.hub_revision[:12] if card.source.hub_revision else "main, recorded at download"
            availability = (f"needs Hub: {card.source.hub_repo}@{rev}" if card.source.hub_repo else "needs a local copy")
            availability += " (gated)" if card.source.gated else ""
        rows.append({
            "id": card.id, "version": card.version, "kind": card.kind, "title": card.title,
            "languages": list(card.languages), "items": items, "availability": availability,
            "metric": card.metric, "license": card.source.license,
        })
    return rows
