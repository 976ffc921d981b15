"""Downloads from the Hugging Face Hub at pinned revisions, failing fast and clearly offline."""

from __future__ import annotations

import contextlib
import os

from .errors import PolyglotError
from .settings import setting

HUB_TIMEOUT_S = setting("hub_timeout_s")

# Only these files are fetched for a model: configuration, tokenizer and safetensors weights.
# Pickled weights (*.bin, *.pt, *.pth, *.ckpt, *.pkl) are never downloaded: loading them runs code.
MODEL_FILE_PATTERNS = [
    "*.json", "*.safetensors", "*.model", "*.txt", "*.jinja", "*.tiktoken", "tokenizer*", "README.md",
]


class HubError(PolyglotError, RuntimeError):
    """A Hub problem explained for a person: unreachable, missing, gated, private."""


class HubUnreachable(HubError):
    pass


# Used for model submissions and for task data alike: what it means for the request (rejected, or
# a task skipped) is said by the caller.
UNREACHABLE_MESSAGE = (
    "The Hugging Face Hub cannot be reached ({detail}). Check the network connection or try again later."
)


def _is_network_error(exc: BaseException) -> bool:
    names = {c.__name__ for c in type(exc).__mro__}
    network = {"TransportError", "TimeoutException", "ConnectError", "NetworkError", "ProxyError",
               "ConnectionError", "TimeoutError", "OfflineModeIsEnabled", "LocalEntryNotFoundError"}
    return bool(names & network)


def explain_hub_error(exc: BaseException, repo_id: str, revision: str | None = None, kind: str = "model") -> HubError:
    """Translate a huggingface_hub / network exception into a clear message."""
    from huggingface_hub import errors

    if isinstance(exc, HubError):
        return exc
    where = f"https://huggingface.co/{'datasets/' if kind == 'dataset' else ''}{repo_id}"
    if isinstance(exc, errors.GatedRepoError):
        return HubError(
            f"{repo_id} is gated: accept its conditions at {where} with your account, then set HF_TOKEN "
            "(a read token from https://huggingface.co/settings/tokens) where the evaluator runs."
        )
    if isinstance(exc, errors.RevisionNotFoundError):
        return HubError(f"Revision {revision!r} does not exist in {repo_id}.")
    if isinstance(exc, errors.RepositoryNotFoundError):
        return HubError(
            f"{repo_id} was not found on the Hub, or it is private and the configured token cannot read it."
        )
    if _is_network_error(exc):
        return HubUnreachable(UNREACHABLE_MESSAGE.format(detail=f"{type(exc).__name__}: {exc}"[:200]))
    if isinstance(exc, errors.HfHubHTTPError):
        return HubError(f"The Hub answered with an error for {repo_id}: {exc}"[:500])
    return HubError(f"{type(exc).__name__}: {exc}"[:500])


@contextlib.contextmanager
def hub_errors(repo_id: str, revision: str | None = None, kind: str = "model"):
    try:
        yield
    except HubError:
        raise
    except Exception as exc:  # noqa: BLE001 - every Hub failure becomes one clear message
        raise explain_hub_error(exc, repo_id, revision, kind) from exc


def offline_by_user() -> bool:
    """Whether whoever started this process switched huggingface_hub off (``HF_HUB_OFFLINE=1``): the
    library then refuses every download itself, so a worker does not try the Hub for task data."""
    return os.environ.get("HF_HUB_OFFLINE") == "1"


def hf_token() -> str | None:
    return setting("hf_token")


def resolve_revision(repo_id: str, revision: str | None, kind: str = "model", token: str | None = None) -> str:
    """The commit sha of ``revision``; a fast pre-flight that fails in well under a second offline."""
    from huggingface_hub import HfApi

    api = HfApi(token=token or hf_token())
    with hub_errors(repo_id, revision, kind):
        if kind == "dataset":
            info = api.dataset_info(repo_id, revision=revision, timeout=HUB_TIMEOUT_S)
        else:
            info = api.model_info(repo_id, revision=revision, timeout=HUB_TIMEOUT_S)
    return info.sha


def download_model(repo_id: str, revision: str | None, token: str | None = None, cache_dir: str | None = None,
                   allow_hub: bool = True) -> str:
    """Snapshot of a model repository at a pinned commit: config, tokenizer, safetensors only.

    Without ``allow_hub`` only a commit already in the local cache is used and the Hub is never contacted."""
    from huggingface_hub import snapshot_download

    pinned = bool(revision and len(revision) == 40)
    if not allow_hub and not pinned:
        raise HubUnreachable(UNREACHABLE_MESSAGE.format(
            detail=f"offline: {repo_id} needs a commit sha already in the local cache, or a local folder"))
    sha = revision if pinned else resolve_revision(repo_id, revision, token=token)
    with hub_errors(repo_id, sha):
        return snapshot_download(
            repo_id, revision=sha, allow_patterns=MODEL_FILE_PATTERNS, token=token or hf_token(),
            etag_timeout=HUB_TIMEOUT_S, cache_dir=cache_dir, local_files_only=not allow_hub,
        )


def download_dataset(repo_id: str, revision: str | None, allow_patterns: list[str] | None = None,
                     token: str | None = None, cache_dir: str | None = None) -> tuple[str, str]:
    """Snapshot of (part of) a dataset repository at a commit; returns (local folder, commit sha).

    A card without a pinned revision is resolved to the current commit of ``main`` first, and that
    sha is what gets downloaded and recorded with the scores.
    """
    from huggingface_hub import snapshot_download

    sha = resolve_revision(repo_id, revision or "main", kind="dataset", token=token)  # fails fast offline / gated
    with hub_errors(repo_id, sha, "dataset"):
        folder = snapshot_download(
            repo_id, repo_type="dataset", revision=sha, allow_patterns=allow_patterns,
            token=token or hf_token(), etag_timeout=HUB_TIMEOUT_S, cache_dir=cache_dir,
        )
    return folder, sha
