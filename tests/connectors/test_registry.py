"""Which channels start, given the environment; module paths for credentials.yml."""
from __future__ import annotations

import pytest

from connectors.registry import CHANNELS, enabled_channels, input_channel_class, require

WECHAT = {"WECHAT_TOKEN": "t", "WECHAT_APP_ID": "wx1", "WECHAT_APP_SECRET": "s"}
TELEGRAM = {"TELEGRAM_TOKEN": "1:A", "TELEGRAM_SECRET_TOKEN": "sec"}
WHATSAPP = {
    "WHATSAPP_TOKEN": "EAAG",
    "WHATSAPP_APP_SECRET": "app",
    "WHATSAPP_VERIFY_TOKEN": "verify",
    "WHATSAPP_PHONE_NUMBER_ID": "106540352242922",
}


@pytest.mark.parametrize(
    "env, expected",
    [
        ({}, {}),
        (WECHAT, {"connectors.wechat.WeChatInput": None}),
        ({**WECHAT, "WECHAT_APP_SECRET": ""}, {}),
        ({**WECHAT, "WECHAT_APP_SECRET": "   "}, {}),
        ({"TELEGRAM_TOKEN": "1:A"}, {}),  # no webhook secret: not started
        (TELEGRAM, {"connectors.telegram.TelegramInput": None}),
        ({k: v for k, v in WHATSAPP.items() if k != "WHATSAPP_VERIFY_TOKEN"}, {}),
        (
            {**WECHAT, **TELEGRAM, **WHATSAPP, "PATH": "/bin"},
            {
                "connectors.wechat.WeChatInput": None,
                "connectors.telegram.TelegramInput": None,
                "connectors.whatsapp.WhatsAppInput": None,
            },
        ),
    ],
)
def test_enabled_channels_are_those_with_every_secret(env: dict, expected: dict) -> None:
    assert enabled_channels(env) == expected


@pytest.mark.parametrize("name", ["wechat", "telegram", "whatsapp"])
def test_module_path_names_the_input_channel_of_that_route(name: str) -> None:
    cls = input_channel_class(name)
    assert cls.name() == name  # mounted by Rasa at /webhooks/<name>/webhook
    assert f"{cls.__module__.rsplit('.', 1)[0]}.{cls.__name__}" == CHANNELS[name].module_path


def test_require_returns_optional_settings_and_refuses_missing_secrets() -> None:
    assert require("wechat", {**WECHAT, "WECHAT_AES_KEY": "k" * 43})["WECHAT_AES_KEY"] == "k" * 43
    with pytest.raises(KeyError, match="WECHAT_TOKEN"):
        require("wechat", {"WECHAT_APP_ID": "wx1", "WECHAT_APP_SECRET": "s"})


@pytest.mark.parametrize("name, env", [("wechat", WECHAT), ("telegram", TELEGRAM), ("whatsapp", WHATSAPP)])
def test_from_credentials_reads_secrets_from_the_environment(
    name: str, env: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert input_channel_class(name).from_credentials(None).name() == name


def test_from_credentials_without_secrets_fails_at_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in WECHAT:
        monkeypatch.delenv(key, raising=False)
    with pytest.raises(Exception, match="credentials"):
        input_channel_class("wechat").from_credentials(None)
