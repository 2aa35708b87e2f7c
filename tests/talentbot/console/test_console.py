"""The staff console's JSON API against the real server on a free port (interfaces §5), with a fake channel and
tracker: sessions, CSRF, claims, replies delivered, resolve, bad input, and the event stream."""

from __future__ import annotations

import asyncio
import json
from typing import Any, Tuple

import httpx
import pytest
from sqlalchemy import update

from talentbot.console.api_input import MAX_BODY_BYTES, MAX_REPLY_CHARS
from talentbot.console.web import COOKIE_NAME
from talentbot.core.handoff import auth
from talentbot.core.handoff.models import staff_sessions
from talentbot.core.handoff.store import Ticket
from tests.talentbot.conftest import RunningConsole

pytestmark = pytest.mark.server

SCRIPT = '<script>alert("x")</script><img src=x onerror=alert(1)> & </li>'
JSON = {"Content-Type": "application/json"}


def _open(console: RunningConsole, conversation_id: str = "telegram:42", **fields) -> Ticket:
    values: dict[str, Any] = dict(channel="telegram", language="zh-Hant", reason="requested",
                                  summary="我可唔可以帶埋老婆嚟？", schemes=["TTPS"], topics=[])
    values.update(fields)
    return console.store.open_ticket(conversation_id, **values)


# --- sessions ------------------------------------------------------------------------------------------------


async def test_login_sets_an_http_only_cookie_and_returns_the_csrf_token(console: RunningConsole) -> None:
    async with console.client() as client:
        response = await client.post("/api/login", json={"username": "amy", "password": "correct horse battery staple"})
    assert response.status_code == 200
    body = response.json()
    assert (body["username"], body["role"]) == ("amy", "agent") and body["csrf_token"]
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(COOKIE_NAME + "=") and "HttpOnly" in cookie and "SameSite=Strict" in cookie


@pytest.mark.parametrize("body, status", [
    ({"username": "amy", "password": "wrong password here"}, 401),
    ({"username": "nobody", "password": "correct horse battery staple"}, 401),
    ({"username": "amy"}, 400),
    (["amy"], 400),
])
async def test_failed_logins(console: RunningConsole, body, status: int) -> None:
    async with console.client() as client:
        response = await client.post("/api/login", json=body)
    assert response.status_code == status and "set-cookie" not in response.headers


async def test_repeated_failed_logins_lock_the_account_for_a_while(console: RunningConsole) -> None:
    wrong = {"username": "amy", "password": "wrong password here"}
    right = {"username": "amy", "password": "correct horse battery staple"}
    async with console.client() as client:
        failed = [(await client.post("/api/login", json=wrong)).status_code for _ in range(auth.LOGIN_FAILURES_ALLOWED)]
        locked = await client.post("/api/login", json=right)
        ben = await client.post("/api/login", json={**right, "username": "ben"})
    assert failed == [401] * auth.LOGIN_FAILURES_ALLOWED
    assert locked.status_code == 429 and "set-cookie" not in locked.headers
    assert "Try again in 15 minute" in locked.json()["error"]
    assert 0 < int(locked.headers["Retry-After"]) <= auth.LOGIN_FAILURE_WINDOW.total_seconds()
    assert ben.status_code == 200  # one account locked, not the console


async def test_login_needs_json_so_a_cross_site_form_cannot_post_it(console: RunningConsole) -> None:
    async with console.client() as client:
        response = await client.post("/api/login", data={"username": "amy", "password": "x"})
    assert response.status_code == 415


@pytest.mark.parametrize("method, path", [
    ("GET", "/api/tickets?status=waiting"), ("GET", "/api/tickets/{id}"), ("POST", "/api/tickets/{id}/claim"),
    ("POST", "/api/tickets/{id}/messages"), ("POST", "/api/tickets/{id}/resolve"),
    ("POST", "/api/tickets/{id}/transfer"), ("GET", "/api/stats"), ("GET", "/api/staff"), ("GET", "/api/me"),
    ("GET", "/api/events"), ("POST", "/api/logout"),
])
async def test_no_api_answers_without_a_valid_session(console: RunningConsole, method: str, path: str) -> None:
    ticket = _open(console)
    path = path.format(id=ticket.id)
    async with console.client() as client:
        plain = await client.request(method, path, json={"text": "hi", "username": "ben"})
        forged = await client.request(method, path, json={"text": "hi", "username": "ben"},
                                      cookies={COOKIE_NAME: "forged"})
    assert plain.status_code == forged.status_code == 401
    assert "conversation_id" not in plain.text
    assert console.store.get(ticket.id).status == "waiting" and console.deliver.sent == []


