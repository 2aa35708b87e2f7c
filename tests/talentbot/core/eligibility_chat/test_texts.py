"""The texts file: every entry in three languages, every reason code of the rules module has a template, and
the templates take every figure from the reason's parameters."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from talentbot.core.eligibility import schemes as schemes_package
from talentbot.core.eligibility.ruledata import load_rulebook
from talentbot.core.eligibility_chat.slots import FIELD_SLOTS
from talentbot.core.eligibility_chat.texts import load_texts, parse_texts
from talentbot.core.language import LANGUAGES

SCHEME_SOURCES = sorted(Path(schemes_package.__file__).parent.glob("*.py"))
CODES = sorted({code for f in SCHEME_SOURCES for code in re.findall(r'Reason\(\s*"([a-z_]+)"', f.read_text())})
CANTONESE = re.compile("[咩嘅喺冇唔係啱畀嚟咗]")
CHINESE_FIGURE = re.compile("(?<!前)[一二兩两三四五六七八九十百千萬万]+(?:年|個月|个月|歲|岁|名|項|项|分|個|个)")
"""A figure written in Chinese numerals with its unit (三年, 六個月, 十八歲): a template must take it as a parameter.
(申請前一年, "the year before applying", names the income year, not a figure.)"""


def test_the_rules_module_has_reason_codes() -> None:
    assert len(CODES) > 40


@pytest.mark.parametrize("code", CODES)
def test_every_reason_code_has_a_text(code: str) -> None:
    assert load_texts().has("reasons", code)


def test_every_template_is_a_code_of_the_rules_module() -> None:
    assert sorted((load_texts().data.get("reasons") or {})) == CODES


def test_technology_areas_are_named_as_the_rules_spell_them() -> None:
    areas = load_rulebook().scheme("TechTAS")["technology_areas"]
    names = load_texts().data["technology_areas"]
    assert set(names) == set(areas)
    for key, entry in names.items():  # a name we show is one we also recognise when the user writes it
        assert all(entry[language].lower() in areas[key] for language in LANGUAGES), key


def _placeholders(template: str) -> set[str]:
    return {field.split(".")[0] for _, field, _, _ in string.Formatter().parse(template) if field}


@pytest.mark.parametrize("code", CODES)
def test_templates_take_every_figure_from_the_parameters(code: str) -> None:
    entry = load_texts().entry("reasons", code)
    assert entry is not None
    for language in LANGUAGES:
        template = str(entry[language])
        assert not re.search(r"\d", template), (language, template)
        assert not CHINESE_FIGURE.search(template), (language, template)
        # each language says the same facts: the placeholders of the English sentence, no fewer, no others
        assert _placeholders(template) == _placeholders(str(entry["en"])), language


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
