"""WhatsApp Cloud API protocol, pure: webhook verification, X-Hub-Signature-256, notifications, message bodies."""
from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

from connectors.choices import Choice
from connectors.splitting import split_for_limits as _split
from talentbot.core.inbound import clean_text, json_kind

GRAPH_API_VERSION = "v19.0"
"""Graph API version in every path (``/v19.0/<phone_number_id>/messages``)."""

SIGNATURE_HEADER = "X-Hub-Signature-256"
"""``sha256=<hex HMAC-SHA256 of the raw body with the app secret>``, sent with every notification.
Source: https://developers.facebook.com/docs/graph-api/webhooks/getting-started#validate-payloads"""

MAX_TEXT_LENGTH = 4096
"""Longest text message body, https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages#text-object"""

MAX_INTERACTIVE_BODY = 1024
"""Longest body text of an interactive (button or list) message."""

MAX_REPLY_BUTTONS = 3
"""Reply buttons per interactive message; MAX_BUTTON_TITLE characters each."""
MAX_BUTTON_TITLE = 20
MAX_REPLY_ID = 256

MAX_LIST_ROWS = 10
"""Rows of a list message (all sections together); row titles MAX_ROW_TITLE, descriptions MAX_ROW_DESCRIPTION."""
MAX_ROW_TITLE = 24
MAX_ROW_DESCRIPTION = 72
MAX_LIST_BUTTON = 20
"""Label of the button that opens a list."""

CUSTOMER_SERVICE_WINDOW_S = 24 * 3600
"""Free-form messages are allowed only within 24 hours of the user's last message (templates otherwise; error
131047). Source: https://developers.facebook.com/docs/whatsapp/cloud-api/guides/send-messages#customer-service-windows"""

DEDUP_TTL_S = 7 * 24 * 3600
"""How long a message id (wamid) is remembered; Meta retries failed deliveries for up to 7 days."""

MAX_ID_CHARS = 256
"""Longest message id (a wamid is about 60 characters) or user id (a phone number, at most 15 digits) we take:
they become state-store keys, the tracker's message id and sender id (255-character columns)."""


def _bytes(text: str) -> bytes:
    """For constant-time compares: any text, lone surrogates included (Sanic hands undecodable header bytes over
    as such; ``hmac.compare_digest`` raised TypeError on non-ASCII strings)."""
    return text.encode("utf-8", "surrogatepass")


def verify_challenge(params: Mapping[str, str], verify_token: str) -> Optional[str]:
    """``hub.challenge`` to echo when ``hub.mode`` is subscribe and ``hub.verify_token`` is ours, else None."""
    given = params.get("hub.verify_token") or ""
    if params.get("hub.mode") != "subscribe" or not hmac.compare_digest(_bytes(given), _bytes(verify_token)):
        return None
    return params.get("hub.challenge") or None


def sign(app_secret: str, body: bytes) -> str:
    """The header value Meta sends for ``body``."""
    return "sha256=" + hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify_signature(app_secret: str, body: bytes, header: Optional[str]) -> bool:
    """The notification was signed with our app secret."""
    if not header:
        return False
    return hmac.compare_digest(_bytes(sign(app_secret, body)), _bytes(header.strip().lower()))


class InboundError(ValueError):
    """Not a WhatsApp notification we can read: acknowledged with 200 and ignored (and logged), not refused.

    Only a body signed with our app secret gets this far, so it is Meta's; and Meta retries a delivery that is not
    answered 200 "with decreasing frequency" for up to 7 days (Graph API webhooks), so a 4xx would bring back the
    same unreadable body for a week. The answer's body says what is wrong."""


def load_notification(body: Optional[bytes]) -> Any:
    """The JSON of a webhook body; InboundError when it is not JSON (or nested past the parser's depth)."""
    try:
        return json.loads(body or b"")
    except (ValueError, RecursionError) as error:  # not JSON, not UTF-8, too deep, a number of 5,000 digits
        raise InboundError(f"the body is not JSON: {type(error).__name__}") from error


@dataclass(frozen=True)
class Inbound:
    """One user message from a notification."""

    message_id: str  # wamid: the dedup key
    wa_id: str  # the user's WhatsApp id (phone number without +)
    kind: str  # "text" (typed, button or list reply) or "unsupported" (image, audio, location...)
    text: Optional[str] = None  # what to send to Rasa
    message_type: str = "text"  # type as sent


@dataclass(frozen=True)
class Notification:
    """What a webhook notification holds for the assistant."""

    messages: list[Inbound]  # the user messages, in order
    unreadable: list[str] = field(default_factory=list)  # why the other parts could not be read (skipped)


