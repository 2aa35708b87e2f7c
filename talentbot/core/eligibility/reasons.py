"""Reason sentences that also carry a code and parameters, so a reply can be rendered in any language."""

from __future__ import annotations

from typing import Any


class Reason(str):
    """An English reason sentence (interfaces §3 keeps reasons as plain strings) with a translation key.

    Being a `str`, a Reason is compared, deduplicated and serialised exactly like the sentence it holds;
    the assistant reads `code` and `params` to render the same reason in Chinese
    (texts keyed by code in bot/forms/eligibility.yml). Params hold raw values (numbers, dates, codes),
    not formatted text, so each language formats them its own way.
    """

    code: str
    params: dict[str, Any]

    def __new__(cls, code: str, text: str, **params: Any) -> "Reason":
        reason = super().__new__(cls, text)
        reason.code = code
        reason.params = params
        return reason

    def __reduce__(self) -> Any:  # keep code and params through copy/pickle
        return (_rebuild, (self.code, str(self), self.params))


def _rebuild(code: str, text: str, params: dict[str, Any]) -> Reason:
    return Reason(code, text, **params)


def reason_code(reason: str) -> str | None:
    """The code of a reason, or None for a plain string."""
    return getattr(reason, "code", None)
