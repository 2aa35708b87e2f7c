"""Telegram Bot API protocol, pure: webhook secret, reading updates, inline keyboards, message limits."""
from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from typing import Any, Optional

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import InlineKeyboardButtonLimit, MessageLimit
from telegram.error import BadRequest, NetworkError, RetryAfter

from connectors.choices import Choice
from connectors.splitting import split_for_limits as _split
from connectors.splitting import utf16_length
from talentbot.core.inbound import clean_text, json_kind

MAX_TEXT_LENGTH = int(MessageLimit.MAX_TEXT_LENGTH)
"""4096: longest text of one message (python-telegram-bot's ``MessageLimit.MAX_TEXT_LENGTH``, from the Bot API
docs of sendMessage, https://core.telegram.org/bots/api#sendmessage). Counted in UTF-16 code units."""

MAX_CALLBACK_DATA = int(InlineKeyboardButtonLimit.MAX_CALLBACK_DATA)
"""64 bytes: longest callback_data of an inline button (``InlineKeyboardButtonLimit.MAX_CALLBACK_DATA``)."""

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
"""Header carrying the secret_token given to setWebhook, https://core.telegram.org/bots/api#setwebhook."""

DEDUP_TTL_S = 7 * 24 * 3600
"""How long an update_id is remembered. Telegram keeps undelivered updates for 24 hours and redelivers until it
gets a 2xx, so a week is ample."""

ALLOWED_UPDATES = ("message", "callback_query")
"""The update types we ask Telegram for in setWebhook; others are accepted and ignored."""

GROUP_CHATS = frozenset({"group", "supergroup"})


MAX_ID = 2**63
"""Chat and update ids are integers of at most 52 significant bits (Bot API, Chat.id); anything past a signed
64-bit integer is not Telegram's."""


def verify_secret(expected: str, given: Optional[str]) -> bool:
    """The webhook's secret-token header matches (constant-time compare, of bytes: a header may carry any byte,
    which Sanic hands over as lone surrogates)."""
    if not given:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8", "surrogatepass"))


class InboundError(ValueError):
    """Not a Telegram update we can read: answered 400, saying what is wrong.

    A 4xx rather than 200-and-ignore: only a request carrying our secret token gets this far, Telegram repeats a
    failed request but "gives up after a reasonable amount of attempts" (setWebhook), and the reason then shows in
    getWebhookInfo's last_error_message, where an operator looks."""


def load_update(body: Optional[bytes]) -> Any:
    """The JSON of a webhook body; InboundError when it is not JSON (or nested past the parser's depth)."""
    try:
        return json.loads(body or b"")
    except (ValueError, RecursionError) as error:  # not JSON, not UTF-8, too deep, a number of 5,000 digits
        raise InboundError(f"the body is not JSON: {type(error).__name__}") from error


def transient(error: BaseException) -> bool:
    """Whether a Bot API error means "not now" (Telegram unreachable, slow or a 5xx: NetworkError; flood control:
    RetryAfter), so the update should come again; BadRequest or Forbidden (the user blocked the bot) would not
    change."""
    return isinstance(error, (NetworkError, RetryAfter)) and not isinstance(error, BadRequest)


@dataclass(frozen=True)
class Inbound:
    """One update reduced to what the assistant needs."""

    update_id: int  # Telegram's sequence number: the dedup key
    kind: str  # "text", "command", "callback", "unsupported" (a non-text private message) or "ignored"
    chat_id: Optional[int] = None  # the conversation: a private chat is the user, a group the group
    text: Optional[str] = None  # the user's text (mention removed), command argument, or callback data
    command: Optional[str] = None  # "start", "language"... without slash or @bot suffix
    language_code: Optional[str] = None  # the sender's Telegram interface language (IETF tag)
    callback_query_id: Optional[str] = None  # to answer the callback query (stops the button's spinner)


def _typed(container: dict, name: str, kind: type, where: str, required: bool = False) -> Any:
    """``container[name]`` when it is of `kind` (None when absent and not `required`), else InboundError."""
    value = container.get(name)
    if value is None:
        if required:
            raise InboundError(f"{where}.{name} is missing")
        return None
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise InboundError(f"{where}.{name} must be {_KIND_NAMES[kind]}, not {json_kind(value)}")
    if kind is int and isinstance(value, int) and not -MAX_ID < value < MAX_ID:
        raise InboundError(f"{where}.{name} is out of range")
    return value


_KIND_NAMES = {int: "an integer", str: "a string", dict: "an object"}


def _check_user(user: Optional[dict], where: str) -> None:
    if user is not None:
        _typed(user, "id", int, where, required=True)
        _typed(user, "language_code", str, where)


def _check_message(message: Optional[dict], where: str) -> None:
    if message is None:
        return
    chat = _typed(message, "chat", dict, where, required=True)
    _typed(chat, "id", int, f"{where}.chat", required=True)
    _typed(chat, "type", str, f"{where}.chat", required=True)
    _check_user(_typed(message, "from", dict, where), f"{where}.from")
    _typed(message, "text", str, where)
    replied = _typed(message, "reply_to_message", dict, where)
    if replied is not None:
        _check_user(_typed(replied, "from", dict, f"{where}.reply_to_message"), f"{where}.reply_to_message.from")


