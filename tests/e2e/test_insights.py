"""The insights page end to end: the real assistant (Rasa server, action server, events consumer, staff console),
conversations through the REST channel in English, Cantonese (Traditional) and Simplified Chinese, then a supervisor
in headless Chromium: the page's tables count by language exactly what was sent, the charts are drawn when Chart.js
is installed (and the tables still come without it), the CSV download holds the same rows; an agent gets 403."""

from __future__ import annotations

import csv
import os
import re
import secrets
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Dict, List, Tuple

import httpx
import pytest
import sqlalchemy

from talentbot.console.web import PAGES
from talentbot.core.analytics.models import messages
from talentbot.rasa_plugins.tracker_store import sqlite_endpoint
from talentbot.wiring.devserver import assistant
from talentbot.wiring.handoff_cli import add_staff
from tests.e2e.conftest import CREDENTIALS, logs_shown_on_failure
from tests.e2e.test_events import model
from tests.e2e.test_handoff_console import PASSWORD, log_in, record_errors

pytestmark = pytest.mark.server

BROKER = "talentbot.rasa_plugins.event_broker.SpooledEventBroker"
TIMEOUT_MS = 30_000
CHART_JS = PAGES / "assets" / "vendor" / "chart.umd.js"

CONVERSATIONS: Dict[str, Tuple[str, List[str]]] = {
    "en-1": ("en", ["hello", "What is TTPS?"]),
    "en-2": ("en", ["How much do I need to earn for TTPS?"]),
    "yue-1": ("zh-Hant", ["高才通係咩？", "優才計劃要幾多分先得？"]),
    "hans-1": ("zh-Hans", ["你们好", "高才通是什么？"]),
}
"""sender (made unique per run) -> the language of its messages, and the messages."""


def expected_by_language() -> Dict[str, Tuple[int, int]]:
    """language -> (conversations, messages) sent."""
    conversations: Counter = Counter()
    sent: Counter = Counter()
    for language, texts in CONVERSATIONS.values():
        conversations[language] += 1
        sent[language] += len(texts)
    return {language: (conversations[language], sent[language]) for language in conversations}


def stored(url: str) -> int:
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(sqlalchemy.select(sqlalchemy.func.count()).select_from(messages)).scalar_one()
    except sqlalchemy.exc.OperationalError:
        return 0  # the consumer has not created its table yet
    finally:
        engine.dispose()


def shown_by_language(page) -> Dict[str, Tuple[int, int]]:
    rows = page.locator("#table-languages tbody tr")
    found = {}
    for index in range(rows.count()):
        cells = rows.nth(index).locator("td")
        language = cells.nth(0).get_attribute("data-language")
        found[language] = (int(cells.nth(1).inner_text()), int(cells.nth(2).inner_text()))
    return found


def loaded(page) -> None:
    """Waits for the page's figures (the console's CSP allows no string evaluation: no wait_for_function)."""
    page.locator("body[data-loaded]").wait_for(state="attached", timeout=TIMEOUT_MS)


def test_a_supervisor_sees_what_was_sent_and_an_agent_is_turned_away(tmp_path: Path, browser) -> None:
    started = time.monotonic()
    endpoints = {"tracker_store": sqlite_endpoint(tmp_path / "t.db"), "event_broker": {"type": BROKER}}
    env = {**os.environ, "TALENTBOT_ANALYTICS_SALT": secrets.token_urlsafe(32)}
    for variable in ("HANDOFF_DB_URL", "ANALYTICS_DB_URL", "TALENTBOT_EVENTS_SPOOL"):
        env.pop(variable, None)  # the test's own folder
    run = uuid.uuid4().hex[:8]
    total = sum(len(texts) for _language, texts in CONVERSATIONS.values())
    with logs_shown_on_failure(tmp_path), assistant(model(), tmp_path, endpoints, CREDENTIALS, env=env,
                                                    events_consumer=True) as running:
        supervisor, agent = f"sue{run}", f"amy{run}"
        add_staff(supervisor, "supervisor", PASSWORD, url=running.handoff_db_url, rounds=4)
        add_staff(agent, "agent", PASSWORD, url=running.handoff_db_url, rounds=4)
        for sender, (_language, texts) in CONVERSATIONS.items():
            for text in texts:
                reply = httpx.post(f"{running.url}/webhooks/rest/webhook",
                                   json={"sender": f"insights-{sender}-{run}", "message": text}, timeout=60)
                assert reply.status_code == 200 and reply.json(), text
        database, console_url = running.handoff_db_url, running.console_url
        assert database is not None and console_url is not None
        deadline = time.monotonic() + 30
        while stored(database) < total:
            assert time.monotonic() < deadline, f"the consumer stored {stored(database)} of {total}"
            time.sleep(0.3)

        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB", accept_downloads=True)
        try:
            page = context.new_page()
            errors = record_errors(page)
            log_in(page, console_url, supervisor)
            page.locator("#insights-link").wait_for(state="visible", timeout=TIMEOUT_MS)  # supervisors only
            page.click("#insights-link")
            page.wait_for_url(re.compile(r".*/insights(\?.*)?$"))
            loaded(page)
            assert shown_by_language(page) == expected_by_language()
            summary = page.locator("#summary").inner_text()
            assert re.search(rf"Messages\s+{total}\b", summary), summary

            charts = page.evaluate("""() => ['chart-messages', 'chart-conversations', 'chart-handoffs',
                'chart-eligibility'].map((id) => !!(window.Chart && Chart.getChart(document.getElementById(id))))""")
            if CHART_JS.exists():
                assert charts == [True] * 4 and page.locator("#charts").is_visible()
                assert page.locator("canvas#chart-messages").bounding_box()["height"] > 100
            else:
                assert charts == [False] * 4 and page.locator("#charts").is_hidden()

            with page.expect_download(timeout=TIMEOUT_MS) as download_info:
                page.click('section[data-table="languages"] a.csv')
            download = download_info.value
            assert re.fullmatch(r"talentbot-insights-languages-\d{4}-\d\d-\d\d-\d{4}-\d\d-\d\d\.csv",
                                download.suggested_filename)
            raw = Path(download.path()).read_bytes()
            assert raw.startswith(b"\xef\xbb\xbf")
            rows = list(csv.reader(raw.decode("utf-8-sig").splitlines()))
            assert rows[0] == ["Language", "Conversations", "Messages"]
            assert {row[0]: (int(row[1]), int(row[2])) for row in rows[1:]} == expected_by_language()
            if CHART_JS.exists():
                assert errors == []  # no CSP violation, no script error

            page.route("**/static/vendor/chart.umd.js", lambda route: route.abort())  # the library missing
            page.reload()
            loaded(page)
            assert shown_by_language(page) == expected_by_language() and page.locator("#charts").is_hidden()

            page.goto(f"{console_url}/insights/gaps")
            loaded(page)
            assert page.locator("#table-stale tbody tr").count() > 0

            other = browser.new_context(locale="en-GB")
            try:
                staff_page = other.new_page()
                log_in(staff_page, console_url, agent)
                assert staff_page.locator("#insights-link").is_hidden()
                response = staff_page.goto(f"{console_url}/insights")
                assert response is not None and response.status == 403
                assert "supervisors only" in staff_page.locator("#forbidden").inner_text()
                refused = staff_page.request.get(f"{console_url}/api/insights.csv?table=languages")
                assert refused.status == 403
            finally:
                other.close()
        finally:
            context.close()
    print(f"end to end in {time.monotonic() - started:.1f} s")
