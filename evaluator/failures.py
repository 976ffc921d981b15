"""Why an evaluation failed, in one place: the message a person reads and whose fault it was.

The worker records both with the failed request (the Queue view shows them); the command line
prints the message instead of a traceback when the exception's own message is meant for a person.
"""

from __future__ import annotations

import errno
import sys
from dataclasses import dataclass

from workqueue.records import EVALUATOR, MODEL


@dataclass(frozen=True)
class Failure:
    message: str  # for the Queue view and the request's log
    kind: str  # MODEL when the submission is at fault, else EVALUATOR
    explained: bool  # the exception's own message says it all: a command line prints it without a traceback


def _out_of_memory(exc: BaseException) -> bool:
    torch = sys.modules.get("torch")  # an out-of-memory error exists only once torch is loaded
    return torch is not None and isinstance(exc, torch.OutOfMemoryError)


def classify_failure(exc: BaseException) -> Failure:
    from .cards import CardError
    from .datasets import DataUnavailable
    from .endpoint import EndpointError
    from .hub import HubError
    from .model_files import ModelLoadError
    from .run_store import StoreError
    from .runner import ModelOutputError
    from .vllm_generation import VLLMUnavailable

    if isinstance(exc, (ModelLoadError, ModelOutputError, HubError)):
        return Failure(str(exc), MODEL, True)
    if _out_of_memory(exc):
        return Failure("the model ran out of device memory even at the smallest batch", MODEL, False)
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return Failure(f"the disk is full: results could not be written ({exc.filename or exc})", EVALUATOR, False)
    if isinstance(exc, OSError) and exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return Failure(f"the data folder is not writable: {exc}", EVALUATOR, False)
    if isinstance(exc, (DataUnavailable, CardError, EndpointError)):
        return Failure(str(exc), EVALUATOR, True)
    if isinstance(exc, StoreError):
        return Failure(str(exc), EVALUATOR, False)
    explained = isinstance(exc, (FileNotFoundError, VLLMUnavailable))
    return Failure(f"evaluator error: {type(exc).__name__}: {exc}"[:1000], EVALUATOR, explained)
