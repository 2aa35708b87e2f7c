"""What every platform channel inherits from connectors/platform.py: settings from the environment, a health route,
the body cap before any other check, and closing only what the channel opened itself."""
from __future__ import annotations

from typing import Any, Callable

import httpx
import pytest
from rasa.shared.exceptions import RasaException

from connectors import platform, registry
from connectors.guards import MAX_BODY_BYTES
from connectors.telegram import TelegramInput
from connectors.wechat import WeChatInput
from connectors.whatsapp import WhatsAppInput

pytestmark = pytest.mark.server

ENV = {
    "wechat": {"WECHAT_TOKEN": "t", "WECHAT_APP_ID": "wx_app", "WECHAT_APP_SECRET": "s"},
    "telegram": {"TELEGRAM_TOKEN": "7000001:AAtest", "TELEGRAM_SECRET_TOKEN": "sec"},
    "whatsapp": {"WHATSAPP_TOKEN": "EAA", "WHATSAPP_APP_SECRET": "a", "WHATSAPP_VERIFY_TOKEN": "v",
                 "WHATSAPP_PHONE_NUMBER_ID": "106540352242922"},
}
PLATFORMS = sorted(registry.CHANNELS)
GIVEN: dict[str, Callable[[Any, httpx.AsyncClient], platform.PlatformInput[Any]]] = {
    "wechat": lambda state, http: WeChatInput("t", "wx_app", "s", state=state, http=http),
    "telegram": lambda state, http: TelegramInput("7000001:AAtest", "sec", state=state),  # its Bot has its own
    "whatsapp": lambda state, http: WhatsAppInput("EAA", "a", "v", "106540352242922", state=state, http=http),
}
"""Each channel built with a state store (and HTTP client) it is given."""


def test_every_registered_channel_is_a_platform_channel() -> None:
    assert set(ENV) == set(PLATFORMS)
    for name in PLATFORMS:
        channel_class = registry.input_channel_class(name)
        assert issubclass(channel_class, platform.PlatformInput) and channel_class.name() == name


@pytest.mark.parametrize("name", PLATFORMS)
def test_a_missing_secret_stops_the_start(name: str) -> None:
    channel_class = registry.input_channel_class(name)
    _, *rest = ENV[name]  # the first secret missing
    with pytest.raises(RasaException, match="credentials"):
        channel_class.from_env({key: ENV[name][key] for key in rest})
    assert channel_class.from_env(ENV[name]).name() == name


@pytest.mark.parametrize("name", PLATFORMS)
async def test_health_and_the_body_cap_come_before_the_platforms_own_checks(
    name: str, serve, assistant, http, sqlite_store
) -> None:
    channel = GIVEN[name](sqlite_store, http)
    base = f"{await serve(channel, assistant)}/webhooks/{name}"
    try:
        health = await http.get(f"{base}/")
        assert (health.status_code, health.json()) == (200, {"status": "ok"})
        oversized = await http.post(f"{base}/webhook", content=b"x" * (MAX_BODY_BYTES + 1))  # unsigned, too
        assert oversized.status_code == 413 and "payload too large" in oversized.text
        assert assistant.received == []
        unchecked = await http.get(f"{base}/webhook")  # no verification parameters
        assert unchecked.status_code == (403 if channel.verifies_url else 405)
    finally:
        await channel.aclose()


class SpyStore:
    """A state store that only records being closed."""

    def __init__(self) -> None:
        self.closed = False

    async def close(self) -> None:
        self.closed = True


@pytest.mark.parametrize("name", PLATFORMS)
async def test_a_channel_closes_the_store_and_client_it_opened(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    opened = SpyStore()
    monkeypatch.setattr(platform, "open_state_store", lambda environ: opened)
    channel = registry.input_channel_class(name).from_env(ENV[name])
    assert channel.state is opened  # made on first use, from the environment
    http = channel.http
    await channel.aclose()
    assert opened.closed and http.is_closed


@pytest.mark.parametrize("name", PLATFORMS)
async def test_a_channel_leaves_open_what_it_was_given(name: str) -> None:
    given = SpyStore()
    async with httpx.AsyncClient() as http:
        channel = GIVEN[name](given, http)
        assert channel.state is given
        await channel.aclose()
        assert not given.closed and not http.is_closed
