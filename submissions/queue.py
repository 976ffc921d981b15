"""The evaluation queue lives in ``workqueue`` (shared with the evaluator); this name stays importable."""

from workqueue import *  # noqa: F401,F403
from workqueue import __all__  # noqa: F401
