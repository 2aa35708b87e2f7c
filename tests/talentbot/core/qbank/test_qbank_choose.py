"""Choosing the entry: the scheme the user means decides between look-alike questions; a close call is answered
with the best guess and the others offered, except that the same question of several schemes asks which scheme."""

from __future__ import annotations

from talentbot.core.qbank.choose import (
    CLEAR_SIMILARITY_LEAD,
    MIN_SIMILARITY,
    OWN_QUESTION_SIMILARITY,
    Context,
    asks_about_previous,
    decide,
    scheme_fit,
)
from talentbot.core.qbank.index import Candidate
from talentbot.core.qbank.model import Bank

TIED = [Candidate("gep.processing_time", 0.7, 0.5), Candidate("ttps.processing_time", 0.7, 0.5)]


def test_a_named_scheme_picks_its_entry(bank: Bank) -> None:
    decision = decide(bank, TIED, Context(named=("TTPS",)))
    assert decision.answer is not None and decision.answer.id == "ttps.processing_time"


def test_the_remembered_scheme_picks_its_entry_for_a_follow_up(bank: Bank) -> None:
    decision = decide(bank, TIED, Context(remembered="GEP"))
    assert decision.answer is not None and decision.answer.id == "gep.processing_time"


def test_the_same_question_of_two_schemes_asks_which_scheme_when_none_is_known(bank: Bank) -> None:
    leaning = [Candidate("ttps.processing_time", 0.7, 0.9), Candidate("gep.processing_time", 0.6, 0.9)]
    decision = decide(bank, leaning, Context())
    assert [e.id for e in decision.choices] == ["ttps.processing_time", "gep.processing_time"]


def test_a_close_entry_for_every_scheme_answers_instead_of_asking_which_scheme(bank: Bank) -> None:
    """「在香港住满几年可以申请永居？」: the general answer holds whatever the scheme, so there is nothing to ask."""
    leaning = [Candidate("ttps.processing_time", 0.7, 0.9), Candidate("gep.processing_time", 0.6, 0.9),
               Candidate("dependants.parents", 0.62, 0.8)]  # dependants.parents stands for any general entry
    decision = decide(bank, leaning, Context())
    assert decision.answer is not None and decision.answer.id == "dependants.parents"
    assert not decision.choices


def test_two_entries_too_close_to_call_are_offered(bank: Bank) -> None:
    decision = decide(bank, TIED, Context())
    assert decision.answer is None
    assert {e.id for e in decision.choices} == {"gep.processing_time", "ttps.processing_time"}


def test_of_two_too_close_to_call_one_worded_clearly_closer_is_answered(bank: Bank) -> None:
    """The classifier cannot tell them apart, but the message is worded much more like one of them."""
    tied = [Candidate("ttps.quota", 0.50, 0.30), Candidate("ttps.processing_time", 0.50, 0.31 + CLEAR_SIMILARITY_LEAD)]
    decision = decide(bank, tied, Context())
    assert decision.answer is not None and decision.answer.id == "ttps.processing_time"


def test_two_different_questions_too_close_to_call_answer_the_best_guess_and_offer_the_other(bank: Bank) -> None:
    """Asking first would make the user answer a question before getting any fact; the guess is usually right."""
    even = [Candidate("ttps.quota", 0.50, 0.30), Candidate("ttps.processing_time", 0.50, 0.32)]
    decision = decide(bank, even, Context())
    assert decision.answer is not None and decision.answer.id == "ttps.quota"
    assert [e.id for e in decision.alternatives] == ["ttps.processing_time"] and decision.choices == ()


def test_a_clear_best_offers_no_alternatives(bank: Bank) -> None:
    decision = decide(bank, [Candidate("ttps.quota", 0.6, 0.5), Candidate("ttps.processing_time", 0.3, 0.4)], Context())
    assert decision.alternatives == ()


def test_a_clear_best_is_answered_without_asking(bank: Bank) -> None:
    decision = decide(bank, [Candidate("ttps.quota", 0.6, 0.5), Candidate("ttps.processing_time", 0.3, 0.4)], Context())
    assert decision.answer is not None and decision.answer.id == "ttps.quota"


def test_nothing_close_enough_leaves_the_intent_answer(bank: Bank) -> None:
    decision = decide(bank, [Candidate("ttps.quota", 0.9, MIN_SIMILARITY - 0.01)], Context())
    assert decision.answer is None and decision.choices == ()


def test_entries_no_longer_in_the_bank_are_skipped(bank: Bank) -> None:
    decision = decide(bank, [Candidate("removed.entry", 0.9, 0.9), Candidate("ttps.quota", 0.5, 0.5)], Context())
    assert decision.answer is not None and decision.answer.id == "ttps.quota"


def test_an_entry_worded_exactly_like_the_message_wins_over_the_classifiers_favourite(bank: Bank) -> None:
    ranked = [Candidate("ttps.quota", 0.7, 0.5), Candidate("ttps.processing_time", 0.6, 0.97)]
    decision = decide(bank, ranked, Context(remembered="TTPS"))
    assert decision.answer is not None and decision.answer.id == "ttps.processing_time"


def test_another_schemes_entry_is_penalised_when_a_scheme_is_named(bank: Bank) -> None:
    entry = bank.by_id["gep.processing_time"]
    assert scheme_fit(entry, Context(named=("TTPS",))) < scheme_fit(entry, Context()) < 1.0
    assert scheme_fit(entry, Context(named=("GEP",))) == 1.0


def test_a_general_entry_is_second_choice_only_where_the_named_scheme_has_its_own(bank: Bank) -> None:
    """"TTPS processing time" prefers ttps.processing_time to a general processing-time entry; "TTPS, can my
    parents come?" still gets the general dependants.parents entry, as TTPS has no entry of its own for it."""
    parents = bank.by_id["dependants.parents"]
    named = Context(named=("TTPS",))
    without_own = scheme_fit(parents, named, frozenset({"quota", "processing_time"}))
    with_own = scheme_fit(parents, named, frozenset({"parents"}))
    assert with_own < without_own < 1.0
    assert scheme_fit(bank.by_id["gep.processing_time"], named) < with_own  # another scheme's entry: last


def test_since_when_asks_about_the_previous_answer_unless_another_scheme_or_question_is_meant(bank: Bank) -> None:
    previous = bank.by_id["ttps.quota"]
    loose = [Candidate("ttps.processing_time", 0.5, OWN_QUESTION_SIMILARITY - 0.1)]
    assert asks_about_previous(previous, loose)
    assert asks_about_previous(previous, loose, named=("TTPS",))
    assert not asks_about_previous(previous, loose, named=("GEP",))
    assert not asks_about_previous(previous, [Candidate("ttps.processing_time", 0.5, OWN_QUESTION_SIMILARITY)])
    assert not asks_about_previous(None, loose)
