"""Every channel the assistant mounts passes its users' messages through the handoff gate: once staff have a
conversation, what the user writes goes to the ticket, not to the assistant, whichever way it came in.

Each channel is mounted as `rasa run` mounts it on a real Sanic server and driven through its real route (the
platforms' servers are fakes), in front of the real gate on a real SqlTicketStore (conftest.handoff_store).
"""
from __future__ import annotations

import hashlib
import hmac
import importlib
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

import pytest
import yaml

from connectors import registry
from connectors.rest import RestInput
from connectors.telegram import TelegramInput
from connectors.webchat import SocketIOChannel
from connectors.wechat import WeChatInput
from connectors.whatsapp import WhatsAppInput
from talentbot.core import paths
from tools.bench.socketio_client import SocketIOClient

pytestmark = pytest.mark.server

Say = Callable[[str], Awaitable[None]]
"""Sends one text as the user, through the channel's route, and returns once the channel has handled it."""


@dataclass
class Mounted:
    """One channel on a running server: `user()` is a new user of it, as (conversation id, say)."""

    user: Callable[[], Awaitable[tuple[str, Say]]]


@dataclass
class Context:
    """What a driver mounts its channel with: the test server, the stand-in for Rasa, the fake platform servers."""

    serve: Any
    assistant: Any
    http: Any
    state: Any
    fakes: dict[str, Any]
    closing: list[Callable[[], Awaitable[Any]]] = field(default_factory=list)


async def wechat(context: Context) -> Mounted:
    token, http = "talentbot", context.http
    channel = WeChatInput(token, "wx_app", "app_secret", api_base_url=context.fakes["wechat_api"].url,
                          state=context.state, http=http)
    context.closing.append(channel.aclose)
    url = f"{await context.serve(channel, context.assistant)}/webhooks/wechat/webhook"

    async def user() -> tuple[str, Say]:
        openid = f"o{uuid.uuid4().hex}"

        async def say(text: str) -> None:
            timestamp, nonce = str(int(time.time())), uuid.uuid4().hex
            signature = hashlib.sha1("".join(sorted((token, timestamp, nonce))).encode()).hexdigest()
            xml = (f"<xml><ToUserName><![CDATA[gh_talent]]></ToUserName><FromUserName><![CDATA[{openid}]]>"
                   f"</FromUserName><CreateTime>{timestamp}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
                   f"<Content><![CDATA[{text}]]></Content><MsgId>{uuid.uuid4().int % 10**18}</MsgId></xml>")
            answer = await http.post(url, params={"signature": signature, "timestamp": timestamp, "nonce": nonce},
                                     content=xml.encode())
            assert answer.status_code == 200

        return f"wechat:{openid}", say

    return Mounted(user)


async def telegram(context: Context) -> Mounted:
    secret, http = "webhook-s3cret", context.http
    channel = TelegramInput("7000001:AAtest", secret, api_base_url=context.fakes["telegram_api"].url,
                            state=context.state)
    context.closing.append(channel.aclose)
    url = f"{await context.serve(channel, context.assistant)}/webhooks/telegram/webhook"

    async def user() -> tuple[str, Say]:
        chat = 5_000_000 + uuid.uuid4().int % 1_000_000

        async def say(text: str) -> None:
            update_id = uuid.uuid4().int % 10**9
            update = {"update_id": update_id, "message": {
                "message_id": update_id, "date": int(time.time()), "chat": {"id": chat, "type": "private"},
                "from": {"id": chat, "is_bot": False, "first_name": "Ann", "language_code": "en"}, "text": text}}
            answer = await http.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": secret})
            assert answer.status_code == 200

        return f"telegram:{chat}", say

    return Mounted(user)


