"""What an incoming message must be before Rasa, a tracker store or the handoff queue sees it: its text cleaned and
capped, its sender id well-formed and not another channel's, the request the right shape.

Pure (no Rasa, no Sanic): the REST and socket.io channels call it before anything else (connectors/rest.py,
connectors/webchat.py); the platform channels clean every text they pass on with `clean_text` where they parse it
(their protocol.py), and answer a message over the cap with `too_long_note` through the platform's send API.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Union

from connectors.guards import body_too_large
from connectors.senders import claimed_channel
from connectors.texts import Texts, load_texts
from talentbot.language import Verdict, detect

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

TOO_LONG_TEXT = "message_too_long"
"""The polite note's name in connectors/texts.yml (placeholders ``{length}`` and ``{limit}``)."""

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


def too_long_note(text: str, channel: str, limit: int = MAX_MESSAGE_CHARS,
                  texts: Callable[[], Texts] = load_texts) -> str:
    """The polite note for a message over the cap, in the message's language (both of the channel's fallback
    languages when the message shows none)."""
    detection = detect(text[: 4 * limit])  # enough to tell the language; detection is linear anyway
    language = detection.language if detection.verdict is Verdict.LANGUAGE else None
    return texts().text(TOO_LONG_TEXT, language, channel).format(length=f"{len(text):,}", limit=f"{limit:,}")


def sender_problem(sender: Any) -> Optional[str]:
    """What is wrong with a client-chosen sender id (the conversation it writes into), or None when it is fine.

    Never altered, only refused: two different ids must never become one conversation. Missing or empty is refused
    rather than taken as Rasa's shared "default" conversation, which put every such client in one conversation.
    """
    if sender is None:
        return 'sender is missing: send "sender", a string naming the conversation (one per user, e.g. a UUID)'
    problem = id_problem(sender, "sender")
    if problem:
        return problem
    channel = claimed_channel(sender)
    if channel is not None:
        return f"sender ids starting with '{channel}:' belong to the {channel} channel"
    return None


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


@dataclass(frozen=True)
class RestMessage:
    """A REST webhook body that passed every check."""

    sender: str  # the conversation, as sent (never altered)
    text: str  # the message, cleaned (`clean_text`); may still be over the cap (`too_long`)
    metadata: Optional[Dict[str, Any]]  # the optional metadata object, its strings cleaned


REST_SHAPE = 'send a JSON object {"sender": "<conversation id>", "message": "<text>"}'


def parse_rest_body(body: Optional[bytes], content_length: Optional[str] = None,
                    channel: str = "rest") -> Union[RestMessage, Refusal]:
    """The message of a REST webhook request (Rasa's REST channel format), or why it is refused.

    ``input_channel`` may only name this channel: a client naming another (``telegram``) had staff replies sent
    through that platform to whoever has the id it chose.
    """
    if body_too_large(body, content_length):
        return Refusal(413, f"the body is too large: {REST_SHAPE}, the message at most {MAX_MESSAGE_CHARS:,} "
                            "characters")
    if not body or not body.strip():
        return Refusal(400, f"the body is empty: {REST_SHAPE}")
    try:
        data = json.loads(body, parse_constant=_no_constant)
    except (ValueError, RecursionError):  # not JSON, not UTF-8, nested too deep, a number too long
        return Refusal(400, f"the body is not valid JSON (UTF-8): {REST_SHAPE}")
    if not isinstance(data, dict):
        return Refusal(400, f"the body is {json_kind(data)}: {REST_SHAPE}")
    problem = sender_problem(data.get("sender"))
    if problem:
        return Refusal(400, problem)
    message = data.get("message")
    if message is None:
        return Refusal(400, 'message is missing: send "message", the text the user wrote')
    if not isinstance(message, str):
        return Refusal(400, f"message must be a string, not {json_kind(message)}")
    if data.get("input_channel") not in (None, "", channel):
        return Refusal(400, f"input_channel can only be {channel!r} on this webhook")
    metadata = data.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        return Refusal(400, f"metadata must be an object, not {json_kind(metadata)}")
    if metadata is not None:
        try:
            metadata = clean_json(metadata, MAX_METADATA_DEPTH)
        except ValueError:
            return Refusal(400, f"metadata must be at most {MAX_METADATA_DEPTH} levels deep")
    return RestMessage(data["sender"], clean_text(message), metadata)


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


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
