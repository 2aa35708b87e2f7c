"""The Telegram webhook in a real Sanic app; the real python-telegram-bot client talks to a fake Bot API."""
from __future__ import annotations

import json
import uuid
from typing import Any, Optional

import pytest

from connectors.guards import MAX_BODY_BYTES
from connectors.state import RedisStateStore
from connectors.telegram import TelegramInput, set_webhook
from connectors.texts import load_texts
from talentbot.core.inbound import MAX_MESSAGE_CHARS
from talentbot.core.store_outages import LOCK_STORE, TRACKER_STORE, StoreUnavailable
from tests.connectors.conftest import REDIS_DOWN

pytestmark = pytest.mark.server

TOKEN, SECRET = "7000001:AAtest", "webhook-s3cret"
HEADERS = {"X-Telegram-Bot-Api-Secret-Token": SECRET}


def update(
    update_id: int, text: Optional[str] = "hi", language: str = "zh-hans", chat_type: str = "private", chat_id: int = 42
) -> dict:
    message: dict[str, Any] = {
        "message_id": update_id,
        "date": 1764064800,
        "chat": {"id": chat_id, "type": chat_type},
        "from": {"id": 42, "is_bot": False, "first_name": "Ann", "language_code": language},
    }
    if text is not None:
        message["text"] = text
    return {"update_id": update_id, "message": message}


@pytest.fixture
async def telegram(telegram_api, sqlite_store, serve, assistant):
    channel = TelegramInput(TOKEN, SECRET, api_base_url=telegram_api.url, state=sqlite_store)
    base = await serve(channel, assistant)
    yield channel, f"{base}/webhooks/telegram/webhook"
    await channel.bot.shutdown()


def sent_texts(telegram_api) -> list[dict[str, str]]:
    return [r.form() for r in telegram_api.to("sendMessage")]


async def test_text_is_answered_with_send_message(telegram, http, assistant, telegram_api) -> None:
    _, url = telegram
    response = await http.post(url, json=update(1, "高才通申请条件是什么"), headers=HEADERS)
    assert response.status_code == 200
    [received] = assistant.received
    assert (received.sender_id, received.input_channel, received.metadata) == (
        "telegram:42", "telegram", {"language": "zh-Hans"})
    [sent] = telegram_api.to("sendMessage")
    assert sent.path == f"/bot{TOKEN}/sendMessage"
    assert sent.form() == {"chat_id": "42", "text": "echo: 高才通申请条件是什么"}


@pytest.mark.parametrize("headers", [{}, {"X-Telegram-Bot-Api-Secret-Token": "guess"}])
async def test_wrong_secret_token_is_refused(telegram, http, assistant, telegram_api, headers) -> None:
    _, url = telegram
    response = await http.post(url, json=update(2), headers=headers)
    assert response.status_code == 403
    assert assistant.received == [] and telegram_api.requests == []


async def test_repeated_update_id_is_answered_once(telegram, http, assistant, telegram_api) -> None:
    _, url = telegram
    for _ in range(3):
        assert (await http.post(url, json=update(3), headers=HEADERS)).status_code == 200
    assert len(assistant.received) == 1 and len(sent_texts(telegram_api)) == 1


async def test_long_answers_are_split(telegram, http, assistant, telegram_api) -> None:
    async def long(message) -> None:
        await message.output_channel.send_text_message(message.sender_id, "The quota is set each year. " * 300)

    assistant.answer = long
    _, url = telegram
    await http.post(url, json=update(4), headers=HEADERS)
    texts = [f["text"] for f in sent_texts(telegram_api)]
    assert len(texts) == 3 and all(len(t) <= 4096 for t in texts)


