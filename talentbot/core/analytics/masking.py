"""Masking the personal data a kept message text may hold: e-mail addresses, phone numbers and every other number.

Only the texts of messages the assistant did not understand are kept for analysis (talentbot.core.analytics.records),
and only masked: what someone wrote stays readable ("my salary is [number] a year, can I apply for TTPS?"), while
the address, the phone number, the income, the passport or HKID digits, the age are gone. The rules work on the
characters alone, so English, Traditional and Simplified Chinese (and written Cantonese) are masked the same way:

- an e-mail address (ASCII, with an ASCII or a full-width at sign) becomes ``[email]``;
- a run of digits that looks like a phone number becomes ``[phone]``: it starts with ``+`` (an international
  number), or it holds 8 or more digits separated by spaces, dashes, dots or brackets (``9123 4567``,
  ``(852) 9123-4567``, ``138-0013-8000``), or it is 8 digits (Hong Kong) or 11 digits starting with 1 (a Mainland
  mobile) written together;
- any other number becomes ``[number]``: ASCII and full-width digits with their separators (``2,500,000``,
  ``2.5``, ``３０``), and Chinese numerals of two characters or more (``二百五十萬``, ``三十五``, ``兩萬``), which
  leaves the single characters of ordinary words alone (一些, 一般, 三年 keeps its 年 and loses nothing personal).

Masking is idempotent: a masked text is masked again into itself.
"""

from __future__ import annotations

import re
import unicodedata

EMAIL = "[email]"
PHONE = "[phone]"
NUMBER = "[number]"

_DIGIT = "0-9\uff10-\uff19"  # ASCII and full-width digits
_EMAIL = re.compile(  # the local part's characters RFC 5322 allows unquoted; the domain's labels, its last a name
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~\-]+[@\uff20][A-Za-z0-9\-]+(?:[.\uff0e][A-Za-z0-9\-]+)*"
    r"[.\uff0e][A-Za-z](?:[A-Za-z0-9\-]*[A-Za-z0-9])?"
)
# A run of digits with the separators numbers are written with: spaces, dashes, dots, commas, brackets, and their
# full-width forms; it starts at a digit, a `+` or an opening bracket and ends at a digit.
_DIGITS = re.compile(
    rf"(?:[+\uff0b]\s?)?[(\uff08]?[{_DIGIT}]"
    rf"(?:[{_DIGIT}]|[(\uff08][{_DIGIT}]+[)\uff09]|[ \-.,()\uff08\uff09\uff0c\uff0e\uff0d](?=[ \-(\uff08]?[{_DIGIT}]))*"
)
_CHINESE_NUMERALS = re.compile("[〇零一二兩两三四五六七八九十百千萬万億亿]{2,}")
_PHONE_SEPARATORS = re.compile(r"[ \-.()\uff08\uff09\uff0d]")


def mask_personal_data(text: str) -> str:
    """`text` with e-mail addresses, phone numbers and other numbers replaced by ``[email]``, ``[phone]`` and
    ``[number]``."""
    masked = _EMAIL.sub(EMAIL, text)
    masked = _DIGITS.sub(_digits_replacement, masked)
    return _CHINESE_NUMERALS.sub(NUMBER, masked)


def _digits_replacement(match: re.Match[str]) -> str:
    return PHONE if _looks_like_phone(match.group(0)) else NUMBER


def _looks_like_phone(run: str) -> bool:
    digits = "".join(str(unicodedata.digit(c)) for c in run if c.isdigit())
    if run.lstrip()[:1] in ("+", "\uff0b"):
        return len(digits) >= 6
    if "," in run or "\uff0c" in run:
        return False  # 2,500,000: an amount
    if len(digits) >= 8 and _PHONE_SEPARATORS.search(run.strip("()\uff08\uff09")):
        return True
    return len(digits) == 8 or (len(digits) == 11 and digits.startswith("1"))
