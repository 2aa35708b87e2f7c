"""talentbot.rasa_plugins.action_server: rasa_sdk's server behind a shared secret, on loopback."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import zlib
from pathlib import Path
from typing import Iterator, Optional

import httpx
import pytest

from talentbot.core import paths
from talentbot.rasa_plugins.action_server import refusal
from talentbot.wiring.devserver import free_port, prepare_handoff_database, wait_until_ready

TOKEN = "a-shared-secret"


@pytest.mark.parametrize(
    "path, header, token, refused",
    [
        ("/webhook", None, TOKEN, True),
        ("/webhook", "Bearer wrong", TOKEN, True),
        ("/webhook", f"Basic {TOKEN}", TOKEN, True),
        ("/actions", None, TOKEN, True),
        ("/webhook", f"Bearer {TOKEN}", TOKEN, False),
        ("/health", None, TOKEN, False),  # the readiness check stays open
        ("/webhook", None, None, False),  # no token configured (--no-token): nothing refused
    ],
)
def test_refusal(path: str, header: Optional[str], token: Optional[str], refused: bool) -> None:
    assert (refusal(path, header, token) is not None) is refused


def handoff_call(sender: str) -> dict:
    """What Rasa posts to run action_handoff, here for a Telegram user (the probe of issue 12)."""
    tracker = {
        "sender_id": sender, "slots": {"language": "en"}, "events": [], "paused": False,
        "latest_message": {"text": "I want a person", "intent": {"name": "request_human"}, "entities": []},
        "latest_input_channel": "telegram", "active_loop": {}, "latest_action_name": "action_listen",
    }
    return {"next_action": "action_handoff", "sender_id": sender, "tracker": tracker, "domain": {},
            "version": "3.6.21"}


def listening_addresses(port: int) -> set:
    """Local addresses with a listening TCP socket on `port` (from /proc/net/tcp and tcp6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:
                found.add(address)
    return found


@pytest.fixture(scope="module")
def action_server(tmp_path_factory) -> Iterator[tuple[str, str]]:
    workdir = tmp_path_factory.mktemp("actions")
    queue = f"sqlite:///{workdir / 'handoff.sqlite3'}"
    prepare_handoff_database(queue)
    port = free_port()
    env = {**os.environ, "ACTION_SERVER_TOKEN": TOKEN, "HANDOFF_DB_URL": queue}
    env.pop("ACTION_SERVER_HOST", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "talentbot.rasa_plugins.action_server", "--actions", "actions", "--port", str(port)],
        cwd=paths.ROOT, env=env, stdout=open(workdir / "actions.log", "wb"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_until_ready(f"http://127.0.0.1:{port}/health", process, timeout=120)
        yield f"http://127.0.0.1:{port}", queue
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)


@pytest.mark.server
def test_a_direct_handoff_call_without_the_secret_is_refused(action_server) -> None:
    from talentbot.core.handoff.store import SqlTicketStore

    url, queue = action_server
    for headers in ({}, {"Authorization": "Bearer guess"}):
        reply = httpx.post(f"{url}/webhook", json=handoff_call("telegram:4242"), headers=headers, timeout=30)
        assert reply.status_code == 401
    assert httpx.get(f"{url}/actions", timeout=10).status_code == 401
    store = SqlTicketStore.from_url(queue)
    try:
        assert store.open_ticket_for("telegram:4242") is None
    finally:
        store.close()


@pytest.mark.server
def test_rasa_with_the_secret_is_served(action_server) -> None:
    url, _ = action_server
    reply = httpx.post(f"{url}/webhook", json=handoff_call("telegram:4343"),
                       headers={"Authorization": f"Bearer {TOKEN}"}, timeout=30)
    assert reply.status_code == 200
    assert reply.json()["events"][0]["event"] == "pause"


@pytest.mark.server
def test_listens_on_loopback_only(action_server) -> None:
    port = int(action_server[0].rsplit(":", 1)[1])
    assert listening_addresses(port) == {"0100007F"}  # 127.0.0.1, not 0.0.0.0


@pytest.mark.server
def test_refuses_to_start_without_a_secret() -> None:
    env = {k: v for k, v in os.environ.items() if k != "ACTION_SERVER_TOKEN"}
    done = subprocess.run([sys.executable, "-m", "talentbot.rasa_plugins.action_server", "--port", str(free_port())],
                          cwd=paths.ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "ACTION_SERVER_TOKEN is not set" in done.stderr


# --- malformed calls (issue 12): every one a 4xx that says what is wrong, never a 5xx ----------------------------

AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.mark.server
@pytest.mark.parametrize("body, status, says", [
    (b"hello", 400, "not valid JSON"),
    (b"", 400, "empty"),
    (b"\xff\xfe{}", 400, "not valid JSON (UTF-8)"),
    (b"[1, 2]", 400, "the body is an array"),
    (b'"x"', 400, "the body is a string"),
    (b'{"tracker": {"sender_id": "a"}}', 400, "next_action is missing"),
    (b'{"next_action": "action_handoff"}', 400, "tracker is missing"),
    (b'{"next_action": "action_handoff", "tracker": []}', 400, "tracker must be an object, not an array"),
    (b'{"next_action": "action_handoff", "tracker": {}}', 400, "tracker.sender_id is missing"),
    (b'{"next_action": "action_handoff", "tracker": {"sender_id": "\\u0000"}}', 400, "must not be empty"),
    (b'{"next_action": "action_handoff", "tracker": {"sender_id": "a", "events": "abc"}}', 400,
     "tracker.events must be an array, not a string"),
    (b'{"next_action": "action_handoff", "tracker": {"sender_id": "a", "slots": null}}', 400,
     "tracker.slots must be an object, not null"),
    (b'{"next_action": "action_handoff", "tracker": {"sender_id": "a"}, "version": 3}', 400,
     "version must be a string"),
    (b'{"next_action": "validate_eligibility_form", "tracker": {"sender_id": "a", "slots": {"requested_slot": [1]}}}',
     400, "tracker.slots.requested_slot must be a string or null (a text slot), not an array"),
    (b'{"next_action": "action_handoff", "tracker": {"sender_id": "a", "slots": {"x": NaN}}}', 400, "not valid JSON"),
    (b'{"next_action": "action_nope", "tracker": {"sender_id": "a"}}', 404, "No registered action found"),
])
def test_a_malformed_call_is_refused_with_what_is_wrong(action_server, body: bytes, status: int, says: str) -> None:
    url, _ = action_server
    reply = httpx.post(f"{url}/webhook", content=body, headers={**AUTH, "Content-Type": "application/json"},
                       timeout=30)
    assert reply.status_code == status, reply.text
    assert says in reply.json()["error"] and "action_name" in reply.json()  # rasa_sdk's form, which Rasa reads
    assert "request_body" not in reply.json()  # rasa_sdk echoed the request in its 500s


@pytest.mark.server
def test_nul_and_lone_surrogates_in_the_users_text_are_taken_out_and_the_ticket_opens(action_server) -> None:
    """The probe of issue 12: a NUL made PostgreSQL refuse the ticket, a lone surrogate made SQLite's driver raise;
    either way the user was told no one could be reached."""
    from talentbot.core.handoff.store import SqlTicketStore

    url, queue = action_server
    call = handoff_call("telegram:4444")
    call["tracker"]["latest_message"]["text"] = "I want a person\x00\ud800 \U0001F600"
    call["tracker"]["events"] = [{"event": "user", "text": "I want a person\x00\ud800 \U0001F600"}]
    reply = httpx.post(f"{url}/webhook", content=json.dumps(call).encode("ascii"), headers=AUTH, timeout=30)
    assert reply.status_code == 200, reply.text
    assert reply.json()["events"][0]["event"] == "pause"
    store = SqlTicketStore.from_url(queue)
    try:
        ticket = store.open_ticket_for("telegram:4444")
        assert ticket is not None and ticket.summary == "I want a person \U0001F600"
    finally:
        store.close()


@pytest.mark.server
def test_a_deflated_call_is_served_but_a_deflate_bomb_is_refused(action_server) -> None:
    url, _ = action_server
    headers = {**AUTH, "Content-Encoding": "deflate"}
    served = httpx.post(f"{url}/webhook", content=zlib.compress(json.dumps(handoff_call("telegram:4545")).encode()),
                        headers=headers, timeout=30)
    bomb = zlib.compress(b'{"next_action": "' + b"x" * (64 * 1024 * 1024) + b'"}', 9)  # 64 KB, 64 MiB inflated
    refused = httpx.post(f"{url}/webhook", content=bomb, headers=headers, timeout=30)
    other = httpx.post(f"{url}/webhook", content=b"{}", headers={**AUTH, "Content-Encoding": "br"}, timeout=30)
    assert served.status_code == 200, served.text
    assert refused.status_code == 413 and "over 16,777,216 bytes" in refused.json()["error"]
    assert other.status_code == 415


@pytest.mark.server
def test_a_huge_body_is_refused_and_without_the_token_not_even_read(action_server) -> None:
    url, _ = action_server
    huge = b'{"next_action": "' + b"x" * (17 * 1024 * 1024) + b'"}'
    assert httpx.post(f"{url}/webhook", content=huge, headers=AUTH, timeout=60).status_code == 413
    port = int(url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        # headers only: a body is promised but never sent; the answer comes at once, so nothing of it was read
        raw.sendall(b"POST /webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    b"Content-Length: 1000000\r\n\r\n")
        started = time.monotonic()
        answer = raw.recv(4096)
    assert answer.startswith(b"HTTP/1.1 401") and time.monotonic() - started < 5


@pytest.mark.server
def test_the_server_still_serves_after_the_malformed_calls(action_server) -> None:
    url, _ = action_server
    reply = httpx.post(f"{url}/webhook", json=handoff_call("telegram:4646"), headers=AUTH, timeout=30)
    assert reply.status_code == 200 and httpx.get(f"{url}/health", timeout=10).status_code == 200
    assert httpx.get(f"{url}/actions", headers=AUTH, timeout=10).json()  # rasa_sdk's list of actions
