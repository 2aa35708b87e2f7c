"""The shipped content (bot/content/): complete, chat-sized, sourced, and in line with the reference facts."""

from __future__ import annotations

import re

import pytest

from talentbot.core.content import Query, load_content, render, select
from talentbot.core.content.limits import MAX_SUMMARY_CHARS
from talentbot.core.content.loader import DEFAULT_DIR
from talentbot.core.content.model import (
    ANSWER_INTENTS,
    ASK_CONTACT_OFFICE,
    ASK_LIVING_INFO,
    ASK_SCHEME_INFO,
    FOLLOW_UP_INTENTS,
    LANGUAGES,
    SCHEMES,
    TOPICS,
)
from talentbot.core.content.validate import says_to_confirm, validate

CONTENT = load_content(DEFAULT_DIR)
URL = re.compile(r"https?://\S+")


def test_shipped_content_passes_the_editor_check() -> None:
    assert validate(CONTENT) == []


def _queries() -> list[Query]:
    queries = [Query(intent) for intent in ANSWER_INTENTS]
    queries += [Query(i, schemes=(s,)) for i in (ASK_SCHEME_INFO, *FOLLOW_UP_INTENTS) for s in SCHEMES]
    queries += [Query(ASK_LIVING_INFO, topic=t) for t in TOPICS]
    queries += [Query(ASK_CONTACT_OFFICE, location=p) for o in CONTENT.offices for p in o.places[:1]]
    return queries


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("query", _queries(), ids=lambda q: f"{q.intent}-{q.schemes or q.topic or q.location}")
def test_every_intent_and_entity_value_has_a_sourced_answer_in_each_language(query: Query, language: str) -> None:
    answers = select(CONTENT, query)
    assert answers
    for answer in answers:
        reply = render(CONTENT, answer, language)
        assert URL.search(reply.text), "every answer ends with its official link"
        assert ("as of" if language == "en" else "截至") in reply.text


@pytest.mark.parametrize("entry", CONTENT.entries, ids=lambda e: e.key)
def test_every_entry_has_three_languages_a_source_and_an_as_of_date(entry) -> None:
    assert all(entry.summary.get(lang) for lang in LANGUAGES)
    assert entry.source and all(s.startswith("http") for s in entry.source)
    assert entry.as_of.year >= 2022
    for language in LANGUAGES:
        assert len(entry.summary[language]) <= MAX_SUMMARY_CHARS[language]


@pytest.mark.parametrize("entry", [e for e in CONTENT.entries if e.unverified], ids=lambda e: e.key)
@pytest.mark.parametrize("language", LANGUAGES)
def test_unverified_facts_tell_the_user_to_confirm(entry, language: str) -> None:
    assert says_to_confirm(entry.summary[language] + (entry.more or {}).get(language, ""), language)


def _text(key: str, language: str) -> str:
    entry = CONTENT.entry(key)
    return entry.summary[language] + "\n" + (entry.more or {}).get(language, "")