async def test_buttons_become_an_inline_keyboard_and_callbacks_are_answered(
    telegram, http, assistant, telegram_api
) -> None:
    async def menu(message) -> None:
        if message.text.startswith("/ask"):
            await message.output_channel.send_text_message(message.sender_id, "TTPS is...")
            return
        await message.output_channel.send_text_with_buttons(
            message.sender_id, "Which scheme?", [{"title": "TTPS", "payload": '/ask_scheme_info{"scheme":"TTPS"}'}]
        )

    assistant.answer = menu
    _, url = telegram
    await http.post(url, json=update(5, "schemes"), headers=HEADERS)
    [keyboard_message] = sent_texts(telegram_api)
    assert keyboard_message["text"] == "Which scheme?"
    assert json.loads(keyboard_message["reply_markup"]) == {
        "inline_keyboard": [[{"text": "TTPS", "callback_data": '/ask_scheme_info{"scheme":"TTPS"}'}]]
    }
    callback = {
        "update_id": 6,
        "callback_query": {
            "id": "cbq-6", "chat_instance": "ci", "data": '/ask_scheme_info{"scheme":"TTPS"}',
            "from": {"id": 42, "is_bot": False, "first_name": "Ann", "language_code": "en"},
            "message": {"message_id": 501, "date": 1, "chat": {"id": 42, "type": "private"}, "text": "Which scheme?"},
        },
    }
    assert (await http.post(url, json=callback, headers=HEADERS)).status_code == 200
    [answered] = telegram_api.to("answerCallbackQuery")
    assert answered.form() == {"callback_query_id": "cbq-6"}
    assert assistant.received[-1].text == '/ask_scheme_info{"scheme":"TTPS"}'
    assert assistant.received[-1].metadata == {"language": "en"}


async def test_start_sends_the_welcome_in_the_users_language(telegram, http, assistant, telegram_api) -> None:
    _, url = telegram
    await http.post(url, json=update(7, "/start", language="zh-hk"), headers=HEADERS)
    [welcome] = sent_texts(telegram_api)
    assert welcome["text"].startswith("歡迎嚟到香港人才服務窗口")
    assert assistant.received == []


async def test_language_command_offers_three_languages_and_sets_the_chosen_one(
    telegram, http, assistant, telegram_api
) -> None:
    _, url = telegram
    await http.post(url, json=update(8, "/language", language="en"), headers=HEADERS)
    [menu] = sent_texts(telegram_api)
    keyboard = json.loads(menu["reply_markup"])["inline_keyboard"]
    assert [row[0]["callback_data"] for row in keyboard] == [
        '/change_language{"language":"en"}',
        '/change_language{"language":"zh-Hant"}',
        '/change_language{"language":"zh-Hans"}',
    ]
    await http.post(url, json=update(9, "/language zh-Hant", language="en"), headers=HEADERS)
    assert assistant.received[-1].text == '/change_language{"language":"zh-Hant"}'
    assert assistant.received[-1].metadata == {"language": "zh-Hant"}


async def test_group_chats_are_ignored_unless_the_bot_is_addressed(telegram, http, assistant, telegram_api) -> None:
    _, url = telegram
    await http.post(url, json=update(10, "lunch?", chat_type="group", chat_id=-100), headers=HEADERS)
    assert assistant.received == []
    addressed = update(11, "@talentbot_test_bot what is QMAS?", chat_type="group", chat_id=-100)
    await http.post(url, json=addressed, headers=HEADERS)
    assert [(m.sender_id, m.text) for m in assistant.received] == [("telegram:-100", "what is QMAS?")]
    assert sent_texts(telegram_api)[-1]["chat_id"] == "-100"


async def test_non_text_private_messages_get_a_polite_note(telegram, http, assistant, telegram_api) -> None:
    _, url = telegram
    sticker_update = update(12, None, language="en")
    sticker_update["message"]["sticker"] = {
        "file_id": "f", "file_unique_id": "u", "width": 1, "height": 1, "is_animated": False, "is_video": False,
        "type": "regular",
    }
    await http.post(url, json=sticker_update, headers=HEADERS)
    assert "only read text" in sent_texts(telegram_api)[0]["text"]
    assert assistant.received == []


@pytest.mark.parametrize(
    "body, status, problem",
    [(b"{not json", 400, "not JSON"), (b"[]", 400, "not an array"), (b'{"message": {}}', 400, "update_id is missing"),
     (b'{"update_id": 1, "message": {"text": "x"}}', 400, "message.chat is missing"),
     (b"[" * 30_000 + b"]" * 30_000, 400, "not JSON"),
     (b'{"update_id": 1, "message": {"message_id": 1, "date": 1, "chat": {"id": "42\\u0000", "type": "private"},'
      b' "text": "hi"}}', 400, "chat.id must be an integer"),
     (b'{"update_id": 1, "x": "' + b"a" * MAX_BODY_BYTES + b'"}', 413, "too large")],
    ids=["malformed", "array", "no-update-id", "message-without-chat", "nested-too-deep", "string-chat-id",
         "oversized"],
)
async def test_bad_bodies_get_a_clear_4xx(telegram, http, assistant, body: bytes, status: int, problem: str) -> None:
    """A 4xx, not 200-and-ignore: Telegram gives up on a failed update after a few attempts, and shows the reason
    in getWebhookInfo (connectors/telegram/protocol.py InboundError)."""
    _, url = telegram
    response = await http.post(url, content=body, headers={**HEADERS, "Content-Type": "application/json"})
    assert response.status_code == status and problem in response.json()["error"]
    assert assistant.received == []


