"""The bank corrects the intent only in clear cases."""

from __future__ import annotations

import pytest

from talentbot.core.qbank.arbitrate import (
    FALLBACK_SIMILARITY,
    REWRITE_SIMILARITY,
    Best,
    arbitrate,
    asks_since_when,
    best_of,
)
from talentbot.core.qbank.cues import load_cues

CUES = load_cues()
STRONG = Best("ask_dependants", REWRITE_SIMILARITY + 0.2)
MIDDLING = Best("ask_dependants", (FALLBACK_SIMILARITY + REWRITE_SIMILARITY) / 2)
WEAK = Best("ask_dependants", FALLBACK_SIMILARITY - 0.05)


@pytest.mark.parametrize("intent", ["nlu_fallback", "out_of_scope"])
def test_a_question_the_classifier_could_not_place_goes_to_the_bank(intent: str) -> None:
    assert arbitrate(intent, "can my parents come too?", STRONG, CUES) == "ask_dependants"
    assert arbitrate(intent, "can my parents come too?", WEAK, CUES) is None


def test_a_message_not_understood_needs_less_to_be_answered_than_one_judged_out_of_scope() -> None:
    assert arbitrate("nlu_fallback", "can my parents come too?", MIDDLING, CUES) == "ask_dependants"
    assert arbitrate("out_of_scope", "can my parents come too?", MIDDLING, CUES) is None


@pytest.mark.parametrize(
    "text",
    ["I'm on TTPS and changed employer, does that affect permanent residence?",
     "我有碩士學位，想問交visa費可以用咩付款？", "我年薪80万，卖房子的印花税可以退吗？"],
)
def test_a_question_that_mentions_the_users_situation_does_not_start_the_check(text: str) -> None:
    assert arbitrate("check_eligibility", text, STRONG, CUES) == "ask_dependants"


@pytest.mark.parametrize(
    "text", ["Am I eligible for TTPS?", "which scheme suits me best?", "我符唔符合高才通？",
             "帮我评估一下我能申请哪些"],
)
def test_asking_to_be_assessed_keeps_the_check(text: str) -> None:
    assert arbitrate("check_eligibility", text, STRONG, CUES) is None


def test_an_answer_to_the_forms_question_stays_an_answer() -> None:
    assert arbitrate("inform", "HKU, graduated 2019", STRONG, CUES) is None
    assert arbitrate("inform", "do I need a degree from HKU?", STRONG, CUES) == "ask_dependants"


@pytest.mark.parametrize(
    "text, intent",
    [("never mind, put me through to a person", "deny"), ("算啦，同我轉真人", "deny"),
     ("不用了，帮我找人工客服", "deny"), ("no thanks, I want to talk to a human", "deny"),
     ("算了，转人工", "nlu_fallback")],
)
def test_a_call_for_a_person_hands_off_whatever_it_starts_with(text: str, intent: str) -> None:
    assert arbitrate(intent, text, None, CUES) == "request_human"


def test_a_question_about_contacts_that_names_customer_service_stays_a_question() -> None:
    assert arbitrate("ask_contact_office", "how do I reach Talent Engage's customer service?", STRONG, CUES) is None


@pytest.mark.parametrize("text", ["are you a real person?", "你係咪真人？"])
def test_asking_whether_the_assistant_is_a_person_is_not_a_call_for_one(text: str) -> None:
    assert arbitrate("bot_challenge", text, None, CUES) is None


@pytest.mark.parametrize("intent", ["greet", "thank", "affirm"])
def test_small_talk_stays_small_talk_unless_clearly_a_bank_question(intent: str) -> None:
    assert arbitrate(intent, "hello", STRONG, CUES) is None
    assert arbitrate(intent, "hi, can my parents come with me?", STRONG, CUES) == "ask_dependants"