@pytest.mark.parametrize("path", ["/", "/tickets/1"])
async def test_pages_send_you_to_log_in_without_a_session(console: RunningConsole, path: str) -> None:
    async with console.client() as client:
        response = await client.get(path)
    assert response.status_code == 302 and response.headers["location"] == "/login"


async def test_pages_with_a_session_and_their_security_headers(console: RunningConsole) -> None:
    client, _ = await console.logged_in("amy")
    async with client:
        page = await client.get("/")
        login = await client.get("/login")
        script = await client.get("/static/console.js")
    assert page.status_code == login.status_code == script.status_code == 200
    assert 'data-page="queue"' in page.text
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert page.headers["x-content-type-options"] == "nosniff"


async def test_log_out_ends_the_session(console: RunningConsole) -> None:
    client, csrf = await console.logged_in("amy")
    async with client:
        assert (await client.post("/api/logout", json={}, headers={"X-CSRF-Token": csrf})).status_code == 200
        assert (await client.get("/api/me")).status_code == 401


# --- CSRF ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, {"X-CSRF-Token": "guessed"}])
@pytest.mark.parametrize("path, body", [
    ("/api/tickets/{id}/claim", None), ("/api/tickets/{id}/messages", {"text": "hi"}),
    ("/api/tickets/{id}/resolve", None), ("/api/tickets/{id}/transfer", {"username": "ben"}),
])
async def test_state_changes_need_the_sessions_csrf_token(console: RunningConsole, headers, path: str,
                                                          body) -> None:
    ticket = _open(console)
    client, _ = await console.logged_in("sue")  # a supervisor may do all four
    async with client:
        response = await client.post(path.format(id=ticket.id), json=body, headers=headers)
    assert response.status_code == 403
    assert console.store.get(ticket.id).status == "waiting" and console.deliver.sent == []


async def test_another_sessions_csrf_token_does_not_work(console: RunningConsole) -> None:
    ticket = _open(console)
    _, amys_token = await console.logged_in("amy")
    client, _ = await console.logged_in("ben")
    async with client:
        response = await client.post(f"/api/tickets/{ticket.id}/claim", headers={"X-CSRF-Token": amys_token})
    assert response.status_code == 403


# --- the queue -----------------------------------------------------------------------------------------------


async def test_list_has_the_interface_fields_oldest_first(console: RunningConsole) -> None:
    first = _open(console, "telegram:1")
    second = _open(console, "wechat:2", channel="wechat", language="zh-Hans", reason="not_understood")
    client, _ = await console.logged_in("amy")
    async with client:
        waiting = (await client.get("/api/tickets", params={"status": "waiting"})).json()
        assigned = (await client.get("/api/tickets", params={"status": "assigned"})).json()
        bad = await client.get("/api/tickets", params={"status": "lost"})
    assert [row["id"] for row in waiting] == [first.id, second.id] and assigned == []
    assert {"id", "conversation_id", "channel", "language", "reason", "status", "created_at"} <= set(waiting[1])
    assert (waiting[1]["conversation_id"], waiting[1]["channel"], waiting[1]["language"], waiting[1]["reason"]) == (
        "wechat:2", "wechat", "zh-Hans", "not_understood")
    assert bad.status_code == 400


async def test_ticket_detail_has_the_transcript_and_saved_replies(console: RunningConsole) -> None:
    ticket = _open(console)
    console.transcripts.turns["telegram:42"] = [
        {"sender": "user", "text": "我可唔可以帶埋老婆嚟？", "timestamp": None},
        {"sender": "bot", "text": "可以，受養人簽證……", "timestamp": None},
    ]
    client, _ = await console.logged_in("amy")
    async with client:
        detail = (await client.get(f"/api/tickets/{ticket.id}")).json()
        missing = await client.get("/api/tickets/999")
        junk = await client.get("/api/tickets/abc")
    assert [turn["sender"] for turn in detail["transcript"]] == ["user", "bot"]
    assert detail["summary"] == "我可唔可以帶埋老婆嚟？" and detail["schemes"] == ["TTPS"]
    assert "嘅" in detail["saved_replies"]["greeting"]  # in the ticket's language, zh-Hant
    assert missing.status_code == junk.status_code == 404