# (entry key, {language: facts that must appear}) — each checked against ../shared/reference/.
KEY_FACTS = [
    # Facts that are not figures of the rule data: those (thresholds, first stays, quotas, ages) are checked
    # against talentbot/core/eligibility/data by tests/bot/test_figures.py, so they are written down only there.
    # TTPS Category A got 36 months from 1 Nov 2024 (facts.md §1.4)
    ("schemes.TTPS", {"en": ["1 Nov 2024"], "zh-Hant": ["2024年11月1日"], "zh-Hans": ["2024年11月1日"]}),
    # Category C quota: the current figure is UNVERIFIED (facts.md §1.2, §11 item 3)
    ("schemes.TTPS", {"en": ["confirm"], "zh-Hant": ["確認"], "zh-Hans": ["确认"]}),
    # Processing: four weeks for TTPS/GEP/ASMTP, two weeks for TechTAS (immd/*.md "Processing Time")
    ("processing.TTPS", {"en": ["four weeks"], "zh-Hant": ["四星期"], "zh-Hans": ["四周"]}),
    ("processing.GEP", {"en": ["four weeks"], "zh-Hant": ["四星期"], "zh-Hans": ["四周"]}),
    ("processing.ASMTP", {"en": ["four weeks"], "zh-Hant": ["四星期"], "zh-Hans": ["四周"]}),
    ("processing.TechTAS", {"en": ["two weeks"], "zh-Hant": ["兩星期"], "zh-Hans": ["两周"]}),
    ("processing.IANG", {"en": ["two weeks", "four"], "zh-Hant": ["兩星期", "四星期"],
                         "zh-Hans": ["两周", "四周"]}),
    # IANG: 12 months before 28 Dec 2022 (immd/IANG.md, facts.md §5)
    ("stay.IANG", {"en": ["12 months", "6"], "zh-Hant": ["12個月", "6年"], "zh-Hans": ["12个月", "6年"]}),
    # GEP: the Talent List; 5-year top tier (immd/GEP.md)
    ("schemes.GEP", {"en": ["Talent List"], "zh-Hant": ["人才清單"], "zh-Hans": ["人才清单"]}),
    ("stay.GEP", {"en": ["5 years"], "zh-Hant": ["5年"], "zh-Hans": ["5年"]}),
    ("stay.TTPS", {"en": ["6 years", "7 years"], "zh-Hant": ["6年", "七年"], "zh-Hans": ["6年", "七年"]}),
    # QMAS: no job offer, 8 years for Achievement-based, quota suspended 2023 (immd/QMAS.md, slides)
    ("stay.QMAS", {"en": ["36 months", "8 years", "5 years"], "zh-Hant": ["36個月", "8年", "5年"],
                   "zh-Hans": ["36个月", "8年", "5年"]}),
    ("schemes.QMAS", {"en": ["1 Jan 2023", "1 Nov 2024"], "zh-Hant": ["2023年1月1日", "2024年11月1日"],
                      "zh-Hans": ["2023年1月1日", "2024年11月1日"]}),
    # Fees since 26 Feb 2025: HK$600 application, HK$1,300 / HK$600 visa (immd/specifiedschemes_fee.md)
    ("applying.general", {"en": ["HK$600", "HK$1,300", "e-Visa"], "zh-Hant": ["600", "1,300", "電子簽證"],
                          "zh-Hans": ["600", "1,300", "电子签证"]}),
    # Dependants: spouse + unmarried children under 18, may work or study (facts.md §0.2)
    ("dependants.all", {"en": ["under 18", "work or study"], "zh-Hant": ["18歲以下", "工作或讀書"],
                        "zh-Hans": ["18岁以下", "工作或读书"]}),
]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("key", "facts"), KEY_FACTS, ids=[k for k, _ in KEY_FACTS])
def test_key_facts_agree_with_the_reference_in_each_language(key: str, facts: dict, language: str) -> None:
    text = _text(key, language)
    for fact in facts[language]:
        assert fact in text


@pytest.mark.parametrize(
    ("key", "changed_on"),
    [("schemes.TTPS", "2024-11-01"), ("stay.TTPS", "2024-11-01"), ("schemes.IANG", "2022-12-28"),
     ("schemes.GEP", "2022-12-28"), ("applying.general", "2025-02-26")],
)
def test_rule_changes_carry_their_effective_date(key: str, changed_on: str) -> None:
    assert changed_on in [c.date.isoformat() for c in CONTENT.entry(key).changed]


def test_zh_hans_is_not_written_in_traditional_characters() -> None:
    traditional_only = set("們這個說時間與嘅咗喺係唔")
    for entry in CONTENT.entries:
        text = entry.summary["zh-Hans"] + (entry.more or {}).get("zh-Hans", "")
        assert not traditional_only & set(text), entry.key
