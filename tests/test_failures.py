"""A failed evaluation reads the same in the Queue view and on the command line: one classification
says what the person is told and whether the submission or the evaluator is at fault."""

from __future__ import annotations

import errno

import pytest

from evaluator.cards import CardError
from evaluator.datasets import DataUnavailable
from evaluator.endpoint import EndpointError
from evaluator.errors import PolyglotError
from evaluator.failures import classify_failure
from evaluator.hub import HubError
from evaluator.model_files import ModelLoadError
from evaluator.run_store import StoreError
from evaluator.runner import ModelOutputError
from evaluator.vllm_generation import VLLMUnavailable


@pytest.mark.parametrize("exc, kind", [
    (ModelLoadError("the model does not fit in device memory"), "model"),
    (ModelOutputError("the model produced NaN scores"), "model"),
    (HubError("org/model is gated"), "model"),
    (DataUnavailable("mgsm needs the Hub"), "evaluator"),
    (CardError("bad card"), "evaluator"),
    (EndpointError("the server refused"), "evaluator"),
])
def test_explained_failures_keep_their_own_message(exc, kind):
    f = classify_failure(exc)
    assert (f.message, f.kind, f.explained) == (str(exc), kind, True)


def test_store_failures_are_the_evaluators_with_their_message():
    f = classify_failure(StoreError("the results store cannot be reached"))
    assert (f.message, f.kind) == ("the results store cannot be reached", "evaluator")


def test_out_of_memory_is_the_models_fault():
    import torch

    f = classify_failure(torch.OutOfMemoryError("CUDA out of memory"))
    assert f.kind == "model" and "ran out of device memory" in f.message and not f.explained


def test_disk_problems_are_the_evaluators_fault():
    full = classify_failure(OSError(errno.ENOSPC, "No space left on device", "/data/x"))
    assert full.kind == "evaluator" and full.message == "the disk is full: results could not be written (/data/x)"
    readonly = classify_failure(PermissionError(errno.EACCES, "Permission denied"))
    assert readonly.kind == "evaluator" and readonly.message.startswith("the data folder is not writable")


def test_anything_else_is_an_evaluator_error_named_by_its_type():
    f = classify_failure(ZeroDivisionError("division by zero"))
    assert (f.message, f.kind, f.explained) == ("evaluator error: ZeroDivisionError: division by zero", "evaluator",
                                                False)
    assert classify_failure(FileNotFoundError("no such file: x")).explained
    assert classify_failure(VLLMUnavailable("vLLM is not installed")).explained


def test_every_user_facing_error_shares_one_base_and_keeps_its_builtin_one():
    from evaluator.settings import SettingError
    from explorer.importer import ImportFormatError
    from submissions.validate import Rejected
    from workqueue.records import QueueError

    assert issubclass(StoreError, PolyglotError) and issubclass(StoreError, RuntimeError)
    assert issubclass(CardError, PolyglotError) and issubclass(CardError, ValueError)
    assert issubclass(SettingError, ValueError) and issubclass(Rejected, ValueError)
    assert issubclass(ImportFormatError, PolyglotError) and issubclass(QueueError, PolyglotError)