async def test_ticket_shows_even_when_the_tracker_is_down(console: RunningConsole) -> None:
    ticket = _open(console)
    console.transcripts.broken = True
    client, _ = await console.logged_in("amy")
    async with client:
        detail = (await client.get(f"/api/tickets/{ticket.id}")).json()
    assert detail["transcript"] == [] and detail["transcript_error"]


async def test_claim_race_over_http_has_one_winner(console: RunningConsole) -> None:
    ticket = _open(console)
    amy, amy_csrf = await console.logged_in("amy")
    ben, ben_csrf = await console.logged_in("ben")
    async with amy, ben:
        responses = await asyncio.gather(
            amy.post(f"/api/tickets/{ticket.id}/claim", headers={"X-CSRF-Token": amy_csrf}),
            ben.post(f"/api/tickets/{ticket.id}/claim", headers={"X-CSRF-Token": ben_csrf}))
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200, 409]
    winner = next(r for r in responses if r.status_code == 200).json()["assignee"]
    loser = next(r for r in responses if r.status_code == 409).json()["error"]
    assert f"already taken by {winner}" in loser
    assert console.store.get(ticket.id).assignee == winner


# --- replies, transfer, resolve ------------------------------------------------------------------------------


async def _claimed(console: RunningConsole, username: str = "amy") -> Tuple[Ticket, httpx.AsyncClient, dict]:
    ticket = _open(console)
    client, csrf = await console.logged_in(username)
    headers = {"X-CSRF-Token": csrf}
    async with httpx.AsyncClient(base_url=console.base_url, cookies=client.cookies) as claimer:  # same session
        assert (await claimer.post(f"/api/tickets/{ticket.id}/claim", headers=headers)).status_code == 200
    return ticket, client, headers


async def test_reply_reaches_the_users_channel(console: RunningConsole) -> None:
    ticket, client, headers = await _claimed(console)
    async with client:
        response = await client.post(f"/api/tickets/{ticket.id}/messages", json={"text": "你好，我幫你跟進。"},
                                     headers=headers)
    assert response.status_code == 201 and response.json()["delivered"] is True
    assert console.deliver.sent == [("telegram", "telegram:42", "你好，我幫你跟進。")]
    stored = console.store.messages(ticket.id)
    assert [(m.sender, m.author, m.delivered) for m in stored] == [("staff", "amy", True)]


async def test_a_reply_the_channel_refuses_is_kept_and_reported(console: RunningConsole) -> None:
    ticket, client, headers = await _claimed(console)
    console.deliver.fail_with = RuntimeError("customer-service window closed")
    async with client:
        response = await client.post(f"/api/tickets/{ticket.id}/messages", json={"text": "hello"}, headers=headers)
    assert response.status_code == 502 and "window closed" in response.json()["error"]
    assert [m.delivered for m in console.store.messages(ticket.id)] == [False]


async def test_script_in_a_message_is_stored_and_returned_as_text(console: RunningConsole) -> None:
    ticket, client, headers = await _claimed(console)
    console.store.add_message(ticket.id, "user", SCRIPT)
    async with client:
        sent = await client.post(f"/api/tickets/{ticket.id}/messages", json={"text": SCRIPT}, headers=headers)
        detail = await client.get(f"/api/tickets/{ticket.id}")
    assert sent.status_code == 201
    assert detail.headers["content-type"].startswith("application/json")
    assert [m["text"] for m in detail.json()["messages"]] == [SCRIPT, SCRIPT]  # exactly as written, not escaped twice
    assert console.deliver.sent[-1][2] == SCRIPT  # the channel renders it as text


@pytest.mark.parametrize("body, status", [
    ({"text": "x" * (MAX_REPLY_CHARS + 1)}, 413),
    ({"text": "字" * (MAX_REPLY_CHARS + 1)}, 413),
    ({"text": "x" * (MAX_BODY_BYTES + 10)}, 413),
    ({"text": ""}, 400),
    ({"text": "   "}, 400),
    ({"text": 42}, 400),
    ({"text": "\x00\ud800 \x1b"}, 400),  # nothing left once cleaned
    ({"text": ["hi"]}, 400),
    ({"txt": "hi"}, 400),
    ({}, 400),
])
async def test_bad_replies_are_refused(console: RunningConsole, body, status: int) -> None:
    ticket, client, headers = await _claimed(console)
    async with client:
        response = await client.post(f"/api/tickets/{ticket.id}/messages", content=json.dumps(body).encode(),
                                     headers={**headers, **JSON})  # JSON escapes: a lone surrogate as \\ud800
    assert response.status_code == status
    assert response.json()["error"]
    assert console.store.messages(ticket.id) == [] and console.deliver.sent == []


