"""Rasa glue for the WhatsApp Cloud API: the webhook (verification, signature, dedup) and the output channel."""
from __future__ import annotations

import logging
import os
import time
from functools import partial
from typing import Any, Awaitable, Callable, Mapping, Optional

import httpx
from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors import registry
from connectors.choices import Choice, choices_from_buttons
from connectors.guards import body_too_large
from connectors.handoff_gate import gated
from connectors.inbound import too_long_note
from connectors.output import TextFirstOutput, known_language, take_pending_choice
from connectors.redelivery import Outcome, PlatformAPI, handle_once, pass_on, please_redeliver
from connectors.senders import namespaced, native_id
from connectors.state import StateStore, open_state_store
from connectors.texts import Texts, load_texts
from connectors.whatsapp import protocol
from connectors.whatsapp.client import DEFAULT_API_BASE_URL, WhatsAppClient, transient
from connectors.window import last_inbound, record_inbound, window_open
from talentbot.core.inbound import too_long

logger = logging.getLogger(__name__)

CHANNEL = "whatsapp"
OnNewMessage = Callable[[UserMessage], Awaitable[Any]]
GRAPH_API = PlatformAPI("WhatsApp Graph API", transient)


class WhatsAppOutput(TextFirstOutput):
    """Sends text and interactive (reply-button / list) messages through the Graph API."""

    channel = CHANNEL

    def __init__(self, client: WhatsAppClient, state: StateStore, texts: Texts) -> None:
        super().__init__(state, texts)
        self.client = client

    def split(self, text: str) -> list[str]:
        return protocol.split_for_limits(text)

    async def deliver(self, native: str, chunk: str) -> None:
        await self.client.send(protocol.text_message(native, chunk))

    async def send_choices(self, recipient_id: str, text: str, choices: list[Choice]) -> None:
        """Buttons (≤3) or a list (≤10); more choices than a list holds become numbered text."""
        native = native_id(CHANNEL, recipient_id)
        language = await self.prompt_language(recipient_id, text)
        links = [c for c in choices if c.url]
        parts = protocol.split_for_limits(text, protocol.MAX_INTERACTIVE_BODY) or [""]
        interactive = protocol.interactive_message(
            native, parts[-1], choices, self.texts.text("list_button", language, CHANNEL)
        )
        if interactive is None:
            await super().send_choices(recipient_id, text, choices)
            return
        for part in parts[:-1]:
            await self.deliver(native, part)
        await self.client.send(interactive)
        if links:
            await self.send_text_message(recipient_id, "\n".join(f"{c.title}: {c.url}" for c in links))

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        await self.send_choices(recipient_id, text, choices_from_buttons(buttons))

    async def window_open(self, recipient_id: str) -> bool:
        """Whether a free-form message is still allowed (24 h after the user's last message)."""
        last = await last_inbound(self.state, recipient_id)
        return window_open(last, time.time(), protocol.CUSTOMER_SERVICE_WINDOW_S)


