"""action_answer, the rasa-sdk way: a tracker from a dict, run, then the messages and events it returns."""

from __future__ import annotations

from typing import Any, cast

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict, TrackerState

from actions.answers import ActionAnswer

DOMAIN = cast(DomainDict, {})  # the action does not read the domain


def tracker(intent: str, text: str, entities: list[tuple[str, str]] | None = None, **slots: Any) -> Tracker:
    """A tracker as the action server receives it after the user's message and slot extraction."""
    return Tracker.from_dict(
        cast(TrackerState, {  # the wire form: rasa_sdk's TypedDict lacks latest_input_channel
            "sender_id": "test-user",
            "slots": {"language": "en", "scheme": None, "answer_scheme": None, "location": None, **slots},
            "latest_message": {
                "text": text,
                "intent": {"name": intent, "confidence": 0.99},
                "entities": [{"entity": k, "value": v} for k, v in (entities or [])],
            },
            "events": [],
            "paused": False,
            "latest_input_channel": "rest",
            "active_loop": {},
            "latest_action_name": "action_listen",
        })
    )


async def run(t: Tracker) -> tuple[list[dict], list[dict]]:
    dispatcher = CollectingDispatcher()
    events = await ActionAnswer().run(dispatcher, t, DOMAIN)
    return dispatcher.messages, events


@pytest.mark.parametrize(
    ("language", "text", "must_say"),
    [
        ("en", "What is TTPS?", "HK$2.5 million"),
        ("zh-Hant", "高才通係咩嚟？", "港幣250萬元"),
        ("zh-Hans", "高才通是什么？", "250万港元"),
    ],
)
async def test_scheme_answer_in_the_users_language(language: str, text: str, must_say: str) -> None:
    messages, events = await run(
        tracker("ask_scheme_info", text, [("scheme", "TTPS")], language=language, scheme="TTPS"))
    [message] = messages
    assert must_say in message["text"]
    assert "https://www.immd.gov.hk/eng/services/visas/TTPS.html" in message["text"]
    assert message["buttons"][0]["payload"] == '/ask_scheme_info{"scheme":"TTPS","detail":"more"}'
    assert events == [SlotSet("answer_scheme", "TTPS"), SlotSet("answer_question", None)]


async def test_cantonese_follow_up_about_family_uses_the_remembered_scheme() -> None:
    messages, events = await run(
        tracker("ask_dependants", "咁佢屋企人呢？", language="zh-Hant", scheme="TTPS", answer_scheme="TTPS")
    )
    [message] = messages
    assert message["text"].startswith("【高端人才通行證計劃（高才通）】")
    assert "18歲以下" in message["text"]
    assert events == [SlotSet("answer_scheme", "TTPS"), SlotSet("answer_question", None)]


async def test_english_follow_up_about_time_uses_the_remembered_scheme() -> None:
    messages, _ = await run(tracker("ask_processing_time", "and how long does it take?", scheme="TechTAS"))
    assert "two weeks" in messages[0]["text"]


async def test_new_scheme_named_replaces_the_remembered_one() -> None:
    # the slot mapping has already put the new entity into `scheme`; the entity is what counts
    messages, events = await run(
        tracker("ask_processing_time", "and for IANG?", [("scheme", "IANG")], scheme="IANG", answer_scheme="TTPS")
    )
    assert "Recent graduates" in messages[0]["text"]
    assert events == [SlotSet("answer_scheme", "IANG"), SlotSet("answer_question", None)]


async def test_general_question_gets_the_overview_with_a_button_per_scheme() -> None:
    messages, events = await run(
        tracker("ask_scheme_info", "what schemes are there?", scheme="TTPS", answer_scheme="TTPS")
    )
    [message] = messages
    assert len(message["buttons"]) == 6
    assert events == [SlotSet("answer_scheme", None), SlotSet("answer_question", None)]


async def test_tell_me_more_button_gives_the_longer_part() -> None:
    messages, _ = await run(
        tracker("ask_scheme_info", '/ask_scheme_info{"scheme":"TTPS","detail":"more"}',
                [("scheme", "TTPS"), ("detail", "more")], language="zh-Hans", scheme="TTPS")
    )
    assert "10,000" in messages[0]["text"] and "入境事务处确认" in messages[0]["text"]
    assert messages[0]["buttons"] == []


