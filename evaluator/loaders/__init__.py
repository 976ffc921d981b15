"""Dataset loaders: one function per file format, each returning a list of Items per language.

A loader has the signature ``load(card, language, folder) -> list[Item]``, where ``folder`` holds
the dataset files in their published layout (inside this repository for the starter suite, a
user-supplied folder, or a pinned Hub snapshot).
"""

from __future__ import annotations

from . import belebele, flores, global_mmlu, ifeval, mgsm, multi_if, multiloko, starter, xcopa

LOADERS = {
    "belebele": belebele.load,
    "global_mmlu": global_mmlu.load,
    "xcopa": xcopa.load,
    "mgsm": mgsm.load,
    "multiloko": multiloko.load,
    "flores_translation": flores.load_translation,
    "flores_parallel": flores.load_parallel,
    "ifeval": ifeval.load,
    "multi_if": multi_if.load,
    "starter_mc": starter.load_mc,
    "starter_qa": starter.load_qa,
    "starter_translate": starter.load_translate,
    "starter_instruct": starter.load_instruct,
    "starter_parallel": starter.load_parallel,
}


def get_loader(name: str):
    if name not in LOADERS:
        raise KeyError(f"no dataset loader named {name!r}")
    return LOADERS[name]
