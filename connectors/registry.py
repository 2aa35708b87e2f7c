"""The channels talentbot can start: their credentials.yml module paths and the environment variables they need."""
from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Mapping, Optional

if TYPE_CHECKING:  # the channels import this module: their base class is named for the type checker only
    from connectors.platform import PlatformInput


@dataclass(frozen=True)
class ChannelSpec:
    """One custom Rasa input channel (interfaces.md §4)."""

    name: str  # route /webhooks/<name>/webhook and the sender-id namespace
    module_path: str  # the key in credentials.yml, e.g. connectors.telegram.TelegramInput
    required_env: tuple[str, ...]  # secrets without which the channel is not started
    optional_env: tuple[str, ...] = ()  # read when set (safe mode, API base URLs for local fakes)


CHANNELS: dict[str, ChannelSpec] = {
    spec.name: spec
    for spec in (
        ChannelSpec(
            name="wechat",
            module_path="connectors.wechat.WeChatInput",
            required_env=("WECHAT_TOKEN", "WECHAT_APP_ID", "WECHAT_APP_SECRET"),
            optional_env=("WECHAT_AES_KEY", "WECHAT_API_BASE_URL"),
        ),
        ChannelSpec(
            name="telegram",
            module_path="connectors.telegram.TelegramInput",
            required_env=("TELEGRAM_TOKEN", "TELEGRAM_SECRET_TOKEN"),
            optional_env=("TELEGRAM_API_BASE_URL",),
        ),
        ChannelSpec(
            name="whatsapp",
            module_path="connectors.whatsapp.WhatsAppInput",
            required_env=(
                "WHATSAPP_TOKEN",
                "WHATSAPP_APP_SECRET",
                "WHATSAPP_VERIFY_TOKEN",
                "WHATSAPP_PHONE_NUMBER_ID",
            ),
            optional_env=("WHATSAPP_API_BASE_URL",),
        ),
    )
}


def missing_env(spec: ChannelSpec, env: Mapping[str, str]) -> list[str]:
    """The required variables of ``spec`` that are unset or blank."""
    return [name for name in spec.required_env if not (env.get(name) or "").strip()]


def enabled_channels(env: Mapping[str, str]) -> dict[str, Optional[dict]]:
    """credentials.yml entries (module path -> None: secrets come from the environment) of the channels whose
    required secrets are all set. A channel with a secret missing is simply not started."""
    return {spec.module_path: None for spec in CHANNELS.values() if not missing_env(spec, env)}


def input_channel_class(name: str) -> type[PlatformInput[Any]]:
    """The InputChannel class of a channel, imported from its module path (a connectors/platform.py channel)."""
    module_name, _, class_name = CHANNELS[name].module_path.rpartition(".")
    return getattr(importlib.import_module(module_name), class_name)


def require(name: str, env: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The channel's variables from ``env``; raises when a required one is missing (a start-up error, not a 500)."""
    spec = CHANNELS[name]
    missing = missing_env(spec, env)
    if missing:
        raise KeyError(f"channel {name!r} needs environment variables {missing}")
    return {key: env[key].strip() for key in spec.required_env + spec.optional_env if (env.get(key) or "").strip()}
