"""Telegram Bot API protocol, pure: webhook secret, reading updates, inline keyboards, message limits."""
from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from typing import Any, Optional

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import InlineKeyboardButtonLimit, MessageLimit

from connectors.choices import Choice
from connectors.inbound import clean_text
from connectors.splitting import split_for_limits as _split, utf16_length

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


def verify_secret(expected: str, given: Optional[str]) -> bool:
    """The webhook's secret-token header matches (constant-time compare)."""
    return bool(given) and hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


class InboundError(ValueError):
    """Not a Telegram update we can read: answered 400."""


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


def _load(data: Any) -> Update:
    if not isinstance(data, dict):
        raise InboundError("an update is a JSON object")
    if not isinstance(data.get("update_id"), int) or isinstance(data.get("update_id"), bool):
        raise InboundError("update_id missing or not an integer")
    try:
        return Update.de_json(data, None)
    except (KeyError, TypeError, ValueError) as error:
        raise InboundError(f"malformed update: {error!r}") from error


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
            text=query.data or "",
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

    if text is None:
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
