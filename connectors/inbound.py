"""What an incoming channel message must be before Rasa, a tracker store or the handoff queue sees it: its sender id
not another channel's, the REST request the right shape, the polite note for a message over the cap. The rules every
way in shares (cleaning, the cap, ids) are talentbot/core/inbound.py.

Pure (no Rasa, no Sanic): the REST and socket.io channels call it before anything else (connectors/rest.py,
connectors/webchat.py); the platform channels clean every text they pass on with `clean_text` where they parse it
(their protocol.py), and answer a message over the cap with `too_long_note` through the platform's send API.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Union

from connectors.guards import body_too_large
from connectors.senders import claimed_channel
from connectors.texts import Texts, load_texts
from talentbot.core.inbound import MAX_MESSAGE_CHARS, MAX_METADATA_DEPTH, clean_json, clean_text, id_problem, json_kind
from talentbot.core.inbound import Refusal as Refusal  # part of parse_rest_body's answer
from talentbot.core.language import Verdict, detect

TOO_LONG_TEXT = "message_too_long"
"""The polite note's name in bot/texts/channels.yml (placeholders ``{length}`` and ``{limit}``)."""


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


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
