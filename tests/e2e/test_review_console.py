"""The review queue page in headless Chromium: a supervisor opens it from the queue page, sees the group of one
question asked in three languages with its counts, guesses and texts (a message holding HTML shown as text, never
run), marks it as a paraphrase of an intent picked in the searchable list, sees it move to the decided list and
withdraws it; an agent gets the 403 page. The console runs alone on a free port (no assistant needed)."""

from __future__ import annotations

import asyncio
import queue
import re
import threading
from pathlib import Path
from typing import Iterator, List, Tuple

import pytest
from aiohttp import web

from talentbot.core.analytics import db
from talentbot.core.analytics.records import message_row
from talentbot.core.analytics.store import AnalyticsStore
from talentbot.core.handoff.accounts import StaffDirectory
from talentbot.core.handoff.store import SqlTicketStore, utcnow
from tests.e2e.test_handoff_console import PASSWORD, log_in, record_errors

pytestmark = pytest.mark.server

TIMEOUT_MS = 30_000
SCRIPT_TEXT = 'asdf <img src=x onerror="document.title=\'pwned\'">'
MISSES: List[Tuple[str, str]] = [
    ("en", "Can I bring my dog to Hong Kong?"), ("en", "can i move to hk with my dog"),
    ("zh-Hant", "可唔可以帶隻狗嚟香港"), ("zh-Hans", "可以带狗去香港吗"), ("en", SCRIPT_TEXT),
]


@pytest.fixture
def console_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The console application alone, in a thread of its own, on a SQLite database holding the misses."""
    from talentbot.console.web import build_app

    monkeypatch.delenv("ANALYTICS_DB_URL", raising=False)
    url = f"sqlite:///{tmp_path / 'handoff.sqlite3'}"
    store = SqlTicketStore.from_url(url)
    directory = StaffDirectory(store.engine)
    directory.add("sue", "supervisor", PASSWORD, rounds=4)
    directory.add("amy", "agent", PASSWORD, rounds=4)
    db.upgrade(store.engine)
    rows = []
    for number, (language, text) in enumerate(MISSES):
        event = {"sender_id": f"web:{number}", "event": "user", "timestamp": 1_750_000_000.0 + number, "text": text,
                 "parse_data": {"intent": {"name": "nlu_fallback", "confidence": 0.3},
                                "question_bank": {"ranking": [{"id": "ttps.dependants", "score": 0.5,
                                                               "similarity": 0.2}]}}}
        made = message_row(event, {"v": 1, "language": language, "actions": [], "outcome": {}}, b"s" * 32, utcnow())
        assert made is not None
        rows.append(made)
    AnalyticsStore(store.engine).add(rows)

    async def nothing(*_args: object) -> list:
        return []

    # the console's own event loop in a thread (Playwright's sync API holds the main thread's)
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(build_app(store, directory, nothing, nothing))  # type: ignore[arg-type]
    started: "queue.Queue[str]" = queue.Queue()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        host, port = runner.addresses[0][:2]
        started.put(f"http://{host}:{port}")
        loop.run_forever()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield started.get(timeout=30)
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        store.close()


def loaded(page) -> None:
    page.locator("body[data-loaded]").wait_for(state="attached", timeout=TIMEOUT_MS)


def test_a_supervisor_decides_on_a_group_and_withdraws_it(console_url: str, browser) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    try:
        page = context.new_page()
        errors = record_errors(page)
        dialogs: List[str] = []

        def on_dialog(dialog) -> None:
            dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        log_in(page, console_url, "sue")
        page.locator("#review-link").wait_for(state="visible", timeout=TIMEOUT_MS)
        page.click("#review-link")
        page.wait_for_url(re.compile(r".*/review$"))
        loaded(page)
        assert "5 message(s) to review in 2 group(s)" in page.locator("#summary").inner_text()
        dogs = page.locator("article.group").first
        facts = dogs.locator("p.facts").first.inner_text()
        assert "4 messages" in facts and "en 2" in facts and "zh-Hant 1" in facts and "zh-Hans 1" in facts
        assert "entry ttps.dependants" in dogs.inner_text()
        assert dogs.locator("li input[type=checkbox]").count() == 4
        other = page.locator("article.group").nth(1)
        assert other.locator("h3").inner_text() == SCRIPT_TEXT  # shown as text
        assert page.locator("article.group img").count() == 0 and page.title() != "pwned"

        dogs.locator("input[list=targets]").fill("intent:ask_living_info")
        dogs.locator("li input[type=checkbox]").nth(2).uncheck()
        dogs.locator("button[type=submit]").click()
        page.locator("#decisions tbody tr").first.wait_for(timeout=TIMEOUT_MS)
        page.locator("article.group").nth(1).wait_for(state="detached", timeout=TIMEOUT_MS)
        row = page.locator("#decisions tbody tr").first.inner_text()
        assert "Paraphrase of intent ask_living_info" in row and "sue" in row
        assert "1 message(s) to review in 1 group(s); 4 decided." in page.locator("#summary").inner_text()

        page.locator("#decisions tbody tr button").first.click()
        page.locator("#decisions tbody tr").first.wait_for(state="detached", timeout=TIMEOUT_MS)
        page.locator("article.group").nth(1).wait_for(timeout=TIMEOUT_MS)
        assert page.locator("article.group").count() == 2
        assert errors == [] and dialogs == []

        agent = browser.new_context()
        try:
            other_page = agent.new_page()
            log_in(other_page, console_url, "amy")
            assert other_page.locator("#review-link").is_hidden()
            response = other_page.goto(f"{console_url}/review")
            assert response is not None and response.status == 403
        finally:
            agent.close()
    finally:
        context.close()
