"""action_answer with the question bank: the entry the ranker found, the best guess and the others on a close call,
"Did you mean" for the same question of several schemes, the buttons of a bank answer, and the topic-level answer
when no entry is close enough."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict, TrackerState

from actions.answers import ActionAnswer
from talentbot.core.qbank.loader import read_bank
from talentbot.core.qbank.model import Bank

SAMPLE_BANK = Path(__file__).parents[1] / "talentbot" / "core" / "qbank" / "sample_bank.yml"


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Bank:
    folder: Path = tmp_path_factory.mktemp("bank")
    (folder / "sample.yml").write_text(SAMPLE_BANK.read_text(encoding="utf-8"), encoding="utf-8")
    return read_bank(folder)[0]


def tracker(text: str, intent: str, ranking: list[tuple[str, float]] | None = None, entities: dict | None = None,
            rewritten_from: str | None = None, events: list[dict] | None = None, since_when: bool = False,
            **slots: Any) -> Tracker:
    return Tracker.from_dict(cast(TrackerState, {  # the wire form: rasa_sdk's TypedDict lacks latest_input_channel
        "sender_id": "u",
        "slots": {"language": "en", "scheme": None, "answer_scheme": None, "location": None, **slots},
        "latest_message": {
            "text": text,
            "intent": {"name": intent, "confidence": 0.9},
            "entities": [{"entity": k, "value": v} for k, v in (entities or {}).items()],
            "question_bank": {"ranking": [{"id": i, "score": s, "similarity": s} for i, s in ranking or []],
                              "schemes": [],
                              "rewritten_from": rewritten_from, "since_when": since_when},
        },
        "events": events or [],
        "paused": False, "latest_input_channel": "rest", "active_loop": {}, "latest_action_name": "action_listen",
    }))


async def run(bank: Bank, t: Tracker) -> tuple[list[dict], list]:
    dispatcher = CollectingDispatcher()
    events = await ActionAnswer(bank=bank).run(dispatcher, t, cast(DomainDict, {}))
    return dispatcher.messages, events


@pytest.mark.parametrize(
    "language, must_say",
    [("en", "Both the landlord and the tenant"), ("zh-Hant", "業主同租客"), ("zh-Hans", "业主和租客")],
)
async def test_the_entry_ranked_best_is_answered_in_the_users_language(
    bank: Bank, language: str, must_say: str
) -> None:
    t = tracker("who stamps the lease", "ask_living_info", [("housing.tenancy_stamping", 0.7), ("ttps.quota", 0.1)],
                language=language)
    [message], events = await run(bank, t)
    assert must_say in message["text"]
    assert "https://www.ird.gov.hk/eng/faq/stamp_duty.htm" in message["text"]
    assert events == [SlotSet("answer_scheme", None), SlotSet("answer_question", "housing.tenancy_stamping")]


async def test_a_scheme_entry_remembers_its_scheme_and_offers_more_and_related(bank: Bank) -> None:
    [message], events = await run(bank, tracker("how long?", "ask_processing_time", [("ttps.processing_time", 0.8)]))
    assert "4 weeks" in message["text"]
    payloads = [b["payload"] for b in message["buttons"]]
    assert payloads[0] == '/ask_processing_time{"question":"ttps.processing_time","detail":"more"}'
    assert events == [SlotSet("answer_scheme", "TTPS"), SlotSet("answer_question", "ttps.processing_time"),
                      SlotSet("scheme", "TTPS")]
    [message], _ = await run(bank, tracker("quota?", "ask_scheme_info", [("ttps.quota", 0.8)]))
    assert '/ask_processing_time{"question":"ttps.processing_time"}' in [b["payload"] for b in message["buttons"]]


async def test_the_remembered_scheme_decides_a_follow_up(bank: Bank) -> None:
    ranking = [("ttps.processing_time", 0.7), ("gep.processing_time", 0.7)]
    [message], _ = await run(
        bank, tracker("and how long does that take?", "ask_processing_time", ranking, scheme="GEP"))
    assert "extensions 2 to 3 weeks" in message["text"]


@pytest.mark.parametrize(
    "language, heading", [("en", "Did you mean"), ("zh-Hant", "你係咪想問"), ("zh-Hans", "您是想问")]
)
async def test_a_close_call_asks_which_was_meant(bank: Bank, language: str, heading: str) -> None:
    ranking = [("ttps.processing_time", 0.6), ("gep.processing_time", 0.6)]
    [message], events = await run(bank, tracker("how long does it take", "ask_processing_time", ranking,
                                                 language=language))
    assert message["text"].startswith(heading)
    assert {b["payload"] for b in message["buttons"]} == {
        '/ask_processing_time{"question":"ttps.processing_time"}',
        '/ask_processing_time{"question":"gep.processing_time"}',
    }
    assert events == []


@pytest.mark.parametrize("language, heading", [("en", "Not quite what you asked?"), ("zh-Hant", "唔係你想問嘅？"),
                                               ("zh-Hans", "不是您想问的？")])
async def test_a_close_call_between_two_questions_answers_the_best_guess_then_offers_the_other(
        bank: Bank, language: str, heading: str) -> None:
    ranking = [("ttps.quota", 0.6), ("ttps.processing_time", 0.6)]
    [answer, offer], events = await run(bank, tracker("TTPS quota or time?", "ask_scheme_info", ranking,
                                                      language=language))
    assert not answer["text"].startswith(heading) and offer["text"].startswith(heading)
    assert [b["payload"] for b in offer["buttons"]] == ['/ask_processing_time{"question":"ttps.processing_time"}']
    assert '/ask_processing_time{"question":"ttps.processing_time"}' not in [b["payload"] for b in answer["buttons"]]
    assert SlotSet("answer_question", "ttps.quota") in events


async def test_a_button_naming_an_entry_answers_it_and_its_more_part(bank: Bank) -> None:
    [message], _ = await run(bank, tracker("/ask_processing_time", "ask_processing_time",
                                           entities={"question": "ttps.processing_time"}, language="zh-Hant"))
    assert "4星期" in message["text"]
    [message], _ = await run(bank, tracker("/ask_processing_time", "ask_processing_time",
                                           entities={"question": "ttps.processing_time", "detail": "more"}))
    assert message["text"].startswith("Incomplete applications take longer.")
    assert message["buttons"] == []


async def test_a_typed_tell_me_more_after_a_bank_answer_gives_its_more_part(bank: Bank) -> None:
    events: list[dict] = [
        {"event": "user", "text": "how long does TTPS take?"},
        {"event": "bot", "text": "Normally 4 weeks",
         "data": {"buttons": [{"title": "Tell me more",
                               "payload": '/ask_processing_time{"question":"ttps.processing_time","detail":"more"}'}]}},
        {"event": "user", "text": "tell me more"},
    ]
    [message], _ = await run(bank, tracker("tell me more", "ask_scheme_info", [], events=events))
    assert message["text"].startswith("Incomplete applications take longer.")


async def test_nothing_close_enough_gives_the_topic_answer(bank: Bank) -> None:
    [message], _ = await run(bank, tracker("What is TTPS?", "ask_scheme_info", [("ttps.quota", 0.1)],
                                           entities={"scheme": "TTPS"}, scheme="TTPS"))
    assert "HK$2.5 million" in message["text"]


async def test_a_question_taken_from_the_eligibility_check_offers_the_check(bank: Bank) -> None:
    [message], _ = await run(bank, tracker("my parents, can they come? I earn 3M", "ask_dependants",
                                           [("dependants.parents", 0.8)], rewritten_from="check_eligibility"))
    assert message["buttons"][-1]["payload"] == "/check_eligibility"


async def test_an_office_question_naming_a_listed_place_is_answered_from_the_office_list(bank: Bank) -> None:
    t = tracker("I live in Chongqing, who can I talk to?", "ask_contact_office", [("ttps.quota", 0.9)],
                entities={"location": "Chongqing"})
    [message], _ = await run(bank, t)
    assert "Chengdu" in message["text"]


@pytest.mark.parametrize("language, must_say", [("en", "28 Dec 2022"), ("zh-Hant", "2022年12月28日"),
                                                ("zh-Hans", "2022年12月28日")])
async def test_since_when_after_an_answer_gives_its_dated_changes(bank: Bank, language: str, must_say: str) -> None:
    [message], events = await run(bank, tracker("and since when?", "ask_scheme_info", [("ttps.processing_time", 0.3)],
                                                since_when=True, answer_question="ttps.quota", language=language))
    assert must_say in message["text"] and "https://www.immd.gov.hk/eng/services/visas/TTPS.html" in message["text"]
    assert events == []


async def test_since_when_after_an_answer_with_no_dated_change_says_so_and_guesses_nothing(bank: Bank) -> None:
    [message], _ = await run(bank, tracker("since when?", "ask_processing_time", [("ttps.quota", 0.2)],
                                           since_when=True, answer_question="ttps.processing_time"))
    assert message["text"].startswith("I have no dated change on record") and "1 Jan 2026" in message["text"]


async def test_since_when_naming_another_scheme_is_a_question_of_its_own(bank: Bank) -> None:
    [message], _ = await run(bank, tracker("since when does GEP take that long?", "ask_processing_time",
                                           [("gep.processing_time", 0.5)], entities={"scheme": "GEP"},
                                           since_when=True, answer_question="ttps.quota"))
    assert "extensions 2 to 3 weeks" in message["text"]
