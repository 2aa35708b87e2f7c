"""Buttons as numbered choices on text-only channels: render "1. …" lines, and read a digit back as the button."""
from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Optional

PENDING_CHOICES_TTL_S = 24 * 3600
"""How long a user may still answer the last numbered choices with a digit (our choice: one day)."""


@dataclass(frozen=True)
class Choice:
    """One Rasa button: what the user sees and what is sent to Rasa when chosen."""

    title: str  # label shown to the user
    payload: str  # text or "/intent{...}" sent to Rasa in the user's name
    url: Optional[str] = None  # a link button: shown as a link, never numbered


def choices_from_buttons(buttons: Iterable[Mapping[str, Any]]) -> list[Choice]:
    """Rasa button dicts (``title``, ``payload``, optional ``url``/``type: web_url``) as choices."""
    out = []
    for button in buttons:
        title = str(button.get("title") or button.get("payload") or "").strip()
        url = button.get("url") if button.get("type") == "web_url" or button.get("url") else None
        payload = str(button.get("payload") or title)
        if title:
            out.append(Choice(title=title, payload=payload, url=url))
    return out


def render_numbered(text: str, choices: list[Choice], prompt: str) -> str:
    """The message text followed by "1. title" lines, link buttons as "title: url", and the prompt."""
    lines = [text.strip()] if text and text.strip() else []
    numbered = [c for c in choices if not c.url]
    links = [c for c in choices if c.url]
    if numbered:
        lines.append("\n".join(f"{i}. {c.title}" for i, c in enumerate(numbered, start=1)))
    if links:
        lines.append("\n".join(f"{c.title}: {c.url}" for c in links))
    if numbered:
        lines.append(prompt)
    return "\n\n".join(lines)


def numbered_payloads(choices: list[Choice]) -> list[str]:
    """The payloads in the order of their numbers (link buttons take no number)."""
    return [c.payload for c in choices if not c.url]


def resolve_choice(text: str, payloads: list[str]) -> Optional[str]:
    """The payload of the choice the user picked with a digit ("2", "２", " 2. "), or None if the text is
    not a number of one of the choices (then it is an ordinary message)."""
    normalised = unicodedata.normalize("NFKC", text or "").strip().rstrip(".。")
    if not normalised.isdigit() or not normalised.isascii():
        return None
    index = int(normalised)
    if 1 <= index <= len(payloads):
        return payloads[index - 1]
    return None


def dump_payloads(payloads: list[str]) -> str:
    """Serialised for the state store."""
    return json.dumps(payloads, ensure_ascii=False)


def load_payloads(raw: Optional[str]) -> list[str]:
    """Read back from the state store; anything unreadable counts as no pending choices."""
    if not raw:
        return []
    try:
        value = json.loads(raw)
    except ValueError:
        return []
    return [str(p) for p in value] if isinstance(value, list) else []
