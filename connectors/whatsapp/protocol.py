"""WhatsApp Cloud API protocol, pure: webhook verification, X-Hub-Signature-256, notifications, message bodies."""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any, Mapping, Optional

from connectors.choices import Choice
from connectors.inbound import clean_text
from connectors.splitting import split_for_limits as _split

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


def verify_challenge(params: Mapping[str, str], verify_token: str) -> Optional[str]:
    """``hub.challenge`` to echo when ``hub.mode`` is subscribe and ``hub.verify_token`` is ours, else None."""
    given = params.get("hub.verify_token") or ""
    if params.get("hub.mode") != "subscribe" or not hmac.compare_digest(given.encode(), verify_token.encode()):
        return None
    return params.get("hub.challenge") or None


def sign(app_secret: str, body: bytes) -> str:
    """The header value Meta sends for ``body``."""
    return "sha256=" + hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify_signature(app_secret: str, body: bytes, header: Optional[str]) -> bool:
    """The notification was signed with our app secret."""
    return bool(header) and hmac.compare_digest(sign(app_secret, body), header.strip().lower())


class InboundError(ValueError):
    """Not a WhatsApp notification we can read: answered 400."""


@dataclass(frozen=True)
class Inbound:
    """One user message from a notification."""

    message_id: str  # wamid: the dedup key
    wa_id: str  # the user's WhatsApp id (phone number without +)
    kind: str  # "text" (typed, button or list reply) or "unsupported" (image, audio, location...)
    text: Optional[str] = None  # what to send to Rasa
    message_type: str = "text"  # type as sent


def _reply_text(message: Mapping[str, Any]) -> Optional[str]:
    kind = message.get("type")
    if kind == "text":
        body = (message.get("text") or {}).get("body")
        return body if isinstance(body, str) and body.strip() else None
    if kind == "interactive":
        interactive = message.get("interactive") or {}
        reply = interactive.get(interactive.get("type") or "") or {}
        value = reply.get("id") or reply.get("title")
        return value if isinstance(value, str) and value else None
    if kind == "button":  # quick-reply button of a template
        button = message.get("button") or {}
        value = button.get("payload") or button.get("text")
        return value if isinstance(value, str) and value else None
    return None


def parse_inbound(data: Any) -> list[Inbound]:
    """The user messages in a webhook notification. Status callbacks (sent, delivered, read, failed) and other
    fields yield nothing: they are accepted and ignored."""
    if not isinstance(data, dict) or not isinstance(data.get("entry"), list):
        raise InboundError("a notification is an object with an entry list")
    out = []
    for entry in data["entry"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("changes", []), list):
            raise InboundError("malformed entry")
        for change in entry.get("changes", []):
            value = change.get("value") if isinstance(change, dict) else None
            if not isinstance(value, dict):
                raise InboundError("change without value")
            if change.get("field") != "messages":
                continue
            for message in value.get("messages") or []:
                if not isinstance(message, dict) or not message.get("id") or not message.get("from"):
                    raise InboundError("message without id or from")
                text = clean_text(_reply_text(message) or "")  # no NUL or lone surrogate past here
                out.append(
                    Inbound(
                        message_id=str(message["id"]),
                        wa_id=str(message["from"]),
                        kind="text" if text else "unsupported",
                        text=text or None,
                        message_type=str(message.get("type") or "unknown"),
                    )
                )
    return out


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
