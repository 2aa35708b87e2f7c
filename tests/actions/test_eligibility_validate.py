"""validate_eligibility_form, the rasa-sdk way: a tracker from a dict, run, then events and messages."""

from __future__ import annotations

from typing import cast

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.eligibility.validate import ValidateEligibilityForm

DOMAIN = cast(DomainDict, {"forms": {"eligibility_form": {"required_slots": ["elig_income", "elig_degree"]}}})


async def run(tracker) -> tuple[list[dict], list]:
    dispatcher = CollectingDispatcher()
    events = await ValidateEligibilityForm().run(dispatcher, tracker, DOMAIN)
    return dispatcher.messages, events


def slot_sets(events: list) -> dict:
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


@pytest.mark.parametrize(
    "language, text, intro",
    [
        ("en", "am I eligible for TTPS?", "Let's check whether TTPS"),
        ("zh-Hant", "我可唔可以申請高才通", "我哋一齊睇下你啱唔啱高才通計劃"),
        ("zh-Hans", "我能申请高才通吗", "我们来看看您是否符合高才通计划"),
    ],
)
async def test_starting_the_check_for_one_scheme(form_tracker, language: str, text: str, intro: str) -> None:
    messages, events = await run(form_tracker(text, "check_eligibility", [("scheme", "TTPS")], language=language))
    assert messages[0]["text"].startswith(intro)
    assert slot_sets(events)["elig_scope"] == "TTPS"
    assert events[-1] == SlotSet("requested_slot", "elig_income")


async def test_several_facts_fill_several_slots_and_the_check_ends_when_settled(form_tracker) -> None:
    messages, events = await run(form_tracker("I earn 2.6M, master's from HKU, graduated 2019",
                                              requested="elig_income", elig_scope="TTPS"))
    slots = slot_sets(events)
    assert slots["elig_income"] == 2_600_000 and slots["elig_degree"] == "master"
    assert slots["elig_university"] == "University of Hong Kong" and slots["elig_graduation"] == "2019-12-31"
    assert events[-1] == SlotSet("requested_slot", None)  # TTPS A is settled: the form ends
    assert messages[0]["text"].startswith("Noted:")


async def test_a_correction_overwrites_in_cantonese(form_tracker) -> None:
    messages, events = await run(form_tracker("其實我係博士", requested="elig_job_offer", language="zh-Hant",
                                              elig_degree="master"))
    assert slot_sets(events)["elig_degree"] == "doctorate"
    assert messages[0]["text"] == "明白，已經改好：最高學歷 博士。"


async def test_stop_ends_the_form_and_marks_it_for_the_result_action(form_tracker) -> None:
    messages, events = await run(form_tracker("不用了", "deny", requested="elig_income", language="zh-Hans"))
    assert slot_sets(events)["elig_turn"] == "stopped"
    assert events[-1] == SlotSet("requested_slot", None)


async def test_a_question_in_the_middle_sets_nothing_so_rasa_hands_it_to_the_rules(form_tracker) -> None:
    messages, events = await run(form_tracker("what is QMAS?", "ask_scheme_info", [("scheme", "QMAS")],
                                              requested="elig_income", elig_scope="TTPS"))
    assert messages == []
    assert events == [SlotSet("requested_slot", "elig_income")]  # only requested_slot: the form is rejected


async def test_required_slots_are_only_the_next_decisive_one(form_tracker) -> None:
    action = ValidateEligibilityForm()
    tracker = form_tracker("hmm", requested="elig_income", elig_scope="TTPS", elig_income=1_000_000.0)
    assert await action.required_slots([], CollectingDispatcher(), tracker, DOMAIN) == ["elig_degree"]


# As Rasa hands them to the validation: the message, then (when resuming) the rules' answer, then the form itself.
MESSAGE = [{"event": "action", "name": "action_listen"}, {"event": "user", "text": "how much is the visa fee?"}]
FORM = [{"event": "action", "name": "eligibility_form"}]


async def test_a_question_at_the_first_question_is_left_to_the_rules_then_ends_the_check(form_tracker) -> None:
    first = form_tracker("how much is the visa fee?", "ask_how_to_apply", requested="elig_degree",
                         elig_turn="started", events=MESSAGE + FORM)
    messages, events = await run(first)
    assert messages == [] and events == [SlotSet("requested_slot", "elig_degree")]  # the rules answer it
    resumed = form_tracker("how much is the visa fee?", "ask_how_to_apply", requested="elig_degree",
                           elig_turn="started", events=MESSAGE + [{"event": "action", "name": "action_answer"}] + FORM)
    messages, events = await run(resumed)
    assert slot_sets(events)["elig_turn"] == "left"
    assert events[-1] == SlotSet("requested_slot", None)
