"""Loading a causal LM for evaluation, safely: safetensors only, never remote code."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import torch

from .encoding import SpecialTokens, special_tokens_of

# The checks on a model folder live in a torch-free module (the web app uses them); re-exported here.
from .model_files import (  # noqa: F401
    PICKLE_SUFFIXES,
    PRECISIONS,
    ModelLoadError,
    check_model_folder,
    local_revision,
    normalise_precision,
    remote_code_problem,
    weights_problem,
)


def resolve_device(device: str = "auto") -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def resolve_dtype(precision: str, device: torch.device) -> torch.dtype:
    precision = normalise_precision(precision)
    if precision == "auto":
        if device.type == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.float32
    return getattr(torch, precision)


@dataclass
class LoadedModel:
    model: object
    tokenizer: object
    specials: SpecialTokens
    device: torch.device
    dtype: torch.dtype
    name: str
    revision: str
    max_length: int
    chat_template_hash: str
    pad_id: int
    folder: str = ""  # where the files are (a local folder or the Hub snapshot)

    @property
    def dtype_name(self) -> str:
        return str(self.dtype).removeprefix("torch.")

    @property
    def has_chat_template(self) -> bool:
        return bool(getattr(self.tokenizer, "chat_template", None))


def _max_length(model, tokenizer) -> int:
    cfg = getattr(model.config, "text_config", None) or model.config
    for attr in ("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length"):
        v = getattr(cfg, attr, None)
        if isinstance(v, int) and v > 0:
            return v
    v = getattr(tokenizer, "model_max_length", 2048)
    return v if isinstance(v, int) and 0 < v < 10**7 else 2048


def load_model(model: str, revision: str | None = None, precision: str = "auto", device: str = "auto",
               token: str | None = None, attn_implementation: str = "sdpa", allow_hub: bool = True) -> LoadedModel:
    """Load a model from a local folder or a Hub id pinned to ``revision`` (a sha or a branch); without
    ``allow_hub`` a Hub id loads only from a commit already in the local cache."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = Path(model).expanduser()
    if path.is_dir():
        folder, rev = path, local_revision(path)
    else:
        from .hub import download_model, resolve_revision

        if allow_hub and not (revision and len(revision) == 40):
            rev = resolve_revision(model, revision or "main", token=token)
        else:
            rev = revision or "main"
        folder = Path(download_model(model, rev, token=token, allow_hub=allow_hub))
    check_model_folder(folder)
    dev = resolve_device(device)
    dtype = resolve_dtype(precision, dev)
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=False)
    except Exception as exc:  # noqa: BLE001
        raise ModelLoadError(f"the tokenizer does not load: {type(exc).__name__}: {exc}"[:500]) from exc
    try:
        kwargs = dict(dtype=dtype, use_safetensors=True, trust_remote_code=False, output_loading_info=True)
        try:
            lm, loading = AutoModelForCausalLM.from_pretrained(folder, attn_implementation=attn_implementation, **kwargs)
        except (ValueError, ImportError) as exc:
            if "attn_implementation" not in str(exc) and "sdpa" not in str(exc).lower():
                raise
            lm, loading = AutoModelForCausalLM.from_pretrained(folder, attn_implementation="eager", **kwargs)
    except torch.OutOfMemoryError as exc:
        raise ModelLoadError("the model does not fit in device memory") from exc
    except ModelLoadError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise ModelLoadError(f"the model does not load: {type(exc).__name__}: {exc}"[:500]) from exc
    missing = list(loading.get("missing_keys") or []) + list(loading.get("mismatched_keys") or [])
    if missing:
        # transformers would fill these with random values: the scores would be meaningless.
        names = ", ".join(str(k) for k in missing[:3])
        raise ModelLoadError(f"the checkpoint lacks {len(missing)} weights the architecture needs (e.g. {names})")
    lm.to(dev).eval()
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    template = getattr(tokenizer, "chat_template", None) or ""
    return LoadedModel(
        model=lm,
        tokenizer=tokenizer,
        specials=special_tokens_of(tokenizer),
        device=dev,
        dtype=dtype,
        name=str(model),
        revision=rev,
        max_length=_max_length(lm, tokenizer),
        chat_template_hash=hashlib.sha256(template.encode()).hexdigest()[:16] if template else "",
        pad_id=tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0,
        folder=str(folder),
    )


def quiet_transformers() -> None:
    """Silence download and weight-loading progress bars; our own progress is shown instead."""
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    try:
        from transformers.utils import logging

        logging.set_verbosity_error()
        logging.disable_progress_bar()
    except Exception:  # noqa: BLE001
        pass
