"""The language table (``data/languages.csv``) and the aliases benchmarks use for languages."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .cards import DATA_DIR
from .scope import ALL

# Scripts written without spaces between words (ISO 15924; Hani is Han of no stated variant): there,
# whitespace carries no meaning when comparing answers, and words are counted by characters.
NO_SPACE_SCRIPTS = frozenset({"Hans", "Hant", "Hani", "Jpan", "Thai", "Laoo", "Khmr", "Mymr", "Tibt"})
# ISO 639-3 macrolanguage codes some sources use, mapped to the individual language's row.
MACRO = {"ara": "arb_Arab", "fas": "pes_Arab", "ful": "fuv_Latn", "msa": "zsm_Latn", "zho": "zho_Hans",
         "swa": "swh_Latn", "est": "est_Latn", "lav": "lvs_Latn", "aze": "azj_Latn", "uzb": "uzn_Latn",
         "mon": "khk_Cyrl", "nep": "npi_Deva", "ori": "ory_Orya", "pus": "pbt_Arab", "que": "que_Latn",
         "kur": "kmr_Latn", "orm": "gaz_Latn", "sqi": "als_Latn", "mlg": "plt_Latn", "yid": "ydd_Hebr"}


@dataclass(frozen=True)
class Language:
    code: str
    iso639_3: str
    iso639_1: str
    script: str
    name: str
    family: str
    tier: str


def script_of(code: str) -> str:
    """The script part of a table code ("jpn_Jpan" -> "Jpan"); empty for a code without one."""
    return code.split("_", 1)[1] if "_" in code else ""


@lru_cache(maxsize=None)
def language_table(data_dir: Path = DATA_DIR) -> dict[str, Language]:
    with (data_dir / "languages.csv").open(encoding="utf-8") as f:
        return {
            r["code"]: Language(r["code"], r["iso639_3"], r["iso639_1"], r["script"], r["name"], r["family"], r["tier"])
            for r in csv.DictReader(f)
        }


@lru_cache(maxsize=None)
def aliases(data_dir: Path = DATA_DIR) -> dict[str, str]:
    with (data_dir / "language_aliases.csv").open(encoding="utf-8") as f:
        table = {r["alias"].lower(): r["code"] for r in csv.DictReader(f)}
    for code, lang in language_table(data_dir).items():
        table.setdefault(lang.iso639_3, code)
    table.update({k: v for k, v in MACRO.items() if k not in table or k in ("ara", "fas", "zho")})
    return table


def normalise_language(value: str) -> str:
    """A table code for ``value`` (a table code, an ISO 639-1/3 code or a benchmark's name)."""
    if value == ALL:
        return value
    table = language_table()
    if value in table:
        return value
    return aliases().get(value.strip().lower(), value)


def language_name(code: str) -> str:
    if code == ALL:
        return "all languages (aggregate)"
    lang = language_table().get(code)
    return lang.name if lang else code
