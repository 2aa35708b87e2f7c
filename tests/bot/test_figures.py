"""Every figure the answers quote (bot/content, bot/questions) agrees with the rule data.

The rule data (talentbot/core/eligibility/data/) is the one place a threshold is written. tests/bot/figures.yml
says, for each figure, where it lives in the rule data, which answers to scan and how the figure is written in each
language; this test finds every such quotation and compares the number with the rule data. A figure that changes in
the rule data, or an answer that drifts from it, fails here, naming the entry, the language and the words.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping

import pytest
import yaml

from talentbot.core import paths
from talentbot.core.eligibility.parse import ParseError, parse_chinese_number
from talentbot.core.eligibility.ruledata import load_rulebook
from talentbot.core.language import LANGUAGES

TABLE: Mapping[str, Any] = yaml.safe_load(Path(__file__).with_name("figures.yml").read_text(encoding="utf-8"))
FIGURES: Mapping[str, Mapping[str, Any]] = TABLE["figures"]
BOT = paths.ROOT / "bot"
SCANNED_PARTS = ("summary", "answer", "more")

WORDS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
         "ten": 10, "twelve": 12}
NUMBER = (r"(?P<n>\d[\d,]*(?:\.\d+)?|[一二兩两三四五六七八九十百千]+|"
          + "|".join(sorted(WORDS, key=len, reverse=True)) + ")")
"""`{n}` of a pattern: digits, Chinese numerals (三, 兩, 百 as in 百強) or an English number word."""


@dataclass(frozen=True)
class Answer:
    """One entry of bot/content or bot/questions: where it is, what it is about, its text in each language."""

    ref: str  # "content/schemes.yml#schemes.TTPS"
    schemes: frozenset[str]
    texts: Mapping[str, str]


def _answers() -> Iterator[Answer]:
    for folder in (paths.CONTENT, paths.QUESTIONS):
        for file in sorted(folder.glob("*.yml")):
            data = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
            for entry in data.get("entries") or []:
                name = entry.get("key") or entry.get("id")
                schemes = set(entry.get("schemes") or []) | ({entry["scheme"]} if entry.get("scheme") else set())
                texts = {lang: "\n".join(str((entry.get(part) or {}).get(lang, "")) for part in SCANNED_PARTS)
                         for lang in LANGUAGES}
                yield Answer(f"{file.parent.name}/{file.name}#{name}", frozenset(schemes), texts)


ANSWERS = list(_answers())


def _walk(value: Any, keys: list[str], path: str) -> Any:
    for key in keys:
        if isinstance(value, list):
            value = value[int(key)]
        else:
            assert isinstance(value, Mapping) and key in value, f"{path}: no {key!r} in the rule data"
            value = value[key]
    return value


def rule_value(path: str, day: dt.date) -> Any:
    """The figure at `path` (see figures.yml) in the rule data in force on `day`."""
    book = load_rulebook()
    head, *keys = path.split(".")
    if head == "rules":
        return _walk(book.rules, keys, path)
    if head == "universities":
        return _walk(book.universities, keys, path)
    version = book.version(head, day)
    assert version is not None, f"{path}: {head} has no rule version on {day}"
    if keys[0] in version:
        return _walk(version, keys, path)
    return _walk(book.scheme(head), keys, path)


def expected_value(figure: Mapping[str, Any]) -> float:
    day = dt.date.fromisoformat(str(figure["as_of"])) if figure.get("as_of") else dt.date.today()
    paths_ = figure["rule"] if isinstance(figure["rule"], list) else [figure["rule"]]
    values = {float(rule_value(p, day)) for p in paths_}
    assert len(values) == 1, f"{paths_} differ in the rule data: {values}"
    return values.pop()


def number(text: str) -> float:
    """A quoted number: 2.5, 10,000, 三, 兩, 百 (in 百強), one."""
    if text in WORDS:
        return WORDS[text]
    if text[0].isdigit():
        return float(text.replace(",", ""))
    try:
        return parse_chinese_number(text)
    except ParseError:
        raise AssertionError(f"cannot read the number {text!r}") from None


def _patterns(figure: Mapping[str, Any], language: str) -> list[tuple[re.Pattern[str], float]]:
    scale = float((figure.get("scale") or {}).get(language, 1))
    found = []
    for item in figure["patterns"][language]:
        source, factor = (item["re"], float(item["scale"])) if isinstance(item, Mapping) else (item, scale)
        assert "{n}" in source, source
        found.append((re.compile(source.replace("{n}", NUMBER)), factor))
    return found


def quotations(figure: Mapping[str, Any], answer: Answer, language: str) -> Iterator[tuple[float, str]]:
    """(value, the words quoting it) for every quotation of the figure in one answer's text."""
    text = answer.texts[language]
    for pattern, factor in _patterns(figure, language):
        for match in pattern.finditer(text):
            yield number(match.group("n")) * factor, match.group(0)


def _in_scope(figure: Mapping[str, Any], answer: Answer) -> bool:
    return figure["schemes"] == "any" or bool(answer.schemes & set(figure["schemes"]))


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_every_quotation_agrees_with_the_rule_data(name: str) -> None:
    figure = FIGURES[name]
    expected = expected_value(figure)
    wrong = [f"{answer.ref} [{language}] {words!r} says {value:g}"
             for answer in ANSWERS if _in_scope(figure, answer)
             for language in LANGUAGES
             for value, words in quotations(figure, answer, language)
             if abs(value - expected) > 1e-9]
    assert not wrong, f"{figure['rule']} is {expected:g} in the rule data, but:\n" + "\n".join(wrong)


@pytest.mark.parametrize(("name", "ref"), [(name, ref) for name in sorted(FIGURES)
                                           for ref in FIGURES[name]["quoted_in"]])
def test_the_requirement_answers_quote_the_figure_in_every_language(name: str, ref: str) -> None:
    figure = FIGURES[name]
    found = [a for a in ANSWERS if a.ref == ref]
    assert len(found) == 1, f"{ref} is not one entry of bot/content or bot/questions"
    answer = found[0]
    assert _in_scope(figure, answer), f"{ref} is not about {figure['schemes']}"
    missing = [language for language in LANGUAGES if not any(quotations(figure, answer, language))]
    assert not missing, f"{ref} does not quote {figure['rule']} (as figures.yml describes it) in {missing}"


def test_the_table_is_well_formed() -> None:
    for name, figure in FIGURES.items():
        assert set(figure) <= {"rule", "as_of", "schemes", "scale", "patterns", "quoted_in"}, name
        assert set(figure["patterns"]) == set(LANGUAGES), name
        assert figure["quoted_in"], name
        expected_value(figure)  # the path resolves to one number


def test_a_drifted_figure_is_caught() -> None:
    """The check itself: an answer quoting another income threshold than the rule data is reported."""
    figure = FIGURES["ttps_category_a_income"]
    expected = expected_value(figure)
    english = f"Category A: annual income of HK${expected / 1e6 + 1:g} million."
    chinese = "A類：全年收入達港幣九百萬元。"
    drifted = Answer("x#y", frozenset({"TTPS"}), {"en": english, "zh-Hant": chinese, "zh-Hans": ""})
    assert [v for v, _ in quotations(figure, drifted, "en")] == [expected + 1_000_000]
    assert [v for v, _ in quotations(figure, drifted, "zh-Hant")] == [9_000_000]
