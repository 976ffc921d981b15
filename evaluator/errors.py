"""The base of every error whose message is written for the person who meets it.

``str(exc)`` of a ``PolyglotError`` says what went wrong and, where there is something to do, what
to do; it names no internals, so the app, the CLI and the Queue view can show it as it is. Each
error also keeps the built-in base its callers catch (``ValueError``, ``KeyError``, ``RuntimeError``).

Standard library only, at the bottom of the layers: the queue, the evaluator and the explorer import it.
"""


class PolyglotError(Exception):
    """A failure explained for a person: its message is shown as it is, without a traceback."""
