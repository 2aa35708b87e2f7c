"""The privacy note (bot/questions/privacy.yml): the bank's ranker picks it for the ways people ask in three
languages, including wordings it was not given, and it states the retention the purge applies."""

from __future__ import annotations

import pytest

from talentbot.core import paths
from talentbot.core.analytics.store import DEFAULT_TEXT_RETENTION_DAYS
from talentbot.core.privacy.retention import DEFAULT_RETENTION_DAYS
from talentbot.core.qbank.choose import Context, decide
from talentbot.core.qbank.index import Index, documents_from
from talentbot.core.qbank.loader import load_bank
from talentbot.core.qbank.model import Bank
from talentbot.core.qbank.validate import default_masker

ENTRY = "privacy.personal_data"


@pytest.fixture(scope="module")
def shipped() -> tuple[Bank, Index]:
    bank = load_bank(paths.QUESTIONS)
    return bank, Index(documents_from(bank.entries), default_masker())


@pytest.mark.parametrize("text", [
    # as the issue words them, one per language
    "what do you do with my data?", "你哋點處理我嘅個人資料？", "你们怎么处理我的个人信息？",
    # wordings the entry was not given
    "Do you keep a record of this conversation?", "Who has access to my conversation?", "Can you erase my chat?",
    "how long is my data retained", "I want all my info removed",
    "你哋會唔會記低我講過嘅嘢？", "想刪晒我同你嘅對話紀錄", "你哋會保存我啲資料幾耐？", "我嘅私隱有冇保障？",
    "你们会记录我说的话吗？", "我想删掉所有聊天记录", "我的资料会被保存多长时间？", "我的信息会给谁看？",
])
def test_the_ranker_answers_privacy_questions_with_the_note(shipped: tuple[Bank, Index], text: str) -> None:
    bank, index = shipped
    candidates, schemes = index.rank(text)
    decision = decide(bank, candidates, Context(named=schemes))
    assert decision.answer is not None and decision.answer.id == ENTRY, [c.id for c in candidates[:3]]


def test_each_paraphrase_of_the_note_ranks_it_first(shipped: tuple[Bank, Index]) -> None:
    bank, index = shipped
    entry = bank.by_id[ENTRY]
    for language, questions in entry.questions.items():
        for question in questions:
            assert index.rank(question)[0][0].id == ENTRY, (language, question)


def test_the_note_states_the_retention_who_sees_it_and_how_to_ask(shipped: tuple[Bank, Index]) -> None:
    entry = shipped[0].by_id[ENTRY]
    days = str(DEFAULT_RETENTION_DAYS)  # the purge's default: change the note with it
    assert all(days in entry.answer[language] and days in (entry.more or {})[language] for language in entry.answer)
    assert "staff" in entry.answer["en"] and "職員" in entry.answer["zh-Hant"] and "工作人员" in entry.answer["zh-Hans"]
    assert "talk to a person" in entry.answer["en"] and "搵真人" in entry.answer["zh-Hant"]
    assert "转人工" in entry.answer["zh-Hans"]
    assert entry.source == ("https://www.elegislation.gov.hk/hk/cap486", "https://www.hkengage.gov.hk")
    assert entry.schemes == () and entry.intent == "ask_contact_office"


def test_the_note_states_how_long_the_texts_kept_for_statistics_are_kept(shipped: tuple[Bank, Index]) -> None:
    entry = shipped[0].by_id[ENTRY]
    days = str(DEFAULT_TEXT_RETENTION_DAYS)  # `talentbot events purge`'s default: change the note with it
    assert all(days in (entry.more or {})[language] for language in entry.answer)
