"""Fixtures that start the real assistant: the trained model in a Rasa server, and the action server."""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List

import httpx
import pytest
import sqlalchemy

from talentbot import paths
from talentbot.devserver import RunningAssistant, assistant, production_env
from talentbot.tracker_store import sqlite_endpoint
from talentbot.training import model_path

CREDENTIALS = {
    "connectors.rest.RestInput": None,
    "connectors.webchat.WebChatInput": None,
    "connectors.webchat.SocketIOChannel": {
        "user_message_evt": "user_uttered", "bot_message_evt": "bot_uttered", "session_persistence": True,
    },
}
POSTGRES = "postgresql://postgres@127.0.0.1:5432"


@dataclass
class Client:
    """The REST channel and HTTP API of a running assistant."""

    running: RunningAssistant

    @property
    def url(self) -> str:
        return self.running.url

    def send(self, sender: str, message) -> List[Dict]:
        reply = httpx.post(f"{self.url}/webhooks/rest/webhook", json={"sender": sender, "message": message}, timeout=60)
        reply.raise_for_status()
        return reply.json()

    def tracker(self, sender: str) -> Dict:
        reply = httpx.get(
            f"{self.url}/conversations/{sender}/tracker", headers={"Authorization": f"Bearer {self.running.token}"},
            timeout=30,
        )
        reply.raise_for_status()
        return reply.json()


def trained_model():
    model = model_path()
    if not model.exists():
        pytest.fail(f"no trained model {model.name}: run `make train` (make test does it before these tests)")
    return model


def start(workdir, endpoints, env=None) -> Iterator[Client]:
    try:
        with assistant(trained_model(), workdir, endpoints, CREDENTIALS, env=env) as running:
            yield Client(running)
    except Exception:
        for log in ("rasa.log", "actions.log"):
            if (workdir / log).exists():
                print(f"--- {log}\n" + (workdir / log).read_text(errors="replace")[-6000:])
        raise


@pytest.fixture(scope="session")
def bot(tmp_path_factory) -> Iterator[Client]:
    """The embedded default set-up: SQLite tracker store, in-process lock store, one Sanic worker."""
    workdir = tmp_path_factory.mktemp("embedded")
    yield from start(workdir, {"tracker_store": sqlite_endpoint(workdir / "t.db")})


def reachable(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="session")
def production_bot(tmp_path_factory) -> Iterator[Client]:
    """The scale-out set-up as shipped (bot/endpoints.production.yml, the defaults of `talentbot run
    --production`): PostgreSQL tracker store, Redis lock store, two Sanic workers; a database of its own."""
    if not (reachable(5432) and reachable(6379)):
        pytest.skip("the production path needs PostgreSQL at 127.0.0.1:5432 and Redis at 127.0.0.1:6379")
    database = f"talentbot_test_{uuid.uuid4().hex[:8]}"
    env = production_env({**os.environ, "DB_NAME": database})
    try:
        for client in start(tmp_path_factory.mktemp("production"), paths.ENDPOINTS_PRODUCTION, env):
            client.database = database
            yield client
    finally:
        engine = sqlalchemy.create_engine(f"{POSTGRES}/postgres", isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        engine.dispose()


CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator:
    """Debian's headless Chromium driven by Playwright (never a downloaded browser)."""
    if not CHROMIUM.exists():
        pytest.skip(f"Debian's chromium is not installed at {CHROMIUM}: run scripts/install-system-deps.sh")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()
