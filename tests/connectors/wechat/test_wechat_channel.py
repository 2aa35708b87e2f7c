"""The WeChat webhook mounted in a real Sanic app, answering through a fake WeChat API."""
from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
import uuid
from typing import Optional

import httpx
import pytest
import xmltodict
from wechatpy.crypto import WeChatCrypto

from connectors.guards import MAX_BODY_BYTES, MAX_REQUEST_AGE_S
from connectors.state import RedisStateStore, SQLiteStateStore
from connectors.texts import load_texts
from connectors.wechat import WeChatInput
from connectors.wechat.protocol import TEXT_LIMIT_BYTES
from talentbot.core.inbound import MAX_MESSAGE_CHARS
from talentbot.core.store_outages import TRACKER_STORE, StoreUnavailable
from tests.connectors.conftest import REDIS_DOWN, FlakyStore

pytestmark = pytest.mark.server

TOKEN, APP_ID, AES_KEY = "talentbot", "wx_app", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
OPENID = "oUser123"
BUDGET_S = 0.4


def sign(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()


def signed_query(timestamp: Optional[int] = None, nonce: Optional[str] = None, token: str = TOKEN) -> dict[str, str]:
    """A query string as WeChat signs it; a fresh nonce unless one is given (WeChat never reuses one for another
    message)."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or secrets.token_hex(8)
    return {"signature": sign(token, ts, nonce), "timestamp": ts, "nonce": nonce}


def message(content: str = "高才通要咩條件？", msg_id: str = "1001", msg_type: str = "text", extra: str = "") -> str:
    body = f"<Content><![CDATA[{content}]]></Content>" if msg_type == "text" else extra
    return (
        f"<xml><ToUserName><![CDATA[gh_talent]]></ToUserName><FromUserName><![CDATA[{OPENID}]]></FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA[{msg_type}]]></MsgType>{body}"
        f"<MsgId>{msg_id}</MsgId></xml>"
    )


def event(name: str, created: int = 1_764_064_800) -> str:
    return (
        f"<xml><ToUserName><![CDATA[gh_talent]]></ToUserName><FromUserName><![CDATA[{OPENID}]]></FromUserName>"
        f"<CreateTime>{created}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{name}]]></Event></xml>"
    )


def reply_text(response: httpx.Response) -> str:
    """The Content of a passive reply."""
    assert response.headers["content-type"].startswith("application/xml")
    reply = xmltodict.parse(response.text)["xml"]
    assert (reply["ToUserName"], reply["FromUserName"], reply["MsgType"]) == (OPENID, "gh_talent", "text")
    return reply["Content"]


@pytest.fixture
async def wechat(wechat_api, http, sqlite_store, serve, assistant):
    """(channel, webhook URL) with the echo assistant behind it."""
    async def start(aes_key: Optional[str] = None) -> tuple[WeChatInput, str]:
        channel = WeChatInput(
            TOKEN, APP_ID, "app_secret", aes_key=aes_key, api_base_url=wechat_api.url,
            state=sqlite_store, http=http, reply_budget_s=BUDGET_S,
        )
        base = await serve(channel, assistant)
        started.append(channel)
        return channel, f"{base}/webhooks/wechat/webhook"

    started: list[WeChatInput] = []
    yield start
    for channel in started:
        await channel.drain()


async def test_get_verification_echoes_echostr_only_when_signed(wechat, http) -> None:
    _, url = await wechat()
    ok = await http.get(url, params={**signed_query(), "echostr": "5837397520"})
    assert (ok.status_code, ok.text) == (200, "5837397520")
    forged = await http.get(url, params={**signed_query(token="guess"), "echostr": "5837397520"})
    assert forged.status_code == 403


async def test_text_gets_a_passive_reply_from_rasa(wechat, http, assistant, wechat_api) -> None:
    _, url = await wechat()
    response = await http.post(url, params=signed_query(), content=message("高才通要咩條件？"))
    assert response.status_code == 200
    assert reply_text(response) == "echo: 高才通要咩條件？"
    [received] = assistant.received
    assert (received.sender_id, received.input_channel, received.text) == (
        "wechat:oUser123", "wechat", "高才通要咩條件？")
    assert wechat_api.requests == []  # the passive reply needed no API call


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"signature": "0" * 40, "timestamp": str(int(time.time())), "nonce": "n"},
        signed_query(token="not-our-token"),
        signed_query(timestamp=int(time.time()) - 3600),  # stale: a replay
    ],
    ids=["unsigned", "wrong", "other-token", "stale"],
)
async def test_forged_or_stale_requests_get_403_and_are_not_processed(
    wechat, http, assistant, wechat_api, query, caplog
) -> None:
    _, url = await wechat()
    response = await http.post(url, params=query, content=message())
    assert response.status_code == 403
    assert assistant.received == [] and wechat_api.requests == []
    assert "WeChat request refused" in caplog.text


async def test_retries_of_one_message_are_answered_once(wechat, http, assistant) -> None:
    _, url = await wechat()
    body = message(msg_id="2002")
    responses = [await http.post(url, params=signed_query(nonce=f"n{i}"), content=body) for i in range(3)]
    assert reply_text(responses[0]) == "echo: 高才通要咩條件？"
    assert [r.text for r in responses[1:]] == ["success", "success"]
    assert len(assistant.received) == 1


async def test_a_captured_query_string_cannot_carry_another_body(
    any_store, wechat_api, http, serve, assistant, caplog
) -> None:
    """Plain mode signs token, timestamp and nonce, not the body: one genuine message's query string, sent again
    with another body, is refused (in both stores: Redis is the production one)."""
    channel = WeChatInput(TOKEN, APP_ID, "app_secret", api_base_url=wechat_api.url, state=any_store, http=http,
                          reply_budget_s=BUDGET_S)
    url = f"{await serve(channel, assistant)}/webhooks/wechat/webhook"
    query = signed_query()
    genuine = await http.post(url, params=query, content=message("高才通要咩條件？", msg_id="1101"))
    assert reply_text(genuine) == "echo: 高才通要咩條件？"
    forged = await http.post(url, params=query, content=message("我想轉人工", msg_id="1102"))
    assert forged.status_code == 403
    assert [m.text for m in assistant.received] == ["高才通要咩條件？"]
    assert "already used with another body" in caplog.text
    await channel.drain()


async def test_a_retry_with_the_same_query_string_is_answered_once_not_refused(wechat, http, assistant) -> None:
    """Should WeChat retry with the very same request, the user must not see an error: answered once, then
    "success" as for any retry."""
    _, url = await wechat()
    query, body = signed_query(), message(msg_id="1201")
    first = await http.post(url, params=query, content=body)
    retries = [await http.post(url, params=query, content=body) for _ in range(3)]
    assert reply_text(first) == "echo: 高才通要咩條件？"
    assert [(r.status_code, r.text) for r in retries] == [(200, "success")] * 3
    assert len(assistant.received) == 1


async def test_a_used_nonce_is_remembered_for_the_whole_acceptance_window(
    wechat_api, http, serve, assistant, tmp_path
) -> None:
    now = [float(int(time.time()))]
    store = SQLiteStateStore(tmp_path / "state.sqlite3", clock=lambda: now[0])
    channel = WeChatInput(TOKEN, APP_ID, "app_secret", api_base_url=wechat_api.url, state=store, http=http,
                          reply_budget_s=BUDGET_S, clock=lambda: now[0])
    url = f"{await serve(channel, assistant)}/webhooks/wechat/webhook"
    query = signed_query(timestamp=int(now[0]))
    assert (await http.post(url, params=query, content=message(msg_id="1301"))).status_code == 200
    now[0] += MAX_REQUEST_AGE_S - 1  # the signature still verifies: only the memory of the nonce stops a forgery
    forged = await http.post(url, params=query, content=message("我想轉人工", msg_id="1302"))
    assert forged.status_code == 403
    assert len(assistant.received) == 1
    await channel.drain()
    await store.close()


async def test_slow_answers_go_by_customer_service_api_and_retries_are_not_doubled(
    wechat, http, assistant, wechat_api
) -> None:
    async def slow(message) -> None:
        await asyncio.sleep(BUDGET_S * 3)
        await message.output_channel.send_text_message(message.sender_id, "slow answer")

    assistant.answer = slow
    channel, url = await wechat()
    body = message(msg_id="3003")
    started = time.monotonic()
    first = await http.post(url, params=signed_query(), content=body)
    elapsed = time.monotonic() - started
    retry = await http.post(url, params=signed_query(nonce="retry"), content=body)  # WeChat retries after 5 s
    assert (first.text, retry.text) == ("success", "success")
    assert elapsed < BUDGET_S + 0.5
    await channel.drain()
    [sent] = wechat_api.to("cgi-bin_message_custom_send")
    assert sent.json() == {"touser": OPENID, "msgtype": "text", "text": {"content": "slow answer"}}
    assert len(assistant.received) == 1


async def test_several_messages_go_in_order_by_customer_service_api(wechat, http, assistant, wechat_api) -> None:
    async def two(message) -> None:
        await message.output_channel.send_text_message(message.sender_id, "first")
        await message.output_channel.send_text_message(message.sender_id, "second")

    assistant.answer = two
    channel, url = await wechat()
    response = await http.post(url, params=signed_query(), content=message(msg_id="4004"))
    assert response.text == "success"
    await channel.drain()
    assert [r.json()["text"]["content"] for r in wechat_api.to("cgi-bin_message_custom_send")] == ["first", "second"]


async def test_long_answer_is_split_within_the_limit(wechat, http, assistant, wechat_api) -> None:
    async def long(message) -> None:
        await message.output_channel.send_text_message(message.sender_id, "申請人須持有認可大學學士學位。" * 120)

    assistant.answer = long
    channel, url = await wechat()
    await http.post(url, params=signed_query(), content=message(msg_id="5005"))
    await channel.drain()
    parts = [r.json()["text"]["content"] for r in wechat_api.to("cgi-bin_message_custom_send")]
    assert len(parts) > 1
    assert all(len(p.encode()) <= TEXT_LIMIT_BYTES and p.endswith("。") for p in parts)


async def test_buttons_become_numbered_choices_answerable_with_a_digit(wechat, http, assistant) -> None:
    async def menu(message) -> None:
        if message.text.startswith("/"):
            await message.output_channel.send_text_message(message.sender_id, f"chosen {message.text}")
            return
        await message.output_channel.send_text_with_buttons(
            message.sender_id,
            "想了解邊個計劃？",
            [{"title": "高才通", "payload": '/ask_scheme_info{"scheme":"TTPS"}'},
             {"title": "優才", "payload": '/ask_scheme_info{"scheme":"QMAS"}'}],
            metadata={"language": "zh-Hant"},  # as Rasa passes a custom action's reply (connectors/reply_language.py)
        )

    assistant.answer = menu
    _, url = await wechat()
    shown = reply_text(await http.post(url, params=signed_query(), content=message("計劃", msg_id="6001")))
    assert shown == "想了解邊個計劃？\n\n1. 高才通\n2. 優才\n\n回覆數字就可以揀選項。"
    chosen = reply_text(await http.post(url, params=signed_query(), content=message("２", msg_id="6002")))
    assert chosen == 'chosen /ask_scheme_info{"scheme":"QMAS"}'
    again = reply_text(await http.post(url, params=signed_query(), content=message("2", msg_id="6003")))
    assert again.startswith("想了解邊個計劃？")  # the choices were used up: "2" is an ordinary message again
    assert assistant.received[-1].text == "2"


async def test_subscribe_welcomes_in_the_users_locale_and_hints_later_messages(
    wechat, http, assistant, wechat_api
) -> None:
    _, url = await wechat()
    welcome = reply_text(await http.post(url, params=signed_query(), content=event("subscribe")))
    assert welcome.startswith("欢迎来到香港人才服务窗口") and "Welcome" not in welcome
    assert assistant.received == []
    await http.post(url, params=signed_query(), content=message("高才通申请条件是什么", msg_id="7001"))
    assert assistant.received[0].metadata == {"language": "zh-Hans"}


async def test_subscribe_with_unknown_locale_is_bilingual(wechat, http, wechat_api) -> None:
    wechat_api.answer("cgi-bin_user_info", (200, {"subscribe": 1, "openid": OPENID}))
    _, url = await wechat()
    welcome = reply_text(await http.post(url, params=signed_query(), content=event("subscribe")))
    assert "欢迎" in welcome and "Welcome" in welcome


async def test_unsubscribe_and_other_events_get_success_and_no_reply(wechat, http, assistant, wechat_api) -> None:
    _, url = await wechat()
    for name, created in (("unsubscribe", 1), ("VIEW", 2), ("LOCATION", 3)):
        response = await http.post(url, params=signed_query(), content=event(name, created))
        assert (response.status_code, response.text) == (200, "success")
    assert assistant.received == [] and wechat_api.requests == []


@pytest.mark.parametrize(
    "msg_type, extra",
    [("image", "<PicUrl>http://x/y.jpg</PicUrl>"), ("location", "<Label>HK</Label>"),
     ("voice", "<Format>amr</Format>")],
)
async def test_non_text_messages_get_a_polite_note(wechat, http, assistant, msg_type: str, extra: str) -> None:
    _, url = await wechat()
    note = reply_text(await http.post(url, params=signed_query(), content=message(msg_type=msg_type, extra=extra)))
    assert "只能看懂文字" in note and "text messages" in note  # language unknown: zh-Hans + en
    assert assistant.received == []


@pytest.mark.parametrize(
    "body, status",
    [
        (b"<xml><ToUserName>broken", 400),
        (b"{\"not\": \"xml\"}", 400),
        (b"<xml><MsgType>text</MsgType></xml>", 400),
        (b"<xml>" + b"x" * MAX_BODY_BYTES + b"</xml>", 413),
    ],
    ids=["truncated", "json", "missing-fields", "oversized"],
)
async def test_bad_bodies_get_a_clear_4xx(wechat, http, assistant, body: bytes, status: int) -> None:
    _, url = await wechat()
    response = await http.post(url, params=signed_query(), content=body)
    assert response.status_code == status
    assert assistant.received == []


async def test_rasa_failing_fast_gets_an_apology(wechat, http, assistant) -> None:
    async def broken(message) -> None:
        raise RuntimeError("tracker store down")

    assistant.answer = broken
    _, url = await wechat()
    response = await http.post(url, params=signed_query(), content=message(msg_id="8008"))
    assert "something went wrong" in reply_text(response)


async def test_safe_mode_decrypts_the_message_and_encrypts_the_reply(wechat, http, assistant) -> None:
    crypto = WeChatCrypto(TOKEN, AES_KEY, APP_ID)
    _, url = await wechat(aes_key=AES_KEY)
    query = signed_query(nonce="safe")
    envelope = xmltodict.parse(crypto.encrypt_message(message("优才怎么申请"), "safe", query["timestamp"]))["xml"]
    body = f"<xml><ToUserName>gh_talent</ToUserName><Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>"
    params = {**query, "encrypt_type": "aes", "msg_signature": envelope["MsgSignature"]}

    response = await http.post(url, params=params, content=body)
    assert response.status_code == 200
    assert assistant.received[0].text == "优才怎么申请"
    reply = xmltodict.parse(response.text)["xml"]
    plain = crypto.decrypt_message(response.text, reply["MsgSignature"], reply["TimeStamp"], reply["Nonce"])
    assert xmltodict.parse(plain)["xml"]["Content"] == "echo: 优才怎么申请"

    forged = await http.post(url, params={**params, "msg_signature": "0" * 40}, content=body.replace("1001", "1002"))
    assert forged.status_code == 403
    plaintext = await http.post(url, params=signed_query(), content=message(msg_id="1003"))
    assert plaintext.status_code == 403  # safe mode accepts encrypted messages only
    assert len(assistant.received) == 1


async def test_proactive_message_uses_the_customer_service_api_and_knows_the_window(wechat, http, wechat_api) -> None:
    channel, url = await wechat()
    output = channel.get_output_channel()
    assert await output.window_open("wechat:oUser123") is False  # never wrote
    await http.post(url, params=signed_query(), content=message(msg_id="9009"))
    assert await output.window_open("wechat:oUser123") is True
    await output.send_text_message("wechat:oUser123", "[staff] 你好，我係人才服務窗口嘅同事。")
    [sent] = wechat_api.to("cgi-bin_message_custom_send")
    assert sent.json()["text"]["content"] == "[staff] 你好，我係人才服務窗口嘅同事。"
    with pytest.raises(ValueError):
        await output.send_text_message("telegram:42", "wrong channel")


def safe_request(crypto: WeChatCrypto, plaintext: str | bytes, nonce: Optional[str] = None) -> tuple[dict, bytes]:
    """(query, body) of a safe-mode message as WeChat sends it."""
    query = signed_query(nonce=nonce)
    envelope = xmltodict.parse(crypto.encrypt_message(plaintext, query["nonce"], query["timestamp"]))["xml"]
    body = f"<xml><ToUserName>gh_talent</ToUserName><Encrypt><![CDATA[{envelope['Encrypt']}]]></Encrypt></xml>"
    return {**query, "encrypt_type": "aes", "msg_signature": envelope["MsgSignature"]}, body.encode()


@pytest.mark.parametrize("aes_key", [None, AES_KEY], ids=["plain", "safe"])
async def test_a_message_over_the_cap_gets_the_polite_note_as_passive_reply(
    wechat, http, assistant, wechat_api, aes_key
) -> None:
    channel, url = await wechat(aes_key=aes_key)
    crypto = WeChatCrypto(TOKEN, AES_KEY, APP_ID)

    async def post(content: str, msg_id: str) -> httpx.Response:
        if not aes_key:
            return await http.post(url, params=signed_query(), content=message(content, msg_id=msg_id))
        params, body = safe_request(crypto, message(content, msg_id=msg_id))
        answer = await http.post(url, params=params, content=body)
        if answer.text == "success":
            return answer
        reply = xmltodict.parse(answer.text)["xml"]
        plain = crypto.decrypt_message(answer.text, reply["MsgSignature"], reply["TimeStamp"], reply["Nonce"])
        return httpx.Response(200, headers={"content-type": "application/xml"}, text=plain)

    long = "高才通申请条件是什么？" * 300  # 3,300 characters
    replies = [await post(long, "9101") for _ in range(2)]  # WeChat's retry: answered once
    assert reply_text(replies[0]).startswith(load_texts().texts["message_too_long"]["zh-Hans"].split("{")[0])
    assert "3,300" in reply_text(replies[0]) and replies[1].text == "success"
    assert assistant.received == [] and wechat_api.requests == []
    at_the_cap = "优" * MAX_MESSAGE_CHARS
    await post(at_the_cap + "\x85", "9102")  # at the cap once cleaned
    assert [m.text for m in assistant.received] == [at_the_cap]


async def test_text_reaches_rasa_cleaned(wechat, http, assistant) -> None:
    _, url = await wechat()
    await http.post(url, params=signed_query(), content=message("高才通\x85要咩\x9f條件？", msg_id="9201"))
    assert [m.text for m in assistant.received] == ["高才通要咩條件？"]


@pytest.mark.parametrize("aes_key", [None, AES_KEY], ids=["plain", "safe"])
async def test_a_body_that_is_not_utf8_is_a_400_not_a_crash(wechat, http, assistant, aes_key) -> None:
    _, url = await wechat(aes_key=aes_key)
    params = {**signed_query(), "encrypt_type": "aes", "msg_signature": "0" * 40} if aes_key else signed_query()
    answer = await http.post(url, params=params, content=b"<xml>\xff\xfe</xml>")
    assert answer.status_code == 400 and "UTF-8" in answer.text
    if aes_key:  # decrypted, but not UTF-8 inside
        params, body = safe_request(WeChatCrypto(TOKEN, AES_KEY, APP_ID), b"<xml>\xff</xml>")
        assert (await http.post(url, params=params, content=body)).status_code == 400
    assert assistant.received == []


@pytest.mark.parametrize("signature", ["签名", "%FF%FE", "0" * 40 + "\u00e9"])
async def test_a_signature_of_any_characters_is_refused_not_a_crash(wechat, http, assistant, signature: str) -> None:
    _, url = await wechat()
    query = {**signed_query(), "signature": signature}
    assert (await http.post(url, params=query, content=message())).status_code == 403
    assert assistant.received == []


async def test_while_a_store_rasa_needs_is_down_the_user_is_told_in_the_passive_reply(wechat, http, assistant) -> None:
    async def down(message) -> None:
        raise StoreUnavailable(TRACKER_STORE, REDIS_DOWN)

    assistant.answer = down
    _, url = await wechat()
    answer = await http.post(url, params=signed_query(), content=message("高才通申请条件是什么", msg_id="9301"))
    assert reply_text(answer) == load_texts().texts["store_outage"]["zh-Hans"]


async def test_a_message_the_state_store_failed_midway_is_redelivered_and_answered_once(
    sqlite_store, wechat_api, http, serve, assistant
) -> None:
    """The state store fails after the message was claimed (here: recording the user's last message): nothing of
    it went to Rasa, so it is released and answered 503; WeChat's retry is answered once."""
    store = FlakyStore(sqlite_store)
    channel = WeChatInput(TOKEN, APP_ID, "app_secret", api_base_url=wechat_api.url, state=store, http=http,
                          reply_budget_s=BUDGET_S)
    url = f"{await serve(channel, assistant)}/webhooks/wechat/webhook"
    store.fail_on = "window:"
    first = await http.post(url, params=signed_query(), content=message(msg_id="9401"))
    assert first.status_code == 503 and assistant.received == []
    store.fail_on = None
    retries = [await http.post(url, params=signed_query(), content=message(msg_id="9401")) for _ in range(2)]
    assert reply_text(retries[0]) == "echo: 高才通要咩條件？" and retries[1].text == "success"
    assert len(assistant.received) == 1
    await channel.drain()


async def test_while_the_state_store_is_down_messages_are_left_with_wechat(
    local_redis, wechat_api, http, serve, assistant
) -> None:
    store = RedisStateStore(local_redis.url, prefix=f"test:{uuid.uuid4().hex}:")
    channel = WeChatInput(TOKEN, APP_ID, "app_secret", api_base_url=wechat_api.url, state=store, http=http,
                          reply_budget_s=BUDGET_S)
    url = f"{await serve(channel, assistant)}/webhooks/wechat/webhook"
    try:
        local_redis.stop()
        down = await http.post(url, params=signed_query(), content=message(msg_id="9501"))
        assert down.status_code == 503 and assistant.received == [] and wechat_api.requests == []
        local_redis.start()
        answers = [await http.post(url, params=signed_query(), content=message(msg_id="9501")) for _ in range(3)]
        answered = [a for a in answers if a.status_code == 200 and a.text != "success"]
        assert [reply_text(a) for a in answered] == ["echo: 高才通要咩條件？"]
        assert len(assistant.received) == 1
    finally:
        await channel.drain()
        await store.close()
