"""The console's insights and content-gap routes against the real server on a free port: supervisors only (staff get
a polite 403 page, the API a 403 error), the JSON figures, CSV downloads Excel opens (BOM, attachment), bad input."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from typing import Iterator

import pytest

from talentbot.console.web import PAGES
from talentbot.core.analytics.records import message_row
from talentbot.core.analytics.store import AnalyticsStore
from talentbot.core.handoff.accounts import StaffDirectory
from talentbot.core.handoff.hours import HONG_KONG
from talentbot.core.handoff.store import SqlTicketStore
from tests.talentbot.conftest import RunningConsole, running_console

pytestmark = pytest.mark.server

SALT = b"s" * 32
PERIOD = {"from": "2025-06-02", "to": "2025-06-08"}
SCRIPT = (PAGES / "assets" / "insights.js").read_text(encoding="utf-8")


@pytest.fixture(autouse=True)
def one_database(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The figures come from the queue's own database (no ANALYTICS_DB_URL of the machine's)."""
    monkeypatch.delenv("ANALYTICS_DB_URL", raising=False)
    yield


def hk(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=HONG_KONG)


def add_rows(store: SqlTicketStore, analytics_url: str = "") -> None:
    url = analytics_url or store.engine.url.render_as_string(hide_password=False)
    analytics = AnalyticsStore.from_url(url)
    rows = []
    for number, (sender, language, text_) in enumerate([
        ("telegram:1", "zh-Hant", "我想問下點樣續簽"), ("telegram:1", "zh-Hant", "可唔可以帶狗"),
        ("web:2", "zh-Hans", "怎么续签"), ("web:3", "en", "how do I renew"),
    ]):
        event = {"sender_id": sender, "event": "user", "timestamp": hk(f"2025-06-03 10:0{number}").timestamp(),
                 "text": text_, "input_channel": sender.split(":")[0],
                 "parse_data": {"intent": {"name": "nlu_fallback", "confidence": 0.2}}}
        made = message_row(event, {"v": 1, "language": language, "actions": ["utter_ask_rephrase"], "outcome": {}},
                           SALT, hk("2025-06-03 11:00"))
        assert made is not None
        rows.append(made)
    analytics.add(rows)
    analytics.close()
    store.open_ticket("telegram:1", "telegram", "zh-Hant", "not_understood", now=hk("2025-06-03 10:05"))


@pytest.mark.parametrize("path", ["/insights", "/insights/gaps"])
async def test_the_pages_need_a_session(console: RunningConsole, path: str) -> None:
    async with console.client() as client:
        response = await client.get(path)
    assert response.status_code == 302 and response.headers["location"] == "/login"


@pytest.mark.parametrize("path", ["/api/insights", "/api/insights.csv?table=languages", "/api/insights/gaps",
                                  "/api/insights/gaps.csv?table=stale"])
async def test_the_api_needs_a_session(console: RunningConsole, path: str) -> None:
    async with console.client() as client:
        response = await client.get(path)
    assert response.status_code == 401 and response.json() == {"error": "log in first"}


async def test_staff_who_are_not_supervisors_get_a_polite_403(console: RunningConsole) -> None:
    client, _ = await console.logged_in("amy")
    async with client:
        pages = [await client.get(path) for path in ("/insights", "/insights/gaps")]
        apis = [await client.get(path) for path in ("/api/insights", "/api/insights.csv?table=languages",
                                                    "/api/insights/gaps", "/api/insights/gaps.csv?table=stale")]
    for page in pages:
        assert page.status_code == 403 and page.headers["content-type"].startswith("text/html")
        assert "supervisors only" in page.text and 'href="/"' in page.text
        assert "content-security-policy" in page.headers
    for response in apis:
        assert response.status_code == 403 and response.json() == {"error": "the insights are for supervisors"}


async def test_a_supervisor_gets_the_pages_and_the_figures(console: RunningConsole) -> None:
    add_rows(console.store)
    client, _ = await console.logged_in("sue")
    async with client:
        page = await client.get("/insights")
        gaps_page = await client.get("/insights/gaps")
        figures = await client.get("/api/insights", params=PERIOD)
        default = await client.get("/api/insights")
    assert page.status_code == gaps_page.status_code == 200
    assert 'data-page="insights"' in page.text and 'data-page="gaps"' in gaps_page.text
    body = figures.json()
    assert figures.status_code == 200 and figures.headers["cache-control"] == "no-store"
    assert (body["from"], body["to"], body["time_zone"]) == ("2025-06-02", "2025-06-08", "Asia/Hong_Kong")
    assert body["tables"]["languages"]["rows"] == [["en", 1, 1], ["zh-Hant", 1, 2], ["zh-Hans", 1, 1]]
    assert body["summary"]["fallback_rate"] == 1.0 and body["summary"]["handoffs"] == 1
    reasons = {row[0]: row[1] for row in body["tables"]["handoff_reasons"]["rows"]}
    assert reasons["not_understood"] == 1
    assert default.status_code == 200 and len(default.json()["series"]["days"]) == 7