def _object(container: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    """``container[name]`` as an object ({} when absent); InboundError when it is something else."""
    value = container.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InboundError(f"{name} must be an object, not {json_kind(value)}")
    return value


def _id(message: Mapping[str, Any], name: str) -> str:
    """An id as sent, refused (never altered: two ids must not become one) unless it can be a store key."""
    value = message.get(name)
    if not isinstance(value, str) or not value.strip():
        raise InboundError(f"message {name} must be a non-empty string, not {json_kind(value)}")
    if len(value) > MAX_ID_CHARS or clean_text(value) != value:
        raise InboundError(f"message {name} is too long or has control characters")
    return value


def _reply_text(message: Mapping[str, Any]) -> Optional[str]:
    """What the user wrote or chose: a text's body, an interactive reply's id (else title), a template button's
    payload (else text); None for anything else."""
    kind = message.get("type")
    if kind == "text":
        value = _object(message, "text").get("body")
    elif kind == "interactive":
        interactive = _object(message, "interactive")
        reply_type = interactive.get("type")
        reply = _object(interactive, reply_type) if isinstance(reply_type, str) else {}
        value = reply.get("id") or reply.get("title")
    elif kind == "button":  # quick-reply button of a template
        button = _object(message, "button")
        value = button.get("payload") or button.get("text")
    else:
        return None
    return value if isinstance(value, str) else None


def _message(message: Any) -> Inbound:
    if not isinstance(message, dict):
        raise InboundError(f"a message must be an object, not {json_kind(message)}")
    message_id, wa_id = _id(message, "id"), _id(message, "from")
    text = clean_text(_reply_text(message) or "")  # no NUL or lone surrogate past here
    readable = bool(text.strip())
    kind = message.get("type")
    return Inbound(
        message_id=message_id,
        wa_id=wa_id,
        kind="text" if readable else "unsupported",
        text=text if readable else None,
        message_type=clean_text(kind) if isinstance(kind, str) and kind else "unknown",
    )


def _list(container: Mapping[str, Any], name: str) -> list[Any]:
    value = container.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise InboundError(f"{name} must be an array, not {json_kind(value)}")
    return value


def parse_inbound(data: Any) -> Notification:
    """The user messages in a webhook notification. Status callbacks (sent, delivered, read, failed) and other
    fields yield nothing: they are accepted and ignored. A malformed entry, change or message is skipped (and said
    in `Notification.unreadable`), so one bad part does not lose the messages batched with it; InboundError when
    the body is not a notification at all."""
    if not isinstance(data, dict) or not isinstance(data.get("entry"), list):
        raise InboundError("a notification is an object with an entry list")
    messages: list[Inbound] = []
    unreadable: list[str] = []
    for entry in data["entry"]:
        try:
            if not isinstance(entry, dict):
                raise InboundError(f"an entry must be an object, not {json_kind(entry)}")
            changes = _list(entry, "changes")
        except InboundError as error:
            unreadable.append(str(error))
            continue
        for change in changes:
            try:
                if not isinstance(change, dict) or not isinstance(change.get("value"), dict):
                    raise InboundError("a change must be an object with a value object")
                if change.get("field") != "messages":
                    continue
                batch = _list(change["value"], "messages")
            except InboundError as error:
                unreadable.append(str(error))
                continue
            for message in batch:
                try:
                    messages.append(_message(message))
                except InboundError as error:
                    unreadable.append(str(error))
    return Notification(messages, unreadable)


def _envelope(to: str, kind: str, content: dict[str, Any]) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to, "type": kind, kind: content}


def text_message(to: str, text: str) -> dict[str, Any]:
    """Body of ``POST /<version>/<phone_number_id>/messages`` for a text."""
    return _envelope(to, "text", {"preview_url": False, "body": text})


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def interactive_message(to: str, body: str, choices: list[Choice], list_label: str) -> Optional[dict[str, Any]]:
    """Reply buttons for up to 3 short choices, a list for up to 10, else None (the caller numbers them).
    Link buttons are not interactive choices on WhatsApp: the caller puts them in the text."""
    numbered = [c for c in choices if not c.url]
    if not numbered or len(numbered) > MAX_LIST_ROWS or any(len(c.payload) > MAX_REPLY_ID for c in numbered):
        return None
    body = _cut(body.strip() or list_label, MAX_INTERACTIVE_BODY)
    if len(numbered) <= MAX_REPLY_BUTTONS and all(len(c.title) <= MAX_BUTTON_TITLE for c in numbered):
        buttons = [{"type": "reply", "reply": {"id": c.payload, "title": c.title}} for c in numbered]
        return _envelope(to, "interactive", {"type": "button", "body": {"text": body}, "action": {"buttons": buttons}})
    rows = []
    for c in numbered:
        row = {"id": c.payload, "title": _cut(c.title, MAX_ROW_TITLE)}
        if len(c.title) > MAX_ROW_TITLE:
            row["description"] = _cut(c.title, MAX_ROW_DESCRIPTION)
        rows.append(row)
    action = {"button": _cut(list_label, MAX_LIST_BUTTON), "sections": [{"rows": rows}]}
    return _envelope(to, "interactive", {"type": "list", "body": {"text": body}, "action": action})


def split_for_limits(text: str, limit: int = MAX_TEXT_LENGTH) -> list[str]:
    """A long answer as several messages within ``limit`` characters, cut between sentences."""
    return _split(text, limit)
