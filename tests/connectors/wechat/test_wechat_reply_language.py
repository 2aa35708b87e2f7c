"""The language of WeChat's own prompt ("reply with a number") comes from Rasa, for real: the Rasa server with the
trained model and the action server, the WeChat channel answering through a fake WeChat API. A new user without a
known language (no locale hint, nothing remembered) would otherwise get the channel's two fallback languages.

Both ways a reply reaches the channel are covered: a domain response (its variation's condition names the language;
the English variation has none) and the actions' messages (their metadata names it: actions/replies.py)."""
from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import time
import uuid

import httpx
import pytest
import xmltodict

from connectors.texts import load_texts
from talentbot.rasa_plugins.tracker_store import sqlite_endpoint
from talentbot.wiring.devserver import assistant
from talentbot.wiring.training import model_path

pytestmark = pytest.mark.server

TOKEN = "talentbot"
CUSTOM_SEND = "cgi-bin_message_custom_send"


def prompt(language: str) -> str:
    return load_texts().text("choose_by_number", language, "wechat")


def prompt_of(text: str) -> str:
    """What follows the numbered choices of a message (the channel's prompt)."""
    blocks = text.split("\n\n")
    menu = next(i for i, block in enumerate(blocks) if block.startswith("1. "))
    return "\n\n".join(blocks[menu + 1:])


async def test_the_prompt_is_in_the_language_rasa_answered_in(wechat_api, tmp_path) -> None:
    if not model_path().exists():
        pytest.fail("no trained model: run `make train` (make test does it before the server tests)")
    env = {**os.environ, "WECHAT_TOKEN": TOKEN, "WECHAT_APP_ID": "wx_app", "WECHAT_APP_SECRET": "s",
           "WECHAT_API_BASE_URL": wechat_api.url, "CONNECTORS_STATE_URL": f"sqlite:///{tmp_path / 'state.sqlite3'}"}
    endpoints = {"tracker_store": sqlite_endpoint(tmp_path / "trackers.db")}
    credentials = {"connectors.wechat.WeChatInput": {"reply_budget_s": 30}}  # every answer in the passive reply
    servers = contextlib.ExitStack()
    # started in a thread: the fake WeChat API runs on this test's event loop and must keep answering meanwhile
    running = await asyncio.to_thread(
        servers.enter_context, assistant(model_path(), tmp_path, endpoints, credentials, env=env, console=False))
    webhook = f"{running.url}/webhooks/wechat/webhook"

    async def say(http: httpx.AsyncClient, openid: str, text: str) -> list[str]:
        """What the user is sent for one message: the passive reply, or the customer-service messages."""
        before = len(wechat_api.to(CUSTOM_SEND))
        timestamp, nonce = str(int(time.time())), uuid.uuid4().hex
        query = {"timestamp": timestamp, "nonce": nonce,
                 "signature": hashlib.sha1("".join(sorted((TOKEN, timestamp, nonce))).encode()).hexdigest()}
        xml = (f"<xml><ToUserName><![CDATA[gh_talent]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName>"
               f"<CreateTime>{timestamp}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
               f"<Content><![CDATA[{text}]]></Content><MsgId>{uuid.uuid4().int % 10**18}</MsgId></xml>")
        answer = await http.post(webhook, params=query, content=xml.encode())
        assert answer.status_code == 200
        if answer.headers["content-type"].startswith("application/xml"):
            return [xmltodict.parse(answer.text)["xml"]["Content"]]
        for _ in range(200):  # several messages: on their way through the customer-service API
            sent = [r.json()["text"]["content"] for r in wechat_api.to(CUSTOM_SEND)[before:]]
            if sent:
                await asyncio.sleep(0.5)  # the rest of them
                return [r.json()["text"]["content"] for r in wechat_api.to(CUSTOM_SEND)[before:]]
            await asyncio.sleep(0.05)
        raise AssertionError(f"nothing sent for {text!r}")

    try:
        async with httpx.AsyncClient(timeout=60) as http:
            # a domain response, English (the variation without a condition): the slot's initial value
            [english] = await say(http, f"o{uuid.uuid4().hex}", "/change_language")
            assert english.startswith("Which language would you like me to use?")
            assert prompt_of(english) == prompt("en")

            # the same response for a Cantonese speaker (the variation conditioned on zh-Hant)
            cantonese = f"o{uuid.uuid4().hex}"
            await say(http, cantonese, "高才通要咩條件？")
            [asked] = await say(http, cantonese, "/change_language")
            assert asked.startswith("你想我用邊種語言答你？") and prompt_of(asked) == prompt("zh-Hant")

            # action_answer's messages for a new user writing Simplified Chinese: every numbered menu in zh-Hans
            answers = await say(http, f"o{uuid.uuid4().hex}", "高才通申请条件是什么")
            menus = [text for text in answers if "\n1. " in text]
            assert menus, f"no answer with buttons to check: {answers}"
            assert [prompt_of(text) for text in menus] == [prompt("zh-Hans")] * len(menus)

            # the eligibility form's question (an action of its own), for a new user: English, as the slot starts
            question = await say(http, f"o{uuid.uuid4().hex}", "/check_eligibility")
            asked_first = [text for text in question if "\n1. " in text]
            assert asked_first and [prompt_of(text) for text in asked_first] == [prompt("en")] * len(asked_first)
    finally:
        await asyncio.to_thread(servers.close)