def test_a_message_naming_one_of_our_schemes_is_in_scope_whatever_the_classifier_says() -> None:
    """"For TTPS category A, can my dividends count?" is about our scheme even when the classifier judged it
    out of scope; a message naming no scheme needs a closer entry."""
    near = Best("ask_scheme_info", 0.25)
    text = "For TTPS category A, can I add my dividends to my salary?"
    assert arbitrate("out_of_scope", text, near, CUES, names_scheme=True) == "ask_scheme_info"
    assert arbitrate("out_of_scope", text, near, CUES, names_scheme=False) is None


@pytest.mark.parametrize(
    "text", ["Can I apply for IANG before I have a job offer?", "我同學係古巴籍，佢可唔可以申請IANG？",
             "2019年港理工毕业后回内地工作了，现在还能申请IANG吗？"],
)
def test_can_i_apply_with_a_close_entry_is_a_specific_question(text: str) -> None:
    assert arbitrate("check_eligibility", text, Best("ask_scheme_info", 0.40), CUES) == "ask_scheme_info"
    assert arbitrate("check_eligibility", text, Best("ask_scheme_info", 0.30), CUES) is None  # assess instead


def test_a_question_taken_for_an_answer_goes_to_the_bank_unless_nothing_is_close() -> None:
    text = "C類係咪一定要近幾年畢業先得？我2019年畢業"
    assert arbitrate("inform", text, Best("ask_scheme_info", 0.25), CUES) == "ask_scheme_info"
    assert arbitrate("inform", text, Best("ask_scheme_info", 0.10), CUES) is None


def test_a_question_about_a_named_scheme_taken_for_an_answer_gets_the_scheme_s_answer_not_the_form() -> None:
    text = "What degree do you need for the Technology Talent Admission Scheme?"
    far = Best("ask_how_to_apply", 0.05)
    assert arbitrate("inform", text, far, CUES, names_scheme=True) == "ask_scheme_info"
    assert arbitrate("inform", text, far, CUES, names_scheme=False) is None  # no scheme: the facts are the answer
    # facts of the user's own start the check with them, as before
    assert arbitrate("inform", "I earn 3M, what about TTPS?", far, CUES, names_scheme=True, facts=True) is None
    assert arbitrate("inform", "HKU, TTPS", far, CUES, names_scheme=True) is None  # no question: an answer


def test_small_talk_that_asks_something_needs_a_less_close_entry() -> None:
    assert arbitrate("affirm", "ok and since when did that change?", Best("ask_scheme_info", 0.40), CUES) \
        == "ask_scheme_info"
    assert arbitrate("affirm", "ok great", Best("ask_scheme_info", 0.40), CUES) is None


@pytest.mark.parametrize("text", ["Can I apply for TTPS?", "我可唔可以申請高才通？", "我能不能申请优才"])
def test_a_bare_can_i_apply_asks_to_be_assessed(text: str) -> None:
    """Nothing but "can I apply for <scheme>": the user wants to know whether they qualify."""
    unnamed = text.replace("TTPS", " ").replace("高才通", " ").replace("优才", " ")
    assert arbitrate("check_eligibility", text, STRONG, CUES, names_scheme=True, unnamed=unnamed) is None


def test_can_i_apply_with_the_users_facts_asks_to_be_assessed() -> None:
    text = "I earn about 3 million HKD a year, can I apply for TTPS?"
    assert arbitrate("check_eligibility", text, STRONG, CUES, facts=True) is None
    assert arbitrate("check_eligibility", text, STRONG, CUES, facts=False) == "ask_dependants"


@pytest.mark.parametrize("text", ["我年薪三百萬港幣，可唔可以申請TTPS", "I'm 45 with a PhD, can I apply?"])
def test_an_unplaced_request_with_the_users_facts_is_an_eligibility_check(text: str) -> None:
    assert arbitrate("nlu_fallback", text, STRONG, CUES, facts=True) == "check_eligibility"
    assert arbitrate("nlu_fallback", text, STRONG, CUES, facts=False) == "ask_dependants"


@pytest.mark.parametrize("text", ["Can I apply for IANG before I have a job offer?",
                                  "Can I apply for IANG if I graduated 3 years ago?",
                                  "如果我冇offer，可唔可以申請IANG？"])
