"""The texts file: every entry in three languages, every reason code of the rules module has a text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from talentbot.core.eligibility import schemes as schemes_package
from talentbot.core.eligibility_chat.slots import FIELD_SLOTS
from talentbot.core.eligibility_chat.texts import load_texts, parse_texts
from talentbot.core.language import LANGUAGES

SCHEME_SOURCES = sorted(Path(schemes_package.__file__).parent.glob("*.py"))
CODES = sorted({code for f in SCHEME_SOURCES for code in re.findall(r'Reason\(\s*"([a-z_]+)"', f.read_text())})
CANTONESE = re.compile("[咩嘅喺冇唔係啱畀嚟咗]")


def test_the_rules_module_has_reason_codes() -> None:
    assert len(CODES) > 40


@pytest.mark.parametrize("code", CODES)
def test_every_reason_code_has_a_text(code: str) -> None:
    assert load_texts().has("reasons", code)


def test_every_field_has_a_question_and_a_label() -> None:
    texts = load_texts()
    for field in FIELD_SLOTS:
        assert texts.has("questions", field) and texts.has("fields", field), field


def test_button_choices_have_labels() -> None:
    texts = load_texts()
    for field in FIELD_SLOTS:
        for choice in (texts.entry("questions", field) or {}).get("choices", []):
            assert texts.has("choices", choice), (field, choice)


def test_questions_are_cantonese_in_zh_hant() -> None:
    texts = load_texts()
    cantonese = [f for f in FIELD_SLOTS if CANTONESE.search(texts.get("questions", f, "zh-Hant"))]
    assert len(cantonese) >= len(FIELD_SLOTS) // 2
    assert not any(CANTONESE.search(texts.get("questions", f, "zh-Hans")) for f in FIELD_SLOTS)


def test_an_entry_missing_a_language_is_rejected() -> None:
    with pytest.raises(ValueError, match="zh-Hans"):
        parse_texts({"messages": {"x": {"en": "a", "zh-Hant": "b"}}})


def test_the_official_university_list_is_linked() -> None:
    assert load_texts().official_university_list == "https://www.immd.gov.hk/pdf/aggregate_list.pdf"
    entry = load_texts().entry("messages", "university_not_found")
    assert entry is not None
    for language in LANGUAGES:
        assert "{url}" in entry[language]