def _check_fields(data: dict) -> None:
    """The fields `parse_inbound` reads have the types the Bot API documents. python-telegram-bot does not check
    them: a string chat id became a sender id as sent (NUL included), a number as language code or text crashed."""
    _typed(data, "update_id", int, "update", required=True)
    _check_message(_typed(data, "message", dict, "update"), "message")
    query = _typed(data, "callback_query", dict, "update")
    if query is not None:
        _typed(query, "id", str, "callback_query", required=True)
        _typed(query, "data", str, "callback_query")
        _check_user(_typed(query, "from", dict, "callback_query", required=True), "callback_query.from")
        _check_message(_typed(query, "message", dict, "callback_query"), "callback_query.message")


def _load(data: Any) -> Update:
    if not isinstance(data, dict):
        raise InboundError(f"an update is a JSON object, not {json_kind(data)}")
    _check_fields(data)
    try:
        return Update.de_json(data, None)
    except Exception as error:  # KeyError, TypeError, AttributeError, RecursionError...: fields we do not read
        raise InboundError(f"malformed update: {type(error).__name__}") from error


def _addressed(text: str, bot_username: Optional[str], replied_to_bot: bool) -> Optional[str]:
    """In a group, the text meant for the bot (its @mention removed), or None when the bot is not addressed."""
    if replied_to_bot:
        return text
    if not bot_username:
        return None
    mention = "@" + bot_username.lower()
    if mention in text.lower():
        start = text.lower().index(mention)
        return (text[:start] + text[start + len(mention):]).strip()
    return None


def parse_inbound(data: Any, bot_username: Optional[str] = None, bot_id: Optional[int] = None) -> Inbound:
    """The update in a webhook body (already JSON-decoded). Group messages count only when they mention the
    bot, reply to it, or are commands addressed to it (``/start@our_bot``)."""
    update = _load(data)
    update_id = update.update_id

    if update.callback_query is not None:
        query = update.callback_query
        chat = query.message.chat if query.message is not None else None
        return Inbound(
            update_id=update_id,
            kind="callback",
            chat_id=chat.id if chat is not None else query.from_user.id,
            text=clean_text(query.data or ""),  # no NUL or lone surrogate past here
            language_code=query.from_user.language_code,
            callback_query_id=query.id,
        )

    message = update.message
    if message is None:
        return Inbound(update_id=update_id, kind="ignored")  # edits, channel posts, member updates...
    chat = message.chat
    language = message.from_user.language_code if message.from_user else None
    in_group = chat.type in GROUP_CHATS
    text = clean_text(message.text) if message.text is not None else None  # no NUL or lone surrogate past here

    if text is None or not text.strip():  # nothing readable: a sticker, a photo, or only control characters
        kind = "ignored" if in_group else "unsupported"
        return Inbound(update_id=update_id, kind=kind, chat_id=chat.id, language_code=language)

    if text.startswith("/"):
        head, _, argument = text.partition(" ")
        command, _, addressee = head[1:].partition("@")
        if in_group and (not bot_username or addressee.lower() != bot_username.lower()):
            return Inbound(update_id=update_id, kind="ignored", chat_id=chat.id)
        return Inbound(
            update_id=update_id,
            kind="command",
            chat_id=chat.id,
            text=argument.strip() or None,
            command=command.lower(),
            language_code=language,
        )

    if in_group:
        replied = message.reply_to_message
        replied_to_bot = bool(replied and replied.from_user and bot_id is not None and replied.from_user.id == bot_id)
        addressed = _addressed(text, bot_username, replied_to_bot)
        if not addressed:
            return Inbound(update_id=update_id, kind="ignored", chat_id=chat.id)
        text = addressed
    return Inbound(update_id=update_id, kind="text", chat_id=chat.id, text=text, language_code=language)


def callback_data(choice: Choice) -> str:
    """What a button sends back: its payload when it fits Telegram's 64 bytes, else its title (cut to fit),
    which Rasa reads like typed text."""
    for candidate in (choice.payload, choice.title):
        if len(candidate.encode("utf-8")) <= MAX_CALLBACK_DATA:
            return candidate
    return choice.title.encode("utf-8")[:MAX_CALLBACK_DATA].decode("utf-8", errors="ignore")


def inline_keyboard(choices: list[Choice]) -> InlineKeyboardMarkup:
    """One button per row (titles stay readable on a phone); link buttons open their URL."""
    rows = []
    for choice in choices:
        if choice.url:
            rows.append([InlineKeyboardButton(choice.title, url=choice.url)])
        else:
            rows.append([InlineKeyboardButton(choice.title, callback_data=callback_data(choice))])
    return InlineKeyboardMarkup(rows)


def language_payload(language: str) -> str:
    """The Rasa message for choosing a language: the ``change_language`` intent with its entity."""
    return "/change_language" + json.dumps({"language": language}, separators=(",", ":"))


def split_for_limits(text: str) -> list[str]:
    """A long answer as several messages of at most 4096 UTF-16 units, cut between sentences."""
    return _split(text, MAX_TEXT_LENGTH, utf16_length)
