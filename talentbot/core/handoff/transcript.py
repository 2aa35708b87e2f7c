"""The conversation as staff read it: user and bot turns from the events of Rasa's tracker (pure)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterable, List, Mapping, Optional

from talentbot.core.handoff.wire import Turn

SENDERS = {"user": "user", "bot": "bot"}
"""Tracker event types that are turns, and who spoke them."""


def _when(timestamp: Any) -> Optional[str]:
    if not isinstance(timestamp, (int, float)):
        return None
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).isoformat()


def _bot_text(event: Mapping[str, Any]) -> str:
    """A bot turn's text, with its buttons' titles so staff see the choices the user had."""
    text = event.get("text") or ""
    buttons = ((event.get("data") or {}).get("buttons")) or []
    titles = [str(button.get("title")) for button in buttons if isinstance(button, Mapping) and button.get("title")]
    if titles:
        text = f"{text}\n[{' | '.join(titles)}]" if text else f"[{' | '.join(titles)}]"
    return text


def turns_from_events(events: Iterable[Mapping[str, Any]]) -> List[Turn]:
    """User messages and bot answers in order; everything else (slots, actions, pauses) is left out."""
    turns: List[Turn] = []
    for event in events:
        sender = SENDERS.get(str(event.get("event")))
        if sender is None:
            continue
        text = _bot_text(event) if sender == "bot" else (event.get("text") or "")
        if not text:
            continue
        turns.append(Turn(sender=sender, text=str(text), timestamp=_when(event.get("timestamp"))))
    return turns
