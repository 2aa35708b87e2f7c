"""The console pages: only our own script, text inserted with textContent, the same JSON API as scripts use."""

from __future__ import annotations

import re

import pytest

from talentbot.console.web import PAGES

SCRIPT = (PAGES / "assets" / "console.js").read_text(encoding="utf-8")
HTML_PAGES = sorted(PAGES.glob("*.html"))


@pytest.mark.parametrize("sink", ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(",
                                  "new Function", "setAttribute(\"on"])
def test_the_script_never_turns_text_into_html_or_code(sink: str) -> None:
    assert sink not in SCRIPT


def test_the_script_inserts_text_with_text_content() -> None:
    assert "textContent" in SCRIPT


@pytest.mark.parametrize("page", HTML_PAGES, ids=lambda path: path.name)
def test_pages_have_no_inline_script_or_handlers(page) -> None:
    html = page.read_text(encoding="utf-8")
    scripts = re.findall(r"<script[^>]*>", html)
    assert scripts[0] == '<script src="/static/console.js" defer>'
    # after it, only files of our own static folder (the insights pages add theirs and the vendored Chart.js)
    assert all(re.fullmatch(r'<script src="/static/[a-z/.]+\.js" defer>', script) for script in scripts[1:])
    assert len(re.findall(r"<script[^>]*></script>", html)) == len(scripts)  # none holds code of its own
    assert not re.search(r"\son[a-z]+=", html)


def test_the_pages_cover_login_queue_and_ticket() -> None:
    assert {page.name for page in HTML_PAGES} >= {"login.html", "queue.html", "ticket.html"}


@pytest.mark.parametrize("route", ["/api/login", "/api/tickets?status=", "/api/tickets/", "/claim", "/messages",
                                   "/resolve", "/transfer", "/api/stats", "/api/events", "X-CSRF-Token"])
def test_the_pages_use_the_json_api(route: str) -> None:
    assert route in SCRIPT
