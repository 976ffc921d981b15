"""Helpers for the Ray dispatch tests (the cluster machinery itself is evaluator.local_cluster)."""

from __future__ import annotations

from helpers import require_or_skip


def need_ray():
    try:
        import ray  # noqa: F401
    except ImportError:
        require_or_skip("POLYGLOT_REQUIRE_RAY", "ray is not installed (pip install -r requirements-cluster.txt)")
