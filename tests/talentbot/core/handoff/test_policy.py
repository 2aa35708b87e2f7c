"""Queue rules: oldest first, place in the queue, the message on handoff, overdue flags, cancel phrases."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from talentbot.core.handoff.policy import (
    default_policy,
    handoff_message,
    is_cancel,
    is_overdue,
    median_wait,
    normalise_phrase,
    place_in_queue,
    queue_order,
)
from tests.talentbot.conftest import hkt

POLICY = default_policy()  # flagged after 10 staffed minutes


@dataclass
class T:
    id: int
    created_at: dt.datetime


def test_queue_is_oldest_first_and_ties_keep_storage_order() -> None:
    tickets = [T(3, hkt("2026-03-02 10:05")), T(1, hkt("2026-03-02 10:00")), T(2, hkt("2026-03-02 10:00"))]
    assert [ticket.id for ticket in queue_order(tickets)] == [1, 2, 3]


@pytest.mark.parametrize("ticket_id, place", [(1, 1), (2, 2), (3, 3), (9, None)])
def test_place_in_queue(ticket_id: int, place: int) -> None:
    waiting = [T(3, hkt("2026-03-02 10:05")), T(2, hkt("2026-03-02 10:01")), T(1, hkt("2026-03-02 10:00"))]
    assert place_in_queue(ticket_id, waiting) == place


@pytest.mark.parametrize("created, now, overdue", [
    ("2026-03-02 10:00", "2026-03-02 10:09", False),
    ("2026-03-02 10:00", "2026-03-02 10:10", True),  # the limit itself flags
    ("2026-03-07 22:00", "2026-03-09 08:50", False),  # Saturday night: only 5 staffed minutes by Monday 08:50
    ("2026-03-07 22:00", "2026-03-09 08:55", True),
    ("2026-03-06 17:10", "2026-03-07 09:05", True),  # 5 minutes Friday + 5 Saturday morning
])
def test_overdue_counts_staffed_time_only(created: str, now: str, overdue: bool) -> None:
    assert is_overdue(hkt(created), hkt(now), POLICY) is overdue


@pytest.mark.parametrize("text", [
    "cancel", "Cancel.", "CANCEL!", "  never mind ", "ｃａｎｃｅｌ",
    "唔使喇", "唔使喇！", "唔該唔使喇", "唔使等喇", "算數啦", "取消",
    "不用了", "不用了。", "算了", "不用了，谢谢",
])
def test_cancel_phrases_in_each_language(text: str) -> None:
    assert is_cancel(text, POLICY)


@pytest.mark.parametrize("text", [
    "", "don't cancel", "cancel my visa application?", "唔使喇，我想問多句", "我想取消签证怎么办", "不用了解",
    "how do I cancel my TTPS application",
])
def test_other_messages_are_not_cancels(text: str) -> None:
    assert not is_cancel(text, POLICY)


def test_normalise_removes_case_width_spaces_and_punctuation() -> None:
    assert normalise_phrase("  Ｎever  Mind! ") == normalise_phrase("nevermind") == "nevermind"


@pytest.mark.parametrize("language, marker", [("en", "number 2"), ("zh-Hant", "排第 2 位"), ("zh-Hans", "排在第 2 位")])
def test_handoff_message_in_staffed_hours_gives_the_place(language: str, marker: str) -> None:
    text = handoff_message(2, language, hkt("2026-03-02 10:00"), POLICY)
    assert marker in text
    assert "8:45" not in text  # no opening-hours notice while staff are in


@pytest.mark.parametrize("language, opening", [
    ("en", "Monday 9 March at 08:45 (Hong Kong time)"),
    ("zh-Hant", "3月9日（星期一）08:45（香港時間）"),
    ("zh-Hans", "3月9日（星期一）08:45（香港时间）"),
])
def test_handoff_message_outside_hours_says_when_to_expect_an_answer(language: str, opening: str) -> None:
    text = handoff_message(1, language, hkt("2026-03-07 15:00"), POLICY)  # Saturday afternoon
    assert opening in text


def test_median_wait() -> None:
    minutes = [dt.timedelta(minutes=m) for m in (1, 3, 300)]
    assert median_wait(minutes) == dt.timedelta(minutes=3)
    assert median_wait([dt.timedelta(minutes=2), dt.timedelta(minutes=4)]) == dt.timedelta(minutes=3)
    assert median_wait([]) is None
