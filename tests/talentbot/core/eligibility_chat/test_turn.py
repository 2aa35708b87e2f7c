"""One turn of the check: fill, correct, skip, stop, leave a question to the rules, ask only what matters."""

from __future__ import annotations

import datetime as dt

import pytest

from talentbot.core.eligibility_chat.slots import SKIPPED
from talentbot.core.eligibility_chat.texts import load_texts
from talentbot.core.eligibility_chat.turn import FormState, Outcome, Turn, UserTurn, take_turn

TODAY = dt.date(2026, 3, 1)


def turn(text: str, intent: str = "inform", requested: str | None = "elig_degree", values: dict | None = None,
         language: str = "en", schemes: tuple = (), scope: str | None = None, candidates=None,
         answer: str | None = None, resuming: bool = False, last_outcome: str | None = None) -> Turn:
    state = FormState(values or {}, requested=requested, scope=scope, candidates=candidates,
                      starting=requested is None, resuming=resuming, last_outcome=last_outcome)
    return take_turn(UserTurn(text, intent, schemes, answer), state, language, load_texts(), TODAY)


def test_starting_with_a_scheme_checks_only_that_scheme() -> None:
    result = turn("am I eligible for TTPS?", "check_eligibility", requested=None, schemes=("TTPS",))
    assert result.outcome is Outcome.STARTED
    assert result.updates["elig_scope"] == "TTPS"
    assert result.next_slot == "elig_income"  # income alone can settle TTPS
    assert "TTPS" in result.messages[0].text


@pytest.mark.parametrize(
    "language, text, noted",
    [
        ("en", "I earn 2.6M, master's from HKU, graduated 2019", "Noted:"),
        ("zh-Hant", "我年薪二百六十萬港紙，港大碩士，2019年畢業", "收到："),
        ("zh-Hans", "年收入260万港币，港大硕士，2019年毕业", "已记录"),
    ],
)
def test_several_facts_in_one_message_are_all_taken_and_confirmed(language: str, text: str, noted: str) -> None:
    result = turn(text, requested="elig_degree", language=language)
    assert {"elig_income", "elig_degree", "elig_university", "elig_graduation"} <= set(result.updates)
    assert noted in result.messages[0].text


def test_facts_that_settle_the_scheme_end_the_questions() -> None:
    result = turn("I earn 2.6M", requested="elig_income", scope="TTPS")
    assert result.next_slot is None


@pytest.mark.parametrize("text", ["actually I have a PhD", "其實我係博士", "其实我是博士"])
def test_a_correction_overwrites_and_says_so(text: str) -> None:
    result = turn(text, requested="elig_job_offer", values={"elig_degree": "master"})
    assert result.outcome is Outcome.CORRECTED
    assert result.updates["elig_degree"] == "doctorate"


@pytest.mark.parametrize("text", ["skip", "don't know", "跳過", "唔知", "跳过"])
def test_skip_leaves_the_field_unknown_and_moves_on(text: str) -> None:
    result = turn(text, requested="elig_income", scope="TTPS")
    assert result.outcome is Outcome.SKIPPED
    assert result.updates["elig_income"] == SKIPPED
    assert result.next_slot == "elig_degree"


def test_skip_button() -> None:
    assert turn("/inform", requested="elig_income", answer=SKIPPED).outcome is Outcome.SKIPPED


@pytest.mark.parametrize("text, intent", [("stop", "deny"), ("cancel", "out_of_scope"), ("唔使喇", "deny"),
                                          ("不用了", "deny"), ("no", "deny")])
def test_stop_ends_the_check(text: str, intent: str) -> None:
    result = turn(text, intent, requested="elig_income")
    assert result.outcome is Outcome.STOPPED
    assert result.next_slot is None and result.updates["elig_turn"] == "stopped"


def test_no_answers_a_yes_no_question_instead_of_stopping() -> None:
    result = turn("no", "deny", requested="elig_job_offer")
    assert result.outcome is Outcome.FILLED and result.updates["elig_job_offer"] == "no"


def test_a_question_in_the_middle_is_left_to_the_rules_but_the_next_slot_is_kept() -> None:
    result = turn("what is TTPS?", "ask_scheme_info", requested="elig_income", scope="TTPS")
    assert result.outcome is Outcome.IGNORED and result.updates == {} and result.messages == []
    assert result.next_slot == "elig_income"


