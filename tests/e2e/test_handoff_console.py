"""The staff console in headless Chromium with the real assistant: a user on the web page asks for a person, a member
of staff logs in, sees the waiting ticket, claims it, reads the transcript, replies (the user's page shows it),
sees the user's answer arrive without reloading, and resolves; the assistant then answers the user again."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Iterator, List

import pytest

from talentbot.core import paths
from talentbot.core.handoff.store import SqlTicketStore
from talentbot.wiring.handoff_cli import add_staff

pytestmark = pytest.mark.server

PASSWORD = "correct horse battery staple"
TIMEOUT_MS = 30_000
STAFF_REPLY = "Hello, this is Amy from the team. <b>Your QMAS points</b> need a closer look."
USER_ANSWER = "Thanks! <img src=x onerror=alert(1)>"


def bot_says(page, fragment: str) -> None:
    """Waits until a bot message on the chat page contains `fragment` (as text)."""
    page.wait_for_function(
        "f => [...document.querySelectorAll('.msg.bot')].some(m => m.textContent.includes(f))",
        arg=fragment, timeout=TIMEOUT_MS)


def send(page, text: str) -> None:
    page.fill("#text", text)
    page.press("#text", "Enter")


def record_errors(page) -> List[str]:
    """Collects the page's uncaught exceptions and console errors as they happen; the list must stay empty."""
    errors: List[str] = []

    def on_console(message) -> None:
        if message.type == "error":
            errors.append(f"console: {message.text}")

    page.on("pageerror", lambda error: errors.append(f"page error: {error}"))
    page.on("console", on_console)
    return errors


def log_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#login-form button[type=submit]")
    page.wait_for_url(f"{base_url}/")


def test_staff_take_a_web_conversation_and_hand_it_back(browser, bot) -> None:
    username = f"amy{uuid.uuid4().hex[:6]}"
    add_staff(username, "agent", PASSWORD, url=bot.running.handoff_db_url, rounds=4)
    user_context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, locale="en-GB")
    staff_context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    dialogs: list = []
    try:
        user = user_context.new_page()
        user.goto(f"{bot.url}/webhooks/web/")
        user.wait_for_function("document.documentElement.dataset.transport === 'socketio'", timeout=TIMEOUT_MS)
        session = user.evaluate("document.documentElement.dataset.session")
        send(user, "what is the top talent pass?")
        bot_says(user, "TTPS")
        send(user, "I'd like to talk to a member of staff")
        bot_says(user, "in the queue")

        store = SqlTicketStore.from_url(bot.running.handoff_db_url)
        try:
            ticket = store.open_ticket_for(session)
        finally:
            store.close()
        assert ticket is not None and (ticket.channel, ticket.language) == ("socketio", "en")

        console = staff_context.new_page()
        console_errors = record_errors(console)

        def on_dialog(dialog) -> None:
            dialogs.append(dialog.message)
            dialog.dismiss()

        for page in (user, console):
            page.on("dialog", on_dialog)
        console.goto(f"{bot.running.console_url}/")
        console.wait_for_url(re.compile(r".*/login$"))  # no page without a session
        console.fill("#username", username)
        console.fill("#password", PASSWORD)
        console.click("#login-form button[type=submit]")
        row = console.locator(f'#waiting tr[data-ticket-id="{ticket.id}"]')
        row.wait_for(timeout=TIMEOUT_MS)
        assert "socketio" in row.inner_text() and "requested" in row.inner_text()
        row.locator("a").click()

        console.wait_for_url(re.compile(rf".*/tickets/{ticket.id}$"))
        transcript = console.locator("#transcript")
        transcript.get_by_text("what is the top talent pass?").wait_for(timeout=TIMEOUT_MS)
        assert "TTPS" in transcript.inner_text()  # the bot's turns are in the transcript too
        console.click("#claim")
        console.locator("#reply-form").wait_for(state="visible", timeout=TIMEOUT_MS)
        assert console.locator("#claim").is_hidden()

        console.fill("#reply", STAFF_REPLY)
        console.click("#reply-form button[type=submit]")
        bot_says(user, STAFF_REPLY)  # reached the user's page, shown as text
        assert user.locator(".msg.bot b").count() == 0

        send(user, USER_ANSWER)
        console.locator("#messages").get_by_text(USER_ANSWER).wait_for(timeout=TIMEOUT_MS)  # live, no reload
        assert console.locator("#messages img").count() == 0

        console.click("#resolve")
        bot_says(user, "You're back with the assistant")
        console.wait_for_function("document.getElementById('title').textContent.includes('resolved')",
                                  timeout=TIMEOUT_MS)

        send(user, "how long does QMAS take to process?")
        bot_says(user, "QMAS")
        assert bot.tracker(session)["paused"] is False
        assert dialogs == [] and console_errors == []
    finally:
        user_context.close()
        staff_context.close()


# --- the console alone: `talentbot console` on its own SQLite queue, no Rasa (transcripts show as unavailable) ---