async def whatsapp(context: Context) -> Mounted:
    secret, phone_id, http = "app-secret", "106540352242922", context.http
    channel = WhatsAppInput("EAAtoken", secret, "verify-me", phone_id, api_base_url=context.fakes["graph_api"].url,
                            state=context.state, http=http)
    context.closing.append(channel.aclose)
    url = f"{await context.serve(channel, context.assistant)}/webhooks/whatsapp/webhook"

    async def user() -> tuple[str, Say]:
        wa_id = f"852{uuid.uuid4().int % 10**8:08d}"

        async def say(text: str) -> None:
            message = {"from": wa_id, "id": f"wamid.{uuid.uuid4().hex}", "timestamp": str(int(time.time())),
                       "type": "text", "text": {"body": text}}
            value = {"messaging_product": "whatsapp", "metadata": {"phone_number_id": phone_id},
                     "messages": [message]}
            body = json.dumps({"object": "whatsapp_business_account",
                               "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": value}]}]}).encode()
            signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            answer = await http.post(url, content=body, headers={"X-Hub-Signature-256": signature,
                                                                 "Content-Type": "application/json"})
            assert answer.status_code == 200

        return f"whatsapp:{wa_id}", say

    return Mounted(user)


async def rest(context: Context) -> Mounted:
    url, http = f"{await context.serve(RestInput(), context.assistant)}/webhooks/rest/webhook", context.http

    async def user() -> tuple[str, Say]:
        sender = f"client-{uuid.uuid4().hex}"

        async def say(text: str) -> None:
            answer = await http.post(url, json={"sender": sender, "message": text})
            assert answer.status_code == 200

        return sender, say

    return Mounted(user)


async def socketio(context: Context) -> Mounted:
    channel = SocketIOChannel.from_credentials(
        {"user_message_evt": "user_uttered", "bot_message_evt": "bot_uttered", "session_persistence": True})
    base = await context.serve(channel, context.assistant)

    async def user() -> tuple[str, Say]:
        client = await SocketIOClient.connect(base)
        context.closing.append(client.close)
        session = await client.session()

        async def say(text: str) -> None:
            await client.emit("user_uttered", {"message": text, "session_id": session})
            name, _ = await client.event()  # the answer, or the queue's acknowledgement: the message was handled
            assert name == "bot_uttered"

        return session, say

    return Mounted(user)


DRIVERS = {"wechat": wechat, "telegram": telegram, "whatsapp": whatsapp, "rest": rest, "socketio": socketio}
FAKES = {"wechat": ["wechat_api"], "telegram": ["telegram_api"], "whatsapp": ["graph_api"]}
"""The fake platform servers (conftest) each driver needs."""

PAGE_ONLY = {"web"}
"""Mounted channels that take no messages: the chat page (its messages come through socketio, or rest)."""


def mounted_channels() -> set[str]:
    """The names of every channel `talentbot run` may mount: credentials.yml's and the registry's platforms."""
    credentials = yaml.safe_load(paths.CREDENTIALS.read_text(encoding="utf-8")) or {}
    module_paths = set(credentials) | {spec.module_path for spec in registry.CHANNELS.values()}
    names = set()
    for module_path in module_paths:
        module, _, name = module_path.rpartition(".")
        names.add(getattr(importlib.import_module(module), name).name())
    return names


def test_every_channel_the_assistant_mounts_is_checked_here() -> None:
    assert mounted_channels() - PAGE_ONLY == set(DRIVERS)


@pytest.fixture(params=sorted(DRIVERS))
def channel_name(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def fakes(request: pytest.FixtureRequest, channel_name: str) -> dict[str, Any]:
    """Started only for the channel that needs them (resolved here, outside the test's event loop)."""
    return {name: request.getfixturevalue(name) for name in FAKES.get(channel_name, [])}


@pytest.fixture
async def mounted(channel_name: str, fakes, serve, assistant, http, sqlite_store):
    context = Context(serve, assistant, http, sqlite_store, fakes)
    yield channel_name, await DRIVERS[channel_name](context)
    for close in reversed(context.closing):
        await close()


async def test_once_staff_have_the_conversation_its_messages_go_to_the_ticket(mounted, handoff_store, assistant):
    name, channel = mounted
    conversation, say = await channel.user()
    await say("What is TTPS?")
    assert [(m.sender_id, m.input_channel, m.text) for m in assistant.received] == [
        (conversation, name, "What is TTPS?")]  # no ticket: the assistant answers

    ticket = handoff_store.open_ticket(conversation, name, "en", "requested")
    await say("Is my application complete?")
    assert len(assistant.received) == 1  # nothing more reached the assistant
    assert [(m.sender, m.text) for m in handoff_store.messages(ticket.id)] == [("user", "Is my application complete?")]