async def test_the_analytics_may_live_in_a_database_of_their_own(store: SqlTicketStore, directory: StaffDirectory,
                                                                  tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    analytics_url = f"sqlite:///{tmp_path / 'analytics.sqlite3'}"
    add_rows(store, analytics_url)  # the ticket in the queue's database, the messages in the other
    monkeypatch.setenv("ANALYTICS_DB_URL", analytics_url)
    async with running_console(store, directory) as console:
        client, _ = await console.logged_in("sue")
        async with client:
            body = (await client.get("/api/insights", params=PERIOD)).json()
    assert body["summary"]["messages"] == 4 and body["summary"]["handoffs"] == 1


async def test_a_table_as_csv_for_excel(console: RunningConsole) -> None:
    add_rows(console.store)
    client, _ = await console.logged_in("sue")
    async with client:
        response = await client.get("/api/insights.csv", params={**PERIOD, "table": "languages"})
        gaps = await client.get("/api/insights/gaps.csv", params={**PERIOD, "table": "unanswered"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == \
        'attachment; filename="talentbot-insights-languages-2025-06-02-2025-06-08.csv"'
    assert response.content.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel then reads the Chinese right
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows == [["Language", "Conversations", "Messages"], ["en", "1", "1"], ["zh-Hant", "1", "2"],
                    ["zh-Hans", "1", "1"]]
    assert gaps.status_code == 200 and "talentbot-content-gaps-unanswered-" in gaps.headers["content-disposition"]
    unanswered = list(csv.reader(io.StringIO(gaps.content.decode("utf-8-sig"))))
    assert unanswered[0] == ["Question (masked)", "Messages", "Languages", "Best guesses"]
    assert sum(int(row[1]) for row in unanswered[1:]) == 4
    assert any(re.search("[\u4e00-\u9fff]", row[0]) for row in unanswered[1:])


async def test_the_content_gap_report(console: RunningConsole) -> None:
    client, _ = await console.logged_in("sue")
    async with client:
        report = await client.get("/api/insights/gaps", params={**PERIOD, "stale_days": "365"})
        strict = await client.get("/api/insights/gaps", params={**PERIOD, "stale_days": "1"})
    body = report.json()
    assert report.status_code == 200 and body["stale_days"] == 365
    assert set(body["tables"]) == {"unanswered", "handoff_entries", "stale"}
    assert len(strict.json()["tables"]["stale"]["rows"]) >= len(body["tables"]["stale"]["rows"]) > 0


@pytest.mark.parametrize("path, params, status, problem", [
    ("/api/insights", {"from": "2025-13-01"}, 400, "YYYY-MM-DD"),
    ("/api/insights", {"from": "2025-06-08", "to": "2025-06-01"}, 400, "after"),
    ("/api/insights", {"from": "2020-01-01", "to": "2025-06-01"}, 400, "at most"),
    ("/api/insights.csv", {"table": "passwords"}, 404, "no table"),
    ("/api/insights.csv", {}, 404, "no table"),
    ("/api/insights/gaps", {"stale_days": "-1"}, 400, "stale_days"),
    ("/api/insights/gaps", {"stale_days": "１２"}, 400, "stale_days"),
    ("/api/insights/gaps.csv", {"table": "languages"}, 404, "no table"),
])
async def test_bad_requests(console: RunningConsole, path: str, params: dict, status: int, problem: str) -> None:
    client, _ = await console.logged_in("sue")
    async with client:
        response = await client.get(path, params=params)
    assert response.status_code == status and problem in response.json()["error"]


async def test_nothing_here_changes_state_so_post_is_refused(console: RunningConsole) -> None:
    client, csrf = await console.logged_in("sue")
    async with client:
        response = await client.post("/api/insights", json={}, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 405 and "error" in response.json()


def test_the_queue_page_links_to_the_insights_for_supervisors() -> None:
    queue = (PAGES / "queue.html").read_text(encoding="utf-8")
    assert '<a id="insights-link" href="/insights" hidden>' in queue
    assert 'getElementById("insights-link").hidden = false' in (PAGES / "assets" / "console.js").read_text("utf-8")


@pytest.mark.parametrize("sink", ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(",
                                  "new Function", "setAttribute(\"on"])
def test_the_insights_script_never_turns_text_into_html_or_code(sink: str) -> None:
    assert sink not in SCRIPT


def test_the_insights_script_works_without_chart_js() -> None:
    assert 'typeof window.Chart !== "function"' in SCRIPT
    html = (PAGES / "insights.html").read_text(encoding="utf-8")
    scripts = re.findall(r'<script src="([^"]+)"', html)
    assert scripts == ["/static/console.js", "/static/vendor/chart.umd.js", "/static/insights.js"]
