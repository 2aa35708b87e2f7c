"""The Telegram webhook driven with random updates, JSON and bytes (hypothesis), mounted in a real Sanic server with
the real handoff gate, answering through the real python-telegram-bot client and a fake Bot API: never a 5xx, never
a crash, nothing unstorable reaches Rasa, a message over the cap gets the note through sendMessage, and a delivered
update is answered once however often Telegram delivers it."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Optional

import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from connectors.telegram import TelegramInput
from tests.connectors.conftest import (
    CAP,
    FRESH,
    FUZZ,
    cleaned,
    deep_bodies,
    is_note,
    json_values,
    long_texts,
    received_storable,
    texts,
)

pytestmark = pytest.mark.server

TOKEN, SECRET = "7000001:AAtest", "webhook-s3cret"
LANGUAGES = ("en", "zh-Hant", "zh-Hans")


@dataclass
class Case:
    """One request: an update (its update_id filled in fresh at send time) or raw bytes."""

    kind: str
    update: Optional[dict] = None  # "message", "callback", "shaped"
    raw: Optional[bytes] = None  # "raw"
    secret: Any = SECRET  # str or bytes
    ascii_json: bool = True
    again: bool = False  # deliver it a second time

    def body(self) -> bytes:
        if self.raw is not None:
            return self.raw
        return json.dumps(self.update, ensure_ascii=self.ascii_json).encode("utf-8", "surrogatepass")


chats = st.sampled_from([42, 42, 7, -100123]) | st.integers(-(2**52), 2**52)
language_codes = st.none() | st.sampled_from(["en", "zh-hans", "zh-hk", "zh", "fr"]) | texts
bodies = st.one_of(texts, long_texts, st.text(min_size=1, max_size=80))


def message_update(text: Any, chat: int, language: Any) -> dict:
    sender: dict[str, Any] = {"id": abs(chat) or 1, "is_bot": False, "first_name": "Ann"}
    if language is not None:
        sender["language_code"] = language
    message = {"message_id": 1, "date": 1764064800, "chat": {"id": chat, "type": "private"}, "from": sender}
    if text is not None:
        message["text"] = text
    return {"update_id": None, "message": message}


def callback_update(data: Any, chat: int, language: Any) -> dict:
    sender: dict[str, Any] = {"id": abs(chat) or 1, "is_bot": False, "first_name": "Ann"}
    if language is not None:
        sender["language_code"] = language
    query = {"id": "cbq", "chat_instance": "ci", "from": sender,
             "message": {"message_id": 5, "date": 1, "chat": {"id": chat, "type": "private"}, "text": "?"}}
    if data is not None:
        query["data"] = data
    return {"update_id": None, "callback_query": query}


PATHS = ["update_id", "message", "message.chat", "message.chat.id", "message.chat.type", "message.text",
         "message.from", "message.from.id", "message.from.language_code", "message.reply_to_message", "message.date",
         "message.entities", "callback_query", "edited_message"]


@st.composite
def cases(draw: Any) -> Case:
    kind = draw(st.sampled_from(["message", "message", "message", "callback", "shaped", "raw", "secret"]))
    ascii_json, again = draw(st.booleans()), draw(st.booleans())
    chat, language = draw(chats), draw(language_codes)
    if kind == "message":
        return Case(kind, message_update(draw(bodies), chat, language), ascii_json=ascii_json, again=again)
    if kind == "callback":
        return Case(kind, callback_update(draw(st.none() | texts | long_texts), chat, language), ascii_json=ascii_json,
                    again=again)
    if kind == "shaped":  # a well-formed update with one field replaced by any JSON value
        update = message_update(draw(texts), chat, language)
        path = draw(st.sampled_from(PATHS)).split(".")
        target = update
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = draw(json_values)
        return Case(kind, update, ascii_json=ascii_json, again=again)
    if kind == "secret":
        header_bytes = st.integers(0x21, 0xFF).filter(lambda b: b != 0x7F)  # what an HTTP header can carry
        secret = draw(st.lists(header_bytes, min_size=1, max_size=40).map(bytes)
                      | st.sampled_from([b"", b"webhook-s3cre", b"webhook-s3cret\x80", "s3crét".encode()]))
        return Case(kind, message_update("hi", chat, language), secret=secret)
    value = draw(json_values)
    raw = draw(st.binary(max_size=300) | deep_bodies
               | st.just(json.dumps(value).encode())
               | st.just(json.dumps(value).encode()[: draw(st.integers(0, 40))]))
    return Case("raw", raw=raw)


@pytest.fixture
async def webhook(telegram_api, sqlite_store, serve, assistant):
    channel = TelegramInput(TOKEN, SECRET, api_base_url=telegram_api.url, state=sqlite_store)
    yield f"{await serve(channel, assistant)}/webhooks/telegram/webhook"
    await channel.bot.shutdown()


def expected_rasa_text(case: Case) -> Optional[str]:
    """What Rasa must be given for a readable private message or callback (None: nothing), restated from the rules:
    text cleaned, nothing when nothing readable is left or it is a command, a note instead when over the cap."""
    assert case.update is not None
    if case.kind == "message":
        text = case.update["message"].get("text")
    else:
        text = case.update["callback_query"].get("data") or ""
    clean = cleaned(text)
    if not clean.strip() or len(clean) > CAP:
        return None
    if case.kind == "message" and clean.startswith("/"):
        command, _, argument = clean.partition(" ")
        if command.partition("@")[0].lower() == "/language" and argument.strip() in LANGUAGES:
            return '/change_language{"language":"%s"}' % argument.strip()
        return None
    return clean.strip()


def readable(case: Case) -> bool:
    """Whether the update is one the rules say must be taken (a well-formed private message or callback)."""
    if case.kind not in ("message", "callback") or case.update is None:
        return False
    sender = (case.update.get("message") or case.update["callback_query"])["from"]
    text = (case.update.get("message") or {}).get("text")
    return isinstance(sender.get("language_code"), (str, type(None))) and isinstance(text, (str, type(None)))


@FUZZ
@given(case=cases())
async def test_the_telegram_webhook_under_random_updates(webhook, http, assistant, telegram_api, case: Case) -> None:
    if case.update is not None and case.update.get("update_id", 0) is None:
        case.update["update_id"] = next(FRESH)
    body = case.body()
    headers = {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": case.secret}
    before_rasa, before_api = len(assistant.received), len(telegram_api.requests)
    answer = await http.post(webhook, content=body, headers=headers)
    new = assistant.received[before_rasa:]
    event(f"{case.kind}: {answer.status_code}{' to Rasa' if new else ''}")
    assert answer.status_code in (200, 400, 403, 413), (answer.status_code, answer.text[:300])
    assert received_storable(new)
    assert isinstance(answer.json(), dict)  # a JSON answer, never a stack trace
    if case.kind == "secret":
        assert answer.status_code == 403 and not new
        return
    if answer.status_code != 200:
        assert not new and "error" in answer.json()
        assert not readable(case), answer.text
        return
    if readable(case):
        sent = [r.form() for r in telegram_api.requests[before_api:] if r.path.endswith("/sendMessage")]
        expected = expected_rasa_text(case)
        if expected is not None:
            [message] = new  # exactly once: nothing lost, nothing doubled
            assert (message.text, message.input_channel) == (expected, "telegram")
            assert message.sender_id == f"telegram:{case_chat(case)}"
        else:
            assert not new
            clean = cleaned(_text_of(case))
            if clean.strip() and len(clean) > CAP and not (case.kind == "message" and clean.startswith("/")):
                assert [is_note(s["text"]) for s in sent] == [True]  # the note, through sendMessage
    else:
        assert len(new) <= 1
    if case.again:  # Telegram delivers it again: acknowledged, not answered again
        before_rasa, before_api = len(assistant.received), len(telegram_api.requests)
        again = await http.post(webhook, content=body, headers=headers)
        first = answer.json()["status"]  # an update that is not for us (an edit...) is ignored each time
        assert again.status_code == 200 and again.json()["status"] == ("ignored" if first == "ignored" else "duplicate")
        assert len(assistant.received) == before_rasa and len(telegram_api.requests) == before_api


def case_chat(case: Case) -> int:
    assert case.update is not None
    container = case.update.get("message") or case.update["callback_query"]["message"]
    return container["chat"]["id"]


def _text_of(case: Case) -> str:
    assert case.update is not None
    if case.kind == "message":
        return case.update["message"].get("text") or ""
    return case.update["callback_query"].get("data") or ""