def test_a_question_met_at_the_first_question_leaves_the_check_once_answered() -> None:
    """Asked "which scheme fits me?" by mistake (or changed their mind): the question the user asks instead is
    answered by the rules, and when the form resumes it does not ask again but ends as "left"."""
    first = turn("how much is the visa fee?", "ask_how_to_apply", requested="elig_degree", last_outcome="started")
    assert first.outcome is Outcome.IGNORED  # the rules answer it first
    resumed = turn("how much is the visa fee?", "ask_how_to_apply", requested="elig_degree",
                   last_outcome="started", resuming=True)
    assert resumed.outcome is Outcome.LEFT and resumed.next_slot is None
    assert resumed.updates["elig_turn"] == "left"


def test_an_answer_with_a_question_in_it_is_still_read_by_the_form() -> None:
    """"master's from HKU, is that enough?": the bank took it for a question (rewritten from inform), but it
    answers the form's question, so the form reads it."""
    state = FormState({}, requested="elig_degree", last_outcome="started")
    message = UserTurn("master's from HKU, is that enough?", "ask_scheme_info", rewritten_from="inform")
    result = take_turn(message, state, "en", load_texts(), TODAY)
    assert result.outcome is Outcome.FILLED and result.updates["elig_degree"] == "master"
    plain = take_turn(UserTurn("how much is the fee?", "ask_how_to_apply", rewritten_from="inform"), state, "en",
                      load_texts(), TODAY)
    assert plain.outcome is Outcome.IGNORED


def test_a_question_after_answers_were_given_keeps_the_check_going() -> None:
    resumed = turn("how much is the visa fee?", "ask_how_to_apply", requested="elig_job_offer",
                   values={"elig_degree": "master"}, last_outcome="filled", resuming=True)
    assert resumed.outcome is Outcome.IGNORED and resumed.next_slot == "elig_job_offer"


@pytest.mark.parametrize(
    "language, text, settled",
    [
        ("en", "I'm a Mainland resident with a job offer in Hong Kong, which scheme should I use?",
         "GEP is not for Chinese residents of the Mainland; they apply under ASMTP"),
        ("zh-Hant", "我係內地居民，有香港公司嘅offer，應該用邊個計劃？", "輸入內地人才計劃"),
        ("zh-Hans", "我年薪300万港币，适合哪个计划？", "✅ 高才通"),
    ],
)
def test_facts_in_the_first_message_that_settle_a_scheme_are_said_before_the_first_question(
        language: str, text: str, settled: str) -> None:
    result = turn(text, "check_eligibility", requested=None, language=language)
    assert result.outcome is Outcome.STARTED and result.next_slot is not None  # questions still follow
    assert settled in result.messages[-1].text


def test_a_first_message_without_facts_says_nothing_settled() -> None:
    result = turn("which scheme fits me?", "check_eligibility", requested=None)
    assert len(result.messages) == 1  # only the start message


def test_an_answer_not_understood_asks_again() -> None:
    result = turn("banana", requested="elig_income", scope="TTPS")
    assert result.outcome is Outcome.UNCLEAR and result.next_slot == "elig_income"


def test_foreign_currency_is_asked_again_in_hkd() -> None:
    result = turn("3 million RMB", requested="elig_income", scope="TTPS")
    assert "elig_income" not in result.updates and result.next_slot == "elig_income"
    assert "HK$" in result.messages[0].text


def test_ambiguous_university_asks_which_one() -> None:
    result = turn("jiao tong", requested="elig_university", values={"elig_degree": "master"}, scope="TTPS")
    assert result.next_slot == "elig_university"
    assert len(result.updates["elig_candidates"]) == 2


def test_university_not_on_our_list_links_the_official_list_and_moves_on() -> None:
    result = turn("Foo Bar University", requested="elig_university", values={"elig_degree": "master"}, scope="TTPS")
    assert "https://www.immd.gov.hk/pdf/aggregate_list.pdf" in result.messages[0].text
    assert result.next_slot != "elig_university"


def test_a_new_check_asks_skipped_questions_again() -> None:
    result = turn("which scheme fits me", "check_eligibility", requested=None, values={"elig_income": SKIPPED})
    assert result.updates["elig_income"] is None


def test_an_impossible_value_is_not_taken() -> None:
    result = turn("I'm 34", requested="elig_age", values={})
    assert result.updates["elig_age"] == 34
    assert "elig_experience" not in turn("200 years", requested="elig_experience").updates