def test_facts_under_a_condition_make_a_rule_question_answered_from_the_bank(text: str) -> None:
    assert arbitrate("check_eligibility", text, STRONG, CUES, facts=True) == "ask_dependants"


@pytest.mark.parametrize("text", ["am I talking to a real person", "你係咪真人嚟㗎？", "你是真人吗"])
def test_asking_whether_it_is_a_real_person_is_a_challenge_whatever_the_classifier_said(text: str) -> None:
    assert arbitrate("nlu_fallback", text, None, CUES) == "bot_challenge"


@pytest.mark.parametrize("text, intent", [("ok and since when did that change?", "affirm"),
                                          ("When was that changed?", "nlu_fallback"), ("咁係幾時開始㗎？", "inform"),
                                          ("这个是从什么时候开始改的？", "thank")])
def test_a_short_since_when_after_an_answer_goes_to_the_answer_action(text: str, intent: str) -> None:
    assert asks_since_when(text, CUES)
    assert arbitrate(intent, text, WEAK, CUES) == "ask_dependants"
    assert arbitrate(intent, text, None, CUES) == "ask_scheme_info"


def test_a_since_when_question_of_its_own_is_not_a_follow_up() -> None:
    assert not asks_since_when("Since when has IANG covered graduates of the GBA campuses in the Mainland?", CUES)
    assert not asks_since_when("How long does TTPS take?", CUES)


INTENTS = {"study.dependant_university": "ask_dependants", "ttps.category_a_degree": "ask_scheme_info",
           "tp.who": "ask_scheme_info", "fees.visa": "ask_fees"}


def test_the_bank_s_best_for_arbitration_is_the_closest_wording_among_entries_too_close_to_call() -> None:
    # 「咁A類係咪唔使學位㗎？」: a general entry edged ahead on score (no scheme named), but the Category A entry is
    # worded like the message; judged on the general entry's wording alone the question looked like small talk
    weighed = [("study.dependant_university", 0.00370), ("ttps.category_a_degree", 0.00368), ("tp.who", 0.00350)]
    similarity = {"study.dependant_university": 0.26, "ttps.category_a_degree": 0.38, "tp.who": 0.36}
    best = best_of(weighed, similarity, INTENTS)
    assert best == Best("ask_scheme_info", 0.38)
    assert arbitrate("deny", "咁A類係咪唔使學位㗎？", best, CUES) == "ask_scheme_info"


def test_a_clear_leader_on_score_stays_the_bank_s_best_however_a_runner_up_is_worded() -> None:
    weighed = [("fees.visa", 0.010), ("ttps.category_a_degree", 0.004)]
    similarity = {"fees.visa": 0.30, "ttps.category_a_degree": 0.90}
    assert best_of(weighed, similarity, INTENTS) == Best("ask_fees", 0.30)
    assert best_of([], similarity, INTENTS) is None


@pytest.mark.parametrize("text, intent", [("打算六月交IANG，聽講暑假會慢好多，係咪真㗎？", "bot_challenge"),
                                          ("Is that real? I heard it takes twice as long in summer", "bot_challenge"),
                                          ("孩子不会粤语也不认识繁体字，有没有衔接课程？", "change_language"),
                                          ("My kids only speak English, are there international schools?",
                                           "change_language")])
def test_a_question_that_only_mentions_truth_or_a_language_is_answered(text: str, intent: str) -> None:
    assert arbitrate(intent, text, STRONG, CUES) == "ask_dependants"
    assert arbitrate(intent, text, WEAK, CUES) is None


@pytest.mark.parametrize("text, intent", [
    ("你係咪真人嚟㗎？", "bot_challenge"), ("are you a bot?", "bot_challenge"), ("你是智能客服吗", "bot_challenge"),
    ("can you reply in English?", "change_language"), ("可唔可以轉返繁中？", "change_language"),
    ("能不能说普通话", "change_language"), ("English please", "change_language")])
def test_asking_about_the_assistant_or_for_a_language_keeps_the_classifiers_intent(text: str, intent: str) -> None:
    assert arbitrate(intent, text, STRONG, CUES) is None
