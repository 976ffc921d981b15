"""Checks for the project's language table (data/languages.csv) and its
alias table (data/language_aliases.csv)."""

import csv
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES_CSV = ROOT / "data" / "languages.csv"
ALIASES_CSV = ROOT / "data" / "language_aliases.csv"

COLUMNS = ["code", "iso639_3", "iso639_1", "script", "name", "family", "tier", "joshi_class"]
CODE_RE = re.compile(r"^[a-z]{3}_[A-Z][a-z]{3}$")
TIER_OF_CLASS = {
    5: "high",
    4: "high",
    3: "mid",
    2: "low",
    1: "extremely low",
    0: "extremely low",
}

# The 122 Belebele language variants (FLORES-200 style codes).
BELEBELE_CODES = [
    "acm_Arab", "afr_Latn", "als_Latn", "amh_Ethi", "apc_Arab", "arb_Arab", "arb_Latn", "ars_Arab",
    "ary_Arab", "arz_Arab", "asm_Beng", "azj_Latn", "bam_Latn", "ben_Beng", "ben_Latn", "bod_Tibt",
    "bul_Cyrl", "cat_Latn", "ceb_Latn", "ces_Latn", "ckb_Arab", "dan_Latn", "deu_Latn", "ell_Grek",
    "eng_Latn", "est_Latn", "eus_Latn", "fin_Latn", "fra_Latn", "fuv_Latn", "gaz_Latn", "grn_Latn",
    "guj_Gujr", "hat_Latn", "hau_Latn", "heb_Hebr", "hin_Deva", "hin_Latn", "hrv_Latn", "hun_Latn",
    "hye_Armn", "ibo_Latn", "ilo_Latn", "ind_Latn", "isl_Latn", "ita_Latn", "jav_Latn", "jpn_Jpan",
    "kac_Latn", "kan_Knda", "kat_Geor", "kaz_Cyrl", "kea_Latn", "khk_Cyrl", "khm_Khmr", "kin_Latn",
    "kir_Cyrl", "kor_Hang", "lao_Laoo", "lin_Latn", "lit_Latn", "lug_Latn", "luo_Latn", "lvs_Latn",
    "mal_Mlym", "mar_Deva", "mkd_Cyrl", "mlt_Latn", "mri_Latn", "mya_Mymr", "nld_Latn", "nob_Latn",
    "npi_Deva", "npi_Latn", "nso_Latn", "nya_Latn", "ory_Orya", "pan_Guru", "pbt_Arab", "pes_Arab",
    "plt_Latn", "pol_Latn", "por_Latn", "ron_Latn", "rus_Cyrl", "shn_Mymr", "sin_Latn", "sin_Sinh",
    "slk_Latn", "slv_Latn", "sna_Latn", "snd_Arab", "som_Latn", "sot_Latn", "spa_Latn", "srp_Cyrl",
    "ssw_Latn", "sun_Latn", "swe_Latn", "swh_Latn", "tam_Taml", "tel_Telu", "tgk_Cyrl", "tgl_Latn",
    "tha_Thai", "tir_Ethi", "tsn_Latn", "tso_Latn", "tur_Latn", "ukr_Cyrl", "urd_Arab", "urd_Latn",
    "uzn_Latn", "vie_Latn", "war_Latn", "wol_Latn", "xho_Latn", "yor_Latn", "zho_Hans", "zho_Hant",
    "zsm_Latn", "zul_Latn",
]

# Rows needed by benchmarks outside Belebele (FLORES-200 extras, XCOPA,
# Global-MMLU, MultiLoKo).
OTHER_REQUIRED_CODES = [
    "que_Latn", "quy_Latn", "fil_Latn", "yue_Hant", "sat_Olck", "min_Arab", "min_Latn",
    "taq_Latn", "taq_Tfng", "kas_Arab", "kas_Deva", "knc_Arab", "knc_Latn", "prs_Arab",
]

# Aliases whose target is fixed by the benchmarks that use them.
EXPECTED_ALIASES = {
    "et": "est_Latn",
    "sw": "swh_Latn",
    "qu": "que_Latn",
    "ht": "hat_Latn",
    "zh": "zho_Hans",
    "jp": "jpn_Jpan",
    "ja": "jpn_Jpan",
    "ar": "arb_Arab",
    "fa": "pes_Arab",
    "ms": "zsm_Latn",
    "fil": "fil_Latn",
    "ky": "kir_Cyrl",
    "simplified_mandarin": "zho_Hans",
    "traditional_mandarin": "zho_Hant",
    "cantonese": "yue_Hant",
    "farsi": "pes_Arab",
    "malay": "zsm_Latn",
    "tagalog": "tgl_Latn",
}

