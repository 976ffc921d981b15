"""README is the reference for callers: every public endpoint of the app is named in its API section
(the settings are held to README's settings table in test_settings.py)."""

from __future__ import annotations

import re

import pytest
from helpers import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def public_api_names(data_dir) -> set[str]:
    """The api_name of every endpoint the built app shows to callers."""
    from explorer.context import AppContext
    from explorer.ui import build_ui
    from submissions.settings import Settings

    demo = build_ui(AppContext.create(Settings(data_dir=data_dir, run_worker=False)))
    return {fn.api_name for fn in demo.fns.values() if fn.api_name and fn.api_visibility == "public"}


@pytest.mark.slow  # builds the whole app
def test_readme_names_every_public_endpoint(tmp_path):
    names = public_api_names(tmp_path / "data")
    assert {"submit", "leaderboard_table", "samples"} <= names  # the endpoints were found at all
    documented = set(re.findall(r'api_name="/(\w+)"', README))
    assert names - documented == set(), f"README's API section does not name {sorted(names - documented)}"
