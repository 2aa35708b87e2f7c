"""The chat page in headless Chromium on a phone-sized screen: a full exchange with the real assistant over socket.io,
and the REST fallback when the websocket cannot connect. Debian's chromium, driven by Playwright; never downloaded."""

from __future__ import annotations

import os
import re
import time
from typing import List, Optional
from urllib.parse import urlparse

import pytest

from talentbot.core.language import EN, ZH_HANS, ZH_HANT, detect
from talentbot.rasa_plugins.tracker_store import sqlite_endpoint
from talentbot.wiring.devserver import assistant

pytestmark = pytest.mark.server

PHONE = {"width": 390, "height": 844}
"""An iPhone 12-14 sized viewport in CSS pixels."""

REPLY_TIMEOUT_MS = 30_000
"""A reply on a busy 2-core machine; the assistant itself answers in well under a second."""

SETTLE_S = 0.8
"""socket.io sends one event per bot message: a reply is complete when no new message came for this long."""

SOCKETIO_CHANNEL = "connectors.webchat.SocketIOChannel"
SOCKETIO_SETTINGS = {"user_message_evt": "user_uttered", "bot_message_evt": "bot_uttered", "session_persistence": True}
XSS = "<img src=x onerror=alert(1)>"


def _e2e_conftest(config: pytest.Config):
    for plugin in config.pluginmanager.get_plugins():
        if str(getattr(plugin, "__file__", "")).endswith(os.path.join("tests", "e2e", "conftest.py")):
            return plugin
    raise RuntimeError("tests/e2e/conftest.py not loaded")


@pytest.fixture(scope="module")
def web_bot(request: pytest.FixtureRequest, tmp_path_factory):
    """The session's `bot` when it serves the page's socket.io channel; else the same set-up with it added."""
    conftest = _e2e_conftest(request.config)
    if SOCKETIO_CHANNEL in conftest.CREDENTIALS:
        yield request.getfixturevalue("bot")
        return
    workdir = tmp_path_factory.mktemp("web")
    credentials = {**conftest.CREDENTIALS, SOCKETIO_CHANNEL: SOCKETIO_SETTINGS}
    endpoints = {"tracker_store": sqlite_endpoint(workdir / "t.db")}
    with assistant(conftest.trained_model(), workdir, endpoints, credentials) as running:
        yield conftest.Client(running)


@pytest.fixture
def page(browser, web_bot):
    """A fresh phone-sized page (its own storage, so its own conversation) that fails on any JavaScript dialog."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="en-GB")
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{web_bot.url}/webhooks/web/")
    yield page
    context.close()


def bot_texts(page) -> List[str]:
    return page.locator(".msg.bot").all_inner_texts()


def wait_for_reply(page, before: int) -> List[str]:
    """The bot messages after the first `before`, once they stop arriving."""
    page.wait_for_function(
        "n => document.querySelectorAll('.msg.bot').length > n", arg=before, timeout=REPLY_TIMEOUT_MS
    )
    count = -1
    while count != len(bot_texts(page)):
        count = len(bot_texts(page))
        time.sleep(SETTLE_S)
    return bot_texts(page)[before:]


def ask(page, text: str) -> List[str]:
    before = len(bot_texts(page))
    page.fill("#text", text)
    page.press("#text", "Enter")
    return wait_for_reply(page, before)


def language_of(replies: List[str]) -> Optional[str]:
    return detect(" ".join(replies), current=None).language


def transport(page, expected: str) -> str:
    page.wait_for_function(
        "t => document.documentElement.dataset.transport === t", arg=expected, timeout=REPLY_TIMEOUT_MS
    )
    return page.evaluate("document.documentElement.dataset.session")


def test_a_full_exchange_over_socketio_on_a_phone(page, web_bot, tmp_path) -> None:
    session = transport(page, "socketio")
    assert re.fullmatch(r"web:[0-9a-f]{32}", session)
    assert page.inner_text("#send") == "Send"

    greeting = ask(page, "hello")
    assert greeting and language_of(greeting) == EN

    answer = ask(page, "高才通要咩條件？")
    assert language_of(answer) == ZH_HANT
    assert "250萬" in " ".join(answer)
    assert page.evaluate("document.documentElement.lang") == ZH_HANT  # the page's own labels follow the reply
    assert page.inner_text("#send") == "傳送"

    links = page.locator(".msg.bot a").all()  # the greeting has none: these are the answer's
    hrefs = [a.get_attribute("href") for a in links]
    assert hrefs, "the TTPS answer cites its official source as a link"
    assert all(href in " ".join(answer) for href in hrefs)
    for a in links:
        assert a.inner_text() == a.get_attribute("href")  # the text is the address: nothing hidden behind it
        assert a.get_attribute("rel") == "noopener noreferrer"
    assert any(urlparse(href).scheme == "https" and urlparse(href).hostname.endswith(".gov.hk") for href in hrefs)

    buttons = page.locator(".buttons").last.locator("button")
    title = buttons.first.inner_text()
    before = len(bot_texts(page))
    buttons.first.click()
    more = wait_for_reply(page, before)
    assert page.locator(".msg.user").last.inner_text() == title  # the title is shown, the payload is sent
    assert language_of(more) == ZH_HANT
    assert more[0] not in answer  # more detail, not the same answer again

    before_images = page.locator("#log img").count()
    ask(page, XSS)
    assert page.locator(".msg.user").last.inner_text() == XSS
    assert page.locator("#log img").count() == before_images == 0
    assert page.dialogs == []

    page.select_option("#lang", ZH_HANS)
    changed = wait_for_reply(page, len(bot_texts(page)))
    assert language_of(changed) == ZH_HANS
    assert page.inner_text("#send") == "发送"

    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scrolling
    for selector in ("#text", "#send", "#lang"):
        box = page.locator(selector).bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        assert box["y"] + box["height"] <= PHONE["height"]

    shot = tmp_path / "web-page.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000

    tracker = web_bot.tracker(session)
    assert tracker["latest_input_channel"] == "socketio"
    said = [e["text"] for e in tracker["events"] if e["event"] == "user"]
    assert said[:2] == ["hello", "高才通要咩條件？"] and XSS in said


def test_falls_back_to_rest_when_the_websocket_cannot_connect(browser, web_bot) -> None:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="zh-HK")
    try:
        page = context.new_page()
        page.route_web_socket(re.compile(r".*/socket\.io/.*"), lambda ws: ws.close())
        page.goto(f"{web_bot.url}/webhooks/web/")
        transport(page, "rest")
        assert page.inner_text("#send") == "傳送"  # a Hong Kong browser gets Traditional Chinese labels
        reply = ask(page, "hello")
        assert reply and language_of(reply) == EN
        session = page.evaluate("document.documentElement.dataset.session")
        assert re.fullmatch(r"web:[0-9a-f]{32}", session)
        assert web_bot.tracker(session)["latest_input_channel"] == "rest"
    finally:
        context.close()
