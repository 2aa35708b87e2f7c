"""Question-level answers end to end through the REST channel, in three languages: the reply carries the fact
that answers the question asked (not the topic's paragraph) and its official source; a follow-up keeps the
scheme; close calls are asked; questions that merely mention the user's situation do not start the eligibility
check; "never mind, get me a person" hands off; Mandarin written in shared characters is answered in Simplified.
The questions here are our own wording, not the bank's paraphrases."""

from __future__ import annotations

import uuid

import pytest

from talentbot.core.language import EN, ZH_HANS, ZH_HANT, detect

pytestmark = pytest.mark.server


def sender() -> str:
    return f"test:{uuid.uuid4().hex[:12]}"


def text_of(replies) -> str:
    return "\n".join(r.get("text", "") for r in replies)


@pytest.mark.parametrize(
    "message, language, facts",
    [
        ("We're moving on my TTPS visa. Could my mum and dad come along as my dependants?", EN,
         ["No.", "spouse"]),
        ("我拎緊IANG，想帶埋阿爸阿媽過嚟香港住，得唔得㗎？", ZH_HANT, ["父母", "唔得"]),
        ("我老公拿的是高才通，我能不能把我父母也一起以家属身份接过去？", ZH_HANS, ["不可以", "配偶"]),
        ("Who is supposed to get the tenancy agreement stamped, me or the landlord?", EN, ["30 days"]),
        ("租咗層樓，租約係咪一定要打釐印㗎？幾耐內要搞掂？", ZH_HANT, ["30日"]),
        ("高才通的签证费可以用支付宝付吗？", ZH_HANS, ["支付宝"]),
    ],
)
def test_the_reply_answers_the_question_asked_with_its_source(bot, message, language, facts) -> None:
    replies = bot.send(sender(), message)
    text = text_of(replies)
    assert detect(text, current=None).language == language
    assert all(fact in text for fact in facts), text
    assert "https://" in text


def test_a_follow_up_question_keeps_the_scheme_of_the_previous_answer(bot) -> None:
    user = sender()
    first = text_of(bot.send(user, "What does TechTAS require from the applicant?"))
    assert "STEM" in first
    follow_up = text_of(bot.send(user, "and how long does processing take?"))
    assert "2 weeks" in follow_up, follow_up


@pytest.mark.parametrize(
    "message, language",
    [("What do I need for TTPS category B", EN), ("我想申請高才通B類，要啲咩資格？", ZH_HANT),
     ("高才通B类需要什么条件", ZH_HANS)],
)
def test_category_requirements_are_answered_not_how_to_apply(bot, message, language) -> None:
    text = text_of(bot.send(sender(), message))
    assert any(three_years in text for three_years in ("3 years", "3年")), text
    assert detect(text, current=None).language == language


@pytest.mark.parametrize(
    "message",
    [
        "I'm on TTPS and I'm thinking of changing employer. Will that affect my permanent residence later?",
        "我用緊高才通，轉工會唔會影響我之後拎永居？",
        "我有硕士学位，想问交签证费可以用什么方式付款？",
    ],
)
def test_a_question_mentioning_the_users_situation_does_not_start_the_eligibility_check(bot, message) -> None:
    user = sender()
    bot.send(user, message)
    tracker = bot.tracker(user)
    assert tracker["active_loop"].get("name") != "eligibility_form"
    assert "eligibility_form" not in [e.get("name") for e in tracker["events"] if e["event"] == "action"]


def test_asking_to_be_assessed_still_starts_the_check(bot) -> None:
    user = sender()
    bot.send(user, "Am I eligible for the Top Talent Pass?")
    assert bot.tracker(user)["active_loop"].get("name") == "eligibility_form"


@pytest.mark.parametrize(
    "message", ["never mind, put me through to a person", "算啦，同我轉真人", "不用了，帮我找人工客服"],
)
def test_never_mind_get_me_a_person_hands_off(bot, message) -> None:
    user = sender()
    bot.send(user, message)
    assert bot.tracker(user)["paused"] is True


def test_mandarin_in_shared_characters_is_answered_in_simplified(bot) -> None:
    text = text_of(bot.send(sender(), "高才通A类年薪要多少才可以"))
    assert detect(text, current=None).language == ZH_HANS


def test_the_same_question_of_several_schemes_asks_which_scheme_and_a_choice_answers_it(bot) -> None:
    user = sender()
    [reply] = bot.send(user, "how long is the first visa valid for?")
    assert reply["text"].startswith("Did you mean")
    payloads = [b["payload"] for b in reply["buttons"]]
    assert 2 <= len(payloads) <= 3 and all('"question":' in p for p in payloads)
    assert "months" in text_of(bot.send(user, payloads[0]))


@pytest.mark.parametrize(
    "start, question, fact, left",
    [
        ("which scheme fits me?", "How much is the visa fee?", "HK$", "put the eligibility check aside"),
        ("我啱唔啱申請高才通？", "入境處批一個優才申請要幾耐？", "", "擱低咗個資格評估"),
        ("帮我看看我适合哪个计划", "香港租房合同要交印花税吗？", "30天", "资格评估先放一放"),
    ],
)
def test_a_check_met_at_its_first_question_by_another_question_answers_it_and_is_left(
        bot, start, question, fact, left) -> None:
    user = sender()
    bot.send(user, start)
    text = text_of(bot.send(user, question))
    assert fact in text and left in text, text
    assert bot.tracker(user).get("active_loop", {}).get("name") is None


@pytest.mark.parametrize(
    "message, settled",
    [
        ("I'm a Mainland resident and I have a job offer from a Hong Kong company. Which scheme fits me?",
         "they apply under ASMTP"),
        ("我係內地居民，有香港公司嘅offer，我啱邊個計劃？", "輸入內地人才計劃"),
        ("我是内地居民，拿到了香港公司的offer，我适合哪个计划？", "输入内地人才计划"),
    ],
)
def test_facts_in_the_first_message_that_settle_the_answer_are_said_at_once(bot, message, settled) -> None:
    text = text_of(bot.send(sender(), message))
    assert settled in text, text
