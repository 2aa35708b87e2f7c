"""A small bank written the way editors write bot/questions/, for the qbank unit tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from talentbot.core.qbank.loader import read_bank
from talentbot.core.qbank.model import Bank

SAMPLE_BANK = Path(__file__).with_name("sample_bank.yml")
BANK_YAML = SAMPLE_BANK.read_text(encoding="utf-8")



@pytest.fixture()
def bank_dir(tmp_path: Path) -> Path:
    (tmp_path / "sample.yml").write_text(BANK_YAML, encoding="utf-8")
    return tmp_path


@pytest.fixture()
def bank(bank_dir: Path) -> Bank:
    loaded, problems = read_bank(bank_dir)
    assert problems == []
    return loaded
