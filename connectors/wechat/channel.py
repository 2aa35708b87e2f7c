"""Rasa glue for WeChat Official Accounts: the webhook (verification, signatures, dedup, passive reply or
customer-service API) and the output channel. Protocol details live in protocol.py, API calls in client.py."""
from __future__ import annotations

import asyncio
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
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException

from connectors import registry
from connectors.guards import body_too_large
from connectors.handoff_gate import gated
from connectors.inbound import too_long_note
from connectors.locale import language_hint
from connectors.output import TextFirstOutput, known_language, remember_language, take_pending_choice
from connectors.redelivery import STATE_STORE, Outcome, PlatformAPI, handle_once, pass_on, please_redeliver
from connectors.senders import namespaced
from connectors.state import StateStore, open_state_store
from connectors.texts import Texts, load_texts
from connectors.wechat import protocol
from connectors.wechat.client import DEFAULT_API_BASE_URL, WeChatClient, transient
from connectors.window import last_inbound, record_inbound, window_open
from talentbot.core.inbound import too_long
from talentbot.core.store_outages import StoreUnavailable, reporting

logger = logging.getLogger(__name__)

CHANNEL = "wechat"
HINT_TTL_S = 30 * 24 * 3600
"""How long the language WeChat told us (user locale) is used as a hint for the user's messages."""

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]
WECHAT_API = PlatformAPI("WeChat API", transient)


class WeChatOutput(TextFirstOutput):
    """Sends through the customer-service API (``/cgi-bin/message/custom/send``): proactive messages and
    answers that missed the passive-reply window."""

    channel = CHANNEL

    def __init__(self, client: WeChatClient, state: StateStore, texts: Texts) -> None:
        super().__init__(state, texts)
        self.client = client

    def split(self, text: str) -> list[str]:
        return protocol.split_for_limits(text)

    async def deliver(self, native: str, chunk: str) -> None:
        await self.client.send_text(native, chunk)

    async def window_open(self, recipient_id: str) -> bool:
        """Whether WeChat still accepts customer-service messages to this user (48 h after their last message)."""
        last = await last_inbound(self.state, recipient_id)
        return window_open(last, time.time(), protocol.CUSTOMER_SERVICE_WINDOW_S)


class PassiveReplyOutput(WeChatOutput):
    """Holds the answer while WeChat waits for a passive reply; after ``release()`` everything (held and later
    messages, in order) goes through the customer-service API."""

    def __init__(self, client: WeChatClient, state: StateStore, texts: Texts) -> None:
        super().__init__(client, state, texts)
        self._held: list[tuple[str, str]] = []
        self._released = False
        self._lock = asyncio.Lock()

    async def deliver(self, native: str, chunk: str) -> None:
        async with self._lock:
            if self._released:
                await super().deliver(native, chunk)
            else:
                self._held.append((native, chunk))

    def take_single(self) -> Optional[str]:
        """The answer when it is exactly one message (it then goes as the passive reply), else None."""
        if len(self._held) == 1 and not self._released:
            return self._held.pop()[1]
        return None

    @property
    def empty(self) -> bool:
        return not self._held

    async def release(self) -> None:
        """Switch to the customer-service API, sending what was held first."""
        async with self._lock:
            self._released = True
            held, self._held = self._held, []
            for native, chunk in held:
                await super().deliver(native, chunk)


