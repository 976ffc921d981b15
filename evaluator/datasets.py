"""Where a task's data comes from: this repository, a local folder, or a pinned Hub snapshot."""

from __future__ import annotations

import os
from pathlib import Path

from .cards import DATA_DIR, TaskCard
from .errors import PolyglotError
from .items import Item
from .loaders import get_loader
from .settings import setting

REPO_DIR = DATA_DIR.parent


class DataUnavailable(PolyglotError, RuntimeError):
    pass


def benchmark_roots(extra: list[str | Path] | None = None) -> list[Path]:
    """Folders holding benchmarks in their published layout: flags first, then $POLYGLOT_BENCHMARKS."""
    roots = [Path(p) for p in (extra or [])]
    env = setting("benchmarks")
    roots += [Path(p) for p in env.split(os.pathsep) if p]
    return roots


def local_folder(card: TaskCard, roots: list[Path]) -> Path | None:
    if card.source.local:
        return REPO_DIR / card.source.local
    name = card.options.get("folder") or card.id
    for root in roots:
        if (root / name).is_dir():
            return root / name
    return None


def data_folder(card: TaskCard, roots: list[Path], allow_hub: bool = True) -> tuple[Path, str]:
    """The folder holding the card's files and where they came from (a local path or a Hub commit)."""
    folder = local_folder(card, roots)
    if folder is not None:
        return folder, "repository" if card.source.local else f"local:{folder.resolve()}"
    if not card.source.hub_repo:
        raise DataUnavailable(f"{card.id}: no local copy found under {', '.join(map(str, roots)) or '(no folder given)'}")
    if not allow_hub:
        raise DataUnavailable(f"{card.id} needs the Hub ({card.source.hub_repo}) or a local folder")
    from .hub import download_dataset

    path, sha = download_dataset(card.source.hub_repo, card.source.hub_revision, list(card.source.hub_files) or None)
    return Path(path), f"hub:{card.source.hub_repo}@{sha}"


def load_items(card: TaskCard, folder: Path, languages: list[str] | None = None, limit: int | None = None) -> list[Item]:
    """Items of the card's languages (or the requested subset), the first ``limit`` per language."""
    loader = get_loader(card.source.loader)
    langs = [l for l in card.languages if not languages or l in languages]
    pivot = card.options.get("pivot")
    if pivot and pivot in card.languages and pivot not in langs:
        langs.insert(0, pivot)  # alignment is measured against the pivot: always load it
    items: list[Item] = []
    for lang in langs:
        got = loader(card, lang, folder)
        items.extend(got[:limit] if limit else got)
    return items