class WhatsAppInput(InputChannel):
    """``/webhooks/whatsapp/webhook``: the callback URL of the Meta app's WhatsApp webhook."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: Optional[dict[str, Any]]) -> "WhatsAppInput":
        """Secrets from the environment (interfaces.md §4); credentials.yml needs no entries."""
        return cls.from_env(os.environ)

    @classmethod
    def from_env(cls, environ: Mapping[str, str], credentials: Optional[dict[str, Any]] = None) -> "WhatsAppInput":
        try:
            env = registry.require(CHANNEL, environ)
        except KeyError:
            cls.raise_missing_credentials_exception()
        return cls(
            environ=environ,
            token=env["WHATSAPP_TOKEN"],
            app_secret=env["WHATSAPP_APP_SECRET"],
            verify_token=env["WHATSAPP_VERIFY_TOKEN"],
            phone_number_id=env["WHATSAPP_PHONE_NUMBER_ID"],
            api_base_url=env.get("WHATSAPP_API_BASE_URL", DEFAULT_API_BASE_URL),
        )

    def __init__(
        self,
        token: str,
        app_secret: str,
        verify_token: str,
        phone_number_id: str,
        api_base_url: str = DEFAULT_API_BASE_URL,
        state: Optional[StateStore] = None,
        http: Optional[httpx.AsyncClient] = None,
        texts: Optional[Texts] = None,
        environ: Mapping[str, str] = os.environ,
    ) -> None:
        self._environ = environ  # where the state store's URL is read
        self.app_secret = app_secret
        self.verify_token = verify_token
        self.texts = texts or load_texts()
        self._token = token
        self._phone_number_id = phone_number_id
        self._api_base_url = api_base_url
        self._state = state
        self._http = http
        self._client: Optional[WhatsAppClient] = None
        self._owns_http = http is None
        self._owns_state = state is None

    async def aclose(self) -> None:
        """Closes what this channel opened itself (the HTTP client, the state store)."""
        if self._owns_http and self._http is not None:
            await self._http.aclose()
        if self._owns_state and self._state is not None:
            await self._state.close()

    @property
    def state(self) -> StateStore:
        if self._state is None:
            self._state = open_state_store(self._environ)
        return self._state

    @property
    def client(self) -> WhatsAppClient:
        if self._client is None:
            if self._http is None:
                self._http = httpx.AsyncClient(timeout=10.0)
            self._client = WhatsAppClient(self._http, self._token, self._phone_number_id, self._api_base_url)
        return self._client

    def get_output_channel(self) -> WhatsAppOutput:
        """Used by Rasa for proactive messages (``output_channel=whatsapp``) and by ``connectors.outbound``."""
        return WhatsAppOutput(self.client, self.state, self.texts)

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        on_new_message = gated(on_new_message)  # staff may have this conversation
        hook = Blueprint(f"whatsapp_webhook_{id(self)}", __name__)

        @hook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @hook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            challenge = protocol.verify_challenge({k: request.args.get(k) for k in request.args}, self.verify_token)
            if challenge is None:
                logger.warning("WhatsApp verification refused from %s", request.ip)
                return response.text("forbidden", status=403)
            return response.text(challenge)

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            return await self._receive(request, on_new_message)

        return hook

    async def _receive(self, request: Request, on_new_message: OnNewMessage) -> HTTPResponse:
        """Size (413) and signature (403) first; a signed body we cannot read is acknowledged and ignored
        (`protocol.InboundError` says why). Each message is answered once (connectors/redelivery.py); when one
        could not be handled for something unreachable, the answer is 503 and Meta delivers the notification
        again (the messages handled meanwhile are then duplicates)."""
        if body_too_large(request.body, request.headers.get("content-length")):
            return response.json({"error": "payload too large"}, status=413)
        signature = request.headers.get(protocol.SIGNATURE_HEADER)
        if not protocol.verify_signature(self.app_secret, request.body or b"", signature):
            logger.warning("WhatsApp notification refused: bad %s from %s", protocol.SIGNATURE_HEADER, request.ip)
            return response.json({"error": "forbidden"}, status=403)
        try:
            notification = protocol.parse_inbound(protocol.load_notification(request.body))
        except protocol.InboundError as error:
            logger.warning("Signed WhatsApp notification ignored: %s", error)
            return response.json({"status": "ignored", "error": str(error)})
        for problem in notification.unreadable:
            logger.warning("Part of a signed WhatsApp notification ignored: %s", problem)
        redeliver = False
        for inbound in notification.messages:
            once = await handle_once(self.state, f"whatsapp:msg:{inbound.message_id}", protocol.DEDUP_TTL_S,
                                     partial(self._answer, inbound, on_new_message), GRAPH_API)
            if once.outcome is Outcome.DUPLICATE:
                logger.info("WhatsApp message %s delivered again: answered once already", inbound.message_id)
            redeliver = redeliver or once.outcome is Outcome.REDELIVER
        if redeliver:
            return please_redeliver()
        if notification.unreadable:
            return response.json({"status": "ok", "ignored": notification.unreadable})
        return response.json({"status": "ok"})

    async def _answer(self, inbound: protocol.Inbound, on_new_message: OnNewMessage) -> None:
        sender_id = namespaced(CHANNEL, inbound.wa_id)
        await record_inbound(self.state, sender_id, protocol.CUSTOMER_SERVICE_WINDOW_S)
        output = self.get_output_channel()

        async def note(name: str) -> None:
            language = await known_language(self.state, sender_id)
            await output.send_text_message(sender_id, self.texts.text(name, language, CHANNEL))

        if inbound.kind == "unsupported":
            await note("unsupported_message")
            return
        text = inbound.text or ""
        if too_long(text):  # a paste: answering part of it would answer the wrong question
            await output.send_text_message(sender_id, too_long_note(text, CHANNEL))
            return
        text = await take_pending_choice(self.state, sender_id, text) or text
        message = UserMessage(text, output, sender_id, input_channel=CHANNEL, message_id=inbound.message_id)
        await pass_on(message, on_new_message, partial(note, "something_went_wrong"))
