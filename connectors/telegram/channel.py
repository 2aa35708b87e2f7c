"""Rasa glue for Telegram: the webhook's protocol (secret token, commands, callback queries) and the output channel;
what every platform channel shares is in connectors/platform.py."""
from __future__ import annotations

import asyncio
import json
import logging
import os
from functools import partial
from typing import Any, Awaitable, Callable, Mapping, Optional

from rasa.core.channels.channel import UserMessage
from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse
from telegram import Bot
from telegram.error import TelegramError

from connectors.choices import Choice
from connectors.handoff_gate import OnNewMessage
from connectors.locale import language_hint
from connectors.output import TextFirstOutput, remember_language
from connectors.platform import PlatformInput
from connectors.redelivery import Outcome, PlatformAPI, pass_on
from connectors.senders import namespaced, native_id
from connectors.state import StateStore
from connectors.telegram import protocol
from connectors.telegram.client import make_bot
from connectors.texts import LANGUAGES, Texts

logger = logging.getLogger(__name__)

CHANNEL = "telegram"
BOT_API = PlatformAPI("Telegram Bot API", protocol.transient)


def _chat_id(native: str) -> int | str:
    """Chat ids are integers (negative for groups); a channel's @username is passed through."""
    return int(native) if native.lstrip("-").isdigit() else native


class TelegramOutput(TextFirstOutput):
    """Sends with ``sendMessage``; buttons become an inline keyboard under the last part of the text. Telegram has
    no customer-service window: a bot may write to a user who has started it."""

    channel = CHANNEL

    def __init__(self, bot: Bot, state: StateStore, texts: Texts, ready: Callable[[], Awaitable[None]]) -> None:
        super().__init__(state, texts)
        self.bot = bot
        self._ready = ready

    def split(self, text: str) -> list[str]:
        return protocol.split_for_limits(text)

    async def deliver(self, native: str, chunk: str) -> None:
        await self._ready()
        await self.bot.send_message(chat_id=_chat_id(native), text=chunk)

    async def send_choices(
        self, recipient_id: str, text: str, choices: list[Choice], language: Optional[str] = None
    ) -> None:
        """An inline keyboard: nothing to prompt for, so the reply's language is not needed."""
        await self._ready()
        native = native_id(CHANNEL, recipient_id)
        parts = self.split(text) or [self.texts.text("choose_by_number", None, CHANNEL)]
        for part in parts[:-1]:
            await self.deliver(native, part)
        await self.bot.send_message(
            chat_id=_chat_id(native), text=parts[-1], reply_markup=protocol.inline_keyboard(choices)
        )


def _chosen_language(text: str) -> Optional[str]:
    """The language of a language-menu payload (``/change_language{"language":"zh-Hant"}``), else None."""
    prefix = "/change_language"
    if not text.startswith(prefix):
        return None
    try:
        chosen = json.loads(text[len(prefix):] or "{}").get("language")
    except (ValueError, AttributeError, RecursionError):
        return None
    return chosen if chosen in LANGUAGES else None


