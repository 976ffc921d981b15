"""Writing a view table to CSV, Parquet and JSON files for download, exactly as shown."""

from __future__ import annotations

import hashlib
import json
import re
import time
from pathlib import Path

import pandas as pd


def _plain(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object:
            out[c] = out[c].map(lambda v: json.dumps(v.tolist() if hasattr(v, "tolist") else v, ensure_ascii=False)
                                if isinstance(v, (list, dict)) or hasattr(v, "tolist") else v)
    return out


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x85\u2028\u2029]")


def _csv_safe(df: pd.DataFrame) -> pd.DataFrame:
    """CSV readers choke on NUL and other control characters (models do generate them): show them as U+FFFD."""
    out = df.copy()
    for c in out.columns:
        if out[c].dtype == object or pd.api.types.is_string_dtype(out[c]):
            out[c] = out[c].map(lambda v: _CONTROL.sub("\ufffd", v) if isinstance(v, str) else v)
    return out


def export_table(df: pd.DataFrame, folder: Path, name: str) -> dict[str, str]:
    """Write ``df`` as name.csv / .parquet / .json in a fresh sub-folder; returns the paths."""
    digest = hashlib.sha256(pd.util.hash_pandas_object(df.astype(str), index=False).values.tobytes()).hexdigest()[:12]
    sub = folder / f"{int(time.time())}-{digest}"
    sub.mkdir(parents=True, exist_ok=True)
    paths = {
        "csv": sub / f"{name}.csv",
        "parquet": sub / f"{name}.parquet",
        "json": sub / f"{name}.json",
    }
    plain = _plain(df)
    _csv_safe(plain).to_csv(paths["csv"], index=False)
    plain.to_parquet(paths["parquet"], index=False)
    paths["json"].write_text(plain.to_json(orient="records", force_ascii=False, date_format="iso"), encoding="utf-8")
    _prune(folder)
    return {k: str(v) for k, v in paths.items()}


def _prune(folder: Path, keep_seconds: float = 3600) -> None:
    """Remove export folders older than an hour."""
    now = time.time()
    for sub in folder.iterdir():
        try:
            if sub.is_dir() and now - sub.stat().st_mtime > keep_seconds:
                for f in sub.iterdir():
                    f.unlink()
                sub.rmdir()
        except OSError:
            continue
