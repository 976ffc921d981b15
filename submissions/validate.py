"""Checks a model must pass before it is queued, each failing with its own clear message.

Hub models: the repository exists and is readable, the revision resolves to a commit, weights are
safetensors (pickled weights can run code when loaded), the architecture is built into
transformers (no ``trust_remote_code``), a tokenizer is present, a license is stated, and the
parameter count is under the limit. Local folders (only with ``--allow-local-models``) get the same
file checks. Every Hub call has a time-out; an unreachable Hub is reported within seconds.
"""

from __future__ import annotations

import json
import re
import struct
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from evaluator.errors import PolyglotError
from evaluator.hub import HUB_TIMEOUT_S, HubUnreachable, explain_hub_error, hf_token
from evaluator.model_files import (
    causal_lm_model_types,
    known_model_types,
    local_revision,
    normalise_precision,
    remote_code_problem,
    weights_problem,
)

MAX_ID_LENGTH = 96 * 2 + 1
REPO_PART = r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?"
REPO_ID = re.compile(rf"^{REPO_PART}/{REPO_PART}$")
REVISION = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._/-]{0,98}[A-Za-z0-9])?$")
TOKENIZER_FILES = ("tokenizer_config.json",)
NOT_A_MODEL_FOLDER = "Not a model folder."


class Rejected(PolyglotError, ValueError):
    """The submission is refused; ``str(exc)`` is the message shown to the user."""


@dataclass
class ValidModel:
    model_id: str
    revision: str
    sha: str
    precision: str
    source: str  # "hub" or "local"
    params: int | None
    license: str | None


def _check_text(value: str, what: str, max_len: int) -> str:
    if not isinstance(value, str):
        raise Rejected(f"The {what} must be text.")
    value = value.strip(" \t\r\n")  # pasted ids often carry spaces or a newline; nothing else is trimmed
    if not value:
        raise Rejected(f"The {what} is empty.")
    if len(value) > max_len:
        raise Rejected(f"The {what} is too long ({len(value)} characters; at most {max_len}).")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in value):
        raise Rejected(f"The {what} contains control or invisible formatting characters.")
    return value


def check_model_id(model_id: str) -> str:
    model_id = _check_text(model_id, "model id", MAX_ID_LENGTH)
    if model_id.startswith(("http://", "https://", "hf://", "huggingface.co/")):
        raise Rejected("Give the model id (e.g. 'org/model'), not a URL.")
    if not REPO_ID.match(model_id) or ".." in model_id or "--" in model_id or model_id.endswith(".git"):
        raise Rejected(
            "The model id is not a valid Hugging Face repository id: use 'org/model' (the owner, a slash, the name) "
            "with letters, digits, '-', '_' and '.' only."
        )
    return model_id


def check_revision(revision: str | None) -> str:
    revision = _check_text(revision or "main", "revision", 100)
    if not REVISION.match(revision) or ".." in revision or "//" in revision:
        raise Rejected("The revision must be a branch, tag or commit sha (letters, digits, '-', '_', '.', '/').")
    return revision


def check_precision(precision: str | None) -> str:
    try:
        return normalise_precision(precision)
    except ValueError as exc:
        raise Rejected(f"Unknown precision: {str(exc)}.") from exc


class HubClient:
    """The few Hub calls the checks need, each with a time-out (tests pass a stand-in)."""

    def __init__(self, token: str | None = None, timeout: float = HUB_TIMEOUT_S, endpoint: str | None = None):
        import os

        from huggingface_hub import HfApi

        self.api = HfApi(token=token or hf_token(), endpoint=endpoint or os.environ.get("HF_ENDPOINT") or None)
        self.timeout = timeout

    def model_info(self, repo_id: str, revision: str):
        return self.api.model_info(repo_id, revision=revision, timeout=self.timeout, files_metadata=False)

    def read_json(self, repo_id: str, filename: str, sha: str) -> dict:
        from huggingface_hub import hf_hub_download

        path = hf_hub_download(repo_id, filename, revision=sha, token=self.api.token, etag_timeout=self.timeout,
                               endpoint=self.api.endpoint)
        return json.loads(Path(path).read_text(encoding="utf-8"))

    def parameter_count(self, repo_id: str, sha: str) -> int | None:
        meta = self.api.get_safetensors_metadata(repo_id, revision=sha, timeout=self.timeout)
        return sum(meta.parameter_count.values()) if meta.parameter_count else None


def check_config(config) -> None:
    """The architecture must be a causal LM built into transformers."""
    if not isinstance(config, dict):
        raise Rejected("config.json is malformed (not a JSON object).")
    problem = remote_code_problem(config)
    if problem:
        raise Rejected(problem)
    model_type = config.get("model_type")
    if not isinstance(model_type, str) or model_type not in known_model_types():
        raise Rejected(f"config.json names an architecture transformers does not know (model_type={model_type!r}).")
    if model_type not in causal_lm_model_types():
        raise Rejected(f"{model_type} is not a causal (text generation) language model.")