async def test_nul_and_lone_surrogates_are_taken_out_of_a_reply(console: RunningConsole) -> None:
    """PostgreSQL refuses NUL and SQLite's driver cannot encode a lone surrogate (issue 12: a 500); neither shows on
    a screen, so they are removed, as from the users' messages, and the rest is stored and delivered."""
    ticket, client, headers = await _claimed(console)
    async with client:
        response = await client.post(f"/api/tickets/{ticket.id}/messages", headers={**headers, **JSON},
                                     content=b'{"text": "Hel\\u0000lo \\ud800\\ud83d\\ude00 \\udfff!"}')
    assert response.status_code == 201, response.text
    assert response.json()["text"] == "Hello \U0001F600 !"  # a surrogate pair is one character and stays
    assert [m.text for m in console.store.messages(ticket.id)] == ["Hello \U0001F600 !"]
    assert console.deliver.sent == [("telegram", "telegram:42", "Hello \U0001F600 !")]


async def test_a_reply_is_capped_after_cleaning(console: RunningConsole) -> None:
    ticket, client, headers = await _claimed(console)
    async with client:
        at_cap = await client.post(f"/api/tickets/{ticket.id}/messages", headers=headers,
                                   json={"text": "字" * MAX_REPLY_CHARS + "\x00" * 10})
        over = await client.post(f"/api/tickets/{ticket.id}/messages", headers=headers,
                                 json={"text": "字" * (MAX_REPLY_CHARS + 1)})
    assert at_cap.status_code == 201
    assert over.status_code == 413 and f"at most {MAX_REPLY_CHARS:,} characters" in over.json()["error"]
    assert [len(m.text) for m in console.store.messages(ticket.id)] == [MAX_REPLY_CHARS]


async def test_an_oversized_body_is_refused_before_it_is_read(console: RunningConsole) -> None:
    ticket, client, headers = await _claimed(console)
    async with client:
        response = await client.post(f"/api/tickets/{ticket.id}/messages", content=b"{" + b" " * (1024 * 1024) + b"}",
                                     headers={**headers, "Content-Type": "application/json"})
    assert response.status_code == 413


async def test_only_the_assignee_replies_and_only_after_claiming(console: RunningConsole) -> None:
    ticket, amy, _ = await _claimed(console)
    waiting = _open(console, "telegram:7")
    ben, ben_csrf = await console.logged_in("ben")
    async with amy, ben:
        not_yours = await ben.post(f"/api/tickets/{ticket.id}/messages", json={"text": "hi"},
                                   headers={"X-CSRF-Token": ben_csrf})
        not_claimed = await ben.post(f"/api/tickets/{waiting.id}/messages", json={"text": "hi"},
                                     headers={"X-CSRF-Token": ben_csrf})
    assert not_yours.status_code == 403 and "amy" in not_yours.json()["error"]
    assert not_claimed.status_code == 409
    assert console.deliver.sent == []


async def test_transfer_to_a_colleague(console: RunningConsole) -> None:
    ticket, client, headers = await _claimed(console)
    async with client:
        moved = await client.post(f"/api/tickets/{ticket.id}/transfer", json={"username": "ben"}, headers=headers)
        again = await client.post(f"/api/tickets/{ticket.id}/transfer", json={"username": "sue"}, headers=headers)
    assert moved.status_code == 200 and moved.json()["assignee"] == "ben"
    assert again.status_code == 403  # no longer amy's
    ben, ben_csrf = await console.logged_in("ben")
    async with ben:
        nobody = await ben.post(f"/api/tickets/{ticket.id}/transfer", json={"username": "nobody"},
                                headers={"X-CSRF-Token": ben_csrf})
    assert nobody.status_code == 409


async def test_resolve_resumes_the_bot_and_tells_the_user_in_their_language(console: RunningConsole) -> None:
    ticket, client, headers = await _claimed(console)
    async with client:
        resolved = await client.post(f"/api/tickets/{ticket.id}/resolve", headers=headers)
        twice = await client.post(f"/api/tickets/{ticket.id}/resolve", headers=headers)
        resolved_list = (await client.get("/api/tickets", params={"status": "resolved"})).json()
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    assert twice.status_code == 409
    assert console.resumed == [ticket.id]
    channel, recipient, text = console.deliver.sent[-1]
    assert (channel, recipient) == ("telegram", "telegram:42") and "助手" in text and "嘅" in text
    assert [row["id"] for row in resolved_list] == [ticket.id]


