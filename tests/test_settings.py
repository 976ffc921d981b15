"""One table of settings: read from the environment with a clear error, and every one documented."""

from __future__ import annotations

import re

import pytest

from helpers import REPO
from evaluator.settings import SETTINGS, SettingError, setting
from submissions.settings import Settings

README = (REPO / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("s", SETTINGS, ids=lambda s: s.env)
def test_readme_names_every_setting(s):
    row = re.search(rf"^\| `{re.escape(s.env)}` \|.*$", README, re.M)
    assert row, f"README's settings table has no row for {s.env}"
    if s.flag:
        assert f"`{s.flag}`" in row.group(0), f"README does not give {s.env}'s flag {s.flag}"


def test_environment_values_are_parsed_and_bad_ones_named():
    env = {"POLYGLOT_TICK_S": "2.5", "POLYGLOT_PORT": "8000", "SPACE_ID": "org/space"}
    assert setting("tick_s", env) == 2.5 and setting("port", env) == 8000 and setting("require_login", env) is True
    assert setting("tick_s", {}) == 10.0 and setting("queue_url", {"POLYGLOT_QUEUE": ""}) is None
    with pytest.raises(SettingError, match="POLYGLOT_TICK_S='soon'"):
        setting("tick_s", {"POLYGLOT_TICK_S": "soon"})


def test_deployment_settings_come_from_the_table(monkeypatch, tmp_path):
    monkeypatch.setenv("POLYGLOT_RATE_PER_CLIENT", "3")
    monkeypatch.setenv("POLYGLOT_ADMINS", "Alice, bob")
    s = Settings(data_dir=tmp_path)
    assert s.rate_per_client == 3 and s.tick_s == 10.0
    assert {"alice", "bob"} <= s.policy().admins


def test_app_flags_are_the_tables_flags():
    import app

    args = app.parse_args(["--tick", "1", "--queue", "postgresql://db/q"])
    assert args.tick_s == 1.0 and args.queue_url == "postgresql://db/q" and args.lease_s is None
    flagged = {s.flag for s in SETTINGS if s.flag}
    with pytest.raises(SystemExit):
        app.parse_args(["--tick", "soon"])
    assert {"--tick", "--lease", "--store", "--queue", "--dispatch", "--data-dir", "--host", "--port"} <= flagged
