"""Fixtures that start the real assistant: the trained model in a Rasa server, and the action server; and the
production set-up on stores of the test's own, for the tests that stop a store while users write (importable as
``tests.e2e.conftest``)."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import socket
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Mapping, Optional, Tuple

import httpx
import pytest
import sqlalchemy

from talentbot.core import paths
from talentbot.rasa_plugins.tracker_store import sqlite_endpoint
from talentbot.wiring.devserver import RunningAssistant, assistant, production_env
from talentbot.wiring.training import model_path
from tests.conftest import LocalPostgres, LocalRedis, postgres_bin

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
    database: Optional[str] = None  # the PostgreSQL database of the production set-up (production_bot)

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


@contextlib.contextmanager
def logs_shown_on_failure(workdir: Path) -> Iterator[None]:
    """Prints the end of the servers' logs when starting or running them fails."""
    try:
        yield
    except Exception:
        for log in ("rasa.log", "actions.log"):
            if (workdir / log).exists():
                print(f"--- {log}\n" + (workdir / log).read_text(errors="replace")[-6000:])
        raise


def start(workdir, endpoints, env=None) -> Iterator[Client]:
    with logs_shown_on_failure(workdir):
        with assistant(trained_model(), workdir, endpoints, CREDENTIALS, env=env) as running:
            yield Client(running)


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


# --- store outages: the production set-up on a PostgreSQL and a Redis of the test's own -----------------------------
# (test_store_outages.py: the REST channel and socket.io; test_platform_outage.py: Telegram's webhook). The stores
# are `LocalPostgres` and `LocalRedis` (a temporary folder, free ports), never the machine's shared PostgreSQL (5432)
# and Redis (6379); socket.io's rooms, the handoff queue and the channels' state store use them too, so nothing of a
# run touches shared services.

TURNS = ["hello", "What is TTPS?", "thank you", "你们好", "高才通係咩？"]
"""What users write, in turn; none asks for a person (a handoff would take later messages away from the bot)."""
LANGUAGE_OF_TURN = {
    "hello": "en", "What is TTPS?": "en", "thank you": "en", "你们好": "zh-Hans", "高才通係咩？": "zh-Hant",
}
"""The language of each turn: the language of its outage refusal."""


def unique_turns(tag: str) -> Iterator[Tuple[str, str]]:
    """A user's turns, each with a text of its own: (turn, turn + `tag` and a number). The tag should be digits:
    with no letters added, a text is in its turn's language."""
    for number in itertools.count(1):
        turn = TURNS[number % len(TURNS)]
        yield turn, f"{turn} #{tag}-{number}"


@dataclass
class Stack:
    """A running production set-up and its stores."""

    postgres: LocalPostgres
    redis: LocalRedis
    url: str
    workdir: Path
    database: str = "talentbot"

    def stored_user_messages(self) -> Counter:
        """How many times each (sender id, text) is in the tracker store's ``events`` table as a user message."""
        engine = sqlalchemy.create_engine(f"{self.postgres.url}/{self.database}")
        try:
            with engine.connect() as connection:
                query = sqlalchemy.text("SELECT sender_id, data FROM events WHERE type_name = 'user'")
                rows = connection.execute(query)
                return Counter((sender, json.loads(data).get("text")) for sender, data in rows)
        finally:
            engine.dispose()

    def stored_user_texts(self) -> Counter:
        """How many times each text is in the tracker store as a user message, whoever sent it."""
        texts: Counter = Counter()
        for (_, text), count in self.stored_user_messages().items():
            texts[text] += count
        return texts

    def rasa_log(self) -> str:
        return (self.workdir / "rasa.log").read_text(errors="replace")


@contextlib.contextmanager
def production_stack(tmp_path_factory: pytest.TempPathFactory, name: str,
                     env: Optional[Mapping[str, str]] = None) -> Iterator[Stack]:
    """The production set-up (bot/endpoints.production.yml, two Sanic workers) on a PostgreSQL and a Redis of its
    own, with `env` added to the servers' environment (a platform channel's secrets, say); stopped and removed on
    leaving. Skips when PostgreSQL's programs are not installed."""
    if postgres_bin() is None:
        pytest.skip("PostgreSQL's programs (initdb, pg_ctl) are not installed under /usr/lib/postgresql")
    model = trained_model()
    postgres = LocalPostgres.create()
    redis = LocalRedis(tmp_path_factory.mktemp("redis"))
    workdir = tmp_path_factory.mktemp(name)
    try:
        postgres.start()
        redis.start()
        full_env = production_env({
            **os.environ,
            "DB_HOST": "127.0.0.1", "DB_PORT": str(postgres.port), "DB_NAME": "talentbot", "DB_USER": "postgres",
            "DB_PASSWORD": "", "DB_LOGIN_DB": "postgres", "HANDOFF_DB_URL": "",
            "REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(redis.port), "REDIS_DB": "0",
            "CONNECTORS_STATE_URL": f"redis://127.0.0.1:{redis.port}/1",
            **(env or {}),
        })
        with logs_shown_on_failure(workdir):
            with assistant(model, workdir, paths.ENDPOINTS_PRODUCTION, env=full_env) as running:
                yield Stack(postgres, redis, running.url, workdir)
    finally:
        redis.stop()
        postgres.destroy()


def outage_lines(log: str, store: str) -> List[str]:
    """The lines saying an outage of `store` ("tracker store", "lock store", "handoff queue") started."""
    return [line for line in log.splitlines() if f"The {store} is unreachable (" in line]