@pytest.mark.parametrize("secret", ["s3crét".encode(), b"\xff\xfe", b"webhook-s3cret\x80"])
async def test_a_secret_header_of_any_bytes_is_refused_not_a_crash(telegram, http, assistant, secret: bytes) -> None:
    _, url = telegram
    response = await http.post(url, json=update(40), headers={"X-Telegram-Bot-Api-Secret-Token": secret})
    assert response.status_code == 403 and assistant.received == []


def note(language: str) -> str:
    return load_texts().texts["message_too_long"][language].split("{")[0]


async def test_a_message_over_the_cap_gets_the_polite_note_and_never_reaches_rasa(
    telegram, http, assistant, telegram_api
) -> None:
    _, url = telegram
    text = "高才通要咩條件？" * 400  # 3,200 characters: Telegram allows 4,096
    for _ in range(2):  # the same update again: one note
        response = await http.post(url, json=update(41, text), headers=HEADERS)
        assert response.status_code == 200
    [sent] = sent_texts(telegram_api)
    assert sent["chat_id"] == "42" and sent["text"].startswith(note("zh-Hant")) and "3,200" in sent["text"]
    assert assistant.received == []
    at_the_cap = "x" * MAX_MESSAGE_CHARS
    assert (await http.post(url, json=update(42, at_the_cap), headers=HEADERS)).status_code == 200
    assert [m.text for m in assistant.received] == [at_the_cap]


async def test_a_long_message_counts_once_cleaned(telegram, http, assistant) -> None:
    _, url = telegram
    text = "x" * MAX_MESSAGE_CHARS + "\x00" * 50
    await http.post(url, json=update(43, text), headers=HEADERS)
    assert [m.text for m in assistant.received] == ["x" * MAX_MESSAGE_CHARS]


async def test_callback_data_reaches_rasa_cleaned(telegram, http, assistant) -> None:
    _, url = telegram
    query = {"update_id": 44, "callback_query": {
        "id": "cbq-44", "chat_instance": "ci", "data": "/gre\x00et\ud800",
        "from": {"id": 42, "is_bot": False, "first_name": "Ann", "language_code": "en"},
        "message": {"message_id": 1, "date": 1, "chat": {"id": 42, "type": "private"}, "text": "?"}}}
    body = json.dumps(query).encode()  # the lone surrogate as a JSON escape
    assert (await http.post(url, content=body, headers=HEADERS)).status_code == 200
    assert [m.text for m in assistant.received] == ["/greet"]


# --- store outages: nothing lost ---------------------------------------------------------------------------------


async def test_while_a_store_rasa_needs_is_down_the_user_is_told_politely(
    telegram, http, assistant, telegram_api
) -> None:
    """The tracker or lock store down: the outage refusal goes out through sendMessage, in the user's language, and
    the update is acknowledged (the user knows to send it again); then answers resume."""
    async def down_then_up(message) -> None:
        if len(assistant.received) == 1:
            raise StoreUnavailable(LOCK_STORE, REDIS_DOWN)
        await message.output_channel.send_text_message(message.sender_id, "answer")

    assistant.answer = down_then_up
    _, url = telegram
    assert (await http.post(url, json=update(50, "高才通要咩條件？"), headers=HEADERS)).status_code == 200
    assert (await http.post(url, json=update(51, "高才通要咩條件？"), headers=HEADERS)).status_code == 200
    refusal = load_texts().texts["store_outage"]["zh-Hant"]
    assert [t["text"] for t in sent_texts(telegram_api)] == [refusal, "answer"]