async def test_a_ticket_stays_open_while_the_assistant_cannot_be_resumed(console: RunningConsole) -> None:
    """Closing it anyway would leave the bot paused with no ticket: the user's messages would reach no one."""
    ticket, client, headers = await _claimed(console)
    console.resume.broken = True
    async with client:
        failed = await client.post(f"/api/tickets/{ticket.id}/resolve", headers=headers)
        console.resume.broken = False
        retried = await client.post(f"/api/tickets/{ticket.id}/resolve", headers=headers)
    assert failed.status_code == 502 and "still open" in failed.json()["error"]
    assert retried.status_code == 200 and retried.json()["status"] == "resolved"
    assert console.resumed == [ticket.id]
    assert len(console.deliver.sent) == 1  # the user is told once, when the assistant is back


async def test_resolved_even_when_the_notice_cannot_be_delivered(console: RunningConsole) -> None:
    ticket, client, headers = await _claimed(console)
    console.deliver.fail_with = ConnectionError("channel down")
    async with client:
        resolved = await client.post(f"/api/tickets/{ticket.id}/resolve", headers=headers)
    assert resolved.status_code == 200 and console.store.get(ticket.id).status == "resolved"
    assert console.resumed == [ticket.id]


async def test_an_agent_cannot_resolve_a_waiting_ticket_but_a_supervisor_can(console: RunningConsole) -> None:
    ticket = _open(console)
    amy, amy_csrf = await console.logged_in("amy")
    sue, sue_csrf = await console.logged_in("sue")
    async with amy, sue:
        by_agent = await amy.post(f"/api/tickets/{ticket.id}/resolve", headers={"X-CSRF-Token": amy_csrf})
        by_supervisor = await sue.post(f"/api/tickets/{ticket.id}/resolve", headers={"X-CSRF-Token": sue_csrf})
    assert (by_agent.status_code, by_supervisor.status_code) == (409, 200)


# --- supervisor view -----------------------------------------------------------------------------------------


async def test_stats_are_for_supervisors(console: RunningConsole) -> None:
    _open(console, "telegram:1")
    _open(console, "telegram:2", reason="not_understood")
    amy, _ = await console.logged_in("amy")
    sue, _ = await console.logged_in("sue")
    async with amy, sue:
        refused = await amy.get("/api/stats")
        stats = (await sue.get("/api/stats")).json()
    assert refused.status_code == 403
    assert (stats["waiting"], stats["assigned"], stats["resolved_today"]) == (2, 0, 0)
    assert stats["per_reason"] == {"not_understood": 1, "requested": 1}


# --- the event stream ----------------------------------------------------------------------------------------


async def _next_event(lines, name: str) -> dict:
    """The data of the next event called `name` on an SSE line stream."""
    current = None
    async for line in lines:
        if line.startswith("event: "):
            current = line[len("event: "):]
        elif line.startswith("data: ") and current == name:
            return json.loads(line[len("data: "):])
    raise AssertionError("stream ended")


async def test_the_event_stream_delivers_new_messages(console: RunningConsole) -> None:
    ticket, client, headers = await _claimed(console)
    watcher, _ = await console.logged_in("sue")
    async with client, watcher:
        async with watcher.stream("GET", "/api/events") as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = stream.aiter_lines()
            assert await asyncio.wait_for(lines.__anext__(), 5) == ": connected"
            # a staff reply through this console wakes the stream at once
            await client.post(f"/api/tickets/{ticket.id}/messages", json={"text": SCRIPT}, headers=headers)
            staff = await asyncio.wait_for(_next_event(lines, "message"), 5)
            # a user's message written straight into the database (by the action server) arrives by polling
            await asyncio.to_thread(console.store.add_message, ticket.id, "user", "多謝！")
            user = await asyncio.wait_for(_next_event(lines, "message"), 5)
    assert (staff["ticket_id"], staff["sender"], staff["text"]) == (ticket.id, "staff", SCRIPT)
    assert (user["sender"], user["text"]) == ("user", "多謝！")


async def test_the_event_stream_announces_queue_changes(console: RunningConsole) -> None:
    watcher, _ = await console.logged_in("amy")
    async with watcher:
        async with watcher.stream("GET", "/api/events") as stream:
            lines = stream.aiter_lines()
            await asyncio.wait_for(lines.__anext__(), 5)
            await asyncio.to_thread(_open, console, "rest:new")
            changed = await asyncio.wait_for(_next_event(lines, "queue"), 5)
    assert changed["changed_at"]


