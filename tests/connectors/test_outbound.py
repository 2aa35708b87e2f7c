"""Proactive sending for the human queue: a namespaced id and a text, through the channel's own connector."""
from __future__ import annotations

from pathlib import Path

import pytest

from connectors.outbound import send_text, service_window_open
from connectors.state import SQLiteStateStore
from connectors.window import ServiceWindowClosed, record_inbound

pytestmark = pytest.mark.server


@pytest.fixture
def env(tmp_path: Path, telegram_api, graph_api, wechat_api) -> dict[str, str]:
    return {
        "CONNECTORS_STATE_URL": f"sqlite:///{tmp_path}/state.db",
        "TELEGRAM_TOKEN": "7000001:AAtest",
        "TELEGRAM_SECRET_TOKEN": "s",
        "TELEGRAM_API_BASE_URL": telegram_api.url,
        "WHATSAPP_TOKEN": "EAAtoken",
        "WHATSAPP_APP_SECRET": "a",
        "WHATSAPP_VERIFY_TOKEN": "v",
        "WHATSAPP_PHONE_NUMBER_ID": "106540352242922",
        "WHATSAPP_API_BASE_URL": graph_api.url,
        "WECHAT_TOKEN": "t",
        "WECHAT_APP_ID": "wx_app",
        "WECHAT_APP_SECRET": "s",
        "WECHAT_API_BASE_URL": wechat_api.url,
    }


async def test_telegram_has_no_window(env, telegram_api) -> None:
    await send_text("telegram", "telegram:42", "[staff] Your case is with a colleague.", env)
    await send_text("telegram", "43", "bare ids are namespaced", env)
    assert [r.form()["chat_id"] for r in telegram_api.to("sendMessage")] == ["42", "43"]


@pytest.mark.parametrize(
    "channel, sender_id, fixture, window_s",
    [("whatsapp", "whatsapp:85291234567", "graph_api", 24 * 3600),
     ("wechat", "wechat:oUser123", "wechat_api", 48 * 3600)],
)
async def test_windowed_channels_send_only_inside_the_window(
    env, request, tmp_path, channel, sender_id, fixture, window_s
) -> None:
    fake = request.getfixturevalue(fixture)
    with pytest.raises(ServiceWindowClosed):
        await send_text(channel, sender_id, "too late", env)
    assert fake.requests == []
    assert await service_window_open(channel, sender_id, env) is False

    await record_inbound(SQLiteStateStore(tmp_path / "state.db"), sender_id, window_s)  # the user wrote
    assert await service_window_open(channel, sender_id, env) is True
    await send_text(channel, sender_id, "[staff] 你好", env)
    assert any("[staff] 你好".encode() in r.body for r in fake.requests)


async def test_ids_of_another_channel_and_unknown_channels_are_refused(env) -> None:
    with pytest.raises(ValueError):
        await send_text("telegram", "whatsapp:85291234567", "x", env)
    with pytest.raises(KeyError):
        await send_text("line", "line:1", "x", env)


# --- the web page: staff replies are pushed through the Rasa server that holds the page's socket ----------------


@pytest.fixture
async def rasa_push():
    """A stand-in for the Rasa server's `/webhooks/socketio/push` route: records pushes, answers as told."""
    from aiohttp import web

    pushes: list = []
    answer = {"status": 200}

    async def push(request: web.Request) -> web.Response:
        pushes.append((request.headers.get("Authorization"), await request.json()))
        return web.json_response({}, status=answer["status"])

    app = web.Application()
    app.router.add_post("/webhooks/socketio/push", push)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    yield {"url": f"http://127.0.0.1:{port}", "pushes": pushes, "answer": answer}
    await runner.cleanup()


WEB_USER = "web:" + "a" * 32


@pytest.mark.parametrize("channel", ["socketio", "rest"])
async def test_a_web_page_user_gets_the_reply_pushed_with_the_api_token(rasa_push, channel) -> None:
    env = {"RASA_URL": rasa_push["url"], "RASA_AUTH_TOKEN": "tok"}
    await send_text(channel, WEB_USER, "你好，我係同事阿欣", env)
    assert rasa_push["pushes"] == [("Bearer tok", {"recipient_id": WEB_USER, "text": "你好，我係同事阿欣"})]


async def test_a_closed_page_or_a_plain_rest_client_cannot_be_reached(rasa_push) -> None:
    from connectors.outbound import CannotDeliver

    env = {"RASA_URL": rasa_push["url"], "RASA_AUTH_TOKEN": "tok"}
    with pytest.raises(CannotDeliver):
        await send_text("rest", "curl-user-1", "hello", env)
    rasa_push["answer"]["status"] = 409
    with pytest.raises(CannotDeliver):
        await send_text("socketio", WEB_USER, "hello", env)
    rasa_push["answer"]["status"] = 401
    with pytest.raises(RuntimeError, match="refused"):
        await send_text("socketio", WEB_USER, "hello", env)
