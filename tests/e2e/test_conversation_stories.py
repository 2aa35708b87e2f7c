"""Conversation test stories (tests/stories) run against the trained model; any failed story fails."""

from __future__ import annotations

import subprocess
import sys

import pytest

from talentbot.core import paths
from talentbot.wiring.training import model_path

pytestmark = pytest.mark.server


def test_every_story_passes(tmp_path) -> None:
    model = model_path()
    assert model.exists(), "run `make train` first"
    out = tmp_path / "results"
    result = subprocess.run(
        [
            sys.executable, "-m", "rasa", "test", "core",
            "--model", str(model), "--stories", str(paths.TEST_STORIES),
            "--endpoints", str(paths.ENDPOINTS), "--out", str(out), "--fail-on-prediction-errors",
        ],
        cwd=paths.ROOT, capture_output=True, text=True,
    )
    failed = out / "failed_test_stories.yml"
    details = failed.read_text(encoding="utf-8") if failed.exists() else ""
    assert result.returncode == 0, f"failed stories:\n{details[-8000:]}\n{result.stderr[-4000:]}"
