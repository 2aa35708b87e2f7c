"""Editors' rules for bot/questions/: what `talentbot validate` refuses, and the shipped bank passing them."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from talentbot.core import paths
from talentbot.core.qbank.loader import BankError, load_bank, read_bank
from talentbot.core.qbank.model import Bank
from talentbot.core.qbank.validate import validate

from .conftest import BANK_YAML


def _problems(bank: Bank) -> list[str]:
    return validate(bank, today=dt.date(2026, 11, 30))


def test_the_sample_bank_is_valid(bank: Bank) -> None:
    assert _problems(bank) == []


def _with(bank: Bank, entry_id: str, **changes: Any) -> Bank:
    return Bank(tuple(replace(e, **changes) if e.id == entry_id else e for e in bank.entries))


def test_a_missing_language_is_refused(bank: Bank) -> None:
    entry = bank.by_id["ttps.quota"]
    broken = _with(bank, "ttps.quota", answer={k: v for k, v in entry.answer.items() if k != "zh-Hans"})
    assert any("no zh-Hans answer" in p for p in _problems(broken))


def test_a_missing_source_or_a_future_date_is_refused(bank: Bank) -> None:
    assert any("no source" in p for p in _problems(_with(bank, "ttps.quota", source=())))
    assert any("in the future" in p for p in _problems(_with(bank, "ttps.quota", as_of=dt.date(2030, 1, 1))))


def test_dated_changes_are_read_and_each_needs_every_language_a_source_and_a_past_date(bank: Bank) -> None:
    [change] = bank.by_id["ttps.quota"].changed
    assert change.date == dt.date(2022, 12, 28) and change.source.startswith("https://")
    assert set(change.note) == {"en", "zh-Hant", "zh-Hans"}
    unsaid = replace(change, note={k: v for k, v in change.note.items() if k != "zh-Hant"})
    assert any("has no zh-Hant note" in p for p in _problems(_with(bank, "ttps.quota", changed=(unsaid,))))
    sourceless = replace(change, source="")
    assert any("has no source" in p for p in _problems(_with(bank, "ttps.quota", changed=(sourceless,))))
    future = replace(change, date=dt.date(2030, 1, 1))
    assert any("is in the future" in p for p in _problems(_with(bank, "ttps.quota", changed=(future,))))


def test_an_over_long_answer_is_refused(bank: Bank) -> None:
    entry = bank.by_id["ttps.quota"]
    broken = _with(bank, "ttps.quota", answer={**entry.answer, "zh-Hant": "字" * 251})
    assert any("zh-Hant answer has 251 characters" in p for p in _problems(broken))


def test_too_few_questions_are_refused(bank: Bank) -> None:
    entry = bank.by_id["ttps.quota"]
    broken = _with(bank, "ttps.quota", questions={**entry.questions, "en": entry.questions["en"][:2]})
    assert any("2 en question(s)" in p for p in _problems(broken))


def test_a_duplicate_question_is_refused(bank: Bank) -> None:
    entry = bank.by_id["gep.processing_time"]
    copied = bank.by_id["dependants.parents"].questions["en"][0] + " "
    broken = _with(bank, "gep.processing_time", questions={**entry.questions, "en": (*entry.questions["en"], copied)})
    assert any("is given by dependants.parents, gep.processing_time" in p for p in _problems(broken))


def test_entries_whose_questions_cannot_be_told_apart_are_refused(bank: Bank) -> None:
    quota = bank.by_id["ttps.quota"]
    # Processing-time questions reworded into the quota entry: the quota entry now asks what the other asks.
    look_alike = {lang: tuple(q.replace("?", " quickly?").replace("？", "快唔快？") for q in qs)
                  for lang, qs in bank.by_id["ttps.processing_time"].questions.items()}
    broken = _with(bank, "ttps.quota", questions=look_alike, answer=quota.answer)
    assert any("ttps.quota" in p and "ttps.processing_time" in p for p in _problems(broken))


def test_look_alike_questions_of_different_schemes_are_allowed(bank: Bank) -> None:
    # ttps.processing_time and gep.processing_time ask the same of two schemes: the scheme named tells them apart.
    assert _problems(bank) == []


def test_unverified_facts_must_be_sent_to_the_authority(bank: Bank) -> None:
    broken = _with(bank, "ttps.quota", unverified=("whether the 10,000 figure still applies",))
    assert any("does not ask to confirm" in p for p in _problems(broken))


def test_unreadable_entries_are_listed_not_fatal(tmp_path: Path) -> None:
    (tmp_path / "broken.yml").write_text(BANK_YAML.replace("    intent: ask_dependants\n", ""), encoding="utf-8")
    bank, problems = read_bank(tmp_path)
    assert len(bank) == 4
    assert any("dependants.parents" in p and "intent" in p for p in problems)


def test_load_bank_raises_with_every_problem(tmp_path: Path) -> None:
    (tmp_path / "broken.yml").write_text(BANK_YAML.replace("as_of: 2025-12-15", "as_of: someday"), encoding="utf-8")
    with pytest.raises(BankError, match="dependants.parents"):
        load_bank(tmp_path)


def test_the_shipped_bank_is_valid_and_large_enough() -> None:
    bank = load_bank(paths.QUESTIONS, check_clashes=True)
    assert len(bank) >= 300
