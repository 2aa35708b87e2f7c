"""What every messaging-platform channel (WeChat, Telegram, WhatsApp) does around its own protocol, so each
platform's channel.py holds only what is its own: how a request is verified and read, and how answers go back.

Here, once for all of them: the secrets from the environment (connectors/registry.py), the state store and the
platform's API client made on first use inside the server's event loop and closed with the channel, the health
route and the webhook's body cap, the handoff gate in front of Rasa (connectors/handoff_gate.py), each message
answered once (connectors/redelivery.py), and the channel's own notes (a message too long, something gone wrong).
"""
from __future__ import annotations

import asyncio
import logging
import os
from typing import Any, Awaitable, Callable, ClassVar, Generic, Mapping, Optional, TypeVar

import httpx
from rasa.core.channels.channel import InputChannel
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors import registry
from connectors.guards import body_too_large
from connectors.handoff_gate import OnNewMessage, gated
from connectors.inbound import too_long_note
from connectors.output import TextFirstOutput, known_language
from connectors.redelivery import Once, Outcome, PlatformAPI, handle_once, please_redeliver
from connectors.state import StateStore, open_state_store
from connectors.texts import Texts, load_texts
from connectors.window import record_inbound
from talentbot.core.inbound import too_long

logger = logging.getLogger(__name__)

ClientT = TypeVar("ClientT")
T = TypeVar("T")
ChannelT = TypeVar("ChannelT", bound="PlatformInput[Any]")

HTTP_TIMEOUT_S = 10.0
"""Timeout of the platform API calls made with the channel's own HTTP client."""


