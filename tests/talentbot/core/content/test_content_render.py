"""Rendering: text with source and as-of date, "tell me more" and menu buttons with Rasa payloads."""

from __future__ import annotations

import json
from datetime import date

import pytest

from talentbot.core.content import Query, load_content, render, select
from talentbot.core.content.loader import DEFAULT_DIR
from talentbot.core.content.render import format_date, parse_payload, payload

CONTENT = load_content(DEFAULT_DIR)


def _reply(language: str, **query):
    [answer] = select(CONTENT, Query(**query))
    return render(CONTENT, answer, language)


@pytest.mark.parametrize(
    ("intent", "entities", "expected"),
    [("ask_scheme_info", {"scheme": "TTPS"}, '/ask_scheme_info{"scheme":"TTPS"}'),
     ("ask_living_info", None, "/ask_living_info")],
)
def test_payload_is_a_rasa_intent_with_json_entities(intent, entities, expected) -> None:
    assert payload(intent, entities) == expected


@pytest.mark.parametrize(
    ("language", "expected"), [("en", "1 Nov 2024"), ("zh-Hant", "2024年11月1日"), ("zh-Hans", "2024年11月1日")]
)
def test_dates_are_written_as_people_write_them(language: str, expected: str) -> None:
    assert format_date(date(2024, 11, 1), language) == expected


@pytest.mark.parametrize(
    ("language", "title"), [("en", "Tell me more"), ("zh-Hant", "想知多啲"), ("zh-Hans", "了解更多")]
)
def test_summary_offers_tell_me_more_with_the_same_question(language: str, title: str) -> None:
    reply = _reply(language, intent="ask_scheme_info", schemes=("TTPS",))
    [button] = reply.buttons
    assert button.title == title
    intent, entities = button.payload[1:].split("{", 1)
    assert intent == "ask_scheme_info"
    assert json.loads("{" + entities) == {"scheme": "TTPS", "detail": "more"}
    assert "https://www.immd.gov.hk/eng/services/visas/TTPS.html" in reply.text


def test_more_part_lists_the_dated_changes_and_offers_no_more_button() -> None:
    reply = _reply("en", intent="ask_scheme_info", schemes=("TTPS",), detail=True)
    assert "1 Nov 2024: Category A's first stay became 36 months" in reply.text
    assert reply.buttons == ()


def test_overview_offers_one_button_per_scheme() -> None:
    reply = _reply("zh-Hans", intent="ask_scheme_info")
    assert [b.payload for b in reply.buttons] == [
        f'/ask_scheme_info{{"scheme":"{s}"}}' for s in ("TTPS", "QMAS", "GEP", "ASMTP", "TechTAS", "IANG")
    ]
    assert reply.buttons[0].title == "高端人才通行证计划（高才通）"


def test_living_menu_offers_one_button_per_topic() -> None:
    reply = _reply("zh-Hant", intent="ask_living_info")
    assert len(reply.buttons) == 8
    assert reply.buttons[0].payload == '/ask_living_info{"topic":"housing"}'


def test_follow_up_answers_name_the_scheme_they_are_about() -> None:
    reply = _reply("zh-Hant", intent="ask_dependants", remembered_scheme="TTPS")
    assert reply.text.startswith("【高端人才通行證計劃（高才通）】")


@pytest.mark.parametrize(
    ("location", "language", "must_say"),
    [("Shenzhen", "en", "Dedicated Team"), ("Shenzhen", "zh-Hant", "招商引才專組"),
     ("Germany", "en", "hkengage.gov.hk"), ("Germany", "zh-Hans", "确认")],
)
def test_office_answers_say_whether_the_team_is_confirmed(location: str, language: str, must_say: str) -> None:
    reply = _reply(language, intent="ask_contact_office", location=location)
    assert must_say in reply.text


def test_unknown_language_falls_back_to_english() -> None:
    assert _reply("fr", intent="ask_processing_time", schemes=("TTPS",)).text.startswith(
        "Top Talent Pass Scheme (TTPS): It normally takes four weeks"
    )


@pytest.mark.parametrize(
    "entities", [None, {"scheme": "TTPS"}, {"topic": "housing", "detail": "more"}, {"place": "深圳"}]
)
def test_a_payload_reads_back_as_its_intent_and_entities(entities) -> None:
    assert parse_payload(payload("ask_living_info", entities)) == ("ask_living_info", entities or {})


@pytest.mark.parametrize("text", ["tell me more", "/", "/ask{not json}", '/ask["a"]', "ask_scheme_info"])
def test_other_text_is_not_a_payload(text: str) -> None:
    assert parse_payload(text) is None
