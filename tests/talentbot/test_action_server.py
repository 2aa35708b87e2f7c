"""talentbot.action_server: rasa_sdk's server behind a shared secret, on loopback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Iterator, Optional

import httpx
import pytest

from talentbot import paths
from talentbot.action_server import refusal
from talentbot.devserver import free_port, prepare_handoff_database, wait_until_ready

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
        [sys.executable, "-m", "talentbot.action_server", "--actions", "actions", "--port", str(port)],
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
    from talentbot.handoff.store import SqlTicketStore

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
    done = subprocess.run([sys.executable, "-m", "talentbot.action_server", "--port", str(free_port())],
                          cwd=paths.ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "ACTION_SERVER_TOKEN is not set" in done.stderr