GLOBAL_MMLU = (
    "am ar bn cs de el en es fa fil fr ha he hi id ig it ja ko ky lt mg ms ne nl ny pl pt "
    "ro ru si sn so sr sv sw te tr uk vi yo zh"
).split()
OTHER_BENCHMARK_CODES = {
    "xcopa": "et ht id it qu sw ta th tr vi zh".split(),
    "mgsm": "bn de en es fr ja ru sw te th zh".split(),
    "xnli": "ar bg de el en es fr hi ru sw th tr ur vi zh".split(),
    "xstorycloze": "ar en es eu hi id my ru sw te zh".split(),
    "xwinograd": "en fr jp pt ru zh".split(),
    "pawsx": "de en es fr ja ko zh".split(),
    "m_ifeval": "en es fr ja".split(),
    "multi_if": "en fr es pt hi zh ru it".split(),
}
MULTILOKO = (
    "arabic bengali cantonese czech dutch english farsi french german hebrew hindi indonesian "
    "italian japanese khmer korean malay marathi polish portuguese romanian russian "
    "simplified_mandarin spanish swedish tagalog thai traditional_mandarin turkish vietnamese urdu"
).split()


def _read(path):
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = [r for r in reader]
    return header, rows


@pytest.fixture(scope="module")
def languages():
    header, rows = _read(LANGUAGES_CSV)
    assert header == COLUMNS
    return [dict(zip(header, r)) for r in rows]


@pytest.fixture(scope="module")
def aliases():
    header, rows = _read(ALIASES_CSV)
    assert header == ["alias", "code"]
    return rows


def test_columns_exact():
    header, rows = _read(LANGUAGES_CSV)
    assert header == COLUMNS
    for r in rows:
        assert len(r) == len(COLUMNS), r


def test_row_count(languages):
    assert len(languages) >= 200


def test_codes_unique_well_formed_and_sorted(languages):
    codes = [r["code"] for r in languages]
    assert len(codes) == len(set(codes)), "duplicate codes"
    bad = [c for c in codes if not CODE_RE.match(c)]
    assert not bad, bad
    assert codes == sorted(codes), "rows must be sorted by code"


def test_code_parts_match_columns(languages):
    for r in languages:
        prefix, suffix = r["code"].split("_")
        assert r["iso639_3"] == prefix, r
        assert r["script"] == suffix, r


def test_iso639_1_format(languages):
    for r in languages:
        assert r["iso639_1"] == "" or re.fullmatch(r"[a-z]{2}", r["iso639_1"]), r


def test_iso639_3_codes_are_known():
    iso639 = pytest.importorskip("iso639")
    from iso639.exceptions import DeprecatedLanguageValue

    header, rows = _read(LANGUAGES_CSV)
    unknown = []
    for code in sorted({r[header.index("iso639_3")] for r in rows}):
        try:
            iso639.Lang(code)
        except DeprecatedLanguageValue:
            # e.g. ajp (South Levantine Arabic), still used by FLORES-200.
            pass
        except Exception:
            unknown.append(code)
    assert not unknown, unknown


def test_tier_and_joshi_class_consistent(languages):
    for r in languages:
        assert r["joshi_class"] in {"0", "1", "2", "3", "4", "5"}, r
        assert r["tier"] in {"high", "mid", "low", "extremely low"}, r
        assert r["tier"] == TIER_OF_CLASS[int(r["joshi_class"])], r


def test_names_and_families_non_empty(languages):
    for r in languages:
        assert r["name"].strip(), r
        assert r["name"] == r["name"].strip(), r
        assert r["family"].strip(), r


def test_names_unique(languages):
    names = [r["name"] for r in languages]
    dupes = sorted({n for n in names if names.count(n) > 1})
    assert not dupes, dupes


def test_all_belebele_codes_present(languages):
    assert len(BELEBELE_CODES) == 122
    assert len(set(BELEBELE_CODES)) == 122
    codes = {r["code"] for r in languages}
    missing = [c for c in BELEBELE_CODES if c not in codes]
    assert not missing, missing


def test_other_required_codes_present(languages):
    codes = {r["code"] for r in languages}
    missing = [c for c in OTHER_REQUIRED_CODES if c not in codes]
    assert not missing, missing


def test_spot_values(languages):
    by_code = {r["code"]: r for r in languages}
    assert by_code["swh_Latn"]["iso639_1"] == "sw"
    assert by_code["arb_Arab"]["iso639_1"] == "ar"
    assert by_code["est_Latn"]["iso639_1"] == "et"
    assert by_code["que_Latn"]["iso639_1"] == "qu"
    assert by_code["jpn_Jpan"]["iso639_1"] == "ja"
    assert by_code["eng_Latn"]["tier"] == "high"
    assert by_code["eng_Latn"]["joshi_class"] == "5"


def test_aliases_unique_and_targets_exist(languages, aliases):
    codes = {r["code"] for r in languages}
    names = [a for a, _ in aliases]
    assert len(names) == len(set(names)), "duplicate aliases"
    for alias, code in aliases:
        assert alias and alias == alias.strip(), alias
        assert code in codes, (alias, code)


def test_expected_aliases(aliases):
    mapping = dict(aliases)
    for alias, code in EXPECTED_ALIASES.items():
        assert mapping.get(alias) == code, (alias, mapping.get(alias), code)


def test_benchmark_codes_and_names_have_aliases(aliases):
    mapping = dict(aliases)
    needed = set(GLOBAL_MMLU) | set(MULTILOKO)
    for codes in OTHER_BENCHMARK_CODES.values():
        needed |= set(codes)
    assert len(GLOBAL_MMLU) == 42
    assert len(MULTILOKO) == 31
    missing = sorted(a for a in needed if a not in mapping)
    assert not missing, missing
