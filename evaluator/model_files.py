"""What can be told about a model from its files alone, without torch: precision names, the safety checks
(no remote code, no pickled weights) and a local folder's content revision. The web app (submission
checks) imports this module; loading the model (evaluator.model) builds on it."""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

from .errors import PolyglotError

PRECISIONS = ("auto", "bfloat16", "float16", "float32")
_ALIASES = {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32", "half": "float16"}
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")


class ModelLoadError(PolyglotError, RuntimeError):
    """The model cannot be evaluated; the message says why."""


def normalise_precision(precision: str | None) -> str:
    p = (precision or "auto").strip().lower()
    p = _ALIASES.get(p, p)
    if p not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)} (got {precision!r})")
    return p


def check_model_folder(path: Path) -> dict:
    """Refuse what would run code: remote modelling code or pickled weights. Returns config.json."""
    config_path = path / "config.json"
    if not config_path.is_file():
        raise ModelLoadError(f"{path} has no config.json")
    try:
        config = json.loads(config_path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelLoadError(f"config.json is not valid JSON: {exc}") from exc
    if not isinstance(config, dict):
        raise ModelLoadError("config.json is not a JSON object")
    problem = remote_code_problem(config) or weights_problem([p.name for p in path.iterdir()])
    if problem:
        raise ModelLoadError(problem)
    return config


def remote_code_problem(config: dict) -> str | None:
    """Why a config cannot be evaluated safely (it asks for custom modelling code), or None."""
    if config.get("auto_map"):
        return ("The model needs custom code (auto_map in config.json, i.e. trust_remote_code); only "
                "architectures built into transformers are evaluated.")
    return None


def weights_problem(file_names: list[str]) -> str | None:
    """Why a model's weight files cannot be loaded safely (only pickles, or none), or None."""
    if any(n.endswith(".safetensors") for n in file_names):
        return None
    if any(n.endswith(PICKLE_SUFFIXES) for n in file_names):
        return ("The model ships only pickled weights (.bin/.pt). Loading pickles can run arbitrary code, so only "
                "safetensors weights are accepted: convert the weights and submit again.")
    return "The model has no weights in safetensors format."


def local_revision(path: Path) -> str:
    """A content hash standing in for the commit sha of a local folder (config + weights headers)."""
    h = hashlib.sha256()
    for p in sorted(path.iterdir()):
        if p.is_file() and (p.suffix in (".json", ".safetensors", ".jinja", ".model") or p.name.startswith("tokenizer")):
            h.update(p.name.encode())
            st = p.stat()
            h.update(str(st.st_size).encode())
            with p.open("rb") as f:
                h.update(f.read(1 << 16))
    return "local-" + h.hexdigest()[:32]


# transformers' registries of architectures, read from its source without importing it: importing
# transformers.models.auto pulls in torch (seconds and ~180 MiB), which the web app must not load.
_AUTO = ("models", "auto")


def _literal_mapping(variable: str, *file_names: str) -> frozenset[str]:
    """The keys given to ``variable`` in these files: its literal table and literal updates of it."""
    import ast
    import importlib.util

    spec = importlib.util.find_spec("transformers")
    if spec is None or not spec.origin:
        raise RuntimeError("transformers is not installed")
    keys: set[str] = set()
    for file_name in file_names:
        path = Path(spec.origin).parent.joinpath(*_AUTO, file_name)
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if variable not in {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}:
                continue
            for n in ast.walk(node):
                if isinstance(n, ast.Dict):
                    keys.update(k.value for k in n.keys if isinstance(k, ast.Constant) and isinstance(k.value, str))
                elif isinstance(n, ast.Tuple) and len(n.elts) == 2 and all(isinstance(e, ast.Constant) for e in n.elts):
                    keys.add(n.elts[0].value)
    if not keys:
        raise RuntimeError(f"{variable} not found in transformers' {', '.join(file_names)}")
    return frozenset(keys)


@lru_cache(maxsize=1)
def known_model_types() -> frozenset[str]:
    """Every ``model_type`` transformers has a configuration for."""
    return _literal_mapping("CONFIG_MAPPING_NAMES", "auto_mappings.py", "configuration_auto.py")


@lru_cache(maxsize=1)
def causal_lm_model_types() -> frozenset[str]:
    """The ``model_type`` values AutoModelForCausalLM loads."""
    return _literal_mapping("MODEL_FOR_CAUSAL_LM_MAPPING_NAMES", "modeling_auto.py")
