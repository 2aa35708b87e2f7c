"""What a new ticket says about the conversation: why it was handed off and a short summary for staff (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, List, Mapping, Optional, Sequence, Tuple

SUMMARY_TURNS = 3
"""The user's last few messages make the summary: enough for staff to see what was asked before opening it."""

SUMMARY_CHARS = 500
"""Longest summary stored; the full conversation is in the transcript."""

OFFER_ACTION = "utter_offer_staff"
"""The bot's offer of a person after two misses in a row (bot/domain/conversation.yml)."""

ELIGIBILITY_RESULT_ACTION = "action_eligibility_result"
"""The eligibility check's result: asking for a person right after it means the case needs a person's judgement."""


@dataclass(frozen=True)
class HandoffRequest:
    """Everything needed to open the ticket, read from the conversation."""

    reason: str  # policy.REASONS
    language: str
    channel: str
    summary: str
    schemes: Tuple[str, ...]
    topics: Tuple[str, ...]


def reason_for(previous_bot_action: Optional[str]) -> str:
    """Accepting the offer made after two misses is "not understood"; asking right after an eligibility result is a
    case that "needs judgement"; anything else is the user asking for a person."""
    if previous_bot_action == OFFER_ACTION:
        return "not_understood"
    if previous_bot_action == ELIGIBILITY_RESULT_ACTION:
        return "needs_judgement"
    return "requested"


def summary_of(user_texts: Sequence[str]) -> str:
    """The user's last messages (button payloads left out), oldest first, joined with " / " and shortened."""
    said = [" ".join(text.split()) for text in user_texts if text and text.strip() and not text.startswith("/")]
    summary = " / ".join(said[-SUMMARY_TURNS:])
    return summary if len(summary) <= SUMMARY_CHARS else summary[: SUMMARY_CHARS - 1] + "…"


def distinct(values: Iterable[Optional[str]]) -> Tuple[str, ...]:
    """Values in the order they first came up, without repeats or blanks."""
    seen: List[str] = []
    for value in values:
        if value and value not in seen:
            seen.append(value)
    return tuple(seen)


IGNORED_ACTIONS = frozenset({"action_listen", "action_session_start"})


def previous_bot_action(events: Sequence[Mapping[str, Any]]) -> Optional[str]:
    """The last action the assistant took before the user's latest message (what the user is answering)."""
    seen_latest_message = False
    for event in reversed(events):
        kind = event.get("event")
        if kind == "user":
            if seen_latest_message:
                return None
            seen_latest_message = True
        elif seen_latest_message and kind == "action" and event.get("name") not in IGNORED_ACTIONS:
            return str(event.get("name"))
    return None


def entity_values(events: Sequence[Mapping[str, Any]], entity: str) -> List[Optional[str]]:
    """Every value of `entity` the user's messages carried, oldest first."""
    return [found.get("value") for event in events if event.get("event") == "user"
            for found in ((event.get("parse_data") or {}).get("entities") or []) if found.get("entity") == entity]


def handoff_request(events: Sequence[Mapping[str, Any]], slots: Mapping[str, Any], channel: Optional[str],
                    default_language: str = "en") -> HandoffRequest:
    """The ticket's fields from the tracker's events and slots (schemes and topics: slots first, then mentions)."""
    user_texts = [str(event.get("text") or "") for event in events if event.get("event") == "user"]
    return HandoffRequest(
        reason=reason_for(previous_bot_action(events)),
        language=str(slots.get("language") or default_language),
        channel=channel or "rest",
        summary=summary_of(user_texts),
        schemes=distinct([slots.get("scheme"), *entity_values(events, "scheme")]),
        topics=distinct([slots.get("topic"), *entity_values(events, "topic")]),
    )
