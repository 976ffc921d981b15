"""Results files uploaded by an admin in the Submit tab, imported like ``python -m explorer.importer``."""

from __future__ import annotations

import os

from .formatting import escape_markdown
from .importer import ImportFormatError, import_uploads


def import_files(ctx, harness: str, files, user: str | None) -> str:
    """Import uploaded lm-eval or lighteval files for an admin (a Hub user named in the admins list)."""
    if not user or user.lower() not in ctx.settings.policy().admins:
        return "❌ **refused**: importing results is for admins (log in with a Hub account named in admins.txt)"
    # Gradio gives file paths; older versions gave objects with the path in .path or .name.
    paths = [str(f) if isinstance(f, (str, os.PathLike)) else (getattr(f, "path", None) or f.name) for f in files or []]
    if not paths:
        return "❌ **nothing to import**: upload a results_*.json file (and its samples or details files)"
    try:
        outcomes = import_uploads(harness, paths, ctx.store.runs)
    except ImportFormatError as exc:
        name = exc.path.rsplit("/", 1)[-1]
        code = f"{name}: {exc.field}".replace("`", "'")
        return f"❌ **not imported**: `{code}`: {escape_markdown(exc.reason)}"
    ctx.store.refresh()
    lines = [f"- {o.status}: `{o.run_id}` ({o.n_scores} scores; {escape_markdown(', '.join(o.tasks))})"
             for o in outcomes]
    return "✅ **done**\n" + "\n".join(lines)
