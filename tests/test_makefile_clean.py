"""`make clean` deletes only what can be made again; local data goes only with `make wipe-local-data CONFIRM=yes`.

Each test runs the project's Makefile in a scratch copy of the project's top level (neither target needs the venv).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from talentbot.core import paths

DATA = ["var/handoff.sqlite3", "var/connectors-state.sqlite3", "trackers.db", "trackers.db-wal", "trackers.db-shm"]
"""Staff accounts and tickets, channel state, conversations: nothing rebuilds them."""
REBUILDABLE = ["models/talentbot-0123.tar.gz", "results/report.json", ".pytest_cache/v/x", ".mypy_cache/x",
               ".ruff_cache/x", ".rasa/cache/x", "talentbot/__pycache__/x.pyc"]
KEPT_TOOLS = [".venv/lib/site/__pycache__/x.pyc"]
"""The installed venv is neither data nor a cache of ours: clean leaves it alone."""

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    shutil.copy(paths.ROOT / "Makefile", tmp_path / "Makefile")
    for name in DATA + REBUILDABLE + KEPT_TOOLS:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    return tmp_path


def make(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "--no-print-directory", *args], cwd=project, capture_output=True, text=True,
                          timeout=60)


def existing(project: Path, names: list[str]) -> list[str]:
    return [name for name in names if (project / name).exists()]


def test_clean_deletes_what_can_be_rebuilt_and_keeps_the_data(project: Path) -> None:
    assert make(project, "clean").returncode == 0
    assert existing(project, REBUILDABLE) == []
    assert existing(project, DATA) == DATA
    assert existing(project, KEPT_TOOLS) == KEPT_TOOLS


def test_wiping_local_data_without_confirmation_deletes_nothing(project: Path) -> None:
    result = make(project, "wipe-local-data")
    assert result.returncode != 0
    assert "CONFIRM=yes" in result.stdout
    assert existing(project, DATA) == DATA


def test_wiping_local_data_with_confirmation_deletes_only_the_data(project: Path) -> None:
    assert make(project, "wipe-local-data", "CONFIRM=yes").returncode == 0
    assert existing(project, DATA) == []
    assert existing(project, REBUILDABLE) == REBUILDABLE
