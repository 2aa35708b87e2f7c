"""The staff console in headless Chromium with the real assistant: a user on the web page asks for a person, a member
of staff logs in, sees the waiting ticket, claims it, reads the transcript, replies (the user's page shows it),
sees the user's answer arrive without reloading, and resolves; the assistant then answers the user again."""

from __future__ import annotations

import re
import uuid

import pytest

from talentbot.handoff.cli import add_staff
from talentbot.handoff.store import SqlTicketStore

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
        for page in (user, console):
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
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
        assert dialogs == []
    finally:
        user_context.close()
        staff_context.close()