class TelegramInput(PlatformInput[Bot]):
    """``/webhooks/telegram/webhook``: the URL given to setWebhook."""

    channel = CHANNEL
    api = BOT_API
    dedup_ttl_s = protocol.DEDUP_TTL_S

    @classmethod
    def from_settings(
        cls, settings: Mapping[str, str], credentials: Mapping[str, Any], environ: Mapping[str, str]
    ) -> "TelegramInput":
        """credentials.yml needs no entries."""
        return cls(
            environ=environ,
            token=settings["TELEGRAM_TOKEN"],
            secret_token=settings["TELEGRAM_SECRET_TOKEN"],
            api_base_url=settings.get("TELEGRAM_API_BASE_URL"),
        )

    def __init__(
        self,
        token: str,
        secret_token: str,
        api_base_url: Optional[str] = None,
        state: Optional[StateStore] = None,
        texts: Optional[Texts] = None,
        environ: Mapping[str, str] = os.environ,
    ) -> None:
        super().__init__(state=state, texts=texts, environ=environ)
        self.secret_token = secret_token
        self._token = token
        self._api_base_url = api_base_url
        self._init_lock: Optional[asyncio.Lock] = None
        self._client = self.make_client()  # made now (no network): a malformed token stops Rasa at start-up

    def make_client(self) -> Bot:
        """python-telegram-bot's Bot, with HTTP clients of its own (closed by `close_client`)."""
        return make_bot(self._token, self._api_base_url)

    async def close_client(self, client: Bot) -> None:
        await client.shutdown()

    @property
    def bot(self) -> Bot:
        return self.client

    async def ready(self) -> None:
        """Initialises the Bot once (``getMe``: our username and id, needed to tell when a group addresses us)."""
        if self._init_lock is None:
            self._init_lock = asyncio.Lock()
        async with self._init_lock:
            await self.bot.initialize()

    def get_output_channel(self) -> TelegramOutput:
        return TelegramOutput(self.bot, self.state, self.texts, self.ready)

    async def receive(self, request: Request, on_new_message: OnNewMessage) -> HTTPResponse:
        """Checks come first, cheapest first: secret token, shape (4xx, see `protocol.InboundError`). An update is
        then answered once (connectors/redelivery.py): one that could not be handled for something unreachable is
        answered 503, and Telegram delivers it again."""
        if not protocol.verify_secret(self.secret_token, request.headers.get(protocol.SECRET_HEADER)):
            logger.warning("Telegram webhook refused: bad secret token from %s", request.ip)
            return self.error(403, "forbidden")
        try:
            data = protocol.load_update(request.body)
        except protocol.InboundError as error:
            return self.error(400, str(error))
        try:
            await self.ready()
        except TelegramError as error:  # getMe failed: the Bot API is unreachable, and so would be our answer
            logger.warning("Telegram Bot API unavailable (%s): the update will come again", error)
            return self.redeliver()
        try:
            inbound = protocol.parse_inbound(data, self.bot.username, self.bot.id)
        except protocol.InboundError as error:
            logger.info("Telegram update refused: %s", error)
            return self.error(400, str(error))
        if inbound.kind == "ignored" or inbound.chat_id is None:  # edits, group chatter: nothing to answer
            return response.json({"status": "ignored"})

        once = await self.once(f"update:{self.bot.id}:{inbound.update_id}",
                               partial(self._dispatch, inbound, on_new_message))
        if once.outcome is Outcome.REDELIVER:
            return self.redeliver()
        if once.outcome is Outcome.DUPLICATE:
            return response.json({"status": "duplicate"})
        return response.json({"status": "ok"})

    async def _dispatch(self, inbound: protocol.Inbound, on_new_message: OnNewMessage) -> None:
        assert inbound.chat_id is not None  # handle() answers an update without a chat "ignored"
        sender_id = namespaced(CHANNEL, inbound.chat_id)
        output = self.get_output_channel()
        language = language_hint(inbound.language_code)
        await remember_language(self.state, sender_id, language)
        metadata = {"language": language} if language else {}

        if inbound.kind == "callback":
            assert inbound.callback_query_id is not None  # parse_inbound sets it on every callback
            await self.bot.answer_callback_query(inbound.callback_query_id)
            if not (inbound.text or "").strip():  # a button without data: nothing to answer
                return
        if inbound.kind == "unsupported":
            await self.note(output, sender_id, "unsupported_message", language)
            return
        if inbound.kind == "command":
            if inbound.command == "language":
                if inbound.text in LANGUAGES:
                    text, metadata = protocol.language_payload(inbound.text), {"language": inbound.text}
                else:
                    await output.send_choices(sender_id, self.texts.text("choose_language", language, CHANNEL), [
                        Choice(title=self.texts.language_names[code], payload=protocol.language_payload(code))
                        for code in LANGUAGES
                    ])
                    return
            else:  # /start and any command we do not know: the welcome explains what to ask
                await self.note(output, sender_id, "welcome", language)
                return
        else:
            text = inbound.text or ""
        if await self.refused_too_long(output, sender_id, text):
            return
        chosen = _chosen_language(text)
        if chosen:
            metadata = {"language": chosen}
        message = UserMessage(
            text, output, sender_id, input_channel=CHANNEL, message_id=str(inbound.update_id), metadata=metadata
        )
        await pass_on(message, on_new_message, partial(self.note, output, sender_id, "something_went_wrong", language))