def check_files(names: list[str]) -> None:
    problem = weights_problem(names)
    if problem:
        raise Rejected(problem)
    if "config.json" not in names:
        raise Rejected("The repository has no config.json.")
    if not any(n.split("/")[-1] in TOKENIZER_FILES for n in names):
        raise Rejected("The repository has no tokenizer (tokenizer_config.json is missing).")


def check_size(params: int | None, max_params_b: float) -> None:
    if params is not None and params > max_params_b * 1e9:
        raise Rejected(f"The model has {params / 1e9:.1f}B parameters; this leaderboard evaluates models up to "
                       f"{max_params_b:g}B.")


def _license_of(info) -> str | None:
    card = getattr(info, "card_data", None) or getattr(info, "cardData", None)
    if card is None:
        return None
    getter = card.get if hasattr(card, "get") else (lambda k, d=None: getattr(card, k, d))
    lic = getter("license", None) or getter("license_name", None)
    if isinstance(lic, list):
        lic = ", ".join(map(str, lic))
    return str(lic) if lic else None


def _params_from_info(info) -> int | None:
    st = getattr(info, "safetensors", None)
    total = getattr(st, "total", None) if st is not None else None
    return int(total) if total else None


def _rejection(err: Exception) -> str:
    text = str(err)
    return f"{text} Nothing was queued." if isinstance(err, HubUnreachable) else text


def validate_hub_model(model_id: str, revision: str | None, precision: str, client: HubClient | None = None,
                       max_params_b: float = 100.0) -> ValidModel:
    model_id = check_model_id(model_id)
    revision = check_revision(revision)
    precision = check_precision(precision)
    try:
        client = client or HubClient()
        info = client.model_info(model_id, revision)
    except Rejected:
        raise
    except Exception as exc:  # noqa: BLE001 - translated into one clear message
        raise Rejected(_rejection(explain_hub_error(exc, model_id, revision))) from exc
    if getattr(info, "disabled", False):
        raise Rejected(f"{model_id} is disabled on the Hub.")
    sha = getattr(info, "sha", None)
    if not sha:
        raise Rejected(f"Revision {revision!r} of {model_id} does not resolve to a commit.")
    names = [s.rfilename for s in (getattr(info, "siblings", None) or [])]
    check_files(names)
    lic = _license_of(info)
    if not lic:
        raise Rejected("The model card states no license; add `license:` to the model card metadata.")
    try:
        config = client.read_json(model_id, "config.json", sha)
    except json.JSONDecodeError as exc:
        raise Rejected(f"config.json is malformed: {exc.msg}.") from exc
    except Exception as exc:  # noqa: BLE001
        err = explain_hub_error(exc, model_id, sha)
        if isinstance(err, HubUnreachable) or "gated" in str(err):
            raise Rejected(_rejection(err)) from exc
        raise Rejected(f"config.json could not be read: {err}") from exc
    check_config(config)
    params = _params_from_info(info)
    if params is None:
        try:
            params = client.parameter_count(model_id, sha)
        except Exception:  # noqa: BLE001 - the count is informative; the size limit then cannot apply
            params = None
    check_size(params, max_params_b)
    return ValidModel(model_id, revision, sha, precision, "hub", params, lic)


def safetensors_parameter_count(folder: Path) -> int:
    """Parameters counted from safetensors headers (the 8-byte length, then the JSON header)."""
    total = 0
    for path in folder.glob("*.safetensors"):
        with path.open("rb") as f:
            (n,) = struct.unpack("<Q", f.read(8))
            if n > 100_000_000:
                raise Rejected(f"{path.name} has an implausible header; the file is not valid safetensors.")
            header = json.loads(f.read(n))
        for name, meta in header.items():
            if name == "__metadata__":
                continue
            count = 1
            for dim in meta.get("shape", []):
                count *= int(dim)
            total += count
    return total


def validate_local_model(path_text: str, precision: str, max_params_b: float = 100.0) -> ValidModel:
    path_text = _check_text(path_text, "model path", 4096)
    precision = check_precision(precision)
    folder = Path(path_text).expanduser()
    if not folder.is_absolute():
        raise Rejected("A local model must be given as an absolute folder path.")
    # Whatever is wrong before a config.json is found gets the same answer, so that the messages
    # cannot be used to learn which paths exist on the server.
    try:
        folder = folder.resolve()
        names = [p.name for p in folder.iterdir() if p.is_file()] if folder.is_dir() else []
    except (OSError, RuntimeError):
        names = []
    if "config.json" not in names:
        raise Rejected(NOT_A_MODEL_FOLDER)
    check_files(names)
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise Rejected(f"config.json is malformed: {exc}.") from exc
    check_config(config)
    try:
        params = safetensors_parameter_count(folder)
    except (struct.error, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise Rejected(f"A safetensors file is malformed: {exc}.") from exc
    check_size(params, max_params_b)
    lic = None
    readme = folder / "README.md"
    if readme.is_file():
        m = re.search(r"^license:\s*(\S+)", readme.read_text(encoding="utf-8", errors="replace"), re.M)
        lic = m.group(1) if m else None
    return ValidModel(str(folder), "local", local_revision(folder), precision, "local", params, lic)


def is_local_path(text: str) -> bool:
    return isinstance(text, str) and text.strip().startswith(("/", "~", "./", "../"))
