"""Reasons: a code and its parameters, worded from the templates of bot/forms/eligibility.yml (see wording.py)."""

from __future__ import annotations

import functools
from typing import Any, Hashable

from talentbot.core.eligibility.wording import render_reason
from talentbot.core.language import EN


class Reason(str):
    """A reason code with its parameters, which is also its English sentence (interfaces §3 keeps reasons as
    plain strings).

    `Reason("ttps_a_income_below", income_hkd=1_000_000, threshold_hkd=2_500_000)` is the string rendered from
    the English template of `ttps_a_income_below`; being a `str`, it is compared, deduplicated and serialised
    exactly like that sentence. The assistant renders the same code and params in the user's language. Params
    hold raw values (numbers from the rule data, dates, codes), not formatted text, so each language formats them
    its own way.
    """

    code: str
    params: dict[str, Any]

    def __new__(cls, code: str, **params: Any) -> "Reason":
        try:
            text = _english(code, tuple(sorted(params.items())))
        except TypeError:  # a parameter that cannot be a cache key
            text = render_reason(code, params, EN)
        return cls._make(code, text, params)

    @classmethod
    def _make(cls, code: str, text: str, params: dict[str, Any]) -> "Reason":
        reason = str.__new__(cls, text)
        reason.code = code
        reason.params = params
        return reason

    def __reduce__(self) -> Any:  # keep code, params and the sentence through copy/pickle
        return (_rebuild, (self.code, str(self), self.params))


@functools.lru_cache(maxsize=4096)
def _english(code: str, params: tuple[tuple[str, Hashable], ...]) -> str:
    """The English sentence, cached: most reasons recur with the same parameters, and evaluating a profile must
    stay well under 1 ms."""
    return render_reason(code, dict(params), EN)


def _rebuild(code: str, text: str, params: dict[str, Any]) -> Reason:
    return Reason._make(code, text, params)


def reason_code(reason: str) -> str | None:
    """The code of a reason, or None for a plain string."""
    return getattr(reason, "code", None)
