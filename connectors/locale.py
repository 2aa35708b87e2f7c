"""Turns a platform's locale code into the assistant's language hint (en, zh-Hant, zh-Hans) or None."""
from __future__ import annotations

from typing import Optional

# Platforms spell locales as IETF tags (Telegram: "zh-hans", "en") or with underscores (WeChat: "zh_CN", "zh_TW").
_SIMPLIFIED = {"zh-cn", "zh-sg", "zh-my", "zh-hans"}
_TRADITIONAL = {"zh-hk", "zh-tw", "zh-mo", "zh-hant", "yue"}


def language_hint(locale: Optional[str]) -> Optional[str]:
    """The language a locale tells, or None when it tells nothing certain (bare "zh", other languages).

    Only the three codes of interfaces.md §1 are ever returned: the language policy treats the value as a hint.
    """
    if not locale:
        return None
    tag = locale.strip().replace("_", "-").lower()
    for candidate in (tag, "-".join(tag.split("-")[:2])):
        if candidate in _SIMPLIFIED:
            return "zh-Hans"
        if candidate in _TRADITIONAL:
            return "zh-Hant"
    parts = tag.split("-")
    if parts[0] == "en":
        return "en"
    if parts[0] in {"zh", "yue"} and len(parts) > 1:
        # zh-Hant-HK, zh-Hans-CN and the like: the script subtag decides.
        if "hant" in parts or "hk" in parts or "tw" in parts or "mo" in parts:
            return "zh-Hant"
        if "hans" in parts or "cn" in parts or "sg" in parts:
            return "zh-Hans"
    return None


def language_metadata(locale: Optional[str]) -> dict[str, str]:
    """``UserMessage`` metadata carrying the hint: ``{"language": "zh-Hans"}``, or ``{}`` when unknown."""
    hint = language_hint(locale)
    return {"language": hint} if hint else {}
