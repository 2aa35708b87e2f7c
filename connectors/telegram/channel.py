"""Rasa glue for Telegram: the webhook (secret token, dedup, commands, callback queries) and the output channel."""
from __future__ import annotations

import asyncio
import json
import logging
import os
from typing import Any, Awaitable, Callable, Mapping, Optional

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from telegram import Bot
from telegram.error import TelegramError

from connectors import registry
from connectors.choices import Choice, choices_from_buttons
from connectors.guards import body_too_large
from connectors.handoff_gate import gated
from connectors.inbound import too_long_note
from connectors.locale import language_hint
from connectors.output import TextFirstOutput, remember_language
from connectors.redelivery import Outcome, PlatformAPI, handle_once, pass_on, please_redeliver
from connectors.senders import namespaced, native_id
from connectors.state import StateStore, open_state_store
from connectors.telegram import protocol
from connectors.telegram.client import make_bot
from connectors.texts import LANGUAGES, Texts, load_texts
from talentbot.core.inbound import too_long

logger = logging.getLogger(__name__)

CHANNEL = "telegram"
OnNewMessage = Callable[[UserMessage], Awaitable[Any]]
BOT_API = PlatformAPI("Telegram Bot API", protocol.transient)


def _chat_id(native: str) -> int | str:
    """Chat ids are integers (negative for groups); a channel's @username is passed through."""
    return int(native) if native.lstrip("-").isdigit() else native


class TelegramOutput(TextFirstOutput):
    """Sends with ``sendMessage``; buttons become an inline keyboard under the last part of the text."""

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

    async def send_choices(self, recipient_id: str, text: str, choices: list[Choice]) -> None:
        await self._ready()
        native = native_id(CHANNEL, recipient_id)
        parts = self.split(text) or [self.texts.text("choose_by_number", None, CHANNEL)]
        for part in parts[:-1]:
            await self.deliver(native, part)
        await self.bot.send_message(
            chat_id=_chat_id(native), text=parts[-1], reply_markup=protocol.inline_keyboard(choices)
        )

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await self.send_choices(recipient_id, text, choices_from_buttons(buttons))

    async def window_open(self, recipient_id: str) -> bool:
        """Telegram has no customer-service window: a bot may write to a user who has started it."""
        return True


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


class TelegramInput(InputChannel):
    """``/webhooks/telegram/webhook``: the URL given to setWebhook."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: Optional[dict[str, Any]]) -> "TelegramInput":
        """Secrets from the environment (interfaces.md §4); credentials.yml needs no entries."""
        return cls.from_env(os.environ)

    @classmethod
    def from_env(cls, environ: Mapping[str, str], credentials: Optional[dict[str, Any]] = None) -> "TelegramInput":
        try:
            env = registry.require(CHANNEL, environ)
        except KeyError:
            cls.raise_missing_credentials_exception()
        return cls(
            environ=environ,
            token=env["TELEGRAM_TOKEN"],
            secret_token=env["TELEGRAM_SECRET_TOKEN"],
            api_base_url=env.get("TELEGRAM_API_BASE_URL"),
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
        self._environ = environ  # where the state store's URL is read
        self.secret_token = secret_token
        self.bot = make_bot(token, api_base_url)
        self.texts = texts or load_texts()
        self._state = state
        self._init_lock: Optional[asyncio.Lock] = None
        self._owns_state = state is None

    @property
    def state(self) -> StateStore:
        if self._state is None:
            self._state = open_state_store(self._environ)
        return self._state

    async def ready(self) -> None:
        """Initialises the Bot once (``getMe``: our username and id, needed to tell when a group addresses us)."""
        if self._init_lock is None:
            self._init_lock = asyncio.Lock()
        async with self._init_lock:
            await self.bot.initialize()

    async def aclose(self) -> None:
        """Closes what this channel opened itself (the Bot's HTTP clients, the state store)."""
        await self.bot.shutdown()
        if self._owns_state and self._state is not None:
            await self._state.close()

    def get_output_channel(self) -> TelegramOutput:
        """Used by Rasa for proactive messages (``output_channel=telegram``) and by ``connectors.outbound``."""
        return TelegramOutput(self.bot, self.state, self.texts, self.ready)

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        on_new_message = gated(on_new_message)  # staff may have this conversation
        hook = Blueprint(f"telegram_webhook_{id(self)}", __name__)

        @hook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            return await self._receive(request, on_new_message)

        return hook

    async def _receive(self, request: Request, on_new_message: OnNewMessage) -> HTTPResponse:
        """Checks come first, cheapest first: size, secret token, shape (4xx, see `protocol.InboundError`). An
        update is then answered once (connectors/redelivery.py): one that could not be handled for something
        unreachable is answered 503, and Telegram delivers it again."""
        if body_too_large(request.body, request.headers.get("content-length")):
            return response.json({"error": "payload too large"}, status=413)
        if not protocol.verify_secret(self.secret_token, request.headers.get(protocol.SECRET_HEADER)):
            logger.warning("Telegram webhook refused: bad secret token from %s", request.ip)
            return response.json({"error": "forbidden"}, status=403)
        try:
            data = protocol.load_update(request.body)
        except protocol.InboundError as error:
            return response.json({"error": str(error)}, status=400)
        try:
            await self.ready()
        except TelegramError as error:  # getMe failed: the Bot API is unreachable, and so would be our answer
            logger.warning("Telegram Bot API unavailable (%s): the update will come again", error)
            return please_redeliver()
        try:
            inbound = protocol.parse_inbound(data, self.bot.username, self.bot.id)
        except protocol.InboundError as error:
            logger.info("Telegram update refused: %s", error)
            return response.json({"error": str(error)}, status=400)
        if inbound.kind == "ignored" or inbound.chat_id is None:  # edits, group chatter: nothing to answer
            return response.json({"status": "ignored"})

        once = await handle_once(self.state, f"telegram:update:{self.bot.id}:{inbound.update_id}",
                                 protocol.DEDUP_TTL_S, lambda: self._dispatch(inbound, on_new_message), BOT_API)
        if once.outcome is Outcome.REDELIVER:
            return please_redeliver()
        if once.outcome is Outcome.DUPLICATE:
            logger.info("Telegram update %s delivered again: answered once already", inbound.update_id)
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
            await output.send_text_message(sender_id, self.texts.text("unsupported_message", language, CHANNEL))
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
                await output.send_text_message(sender_id, self.texts.text("welcome", language, CHANNEL))
                return
        else:
            text = inbound.text or ""
        if too_long(text):  # a paste: answering part of it would answer the wrong question
            await output.send_text_message(sender_id, too_long_note(text, CHANNEL))
            return
        chosen = _chosen_language(text)
        if chosen:
            metadata = {"language": chosen}
        message = UserMessage(
            text, output, sender_id, input_channel=CHANNEL, message_id=str(inbound.update_id), metadata=metadata
        )

        async def apologise() -> None:
            await output.send_text_message(sender_id, self.texts.text("something_went_wrong", language, CHANNEL))

        await pass_on(message, on_new_message, apologise)
