"""The transcript staff read: the user's and the bot's turns from the tracker's events, nothing else."""

from __future__ import annotations

from typing import Any

from talentbot.core.handoff.transcript import turns_from_events


def test_user_and_bot_turns_in_order_with_times() -> None:
    events: list[dict[str, Any]] = [
        {"event": "action", "name": "action_session_start", "timestamp": 1.0},
        {"event": "user", "text": "what is TTPS?", "timestamp": 1767225600.0},
        {"event": "slot", "name": "language", "value": "en"},
        {"event": "bot", "text": "TTPS is…", "timestamp": 1767225601.5},
        {"event": "pause"},
    ]
    turns = turns_from_events(events)
    assert [(t["sender"], t["text"]) for t in turns] == [("user", "what is TTPS?"), ("bot", "TTPS is…")]
    assert turns[0]["timestamp"] == "2026-01-01T00:00:00+00:00"


def test_buttons_are_shown_by_title_and_empty_turns_dropped() -> None:
    events: list[dict[str, Any]] = [
        {"event": "bot", "text": "Would you like a person?",
         "data": {"buttons": [{"title": "Yes", "payload": "/request_human"}, {"title": "No", "payload": "/deny"}]}},
        {"event": "bot", "text": None, "data": {"image": "x.png"}},
        {"event": "user", "text": ""},
    ]
    assert [t["text"] for t in turns_from_events(events)] == ["Would you like a person?\n[Yes | No]"]


def test_html_stays_text() -> None:
    [turn] = turns_from_events([{"event": "user", "text": "<script>alert(1)</script>"}])
    assert turn["text"] == "<script>alert(1)</script>"
