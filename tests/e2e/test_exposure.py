"""What the running assistant exposes to the network: loopback only, the API token in a header and in no process's
command line, CORS for the configured origin only, the action server only for Rasa."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Iterator, Set

import httpx
import pytest

from talentbot.rasa_plugins.rasa_api_auth import URL_TOKEN_REFUSED
from talentbot.rasa_plugins.tracker_store import sqlite_endpoint
from talentbot.wiring.devserver import RunningAssistant, assistant
from talentbot.wiring.training import model_path

pytestmark = pytest.mark.server

OUR_PAGE = "https://talent.example.gov.hk"
"""The one origin allowed in this set-up (RASA_CORS_ORIGINS)."""


def listening_addresses(port: int) -> Set[str]:
    """Local addresses (as /proc/net/tcp writes them) with a listening TCP socket on `port`."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, hex_port = fields[1].split(":")
            if fields[3] == "0A" and int(hex_port, 16) == port:
                found.add(address)
    return found


def command_lines(pid: int) -> str:
    """The command lines `ps` shows for a process and its children."""
    lines = [Path(f"/proc/{pid}/cmdline").read_bytes()]
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                lines.append((stat.parent / "cmdline").read_bytes())
        except OSError:
            continue
    return b"\n".join(lines).replace(b"\0", b" ").decode(errors="replace")


@pytest.fixture(scope="module")
def running(tmp_path_factory) -> Iterator[RunningAssistant]:
    model = model_path()
    if not model.exists():
        pytest.fail(f"no trained model {model.name}: run `make train` (make test does it before these tests)")
    workdir = tmp_path_factory.mktemp("exposure")
    env = {**os.environ, "RASA_CORS_ORIGINS": OUR_PAGE}
    with assistant(model, workdir, {"tracker_store": sqlite_endpoint(workdir / "t.db")},
                   {"connectors.rest.RestInput": None}, env=env, console=False) as running:
        yield running


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def test_rasa_and_the_action_server_listen_on_loopback_only(running) -> None:
    assert listening_addresses(port_of(running.url)) == {"0100007F"}  # 127.0.0.1, not 0.0.0.0
    assert listening_addresses(port_of(running.action_url)) == {"0100007F"}


def test_no_secret_shows_in_ps(running) -> None:
    shown = command_lines(running.rasa.pid) + command_lines(running.actions.pid)
    assert "talentbot.wiring.rasa_server" in shown and "talentbot.rasa_plugins.action_server" in shown
    assert running.token not in shown
    assert running.action_token and running.action_token not in shown


def test_the_api_token_goes_in_the_header_and_never_in_the_url(running) -> None:
    status = f"{running.url}/status"
    assert httpx.get(status, headers={"Authorization": f"Bearer {running.token}"}, timeout=30).status_code == 200
    in_url = httpx.get(status, params={"token": running.token}, timeout=30)
    assert in_url.status_code == 401 and in_url.json()["message"] == URL_TOKEN_REFUSED
    assert httpx.get(status, timeout=30).status_code == 401
    assert httpx.get(status, headers={"Authorization": "Bearer guess"}, timeout=30).status_code == 401


@pytest.mark.parametrize("path", ["/webhooks/rest/webhook", "/version"])
def test_cors_answers_the_configured_origin_only(running, path: str) -> None:
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    evil = httpx.options(f"{running.url}{path}", headers={"Origin": "https://evil.example", **preflight}, timeout=30)
    assert "access-control-allow-origin" not in evil.headers
    ours = httpx.options(f"{running.url}{path}", headers={"Origin": OUR_PAGE, **preflight}, timeout=30)
    assert ours.headers.get("access-control-allow-origin") == OUR_PAGE
    read = httpx.get(f"{running.url}/version", headers={"Origin": "https://evil.example"}, timeout=30)
    assert "access-control-allow-origin" not in read.headers


def test_the_action_server_serves_rasa_and_no_one_else(running) -> None:
    direct = httpx.post(f"{running.action_url}/webhook", json={"next_action": "action_handoff",
                                                               "sender_id": "telegram:42", "tracker": {}}, timeout=30)
    assert direct.status_code == 401
    reply = httpx.post(f"{running.url}/webhooks/rest/webhook",
                       json={"sender": f"exp{uuid.uuid4().hex[:10]}", "message": "What is the Top Talent Pass Scheme?"},
                       timeout=120)
    text = " ".join(r.get("text") or "" for r in reply.json())
    assert "TTPS" in text or "Top Talent" in text  # action_answer ran: Rasa sent the secret
