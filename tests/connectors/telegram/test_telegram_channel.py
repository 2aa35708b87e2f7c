"""The Telegram webhook in a real Sanic app; the real python-telegram-bot client talks to a fake Bot API."""
from __future__ import annotations

import json
from typing import Any, Optional

import pytest

from connectors.guards import MAX_BODY_BYTES
from connectors.telegram import TelegramInput, set_webhook

pytestmark = pytest.mark.server

TOKEN, SECRET = "7000001:AAtest", "webhook-s3cret"
HEADERS = {"X-Telegram-Bot-Api-Secret-Token": SECRET}


def update(update_id: int, text: Optional[str] = "hi", language: str = "zh-hans", chat_type: str = "private", chat_id: int = 42) -> dict:
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
    assert (received.sender_id, received.input_channel, received.metadata) == ("telegram:42", "telegram", {"language": "zh-Hans"})
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


async def test_buttons_become_an_inline_keyboard_and_callbacks_are_answered(telegram, http, assistant, telegram_api) -> None:
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


async def test_language_command_offers_three_languages_and_sets_the_chosen_one(telegram, http, assistant, telegram_api) -> None:
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
    await http.post(url, json=update(11, "@talentbot_test_bot what is QMAS?", chat_type="group", chat_id=-100), headers=HEADERS)
    assert [(m.sender_id, m.text) for m in assistant.received] == [("telegram:-100", "what is QMAS?")]
    assert sent_texts(telegram_api)[-1]["chat_id"] == "-100"


async def test_non_text_private_messages_get_a_polite_note(telegram, http, assistant, telegram_api) -> None:
    _, url = telegram
    sticker_update = update(12, None, language="en")
    sticker_update["message"]["sticker"] = {
        "file_id": "f", "file_unique_id": "u", "width": 1, "height": 1, "is_animated": False, "is_video": False, "type": "regular",
    }
    await http.post(url, json=sticker_update, headers=HEADERS)
    assert "only read text" in sent_texts(telegram_api)[0]["text"]
    assert assistant.received == []


@pytest.mark.parametrize(
    "body, status",
    [(b"{not json", 400), (b"[]", 400), (b'{"message": {}}', 400), (b'{"update_id": 1, "message": {"text": "x"}}', 400),
     (b'{"update_id": 1, "x": "' + b"a" * MAX_BODY_BYTES + b'"}', 413)],
    ids=["malformed", "array", "no-update-id", "message-without-chat", "oversized"],
)
async def test_bad_bodies_get_a_clear_4xx(telegram, http, assistant, body: bytes, status: int) -> None:
    _, url = telegram
    response = await http.post(url, content=body, headers={**HEADERS, "Content-Type": "application/json"})
    assert response.status_code == status
    assert assistant.received == []


async def test_proactive_message_to_a_namespaced_id(telegram, telegram_api) -> None:
    channel, _ = telegram
    await channel.get_output_channel().send_text_message("telegram:42", "[staff] Hello, this is the Talent Service Window.")
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
