"""The WeChat API client against a fake api.weixin.qq.com: exact requests, token cache and refresh, errors."""
from __future__ import annotations

import pytest

from connectors.wechat.client import WeChatAPIError, WeChatClient
from connectors.window import ServiceWindowClosed

pytestmark = pytest.mark.server


@pytest.fixture
def client(wechat_api, http, sqlite_store) -> WeChatClient:
    return WeChatClient("wx_app", "app_secret", http, sqlite_store, base_url=wechat_api.url)


async def test_send_text_fetches_the_token_once_and_posts_utf8_json(client, wechat_api) -> None:
    await client.send_text("oUser123", "你好！")
    await client.send_text("oUser123", "second")

    [token_request] = wechat_api.to("cgi-bin_token")
    assert token_request.method == "GET"
    assert token_request.query == {"grant_type": "client_credential", "appid": "wx_app", "secret": "app_secret"}
    first, second = wechat_api.to("cgi-bin_message_custom_send")
    assert first.method == "POST"
    assert first.query == {"access_token": "ACCESS_TOKEN_1"}
    assert first.json() == {"touser": "oUser123", "msgtype": "text", "text": {"content": "你好！"}}
    assert "你好".encode("utf-8") in first.body  # not \\u escapes, which WeChat would show literally
    assert second.json()["text"]["content"] == "second"


async def test_token_is_shared_through_the_state_store(wechat_api, http, sqlite_store) -> None:
    await WeChatClient("wx_app", "s", http, sqlite_store, base_url=wechat_api.url).access_token()
    await WeChatClient("wx_app", "s", http, sqlite_store, base_url=wechat_api.url).access_token()  # another process
    assert len(wechat_api.to("cgi-bin_token")) == 1


@pytest.mark.parametrize("errcode", [40001, 42001])
async def test_rejected_token_is_refreshed_and_the_call_retried_once(client, wechat_api, errcode: int) -> None:
    wechat_api.answer("cgi-bin_message_custom_send", (200, {"errcode": errcode, "errmsg": "access_token expired"}))
    wechat_api.answer("cgi-bin_token", (200, {"access_token": "OLD", "expires_in": 7200}))
    await client.send_text("oUser123", "hi")
    sends = wechat_api.to("cgi-bin_message_custom_send")
    assert [r.query["access_token"] for r in sends] == ["OLD", "ACCESS_TOKEN_1"]


@pytest.mark.parametrize("errcode", [45015, 45047])
async def test_window_errors_raise_service_window_closed(client, wechat_api, errcode: int) -> None:
    wechat_api.answer("cgi-bin_message_custom_send",
                      (200, {"errcode": errcode, "errmsg": "response out of time limit"}))
    with pytest.raises(ServiceWindowClosed):
        await client.send_text("oUser123", "late staff reply")


async def test_other_errors_raise_with_the_errcode(client, wechat_api) -> None:
    wechat_api.answer("cgi-bin_message_custom_send", (200, {"errcode": 48001, "errmsg": "api unauthorized"}))
    with pytest.raises(WeChatAPIError) as raised:
        await client.send_text("oUser123", "hi")
    assert raised.value.errcode == 48001


async def test_user_locale(client, wechat_api) -> None:
    assert await client.user_locale("oUser123") == "zh_CN"
    [request] = wechat_api.to("cgi-bin_user_info")
    assert request.query == {"access_token": "ACCESS_TOKEN_1", "openid": "oUser123", "lang": "en"}


@pytest.mark.parametrize(
    "answer", [(200, {"subscribe": 1, "openid": "o"}), (200, {"errcode": 40003, "errmsg": "invalid openid"}), (500, {})]
)
async def test_user_locale_unknown_is_none(client, wechat_api, answer) -> None:
    wechat_api.answer("cgi-bin_user_info", answer)
    assert await client.user_locale("oUser123") is None


async def test_user_locale_gives_up_quickly(client, wechat_api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("connectors.wechat.client.USER_INFO_TIMEOUT_S", 0.1)
    await client.access_token()
    wechat_api.delay_s = 0.5
    assert await client.user_locale("oUser123") is None
