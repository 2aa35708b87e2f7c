"""The assistant end to end through Rasa's REST channel: language of every reply, fallback, bad input."""

from __future__ import annotations

import uuid

import httpx
import pytest

from talentbot.language import EN, ZH_HANS, ZH_HANT, detect

pytestmark = pytest.mark.server


def sender() -> str:
    return f"test:{uuid.uuid4().hex[:12]}"


def reply_language(replies) -> str:
    text = " ".join(r.get("text", "") for r in replies)
    return detect(text, current=None).language


@pytest.mark.parametrize(
    "message, language",
    [("hello there", EN), ("你好呀，我想問下嘢", ZH_HANT), ("您好，请问一下", ZH_HANS), ("thanks a lot", EN), ("唔該晒", ZH_HANT), ("谢谢你", ZH_HANS)],
)
def test_replies_in_the_language_of_the_message(bot, message, language) -> None:
    replies = bot.send(sender(), message)
    assert replies, "no reply"
    assert reply_language(replies) == language


def test_follows_a_language_switch_mid_conversation(bot) -> None:
    user = sender()
    assert reply_language(bot.send(user, "hi")) == EN
    assert reply_language(bot.send(user, "唔該晒")) == ZH_HANT
    assert reply_language(bot.send(user, "谢谢")) == ZH_HANS
    assert reply_language(bot.send(user, "thank you")) == EN


def test_a_requested_language_sticks(bot) -> None:
    user = sender()
    replies = bot.send(user, '/change_language{"language": "zh-Hans"}')
    assert reply_language(replies) == ZH_HANS
    assert reply_language(bot.send(user, "thank you so much")) == ZH_HANS
    assert bot.tracker(user)["slots"]["language_requested"] == ZH_HANS


def test_unsupported_language_gets_an_english_note_of_supported_ones(bot) -> None:
    [reply] = bot.send(sender(), "Здравствуйте, как получить визу?")
    assert "English" in reply["text"] and "简体中文" in reply["text"]


def test_two_misses_in_a_row_offer_a_member_of_staff(bot) -> None:
    user = sender()
    first = bot.send(user, "/nlu_fallback")
    assert "another way" in first[0]["text"]
    second = bot.send(user, "/nlu_fallback")
    assert any(b["payload"] == "/request_human" for r in second for b in r.get("buttons", []))


@pytest.mark.parametrize(
    "message",
    ["", "   ", "👍👍", "\x00\x07\x1b[31m", "高才通" * 3400, "x" * 10_000, "<script>alert(1)</script>"],
    ids=["empty", "spaces", "emoji", "control", "long-zh", "long-en", "html"],
)
def test_bad_input_gets_a_reply_and_is_kept(bot, message) -> None:
    user = sender()
    replies = bot.send(user, message)
    assert replies and all(r.get("text") for r in replies)
    texts = [e.get("text") for e in bot.tracker(user)["events"] if e["event"] == "user"]
    assert texts == [message.strip()]  # Rasa strips surrounding whitespace; nothing else is lost


def test_chat_page_is_served(bot) -> None:
    page = httpx.get(f"{bot.url}/webhooks/web/", timeout=10)
    assert page.status_code == 200
    assert "/webhooks/rest/webhook" in page.text and "<form" in page.text


def test_http_api_needs_the_token(bot) -> None:
    assert httpx.get(f"{bot.url}/status", timeout=10).status_code == 401


@pytest.mark.parametrize("asked, more", [
    ("What is the Top Talent Pass Scheme?", "could you go into more detail?"),
    ("高才通係咩嚟㗎？", "可唔可以講詳細啲？"),
    ("高才通是什么？", "能不能再详细一点"),
], ids=["en", "zh-Hant", "zh-Hans"])
def test_typing_tell_me_more_gets_what_the_button_gives(bot, asked, more) -> None:
    user = sender()
    [answer] = bot.send(user, asked)
    [button] = [b for b in answer["buttons"] if '"detail":"more"' in b["payload"]]
    typed = [reply.get("text") for reply in bot.send(user, more)]
    pressed = [reply.get("text") for reply in bot.send(user, button["payload"])]
    assert typed == pressed and answer["text"] not in typed
