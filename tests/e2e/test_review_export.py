"""The review queue's export checked the way a maintainer's commit would be: every group of the review test set
(tests/talentbot/core/analytics/data/review_misses.yml) accepted, exported by `talentbot review export`'s code, and
then `rasa data validate` with the project's own data and the exported NLU files (no warning beyond the explained
ones, as `talentbot validate`), and the question bank with the exported files in place loaded with every rule,
clash check included. Slow (Rasa's validation, the bank's clash check): marked as the other server tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

import pytest

from talentbot.core import paths
from talentbot.core.qbank.loader import BankError, load_bank
from talentbot.wiring.validation import explained_warnings, unexplained
from tools.bench.review_data import Example, examples
from tools.bench.review_gain import write_export

pytestmark = pytest.mark.server


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    groups: Dict[str, List[Example]] = {}
    for item in examples():
        if item.group is not None and item.target and "gap" not in item.target:
            groups.setdefault(item.group, []).append(item)
    folder = tmp_path_factory.mktemp("review-export")
    summary = write_export(groups, folder)
    assert "left out: none" in summary["summary"], summary
    return folder / "export"


def test_rasa_data_validate_accepts_the_export_with_the_projects_data(exported: Path) -> None:
    files = sorted((exported / "nlu_data").glob("review-*.yml"))
    assert [f.name for f in files] == ["review-en.yml", "review-zh-Hans.yml", "review-zh-Hant.yml"]
    command = [sys.executable, "-m", "rasa", "data", "validate", "--config", str(paths.CONFIG),
               "--domain", str(paths.DOMAIN),
               "--data", str(paths.NLU_DATA), str(paths.DIALOGUE_DATA), str(exported / "nlu_data")]
    env = {**os.environ, "PYTHONWARNINGS": "ignore::DeprecationWarning", "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}
    result = subprocess.run(command, cwd=paths.ROOT, capture_output=True, text=True, env=env, timeout=900)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-5000:]
    assert unexplained(output, explained_warnings()) == []


def test_the_bank_with_the_exported_questions_passes_every_rule(exported: Path, tmp_path: Path) -> None:
    folder = tmp_path / "questions"
    shutil.copytree(paths.QUESTIONS, folder)
    merged = [p for p in (exported / "bot" / "questions").glob("*.yml") if not p.name.endswith(".review.yml")]
    assert merged
    for path in merged:
        shutil.copy(path, folder / path.name)
    try:
        bank = load_bank(folder, check_clashes=True)
    except BankError as error:
        pytest.fail("\n".join(error.problems))
    assert "I deleted my e-visa pdf, how do i get it back" in bank.by_id["evisa.lost"].questions["en"]