async def test_language_switch_mid_conversation_answers_in_the_new_language() -> None:
    first, _ = await run(tracker("ask_scheme_info", "Tell me about QMAS", [("scheme", "QMAS")], scheme="QMAS"))
    second, _ = await run(
        tracker("ask_visa_extension", "優才可以留幾耐？", language="zh-Hant", scheme="QMAS", answer_scheme="QMAS")
    )
    assert first[0]["text"].startswith("Quality Migrant Admission Scheme")
    assert "8年" in second[0]["text"] and "Source:" not in second[0]["text"]


@pytest.mark.parametrize(
    ("entities", "slots", "must_say"),
    [([("location", "Shenzhen")], {}, "Guangdong"),
     ([], {"location": "Germany"}, "Berlin"),
     ([], {}, "17 Hong Kong government offices")],
)
async def test_contact_office_nearest_or_list(entities, slots, must_say: str) -> None:
    messages, _ = await run(tracker("ask_contact_office", "who can I talk to near me?", entities, **slots))
    assert must_say in messages[0]["text"]


async def test_living_without_topic_offers_a_menu() -> None:
    messages, _ = await run(tracker("ask_living_info", "點樣喺香港生活？", language="zh-Hant"))
    assert [b["title"] for b in messages[0]["buttons"]][:2] == ["住屋", "子女讀書"]


async def test_intent_it_does_not_answer_changes_nothing() -> None:
    messages, events = await run(tracker("greet", "hi"))
    assert messages == [] and events == []


# --- a typed "tell me more" -------------------------------------------------------------------------------------


def user_event(text: str, intent: str, entities: list[tuple[str, str]] | None = None) -> dict:
    return {"event": "user", "text": text,
            "parse_data": {"intent": {"name": intent},
                           "entities": [{"entity": k, "value": v} for k, v in entities or []]}}


def bot_events(messages: list[dict]) -> list[dict]:
    return [{"event": "bot", "text": m["text"], "data": {"buttons": m.get("buttons")}} for m in messages]


def after(previous: list[dict], t: Tracker) -> Tracker:
    """`t` with the earlier turns before its latest message, as Rasa sends the tracker to the action server."""
    latest = t.latest_message
    t.events = [*previous, user_event(latest["text"], latest["intent"]["name"],
                                      [(e["entity"], e["value"]) for e in latest["entities"]])]
    return t


@pytest.mark.parametrize(("language", "asked", "more"), [
    ("en", "What is TTPS?", "tell me more"),
    ("zh-Hant", "高才通係咩嚟？", "可唔可以講多啲？"),
    ("zh-Hans", "高才通是什么？", "详细说说"),
])
async def test_typing_tell_me_more_is_pressing_the_button(language: str, asked: str, more: str) -> None:
    first, _ = await run(tracker("ask_scheme_info", asked, [("scheme", "TTPS")], language=language, scheme="TTPS"))
    earlier = [user_event(asked, "ask_scheme_info", [("scheme", "TTPS")]), *bot_events(first)]
    # whichever answer intent the NLU picks for the bare words, the previous answer's "more" part is given
    typed, _ = await run(after(earlier, tracker("ask_dependants", more, language=language, scheme="TTPS",
                                                 answer_scheme="TTPS")))
    pressed, _ = await run(tracker("ask_scheme_info", first[0]["buttons"][0]["payload"],
                                   [("scheme", "TTPS"), ("detail", "more")], language=language, scheme="TTPS"))
    assert [m["text"] for m in typed] == [m["text"] for m in pressed]
    assert typed[0]["text"] != first[0]["text"]


async def test_more_with_a_subject_named_answers_that_subject() -> None:
    first, _ = await run(tracker("ask_scheme_info", "What is TTPS?", [("scheme", "TTPS")], scheme="TTPS"))
    earlier = [user_event("What is TTPS?", "ask_scheme_info", [("scheme", "TTPS")]), *bot_events(first)]
    typed, _ = await run(
        after(earlier, tracker("ask_living_info", "tell me more about housing", [("topic", "housing")])))
    housing, _ = await run(tracker("ask_living_info", "housing?", [("topic", "housing")]))
    assert [m["text"] for m in typed] == [m["text"] for m in housing]


async def test_more_with_nothing_before_gets_the_usual_answer() -> None:
    typed, _ = await run(after([], tracker("ask_scheme_info", "tell me more")))
    usual, _ = await run(tracker("ask_scheme_info", "what schemes are there?"))
    assert [m["text"] for m in typed] == [m["text"] for m in usual]
