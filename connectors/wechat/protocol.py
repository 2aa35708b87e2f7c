"""WeChat Official Account protocol, pure: signatures, inbound XML, passive-reply XML, length limits."""
from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from enum import Enum
from typing import Any, Optional

import xmltodict
from wechatpy.crypto import WeChatCrypto
from wechatpy.replies import TextReply

from connectors.guards import MAX_REQUEST_AGE_S
from connectors.splitting import split_for_limits as _split
from connectors.splitting import utf8_length
from talentbot.core.inbound import clean_text

PASSIVE_REPLY_WINDOW_S = 5.0
"""WeChat waits 5 s for a passive reply, then retries the message (up to 3 times) and finally shows the user
"该公众号暂时无法提供服务". Source: 被动回复用户消息, https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html"""

PASSIVE_REPLY_BUDGET_S = 4.0
"""How long we wait for Rasa before answering "success" and sending through the customer-service API instead:
the 5 s window less a margin for the network and WeChat's own clock (issue 5: never past 4.5 s)."""

CUSTOMER_SERVICE_WINDOW_S = 48 * 3600
"""Customer-service messages are accepted only within 48 hours of the user's last interaction (error 45015 after).
Source: 客服消息, https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Service_Center_messages.html"""

TEXT_LIMIT_BYTES = 2048
"""Length limit we apply to one text message, in UTF-8 bytes (about 680 Chinese characters). The figure of
2048 bytes is the one commonly cited for WeChat text content; UNVERIFIED against the current official page."""

DEDUP_TTL_S = 24 * 3600
"""How long a MsgId (or sender + CreateTime) is remembered: far longer than WeChat's retries (~15 s)."""

SUCCESS = "success"
"""The body that tells WeChat "received, no passive reply" (an empty body works too)."""

MAX_ID_CHARS = 128
"""Longest openid, account id or MsgId we take (an openid is 28 characters, a MsgId 19 digits): they become the
sender id, state-store keys and the tracker's message id."""

MAX_CREATE_TIME = 2**63
"""CreateTime is seconds since the epoch; a number past a signed 64-bit integer is not WeChat's."""


class SignatureCheck(Enum):
    """Outcome of checking a request's query-string signature."""

    VALID = "valid"
    FORGED = "forged"  # missing or wrong signature
    STALE = "stale"  # right signature, timestamp outside MAX_REQUEST_AGE_S: a replay


def nonce_keys(timestamp: str, nonce: str, body: bytes) -> tuple[str, str]:
    """State-store keys for a signed request: (its timestamp and nonce; the same with a digest of its body).

    In plain mode the signature covers token, timestamp and nonce but not the body, so a captured query string
    would verify any body for the whole acceptance window. The channel remembers both keys for that window:
    the first marks the query string as used, the second says with which body. The same query string with the
    same body again is WeChat's retry (or a harmless replay, answered once by the MsgId dedup); with another
    body it is forged and refused."""
    used = f"wechat:nonce:{timestamp}:{nonce}"
    return used, f"{used}:{hashlib.sha256(body).hexdigest()}"


def nonce_ttl_s(timestamp: int, now: float, max_age_s: float = MAX_REQUEST_AGE_S) -> float:
    """How long a (timestamp, nonce) must be remembered: until `verify_signature` calls the timestamp stale
    (`max_age_s` after it, which is up to twice `max_age_s` from now for a clock running ahead), plus a second."""
    return max(1.0, timestamp + max_age_s - now + 1.0)