async def test_a_refusal_telegram_did_not_take_is_redelivered_and_answered_once(
    telegram, http, assistant, telegram_api
) -> None:
    """The tracker store down and the Bot API failing: the user heard nothing and nothing was stored, so the update
    is answered 503 and its claim released. Telegram's redelivery is answered, once."""
    async def outage_then_answer(message) -> None:
        if len(assistant.received) == 1:
            raise StoreUnavailable(TRACKER_STORE, REDIS_DOWN)
        await message.output_channel.send_text_message(message.sender_id, "answer")

    assistant.answer = outage_then_answer
    telegram_api.answer("sendMessage", (502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}))
    _, url = telegram
    first = await http.post(url, json=update(52), headers=HEADERS)
    assert first.status_code == 503 and first.headers["Retry-After"]
    redelivered = [await http.post(url, json=update(52), headers=HEADERS) for _ in range(3)]
    assert [r.json()["status"] for r in redelivered] == ["ok", "duplicate", "duplicate"]
    assert len(assistant.received) == 2  # refused (nothing stored), then answered
    refusal = load_texts().texts["store_outage"]["en"]
    assert [t["text"] for t in sent_texts(telegram_api)] == [refusal, "answer"]  # the refusal met the 502


async def test_a_fault_in_the_assistant_gets_an_apology_not_a_500(telegram, http, assistant, telegram_api) -> None:
    async def broken(message) -> None:
        raise RuntimeError("bug")

    assistant.answer = broken
    _, url = telegram
    for _ in range(2):
        assert (await http.post(url, json=update(53, language="en"), headers=HEADERS)).status_code == 200
    assert [t["text"] for t in sent_texts(telegram_api)] == [load_texts().texts["something_went_wrong"]["en"]]
    assert len(assistant.received) == 1  # not redelivered: it would meet the same fault


async def test_while_the_state_store_is_down_updates_are_left_with_telegram(
    local_redis, telegram_api, serve, http, assistant
) -> None:
    """The connectors' state store (Redis, its own server here) down: an update cannot be claimed, so it is not
    taken (503, nothing sent, nothing to Rasa); after Redis is back, Telegram's redelivery is answered once."""
    store = RedisStateStore(local_redis.url, prefix=f"test:{uuid.uuid4().hex}:")
    channel = TelegramInput(TOKEN, SECRET, api_base_url=telegram_api.url, state=store)
    url = f"{await serve(channel, assistant)}/webhooks/telegram/webhook"
    try:
        local_redis.stop()
        for update_id in (60, 61):
            down = await http.post(url, json=update(update_id, f"message {update_id}"), headers=HEADERS)
            assert down.status_code == 503 and down.headers["Retry-After"]
        assert assistant.received == [] and telegram_api.to("sendMessage") == []
        local_redis.start()
        for update_id in (60, 61, 60, 61):  # Telegram redelivers until it gets a 2xx, then may repeat once more
            for _ in range(3):  # the first command on a connection Redis dropped may fail once
                answer = await http.post(url, json=update(update_id, f"message {update_id}"), headers=HEADERS)
                if answer.status_code == 200:
                    break
        assert [m.text for m in assistant.received] == ["message 60", "message 61"]
        assert [t["text"] for t in sent_texts(telegram_api)] == ["echo: message 60", "echo: message 61"]
    finally:
        await channel.bot.shutdown()
        await store.close()


async def test_proactive_message_to_a_namespaced_id(telegram, telegram_api) -> None:
    channel, _ = telegram
    await channel.get_output_channel().send_text_message(
        "telegram:42", "[staff] Hello, this is the Talent Service Window.")
    assert sent_texts(telegram_api) == [{"chat_id": "42", "text": "[staff] Hello, this is the Talent Service Window."}]


async def test_set_webhook_sends_url_secret_and_allowed_updates(telegram_api) -> None:
    env = {"TELEGRAM_TOKEN": TOKEN, "TELEGRAM_SECRET_TOKEN": SECRET, "TELEGRAM_API_BASE_URL": telegram_api.url}
    await set_webhook("https://talentbot.example.hk/", env)
    [request] = telegram_api.to("setWebhook")
    assert request.path == f"/bot{TOKEN}/setWebhook"
    form = request.form()
    assert form["url"] == "https://talentbot.example.hk/webhooks/telegram/webhook"
    assert form["secret_token"] == SECRET
    assert json.loads(form["allowed_updates"]) == ["message", "callback_query"]
