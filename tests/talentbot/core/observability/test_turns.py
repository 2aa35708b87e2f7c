"""talentbot.core.observability.turns: what a turn counts for."""

from __future__ import annotations

from talentbot.core.content import load_content
from talentbot.core.content.render import phrase
from talentbot.core.observability import turns
from talentbot.core.observability.turns import AFTER_ANSWER, ASKED_FIRST, CORE_FALLBACK, NLU_FALLBACK

HEADINGS = turns.offer_headings(load_content().phrases)


def test_the_offer_headings_are_the_contents_own_in_every_language() -> None:
    content = load_content()
    for language in ("en", "zh-Hant", "zh-Hans"):
        assert HEADINGS[phrase(content, "did_you_mean", language)] == ASKED_FIRST
        assert HEADINGS[phrase(content, "did_you_mean_instead", language)] == AFTER_ANSWER
    assert len(HEADINGS) == 6


def test_an_answered_question() -> None:
    summary = turns.summarize("zh-Hant", "ask_scheme_info", ["action_answer", "action_listen"], ["高才通..."], HEADINGS)
    assert summary == turns.TurnSummary("zh-Hant", (), ())


def test_fallbacks_of_the_nlu_and_of_the_rules() -> None:
    assert turns.summarize("en", NLU_FALLBACK, ["utter_ask_rephrase"], ["Sorry?"], HEADINGS).fallbacks == (
        NLU_FALLBACK,)
    assert turns.summarize("en", "greet", [CORE_FALLBACK, "action_listen"], [], HEADINGS).fallbacks == (
        CORE_FALLBACK,)


def test_offers_asked_first_and_after_an_answer() -> None:
    asked = turns.summarize("en", "ask_scheme_info", ["action_answer"], ["Did you mean one of these?"], HEADINGS)
    assert asked.offers == (ASKED_FIRST,)
    content = load_content()
    after = turns.summarize("zh-Hans", "ask_scheme_info", ["action_answer"],
                            ["答案……", phrase(content, "did_you_mean_instead", "zh-Hans")], HEADINGS)
    assert after.offers == (AFTER_ANSWER,) and after.language == "zh-Hans"


def test_a_turn_without_a_language_yet() -> None:
    assert turns.summarize(None, "greet", [], [], HEADINGS).language == "unknown"
    assert turns.summarize("fr", "greet", [], [], HEADINGS).language == "other"
