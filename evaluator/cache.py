"""Response cache: every model response stored under a hash of everything that determines it.

The key covers the model and its revision, the dtype, the chat template, the engine version and
the exact request (token ids, generation settings). Responses are committed after every chunk, so
a killed job resumes where it stopped and re-running an unchanged task costs nothing. Values are
JSON or raw float32 bytes; nothing is pickled.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import numpy as np


def request_key(*parts) -> str:
    blob = json.dumps(parts, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class ResponseCache:
    def __init__(self, path: str | Path | None):
        self.path = Path(path) if path else None
        self._db = None
        if self.path:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, kind TEXT, value BLOB)")
        self.hits = 0
        self.misses = 0

    def get_many(self, keys: list[str]) -> dict[str, bytes]:
        if not self._db or not keys:
            self.misses += len(keys)
            return {}
        found: dict[str, bytes] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            q = f"SELECT key, value FROM responses WHERE key IN ({','.join('?' * len(chunk))})"
            found.update(self._db.execute(q, chunk).fetchall())
        self.hits += len(found)
        self.misses += len(keys) - len(found)
        return found

    def put_many(self, kind: str, items: list[tuple[str, bytes]]) -> None:
        if not self._db or not items:
            return
        self._db.execute("BEGIN")
        self._db.executemany("INSERT OR REPLACE INTO responses VALUES (?, ?, ?)", [(k, kind, v) for k, v in items])
        self._db.execute("COMMIT")

    def close(self) -> None:
        if self._db:
            self._db.close()
            self._db = None


def encode_json(obj) -> bytes:
    return json.dumps(obj, ensure_ascii=False).encode("utf-8")


def decode_json(blob: bytes):
    return json.loads(blob)


def encode_array(arr: np.ndarray) -> bytes:
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    header = json.dumps({"shape": list(arr.shape)}).encode() + b"\n"
    return header + arr.tobytes()


def decode_array(blob: bytes) -> np.ndarray:
    header, _, body = blob.partition(b"\n")
    shape = json.loads(header)["shape"]
    return np.frombuffer(body, dtype=np.float32).reshape(shape).copy()
