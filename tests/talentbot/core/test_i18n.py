"""talentbot.core.i18n: the languages, the fallback rule and the completeness check every text file passes."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from talentbot.core import i18n, paths

TEXT = {"en": "Hello", "zh-Hant": "你好呀", "zh-Hans": "你好"}


@pytest.mark.parametrize("language,expected", [
    ("en", "en"), ("zh-Hant", "zh-Hant"), ("zh-Hans", "zh-Hans"), (None, "en"), ("fr", "en"), ("zh-hant", "en"),
])
def test_a_reply_is_in_the_users_language_when_we_write_it_else_english(language, expected):
    assert i18n.supported(language) == expected


def test_pick_falls_back_to_english_for_an_unknown_language_or_a_missing_text():
    assert i18n.pick(TEXT, "zh-Hant") == "你好呀"
    assert i18n.pick(TEXT, "ja") == "Hello"
    assert i18n.pick({"en": "Hello", "zh-Hans": ""}, "zh-Hans") == "Hello"


def test_a_message_of_unknown_language_gets_several_languages_in_the_order_asked():
    assert i18n.together(TEXT, ["zh-Hans", "en"]) == "你好\n\nHello"


def test_the_completeness_check_names_each_gap():
    assert i18n.missing(TEXT) == []
    assert i18n.missing({"en": "Hi", "zh-Hant": "  "}) == ["zh-Hant", "zh-Hans"]
    assert i18n.missing("just a string") == list(i18n.LANGUAGES)
    assert i18n.incomplete({"ok": TEXT, "bad": {"en": "x"}}, "texts") == ["texts.bad has no text for zh-Hant, zh-Hans"]


def test_a_text_file_is_read_once(tmp_path: Path):
    path = tmp_path / "t.yml"
    path.write_text("greeting: {en: Hi, zh-Hant: 你好, zh-Hans: 你好}\n", encoding="utf-8")
    first = i18n.load(path)
    path.write_text("greeting: {en: Changed}\n", encoding="utf-8")
    assert i18n.load(path) is first


def test_a_text_file_must_hold_a_mapping(tmp_path: Path):
    bad = tmp_path / "list.yml"
    bad.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(ValueError, match="mapping"):
        i18n.load(bad)


def _language_tuples(source: str) -> list[int]:
    """Lines where a tuple or list literal spells out the three language codes."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Tuple, ast.List)) and {
            element.value for element in node.elts if isinstance(element, ast.Constant)
        } == set(i18n.LANGUAGES):
            found.append(node.lineno)
    return found


def test_no_module_spells_out_the_language_codes_again():
    """i18n names them once (EN, ZH_HANT, ZH_HANS); everyone else imports LANGUAGES."""
    places = [f"{path.relative_to(paths.ROOT)}:{line}"
              for folder in ("talentbot", "connectors", "actions")
              for path in sorted((paths.ROOT / folder).rglob("*.py"))
              for line in _language_tuples(path.read_text(encoding="utf-8"))]
    assert places == []


def test_a_loader_refuses_a_file_with_a_missing_translation_naming_where():
    i18n.require_complete({"user": {"queued": TEXT}})
    with pytest.raises(ValueError, match=r"^handoff.yml: user.cancelled has no text for zh-Hans$"):
        i18n.require_complete({"user": {"queued": TEXT, "cancelled": {"en": "OK", "zh-Hant": "好"}}}, "handoff.yml")
