"""Dataset loaders: one module per published layout, each returning a list of Items per language.

A loader has the signature ``load(card, language, folder) -> list[Item]``, where ``folder`` holds
the dataset files in their published layout (inside this repository for the starter suite, a
user-supplied folder, or a pinned Hub snapshot). Each module of this package names its loaders in a
module-level ``LOADERS`` dict (name -> function); a card's ``source.loader`` is one of those names.
Adding a loader is adding its module: nothing else lists them.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache


@lru_cache(maxsize=1)
def all_loaders() -> dict:
    """Loader name -> function, over every module of this package (helpers declare none)."""
    found: dict = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for name, load in getattr(module, "LOADERS", {}).items():
            if name in found:
                raise ValueError(f"loader {name!r} is declared twice ({found[name].__module__}, {module.__name__})")
            found[name] = load
    return found


def get_loader(name: str):
    loaders = all_loaders()
    if name not in loaders:
        raise KeyError(f"no dataset loader named {name!r}")
    return loaders[name]
