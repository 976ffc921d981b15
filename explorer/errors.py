"""What a caller sees when something fails inside the app: a short message and an error id.

The details (exception, SQL text, server paths) go to the log under that id, never to the caller.
Messages meant for users are raised as ``gr.Error`` and pass through unchanged.
"""

from __future__ import annotations

import functools
import inspect
import logging
import uuid

import gradio as gr

log = logging.getLogger("polyglot.errors")


def internal_error(where: str, exc: BaseException) -> gr.Error:
    """Log ``exc`` with a fresh id; the error for the caller names only the id."""
    error_id = uuid.uuid4().hex[:10]
    log.error("error %s in %s: %s: %s", error_id, where, type(exc).__name__, exc, exc_info=exc)
    return gr.Error(f"Something went wrong on the server (error id {error_id}). Try again; if it persists, "
                    f"report the error id.", title="Server error")


def guarded(fn, where: str | None = None):
    """``fn`` with any unexpected exception turned into ``internal_error`` (plain functions only)."""
    name = where or getattr(fn, "__name__", "handler")

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except Exception as exc:  # noqa: BLE001 - every other failure is logged, not shown
            raise internal_error(name, exc) from None

    wrapper.__polyglot_guarded__ = True
    return wrapper


def guard_blocks(demo: gr.Blocks) -> int:
    """Guard every event handler and endpoint of ``demo``; returns how many were wrapped."""
    n = 0
    for block_fn in demo.fns.values():
        fn = block_fn.fn
        if fn is None or getattr(fn, "__polyglot_guarded__", False):
            continue
        if inspect.iscoroutinefunction(fn) or inspect.isgeneratorfunction(fn) or inspect.isasyncgenfunction(fn):
            continue
        block_fn.fn = guarded(fn, block_fn.name or getattr(fn, "__name__", None))
        n += 1
    return n