class PlatformInput(InputChannel, Generic[ClientT]):
    """A platform's webhook, ``/webhooks/<channel>/webhook`` (``/webhooks/<channel>/`` answers health checks).

    A subclass names its channel and platform API, builds itself from its settings (`from_settings`), makes its
    API client (`make_client`) and output channel, and answers a POST (`receive`) and, when the platform checks the
    URL first (`verifies_url`), a GET (`verify`).
    """

    channel: ClassVar[str]
    """Route, sender-id namespace, Rasa channel name and registry key."""
    api: ClassVar[PlatformAPI]
    """The platform's API as the redelivery rules know it (its outage-log name, its transient errors)."""
    dedup_ttl_s: ClassVar[float]
    """How long a handled message is remembered: the platform's redelivery horizon."""
    service_window_s: ClassVar[Optional[float]] = None
    """How long after the user's last message the platform takes free-form messages; None: no such window."""
    verifies_url: ClassVar[bool] = False
    """Whether the platform checks the webhook URL with a GET first (WeChat's echostr, Meta's hub.challenge)."""
    answers_json: ClassVar[bool] = True
    """Whether the webhook's own answers (errors, 503) are JSON; WeChat's are plain text."""

    def __init__(
        self,
        state: Optional[StateStore] = None,
        http: Optional[httpx.AsyncClient] = None,
        texts: Optional[Texts] = None,
        environ: Mapping[str, str] = os.environ,
    ) -> None:
        self.texts = texts or load_texts()
        self._environ = environ  # where the state store's URL is read
        self._state = state
        self._http = http
        self._client: Optional[ClientT] = None
        self._owns_state = state is None
        self._owns_http = http is None
        self._tasks: set[asyncio.Future[Any]] = set()

    # --- settings --------------------------------------------------------------------------------------------------

    @classmethod
    def name(cls) -> str:
        return cls.channel

    @classmethod
    def from_credentials(cls: type[ChannelT], credentials: Optional[dict[str, Any]]) -> ChannelT:
        """Secrets from the environment (interfaces.md §4); credentials.yml may only tune the channel."""
        return cls.from_env(os.environ, credentials)

    @classmethod
    def from_env(
        cls: type[ChannelT], environ: Mapping[str, str], credentials: Optional[dict[str, Any]] = None
    ) -> ChannelT:
        """The channel with the settings `environ` holds; a missing secret stops Rasa at start-up."""
        try:
            settings = registry.require(cls.channel, environ)
        except KeyError:
            cls.raise_missing_credentials_exception()
        return cls.from_settings(settings, credentials or {}, environ)

    @classmethod
    def from_settings(
        cls: type[ChannelT], settings: Mapping[str, str], credentials: Mapping[str, Any], environ: Mapping[str, str]
    ) -> ChannelT:
        """The channel from its registry variables (`settings`) and credentials.yml entry."""
        raise NotImplementedError

    # --- resources: made on first use, inside the server's event loop; closed with the channel ----------------------

    @property
    def state(self) -> StateStore:
        if self._state is None:
            self._state = open_state_store(self._environ)
        return self._state

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=HTTP_TIMEOUT_S)
        return self._http

    @property
    def client(self) -> ClientT:
        if self._client is None:
            self._client = self.make_client()
        return self._client

    def make_client(self) -> ClientT:
        """The platform's API client."""
        raise NotImplementedError

    async def close_client(self, client: ClientT) -> None:
        """Releases what the client holds beyond the channel's HTTP client (python-telegram-bot's own)."""

    def get_output_channel(self) -> TextFirstOutput:
        """Used by Rasa for proactive messages (``output_channel=<channel>``) and by ``connectors.outbound``."""
        raise NotImplementedError

    async def aclose(self) -> None:
        """Waits for answers still on their way, then closes what this channel opened itself."""
        await self.drain()
        if self._client is not None:
            await self.close_client(self._client)
        if self._owns_http and self._http is not None:
            await self._http.aclose()
        if self._owns_state and self._state is not None:
            await self._state.close()

    def spawn(self, coroutine: Awaitable[Any]) -> None:
        """Runs work that outlives the request (an answer sent after the webhook was answered)."""
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Waits for the work `spawn` started (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # --- the webhook -------------------------------------------------------------------------------------------

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        handle = gated(on_new_message)  # staff may have this conversation; a store may be down
        hook = Blueprint(f"{self.channel}_webhook_{id(self)}", __name__)

        @hook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        if self.verifies_url:

            @hook.route("/webhook", methods=["GET"])
            async def verify(request: Request) -> HTTPResponse:
                return await self.verify(request)

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if body_too_large(request.body, request.headers.get("content-length")):  # cheapest check first
                return self.error(413, "payload too large")
            return await self.receive(request, handle)

        return hook

    async def verify(self, request: Request) -> HTTPResponse:
        """The answer to the platform's check of the webhook URL (only when `verifies_url`)."""
        raise NotImplementedError

    async def receive(self, request: Request, on_new_message: OnNewMessage) -> HTTPResponse:
        """The answer to a delivery whose body is within the cap; `on_new_message` is already behind the gate."""
        raise NotImplementedError

    def error(self, status: int, reason: str) -> HTTPResponse:
        """A refusal in the webhook's format: ``{"error": reason}``, or the bare reason in plain text."""
        if self.answers_json:
            return response.json({"error": reason}, status=status)
        return response.text(reason, status=status)

    def redeliver(self) -> HTTPResponse:
        """503 with Retry-After: the message was not handled, the platform delivers it again."""
        return please_redeliver(as_json=self.answers_json)

    async def once(self, key: str, handle: Callable[[], Awaitable[T]]) -> Once[T]:
        """Handles the message `key` names (``<channel>:<key>`` in the state store) unless it was handled before."""
        once = await handle_once(self.state, f"{self.channel}:{key}", self.dedup_ttl_s, handle, self.api)
        if once.outcome is Outcome.DUPLICATE:
            logger.info("%s message %s delivered again: answered once already", self.channel, key)
        return once

    # --- what every platform does with a user's message ----------------------------------------------------------

    async def record_message(self, sender_id: str) -> None:
        """Notes when the user wrote: it opens the platform's customer-service window (when it has one)."""
        if self.service_window_s is not None:
            await record_inbound(self.state, sender_id, self.service_window_s)

    async def known_language(self, sender_id: str) -> Optional[str]:
        """The user's last known language (connectors/output.py), for the channel's own notes."""
        return await known_language(self.state, sender_id)

    async def note(self, output: TextFirstOutput, sender_id: str, name: str, language: Optional[str]) -> None:
        """Sends one of the channel's own texts (bot/texts/channels.yml): the channel's fallback languages when
        `language` is None."""
        await output.send_text_message(sender_id, self.texts.text(name, language, self.channel))

    async def refused_too_long(self, output: TextFirstOutput, sender_id: str, text: str) -> bool:
        """Answers a message over the cap with the polite note (True), instead of passing it on: answering part of
        a paste would answer the wrong question."""
        if not too_long(text):
            return False
        await output.send_text_message(sender_id, too_long_note(text, self.channel))
        return True