class WeChatInput(InputChannel):
    """``/webhooks/wechat/webhook``: WeChat's server URL (GET verification, POST messages)."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL

    @classmethod
    def from_credentials(cls, credentials: Optional[dict[str, Any]]) -> "WeChatInput":
        """Secrets from the environment (interfaces.md §4); credentials.yml may tune ``reply_budget_s``."""
        return cls.from_env(os.environ, credentials)

    @classmethod
    def from_env(cls, environ: Mapping[str, str], credentials: Optional[dict[str, Any]] = None) -> "WeChatInput":
        try:
            env = registry.require(CHANNEL, environ)
        except KeyError:
            cls.raise_missing_credentials_exception()
        return cls(
            environ=environ,
            token=env["WECHAT_TOKEN"],
            app_id=env["WECHAT_APP_ID"],
            app_secret=env["WECHAT_APP_SECRET"],
            aes_key=env.get("WECHAT_AES_KEY"),
            api_base_url=env.get("WECHAT_API_BASE_URL", DEFAULT_API_BASE_URL),
            reply_budget_s=float((credentials or {}).get("reply_budget_s", protocol.PASSIVE_REPLY_BUDGET_S)),
        )

    def __init__(
        self,
        token: str,
        app_id: str,
        app_secret: str,
        aes_key: Optional[str] = None,
        api_base_url: str = DEFAULT_API_BASE_URL,
        state: Optional[StateStore] = None,
        http: Optional[httpx.AsyncClient] = None,
        reply_budget_s: float = protocol.PASSIVE_REPLY_BUDGET_S,
        clock: Callable[[], float] = time.time,
        texts: Optional[Texts] = None,
        environ: Mapping[str, str] = os.environ,
    ) -> None:
        self._environ = environ  # where the state store's URL is read
        self.token = token
        self.app_id = app_id
        self.crypto = protocol.make_crypto(token, aes_key, app_id) if aes_key else None
        self.reply_budget_s = reply_budget_s
        self.clock = clock
        self.texts = texts or load_texts()
        self._state = state
        self._http = http
        self._app_secret = app_secret
        self._api_base_url = api_base_url
        self._client: Optional[WeChatClient] = None
        self._tasks: set[asyncio.Task] = set()
        self._owns_http = http is None
        self._owns_state = state is None

    async def aclose(self) -> None:
        """Closes what this channel opened itself (the HTTP client, the state store)."""
        await self.drain()
        if self._owns_http and self._http is not None:
            await self._http.aclose()
        if self._owns_state and self._state is not None:
            await self._state.close()

    # Resources are made on first use, inside the server's event loop.
    @property
    def state(self) -> StateStore:
        if self._state is None:
            self._state = open_state_store(self._environ)
        return self._state

    @property
    def client(self) -> WeChatClient:
        if self._client is None:
            if self._http is None:
                self._http = httpx.AsyncClient(timeout=10.0)
            self._client = WeChatClient(self.app_id, self._app_secret, self._http, self.state, self._api_base_url)
        return self._client

    def get_output_channel(self) -> WeChatOutput:
        """Used by Rasa for proactive messages (``output_channel=wechat``) and by ``connectors.outbound``."""
        return WeChatOutput(self.client, self.state, self.texts)

    def _spawn(self, coroutine: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Waits for answers still being delivered through the customer-service API (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        on_new_message = gated(on_new_message)  # staff may have this conversation
        hook = Blueprint(f"wechat_webhook_{id(self)}", __name__)

        @hook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @hook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            check = self._check(request)
            if check is not protocol.SignatureCheck.VALID:
                return self._refuse(request, check.value)
            return response.text(request.args.get("echostr", ""))

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            return await self._receive(request, on_new_message)

        return hook

    def _check(self, request: Request) -> protocol.SignatureCheck:
        args = request.args
        return protocol.verify_signature(
            self.token, args.get("signature"), args.get("timestamp"), args.get("nonce"), self.clock()
        )

    @staticmethod
    def _refuse(request: Request, why: str) -> HTTPResponse:
        logger.warning("WeChat request refused (%s) from %s: %s", why, request.ip, request.query_string)
        return response.text("forbidden", status=403)

    def _plaintext(self, request: Request) -> str | bytes | HTTPResponse:
        """The message XML: the body itself, or in safe mode its decrypted ``<Encrypt>``."""
        if self.crypto is None:
            return request.body or b""  # parse_inbound refuses what is not UTF-8
        args = request.args
        msg_signature = args.get("msg_signature")
        if args.get("encrypt_type") != "aes" or not msg_signature:
            return self._refuse(request, "safe mode requires an encrypted body")
        try:
            encrypted = protocol.encrypted_part(request.body)
        except protocol.InboundError as error:
            return response.text(f"bad request: {error}", status=400)
        if not encrypted:
            return self._refuse(request, "no <Encrypt> element")
        try:
            return self.crypto.decrypt_message(
                {"Encrypt": encrypted}, msg_signature, args.get("timestamp"), args.get("nonce")
            )
        except (InvalidSignatureException, InvalidAppIdException):
            return self._refuse(request, "bad msg_signature or app id")
        except Exception as error:  # bad base64 / padding: not something WeChat sends
            return response.text(f"bad request: cannot decrypt ({type(error).__name__})", status=400)

    async def _unused_or_same_body(self, request: Request) -> bool:
        """Plain mode: False when this signed query string came before with another body (a forgery riding on a
        captured signature). The same body again is WeChat's retry: let through, the MsgId dedup answers it
        once. Safe mode needs no such check: its msg_signature covers the encrypted body."""
        timestamp, nonce = request.args.get("timestamp"), request.args.get("nonce")
        ttl_s = protocol.nonce_ttl_s(int(timestamp), self.clock())
        used, with_body = protocol.nonce_keys(timestamp, nonce, request.body)
        if not await self.state.claim(with_body, ttl_s):
            return True  # this very request again
        return await self.state.claim(used, ttl_s)

    def _xml(self, request: Request, xml: str) -> HTTPResponse:
        if self.crypto is not None:
            xml = self.crypto.encrypt_message(xml, request.args.get("nonce"), request.args.get("timestamp"))
        return response.text(xml, content_type="application/xml; charset=utf-8")

    async def _receive(self, request: Request, on_new_message: OnNewMessage) -> HTTPResponse:
        """Size (413), signature and nonce (403), body (400: `protocol.InboundError`); then the message is answered
        once (connectors/redelivery.py). When it could not be handled for something unreachable (the state store,
        WeChat's API), the answer is 503: WeChat delivers it again within its retries, and after them tells the
        user the account cannot answer now."""
        if body_too_large(request.body, request.headers.get("content-length")):
            return response.text("payload too large", status=413)
        check = self._check(request)
        if check is not protocol.SignatureCheck.VALID:
            return self._refuse(request, check.value)
        if self.crypto is None:
            try:
                with reporting(STATE_STORE):
                    fresh = await self._unused_or_same_body(request)
            except Exception as error:  # the nonce cannot be checked: not taken, WeChat delivers it again
                if not isinstance(error, StoreUnavailable):
                    logger.exception("Checking a WeChat nonce failed")
                return please_redeliver(as_json=False)
            if not fresh:
                return self._refuse(request, "timestamp and nonce already used with another body")
        plaintext = self._plaintext(request)
        if isinstance(plaintext, HTTPResponse):
            return plaintext
        try:
            inbound = protocol.parse_inbound(plaintext)
        except protocol.InboundError as error:
            logger.info("WeChat body refused: %s", error)
            return response.text(f"bad request: {error}", status=400)

        once = await handle_once(self.state, f"wechat:{inbound.dedup_key}", protocol.DEDUP_TTL_S,
                                 partial(self._handle, request, inbound, on_new_message), WECHAT_API)
        if once.outcome is Outcome.REDELIVER:
            return please_redeliver(as_json=False)
        if once.outcome is Outcome.DUPLICATE or once.value is None:
            if once.outcome is Outcome.DUPLICATE:
                logger.info("WeChat retry of %s answered once already", inbound.dedup_key)
            return response.text(protocol.SUCCESS)
        return once.value

    async def _handle(self, request: Request, inbound: protocol.Inbound, on_new_message: OnNewMessage) -> HTTPResponse:
        """One new message or event: the passive reply, or "success" (answers then go by the customer-service API)."""
        sender_id = namespaced(CHANNEL, inbound.openid)
        if inbound.event == "unsubscribe":
            await self.state.delete(f"choices:{sender_id}")
            return response.text(protocol.SUCCESS)
        await record_inbound(self.state, sender_id, protocol.CUSTOMER_SERVICE_WINDOW_S)

        output = PassiveReplyOutput(self.client, self.state, self.texts)
        if inbound.kind == "text":
            await self._answer_with_rasa(inbound, sender_id, output, on_new_message)
        elif inbound.event == "subscribe":
            language = language_hint(await self.client.user_locale(inbound.openid))
            if language:
                await self.state.put(f"hint:{sender_id}", language, ttl_s=HINT_TTL_S)
                await remember_language(self.state, sender_id, language)
            await output.send_text_message(sender_id, self.texts.text("welcome", language, CHANNEL))
        elif inbound.kind == "unsupported":
            language = await known_language(self.state, sender_id)
            await output.send_text_message(sender_id, self.texts.text("unsupported_message", language, CHANNEL))
        return self._finish(request, inbound, output)

    async def _answer_with_rasa(
        self, inbound: protocol.Inbound, sender_id: str, output: PassiveReplyOutput, on_new_message: OnNewMessage
    ) -> None:
        """Runs Rasa; waits for it only as long as the passive-reply budget, then lets it finish in the background.
        Raises `Redeliver` when Rasa refused the message for an outage and the refusal could not be given."""
        text = inbound.text or ""
        if too_long(text):  # a paste: answering part of it would answer the wrong question
            await output.send_text_message(sender_id, too_long_note(text, CHANNEL))
            return
        text = await take_pending_choice(self.state, sender_id, text) or text
        hint = await self.state.get(f"hint:{sender_id}")
        message = UserMessage(
            text,
            output,
            sender_id,
            input_channel=CHANNEL,
            message_id=inbound.dedup_key,
            metadata={"language": hint} if hint else {},
        )

        async def apologise() -> None:
            language = await known_language(self.state, sender_id)
            await output.send_text_message(sender_id, self.texts.text("something_went_wrong", language, CHANNEL))

        task = asyncio.ensure_future(pass_on(message, on_new_message, apologise))
        done, _ = await asyncio.wait({task}, timeout=self.reply_budget_s)
        if not done:
            logger.info("Rasa slower than %.1f s for %s: answering by customer-service API",
                        self.reply_budget_s, sender_id)
            self._spawn(self._deliver_late(task, output))
            return
        task.result()

    async def _deliver_late(self, task: asyncio.Future, output: PassiveReplyOutput) -> None:
        try:
            await task
        except Exception:  # WeChat was told "success" already: nothing can bring the message back
            logger.exception("A WeChat message answered after the passive-reply window failed")
        try:
            await output.release()
        except Exception:
            logger.exception("WeChat customer-service delivery failed")

    def _finish(self, request: Request, inbound: protocol.Inbound, output: PassiveReplyOutput) -> HTTPResponse:
        """One message: the passive reply. None: "success". Several: "success" now, all of them in order through
        the customer-service API (a passive reply can carry one message only). Answers still being computed are
        already on their way to the customer-service API and are not touched here."""
        single = output.take_single()
        if single is not None:
            return self._xml(request, protocol.render_reply(inbound, single, int(self.clock())))
        if not output.empty:
            self._spawn(self._release(output))
        return response.text(protocol.SUCCESS)

    async def _release(self, output: PassiveReplyOutput) -> None:
        try:
            await output.release()
        except Exception:
            logger.exception("WeChat customer-service delivery failed")
