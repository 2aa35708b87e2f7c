"""What every text and id that enters the system must be before a tracker store, the handoff queue or Rasa keeps
it: the characters no store keeps removed, the length capped, ids well-formed, nesting bounded.

One set of rules for every way in: the channels (connectors/inbound.py adds their request shapes and the polite
note), Rasa's HTTP API (talentbot/rasa_plugins/rasa_api_input.py), the action server's webhook
(talentbot/rasa_plugins/action_call.py) and the staff console's API (talentbot/console/api_input.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Optional

MAX_MESSAGE_CHARS = 2000
"""Longest message the assistant reads, in characters once cleaned. The chat page's input box allows as much
(`maxlength`, counted in UTF-16 units, so never more characters), so someone typing on the page never meets it;
a real question is a few hundred characters, and the question bank ranks no more than this (qbank/schemes.py).
A longer message is not processed but answered with a polite note (`too_long_note`): it is a paste, and an
answer to part of it would answer the wrong question."""

MAX_SENDER_CHARS = 128
"""Longest sender id a REST client may choose. Our own ids are far shorter (``web:`` + 32 hex; Telegram, WhatsApp
and WeChat ids under 40), a UUID or a 64-hex hash fits; the tracker stores and the handoff queue keep sender ids
in 255-character columns, which PostgreSQL enforces only after Rasa has taken the message."""

MAX_METADATA_DEPTH = 16
"""Deepest nesting of a REST message's ``metadata`` object: it is stored with the message in the tracker; real
metadata (a language hint, a page URL) is one or two levels deep."""

_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
"""NUL (PostgreSQL refuses it in text: a handoff ticket's message was lost), lone surrogates (not encodable as
UTF-8: SQLite's driver raised on a sender id and Rasa stopped the whole server), and the other C0/C1 control
characters, which no keyboard types and which act as terminal escapes in logs. Tab, line feed and carriage return
stay. A surrogate *pair* sent as two JSON escapes is decoded into one character, so what is left here is lone."""


def clean_text(text: str) -> str:
    """The text without characters no store keeps (`_UNSTORABLE`); everything else exactly as sent."""
    return _UNSTORABLE.sub("", text)


def too_long(text: str, limit: int = MAX_MESSAGE_CHARS) -> bool:
    """Whether a (cleaned) message passes the cap and must be answered with `too_long_note` instead."""
    return len(text) > limit


def id_problem(value: Any, name: str) -> Optional[str]:
    """What keeps `value` from being a conversation id that every store keeps as it is (`name` says which id, for
    the message), or None. Any channel's namespace is fine here: `sender_problem` adds that rule for clients."""
    if not isinstance(value, str):
        return f"{name} must be a string, not {json_kind(value)}"
    if not value.strip():
        return f"{name} must not be empty"
    if len(value) > MAX_SENDER_CHARS:
        return f"{name} must be at most {MAX_SENDER_CHARS} characters"
    if _UNSTORABLE.search(value):
        return f"{name} must not contain control characters or lone surrogates"
    return None


def json_kind(value: Any) -> str:
    """The JSON name of a value's type, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


@dataclass(frozen=True)
class Refusal:
    """A request refused before anything reads it: the HTTP status and what the client must change."""

    status: int  # 400 wrong shape, 413 body too large
    reason: str  # what is wrong, said so that the client can fix it


def clean_json(value: Any, depth: int) -> Any:
    """`value` with every string in it (keys too) cleaned; ValueError when it is nested deeper than `depth`."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, (list, dict)) and depth <= 0:
        raise ValueError("nested too deep")
    if isinstance(value, list):
        return [clean_json(item, depth - 1) for item in value]
    if isinstance(value, dict):
        return {clean_text(key): clean_json(item, depth - 1) for key, item in value.items()}
    return value
