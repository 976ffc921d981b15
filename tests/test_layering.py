"""The web app never imports torch or transformers: building the whole UI, listing the leaderboard and
checking a local model submission stay in the torch-free layers (the evaluator runs in its own process)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from helpers import REPO

_PROBE = """
import json, sys
from pathlib import Path
from submissions.settings import Settings
from explorer.context import AppContext
from explorer.ui import build_ui
from submissions.validate import validate_local_model
import app  # noqa: F401

settings = Settings(data_dir=Path(sys.argv[1]), allow_local_models=True, run_worker=False)
ctx = AppContext.create(settings)
build_ui(ctx)
valid = validate_local_model(sys.argv[2], "auto")
print(json.dumps({"sha": valid.sha,
                  "heavy": sorted(m for m in ("torch", "transformers") if m in sys.modules)}))
"""


@pytest.mark.slow
def test_app_builds_without_torch_or_transformers(tmp_path, tiny_model_dir):
    out = subprocess.run([sys.executable, "-c", _PROBE, str(tmp_path / "data"), str(tiny_model_dir)], cwd=REPO,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["sha"].startswith("local-")  # the local model was really checked
    assert result["heavy"] == [], f"the web app imported {result['heavy']}"


def test_architecture_tables_read_without_import_equal_transformers_own():
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES
    from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES

    from evaluator.model_files import causal_lm_model_types, known_model_types

    assert known_model_types() == set(CONFIG_MAPPING_NAMES)
    assert causal_lm_model_types() == set(MODEL_FOR_CAUSAL_LM_MAPPING_NAMES)