@dataclass
class ConsoleAlone:
    url: str
    db_url: str

    def open_ticket(self, conversation_id: str, summary: str, message: str) -> int:
        """A waiting ticket whose summary and one user message are `summary` and `message`."""
        store = SqlTicketStore.from_url(self.db_url)
        try:
            ticket = store.open_ticket(conversation_id, channel="rest", language="en", reason="requested",
                                       summary=summary, schemes=[], topics=[])
            store.add_message(ticket.id, "user", message)
            return ticket.id
        finally:
            store.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def console_alone(tmp_path_factory) -> Iterator[ConsoleAlone]:
    workdir = tmp_path_factory.mktemp("console")
    db_url = f"sqlite:///{workdir / 'handoff.sqlite3'}"
    add_staff("amy", "agent", PASSWORD, url=db_url, rounds=4)
    port = _free_port()
    env = {**os.environ, "HANDOFF_DB_URL": db_url, "RASA_URL": f"http://127.0.0.1:{_free_port()}"}
    env.pop("STAFF_CONSOLE_HOST", None)
    log = open(workdir / "console.log", "wb")
    process = subprocess.Popen([sys.executable, "-m", "talentbot.wiring.cli", "console", "--port", str(port)],
                               cwd=paths.ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, (workdir / "console.log").read_text(errors="replace")
            try:
                with urllib.request.urlopen(f"{url}/login", timeout=2):
                    break
            except OSError:
                assert time.monotonic() < deadline, "the console did not start"
                time.sleep(0.3)
        yield ConsoleAlone(url, db_url)
    finally:
        process.terminate()
        process.wait(timeout=15)
        log.close()


def test_log_in_queue_and_ticket_pages_raise_no_errors(browser, console_alone: ConsoleAlone) -> None:
    ticket_id = console_alone.open_ticket("rest:errors", "Can I bring my family?", "Hello?")
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    try:
        page = context.new_page()
        errors = record_errors(page)
        page.goto(f"{console_alone.url}/login")
        page.wait_for_load_state("load")
        page.wait_for_timeout(300)  # the page's script has run
        assert errors == []
        log_in(page, console_alone.url, "amy")
        page.locator(f'#waiting tr[data-ticket-id="{ticket_id}"]').wait_for(timeout=TIMEOUT_MS)
        page.goto(f"{console_alone.url}/tickets/{ticket_id}")
        page.locator("#messages").get_by_text("Hello?").wait_for(timeout=TIMEOUT_MS)
        assert errors == []
        page.goto(f"{console_alone.url}/")
        page.locator(f'#waiting tr[data-ticket-id="{ticket_id}"]').wait_for(timeout=TIMEOUT_MS)  # script ready
        page.click("#logout")
        page.wait_for_url(re.compile(r".*/login$"))
        page.wait_for_timeout(300)
        assert errors == []
    finally:
        context.close()


@pytest.mark.parametrize("width, height", [(1280, 900), (390, 844)])
def test_a_10000_character_word_wraps_within_the_page(browser, console_alone: ConsoleAlone, width: int,
                                                      height: int) -> None:
    word = "x" * 10_000
    ticket_id = console_alone.open_ticket(f"rest:long{width}", word, word)
    context = browser.new_context(viewport={"width": width, "height": height}, locale="en-GB")
    try:
        page = context.new_page()
        log_in(page, console_alone.url, "amy")
        page.goto(f"{console_alone.url}/tickets/{ticket_id}")
        page.locator("#messages li").first.wait_for(timeout=TIMEOUT_MS)
        page.goto(f"{console_alone.url}/")  # the queue's table too
        page.locator(f'#waiting tr[data-ticket-id="{ticket_id}"]').wait_for(timeout=TIMEOUT_MS)
        queue_width = page.evaluate("document.documentElement.scrollWidth")
        page.goto(f"{console_alone.url}/tickets/{ticket_id}")
        page.locator("#messages li").first.wait_for(timeout=TIMEOUT_MS)
        ticket_width = page.evaluate("document.documentElement.scrollWidth")
        assert page.locator("#messages li").first.inner_text().count("x") == 10_000  # all of it, wrapped
    finally:
        context.close()
    assert queue_width <= width and ticket_width <= width


def test_bidi_controls_in_user_text_are_shown_not_obeyed(browser, console_alone: ConsoleAlone) -> None:
    """A right-to-left override would show "\\u202egnp.exe" as "exe.png": it is shown as a visible code instead."""
    spoof = "invoice\u202egnp.exe"
    ticket_id = console_alone.open_ticket("rest:bidi", spoof, spoof + " and \u2067isolated\u2069")
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    try:
        page = context.new_page()
        log_in(page, console_alone.url, "amy")
        page.goto(f"{console_alone.url}/tickets/{ticket_id}")
        message = page.locator("#messages li span:not(.meta)").first
        message.wait_for(timeout=TIMEOUT_MS)
        shown = message.inner_text()
        summary = page.locator("#facts dd").nth(4).inner_text()  # "Asked"
        body = page.evaluate("document.body.textContent")
        isolated = message.evaluate("node => getComputedStyle(node).unicodeBidi")
    finally:
        context.close()
    assert shown == "invoice[U+202E]gnp.exe and [U+2067]isolated[U+2069]"
    assert summary == "invoice[U+202E]gnp.exe"
    assert not re.search("[\u202a-\u202e\u2066-\u2069]", body)
    assert isolated == "isolate"
