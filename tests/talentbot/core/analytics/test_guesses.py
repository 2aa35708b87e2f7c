"""The assistant's best guesses kept beside a misunderstood message's text (talentbot.core.analytics.guesses)."""

from __future__ import annotations

from typing import Any

import pytest

from talentbot.core.analytics.guesses import ENTRY, INTENT, Guess, from_stored, guesses_of


def test_the_top_intents_without_the_fallback_and_the_top_entries() -> None:
    parse_data = {
        "intent": {"name": "nlu_fallback", "confidence": 0.5},
        "intent_ranking": [{"name": "nlu_fallback", "confidence": 0.5}, {"name": "ask_dependants", "confidence": 0.31},
                           {"name": "ask_living_info", "confidence": 0.2}, {"name": "greet", "confidence": 0.1},
                           {"name": "deny", "confidence": 0.05}],
        "question_bank": {"ranking": [{"id": f"e{n}", "score": 0.5 / (n + 1), "similarity": 0.1} for n in range(5)]},
    }
    assert guesses_of(parse_data) == {
        "intents": [["ask_dependants", 0.31], ["ask_living_info", 0.2], ["greet", 0.1]],
        "entries": [["e0", 0.5, 0.1], ["e1", 0.25, 0.1], ["e2", 0.167, 0.1]]}


@pytest.mark.parametrize("parse_data", [
    {}, {"intent_ranking": None, "question_bank": None}, {"intent_ranking": [1, "x", {"name": 3}]},
    {"question_bank": {"ranking": [{"id": "a", "score": True}]}}, {"intent_ranking": [{"name": "nlu_fallback",
                                                                                       "confidence": 1.0}]},
])
def test_nothing_to_keep(parse_data: Any) -> None:
    assert guesses_of(parse_data) is None


def test_stored_guesses_and_the_offered_entries_become_guesses() -> None:
    stored = {"intents": [["ask_dependants", 0.31]], "entries": [["ttps.dependants", 0.4, 0.2], ["bad"], [None, 1]]}
    assert from_stored(stored, ("ttps.dependants", "qmas.dependants")) == (
        Guess(ENTRY, "ttps.dependants", 0.4), Guess(INTENT, "ask_dependants", 0.31),
        Guess(ENTRY, "qmas.dependants", 0.5))
    assert from_stored(None) == () and from_stored("junk") == ()