def expected_signature(*parts: str) -> str:
    """WeChat's signature: SHA-1 of the sorted parts (token, timestamp, nonce[, encrypted body]) concatenated."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def verify_signature(
    token: str,
    signature: Optional[str],
    timestamp: Optional[str],
    nonce: Optional[str],
    now: float,
    max_age_s: float = MAX_REQUEST_AGE_S,
) -> SignatureCheck:
    """Checks the ``signature``/``timestamp``/``nonce`` query parameters WeChat adds to every request."""
    if not (signature and timestamp and nonce):
        return SignatureCheck.FORGED
    try:
        expected = expected_signature(token, timestamp, nonce).encode("ascii")
    except UnicodeEncodeError:  # a lone surrogate in the query: not something WeChat signs
        return SignatureCheck.FORGED
    # bytes: hmac.compare_digest raises TypeError on a non-ASCII string (a query may carry any character)
    if not hmac.compare_digest(expected, signature.lower().encode("utf-8", "surrogatepass")):
        return SignatureCheck.FORGED
    try:
        sent_at = int(timestamp)
    except ValueError:
        return SignatureCheck.FORGED
    if abs(now - sent_at) > max_age_s:
        return SignatureCheck.STALE
    return SignatureCheck.VALID


class InboundError(ValueError):
    """The body is not a WeChat message we can read (malformed XML, missing fields): answered 400, saying what is
    wrong. WeChat retries a failed delivery only three times within about 15 s (and shows the user that the
    account cannot answer now), so a 4xx never brings the same body back for long."""


@dataclass(frozen=True)
class Inbound:
    """One message or event pushed by WeChat, reduced to what the assistant needs."""

    kind: str  # "text" (text, menu click, recognised voice), "event" (subscribe...), or "unsupported"
    openid: str  # FromUserName: the user, unique per Official Account
    account: str  # ToUserName: our account's original id (the passive reply's sender)
    created_at: int  # CreateTime, seconds since the epoch
    dedup_key: str  # MsgId for messages, openid + CreateTime for events (WeChat's retry identity)
    message_type: str  # MsgType as sent: text, image, voice, video, location, link, event...
    text: Optional[str] = None  # what to send to Rasa (kind "text")
    event: Optional[str] = None  # lower-cased Event (kind "event"): subscribe, unsubscribe, view...


_REQUIRED = ("ToUserName", "FromUserName", "CreateTime", "MsgType")


def _load_xml(body: str | bytes) -> dict[str, Any]:
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
    except UnicodeDecodeError as error:  # WeChat sends UTF-8
        raise InboundError("the body is not UTF-8") from error
    if "<!DOCTYPE" in text.upper() or "<!ENTITY" in text.upper():
        raise InboundError("DTDs and entities are not accepted")
    try:
        document = xmltodict.parse(text)
    except Exception as error:  # expat raises ExpatError; anything else is malformed too
        raise InboundError(f"malformed XML: {error}") from error
    root = document.get("xml") if isinstance(document, dict) else None
    if not isinstance(root, dict):
        raise InboundError("root element <xml> missing")
    return root


def encrypted_part(body: str | bytes) -> Optional[str]:
    """The ``<Encrypt>`` element of a safe-mode body, or None."""
    value = _load_xml(body).get("Encrypt")
    return value if isinstance(value, str) and value else None


def _id(root: dict[str, Any], name: str) -> str:
    """An id as sent, refused (never altered: two ids must not become one) unless it can be a store key."""
    value = root[name]
    if len(value) > MAX_ID_CHARS or clean_text(value) != value:
        raise InboundError(f"{name} is too long or has control characters")
    return value


def _words(value: Any) -> Optional[str]:
    """A text field cleaned (no NUL, lone surrogate or control character past here) and trimmed; None when there
    is nothing readable in it."""
    if not isinstance(value, str):
        return None
    return clean_text(value).strip() or None


def parse_inbound(body: str | bytes) -> Inbound:
    """The message in a plaintext (or decrypted) WeChat XML body."""
    root = _load_xml(body)
    missing = [name for name in _REQUIRED if not isinstance(root.get(name), str) or not root[name].strip()]
    if missing:
        raise InboundError(f"fields missing: {missing}")
    try:
        created_at = int(root["CreateTime"])
    except ValueError as error:
        raise InboundError("CreateTime is not a number") from error
    if not 0 <= created_at < MAX_CREATE_TIME:
        raise InboundError("CreateTime is out of range")
    openid, account = _id(root, "FromUserName"), _id(root, "ToUserName")
    message_type = clean_text(root["MsgType"]).lower()
    msg_id = root.get("MsgId")
    if isinstance(msg_id, str) and msg_id:
        dedup_key = f"msg:{_id(root, 'MsgId')}"
    else:
        dedup_key = f"event:{openid}:{created_at}"
    common: dict[str, Any] = dict(openid=openid, account=account, created_at=created_at, dedup_key=dedup_key,
                                  message_type=message_type)

    if message_type == "text":
        content = root.get("Content")
        if not isinstance(content, str) or not content.strip():
            raise InboundError("text message without Content")
        text = clean_text(content)
        if not text.strip():  # only control characters: nothing to read
            return Inbound(kind="unsupported", **common)
        return Inbound(kind="text", text=text, **common)
    recognised = _words(root.get("Recognition"))
    if message_type == "voice" and recognised:
        # WeChat's speech recognition (when enabled for the account) gives the words: answer them.
        return Inbound(kind="text", text=recognised, **common)
    if message_type == "event":
        event = root.get("Event")
        if not isinstance(event, str) or not event.strip():
            raise InboundError("event without Event")
        event = clean_text(event).strip().lower()
        key = _words(root.get("EventKey"))
        if event == "click" and key:
            # Menu buttons carry their question (or a "/intent" payload) as EventKey.
            return Inbound(kind="text", text=key, event=event, **common)
        return Inbound(kind="event", event=event, **common)
    return Inbound(kind="unsupported", **common)


_NOT_XML = re.compile("[\ufffe\uffff]")
"""Characters XML 1.0 does not allow, besides the control characters and surrogates `clean_text` removes."""


def cdata(text: str) -> str:
    """Text for wechatpy's ``<![CDATA[...]]>`` templates, which insert it as is: without characters XML cannot
    carry, and with every "]]>" split across two sections (else an answer holding "]]>" ended the section early:
    WeChat got broken XML, and text after it was read as elements of the reply)."""
    return _NOT_XML.sub("", clean_text(text)).replace("]]>", "]]]]><![CDATA[>")


def render_reply(inbound: Inbound, text: str, now: int) -> str:
    """The passive-reply XML answering ``inbound`` with ``text`` (rendered by wechatpy, its text made safe by
    `cdata`)."""
    reply = TextReply(source=cdata(inbound.account), target=cdata(inbound.openid), content=cdata(text), time=now)
    return reply.render()


def make_crypto(token: str, aes_key: str, app_id: str) -> WeChatCrypto:
    """wechatpy's safe-mode crypto (EncodingAESKey is 43 characters)."""
    return WeChatCrypto(token, aes_key, app_id)


def split_for_limits(text: str) -> list[str]:
    """A long answer as several text messages within TEXT_LIMIT_BYTES, cut between sentences."""
    return _split(text, TEXT_LIMIT_BYTES, utf8_length)


def custom_text_message(openid: str, text: str) -> dict[str, Any]:
    """Body of ``POST /cgi-bin/message/custom/send`` for a text message."""
    return {"touser": openid, "msgtype": "text", "text": {"content": text}}