async def _rest_of(lines) -> list:
    """Every line left on an SSE stream, until the server ends it."""
    return [line async for line in lines]


async def _end_session_in_the_database(console: RunningConsole, client: httpx.AsyncClient, csrf: str) -> None:
    """The sessions reach their absolute end, written to the database as another console process would see it."""

    def expire() -> None:
        with console.store.engine.begin() as connection:
            connection.execute(update(staff_sessions).values(expires_at=staff_sessions.c.created_at))

    await asyncio.to_thread(expire)


async def _log_out(console: RunningConsole, client: httpx.AsyncClient, csrf: str) -> None:
    assert (await client.post("/api/logout", json={}, headers={"X-CSRF-Token": csrf})).status_code == 200


@pytest.mark.parametrize("end_session", [_log_out, _end_session_in_the_database], ids=["log-out", "expiry"])
async def test_the_event_stream_ends_with_the_session_and_delivers_nothing_after(console: RunningConsole,
                                                                                 end_session) -> None:
    ticket, client, headers = await _claimed(console)
    async with client:
        async with client.stream("GET", "/api/events") as stream:
            lines = stream.aiter_lines()
            assert await asyncio.wait_for(lines.__anext__(), 5) == ": connected"
            await end_session(console, client, headers["X-CSRF-Token"])
            await asyncio.to_thread(console.store.add_message, ticket.id, "user", "my passport number is K1234567")
            rest = await asyncio.wait_for(_rest_of(lines), 10)  # the server closes the stream
    assert not any("K1234567" in line for line in rest)
    assert "event: ended" in rest and "event: message" not in rest
    async with httpx.AsyncClient(base_url=console.base_url, cookies=client.cookies) as again:
        assert (await again.get("/api/events")).status_code == 401  # and a reconnecting browser is refused


async def test_an_absurd_last_event_id_starts_the_stream_from_now(console: RunningConsole) -> None:
    ticket, client, _ = await _claimed(console)
    async with client:
        async with client.stream("GET", "/api/events", headers={"Last-Event-ID": "9" * 30}) as stream:
            lines = stream.aiter_lines()
            assert await asyncio.wait_for(lines.__anext__(), 5) == ": connected"
            await asyncio.to_thread(console.store.add_message, ticket.id, "user", "still here")
            arrived = await asyncio.wait_for(_next_event(lines, "message"), 5)
    assert arrived["text"] == "still here"


# --- odd ids and log-ins at once -----------------------------------------------------------------------------


@pytest.mark.parametrize("ticket_id", [
    "99999999999999999999999", "2147483648", "0", "-1", "+1", "1e3", "1.0", "0x10", "%EF%BC%91", "%201", "abc",
])
async def test_ids_that_are_no_ticket_get_a_json_404(console: RunningConsole, ticket_id: str) -> None:
    _open(console)
    client, csrf = await console.logged_in("sue")
    async with client:
        responses = [await client.get(f"/api/tickets/{ticket_id}"),
                     await client.post(f"/api/tickets/{ticket_id}/claim", headers={"X-CSRF-Token": csrf}),
                     await client.post(f"/api/tickets/{ticket_id}/messages", json={"text": "hi"},
                                       headers={"X-CSRF-Token": csrf})]
    for response in responses:
        assert response.status_code == 404, (response.request.url, response.text)
        assert response.headers["content-type"].startswith("application/json") and response.json()["error"]


async def test_log_ins_sent_at_once_check_no_more_passwords_than_the_limit(console: RunningConsole) -> None:
    """60 wrong passwords at once: at most LOGIN_FAILURES_ALLOWED are checked (401), the rest refused unchecked
    (429); whatever the burst left, exactly the limit is checked before the account locks."""
    wrong = {"username": "amy", "password": "wrong password here"}
    async with console.client() as client:
        burst = await asyncio.gather(*(client.post("/api/login", json=wrong) for _ in range(60)))
        checked = [response.status_code for response in burst].count(401)
        assert {response.status_code for response in burst} <= {401, 429}
        assert checked <= auth.LOGIN_FAILURES_ALLOWED
        after = [(await client.post("/api/login", json=wrong)).status_code
                 for _ in range(auth.LOGIN_FAILURES_ALLOWED - checked + 1)]
        right = await client.post("/api/login", json={"username": "amy", "password": "correct horse battery staple"})
    assert after == [401] * (auth.LOGIN_FAILURES_ALLOWED - checked) + [429]
    assert right.status_code == 429
