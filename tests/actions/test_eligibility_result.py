"""action_eligibility_result: the result in the user's language, or a goodbye after a stop."""

from __future__ import annotations

from typing import cast

import pytest
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.eligibility.result import ActionEligibilityResult


async def run(tracker) -> tuple[list[dict], list]:
    dispatcher = CollectingDispatcher()
    events = await ActionEligibilityResult().run(dispatcher, tracker, cast(DomainDict, {}))
    return dispatcher.messages, events


@pytest.mark.parametrize(
    "language, fits, decides",
    [
        ("en", "✅ TTPS (Top Talent Pass Scheme) (Category A)", "the Immigration Department decides"),
        ("zh-Hant", "✅ 高才通計劃（A類）", "入境處決定"),
        ("zh-Hans", "✅ 高才通计划（A类）", "入境处决定"),
    ],
)
async def test_result_for_the_scheme_asked_about(form_tracker, language: str, fits: str, decides: str) -> None:
    messages, events = await run(form_tracker("", language=language, elig_scope="TTPS", elig_income=2_600_000.0))
    texts = [m["text"] for m in messages]
    assert texts[1].startswith(fits)
    assert decides in texts[-1]
    assert not any("QMAS" in t or "優才" in t or "优才" in t for t in texts)
    assert events == [SlotSet("elig_turn", None), SlotSet("elig_candidates", None)]


async def test_skipped_answers_are_listed_as_still_open(form_tracker) -> None:
    messages, _ = await run(form_tracker("", elig_scope="QMAS", elig_age="skipped", elig_degree="master"))
    assert any("Still open" in m["text"] and "your age" in m["text"] for m in messages)


@pytest.mark.parametrize("language, goodbye", [("en", "I've stopped the check"), ("zh-Hant", "已經停咗"),
                                               ("zh-Hans", "评估已结束")])
async def test_a_stopped_check_says_goodbye_instead(form_tracker, language: str, goodbye: str) -> None:
    messages, _ = await run(form_tracker("", language=language, elig_turn="stopped", elig_income=2_600_000.0))
    assert len(messages) == 1 and goodbye in messages[0]["text"]
