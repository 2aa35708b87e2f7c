"""action_ask_elig_*: each question in the user's language, with buttons."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.eligibility.ask import ASK_ACTIONS
from talentbot.core.eligibility_chat.slots import FORM_SLOTS


def test_there_is_one_ask_action_per_form_slot() -> None:
    assert sorted(cls().name() for cls in ASK_ACTIONS.values()) == sorted(f"action_ask_{s}" for s in FORM_SLOTS)


@pytest.mark.parametrize(
    "slot, language, question, first_button",
    [
        ("elig_degree", "en", "What is your highest degree?", "Doctorate (PhD)"),
        ("elig_job_offer", "zh-Hant", "你有冇香港嘅確實聘用（job offer）？", "係"),
        ("elig_income", "zh-Hans", "您过去一年的年收入大约是多少港币？（例如 260万港币）", "跳过"),
    ],
)
async def test_question_in_the_users_language(
    form_tracker, slot: str, language: str, question: str, first_button: str
) -> None:
    dispatcher = CollectingDispatcher()
    events = await ASK_ACTIONS[slot]().run(dispatcher, form_tracker("", language=language), {})
    [message] = dispatcher.messages
    assert message["text"] == question and message["buttons"][0]["title"] == first_button
    assert events == []


async def test_after_an_ambiguous_university_it_asks_which_one(form_tracker) -> None:
    dispatcher = CollectingDispatcher()
    tracker = form_tracker("", elig_candidates=["Shanghai Jiao Tong University", "Xi'an Jiaotong University"])
    await ASK_ACTIONS["elig_university"]().run(dispatcher, tracker, {})
    titles = [b["title"] for b in dispatcher.messages[0]["buttons"]]
    assert titles == ["Shanghai Jiao Tong University", "Xi'an Jiaotong University", "Skip"]
