"""Reads numbers, money, durations, degrees and dates as people write them (English, 繁, 简); pure functions."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Mapping

from talentbot.core.eligibility.ruledata import load_rulebook

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "兩": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9}
_CN_SMALL_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
_CN_BIG_UNITS = {"萬": 10_000, "万": 10_000, "億": 100_000_000, "亿": 100_000_000}
_CN_NUMERAL = "".join(_CN_DIGITS) + "".join(_CN_SMALL_UNITS) + "".join(_CN_BIG_UNITS)

_MULTIPLIERS: dict[str, float] = {
    "k": 1e3, "thousand": 1e3, "千": 1e3, "m": 1e6, "mn": 1e6, "mil": 1e6, "million": 1e6, "millions": 1e6,
    "百萬": 1e6, "百万": 1e6, "萬": 1e4, "万": 1e4, "b": 1e9, "bn": 1e9, "billion": 1e9, "億": 1e8, "亿": 1e8,
}

_CURRENCIES: dict[str, str] = {
    "hk$": "HKD", "hkd": "HKD", "港幣": "HKD", "港币": "HKD", "港元": "HKD", "港紙": "HKD", "蚊": "HKD",
    "rmb": "CNY", "cny": "CNY", "人民幣": "CNY", "人民币": "CNY", "¥": "CNY", "元人民币": "CNY",
    "us$": "USD", "usd": "USD", "美元": "USD", "美金": "USD",
    "gbp": "GBP", "£": "GBP", "英鎊": "GBP", "英镑": "GBP", "eur": "EUR", "€": "EUR", "歐元": "EUR", "欧元": "EUR",
    "sgd": "SGD", "s$": "SGD", "aud": "AUD", "a$": "AUD", "cad": "CAD", "jpy": "JPY", "円": "JPY", "日元": "JPY",
}


class ParseError(ValueError):
    """Text that does not say what the parser was asked for."""


def parse_chinese_number(text: str) -> int:
    """二百五十萬 -> 2500000, 两百五十万 -> 2500000, 十五 -> 15, 三 -> 3."""
    text = text.strip()
    if not text or any(c not in _CN_NUMERAL for c in text):
        raise ParseError(f"not a Chinese number: {text!r}")
    yi, wan, section, digit = 0, 0, 0, None  # 億 part, 萬 part, the current group below 萬, pending digit
    for char in text:
        if char in _CN_DIGITS:
            digit = _CN_DIGITS[char]
        elif char in _CN_SMALL_UNITS:
            section += (1 if digit is None else digit) * _CN_SMALL_UNITS[char]
            digit = None
        elif _CN_BIG_UNITS[char] == 10_000:
            wan += (section + (digit or 0)) * 10_000
            section, digit = 0, None
        else:
            yi = (yi + wan + section + (digit or 0)) * 100_000_000
            wan, section, digit = 0, 0, None
    return yi + wan + section + (digit or 0)


def _to_number(token: str) -> float:
    token = token.replace(",", "").replace("，", "").strip()
    if not token:
        raise ParseError("no number")
    if re.fullmatch(r"\d+(\.\d+)?", token):
        return float(token)
    return float(parse_chinese_number(token))


@dataclass(frozen=True)
class Money:
    """An amount of money as written, and in HK dollars when that is known without guessing."""

    amount: float  # in `currency`
    currency: str  # ISO 4217
    amount_hkd: float | None  # None: needs a conversion we have no sourced rate for
    currency_assumed: bool  # no currency written; HK dollars assumed (the question is asked in HK$)
    note: str | None = None  # what the assistant should confirm with the user


_MONEY = re.compile(
    r"^(?P<cur1>hk\$|us\$|s\$|a\$|[$¥£€]|hkd|rmb|cny|usd|gbp|eur|sgd|aud|cad|jpy)?\s*"
    r"(?P<num>[\d,，]+(?:\.\d+)?|[" + _CN_NUMERAL + r"]+)\s*"
    r"(?P<mult>thousand|millions?|mil|mn|billion|bn|[kmb]|百萬|百万|萬|万|千|億|亿)?\s*"
    r"(?P<cur2>hk\$|hkd|rmb|cny|usd|gbp|eur|sgd|aud|cad|jpy|港幣|港币|港元|港紙|蚊|元人民币|人民幣|人民币|美元|美金|"
    r"英鎊|英镑|歐元|欧元|日元|円|元|dollars?)?$"
)


def parse_money(text: str, rates: Mapping[str, Mapping[str, Any]] | None = None) -> Money:
    """HK$2.5M, 2,500,000, 2.5 million, 250萬, 二百五十萬, 250万港币, "3 million RMB" -> Money.

    Foreign currencies are converted only with a rate from data/currency.yml (none is held yet), so
    "3 million RMB" returns amount_hkd None and a note asking to confirm, never a guessed conversion.
    """
    cleaned = re.sub(r"\s+", " ", text.strip().lower()).replace("hk $", "hk$").replace("us $", "us$")
    cleaned = re.sub(r"^(about|around|approx\.?|roughly|大約|大约|約|约)\s*", "", cleaned)
    cleaned = re.sub(r"\s*(a year|per year|per annum|p\.a\.|annually|/year|/yr|一年|每年|年薪)$", "", cleaned)
    cleaned = re.sub(r"^(年薪|年收入|收入)\s*", "", cleaned)
    if cleaned.startswith("-") or cleaned.startswith("負") or cleaned.startswith("负"):
        raise ParseError(f"an income cannot be negative: {text!r}")
    match = _MONEY.match(cleaned)
    if not match:
        raise ParseError(f"not an amount of money: {text!r}")
    amount = _to_number(match["num"])
    if match["mult"]:
        amount *= _MULTIPLIERS[match["mult"]]
    currency_word = match["cur1"] or match["cur2"]
    assumed = currency_word in (None, "$", "元", "dollar", "dollars")
    currency = "HKD" if assumed else _CURRENCIES.get(currency_word, "HKD")
    if currency == "HKD":
        note = "Currency not stated; taken as Hong Kong dollars." if assumed else None
        return Money(amount, "HKD", amount, assumed, note)
    rate_table = (load_rulebook().currency.get("rates") or {}) if rates is None else rates
    rate = rate_table.get(currency)
    if rate:
        return Money(amount, currency, amount * float(rate["hkd_per_unit"]), False,
                     f"Converted at HK${rate['hkd_per_unit']} per {currency} ({rate['source']}).")
    return Money(amount, currency, None, False,
                 f"Income is in {currency}; we hold no sourced exchange rate, "
                 "so please confirm the amount in HK dollars.")


_YEARS = re.compile(
    r"^(?P<num>\d+(?:\.\d+)?|[" + _CN_NUMERAL + r"]+)\s*(?P<half>個半|个半)?\s*"
    r"(?P<unit>years?|yrs?|y|個月|个月|months?|mos?|年半|年|載|载)?\s*(?P<half2>半)?$"
)


def parse_years(text: str) -> float:
    """"6 yrs" -> 6, 三年 -> 3, 五年半 -> 5.5, 18 months -> 1.5, 一年半 -> 1.5, "3.5 years" -> 3.5."""
    cleaned = re.sub(r"\s+", " ", text.strip().lower())
    cleaned = re.sub(r"^(about|around|over|almost|nearly|大約|大约|約|约|超過|超过)\s*", "", cleaned)
    cleaned = re.sub(r"\s*(of experience|experience|work experience|工作經驗|工作经验|經驗|经验)$", "", cleaned)
    if cleaned in ("none", "no", "zero", "冇", "沒有", "没有", "無", "无"):
        return 0.0
    match = _YEARS.match(cleaned)
    if not match:
        raise ParseError(f"not a number of years: {text!r}")
    number = _to_number(match["num"])
    unit = match["unit"] or ""
    if unit in ("個月", "个月") or unit.startswith("mo"):
        if match["half"]:
            number += 0.5
        return number / 12
    if unit == "年半" or match["half2"]:
        number += 0.5
    return number


_DEGREE_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    # Checked in this order: the highest level named wins, explicit words before generic ones, and
    # sub-degree words before the generic "degree"/學位 so that "associate degree" is not a bachelor.
    ("doctorate", ("phd", "ph.d", "dphil", "doctorate", "doctoral", "doctor", "博士", "edd")),
    ("master", ("master", "masters", "msc", "m.sc", "ma", "mba", "mphil", "meng", "llm", "碩士", "硕士", "研究生")),
    ("bachelor", ("bachelor", "bachelors", "bsc", "b.sc", "ba", "beng", "bba", "llb", "undergraduate", "學士", "学士",
                  "本科")),
    ("sub_degree", ("associate", "higher diploma", "diploma", "sub-degree", "sub degree", "副學士", "副学士",
                    "高級文憑", "高级文凭", "文憑", "文凭", "大專", "大专", "專科", "专科")),
    ("bachelor", ("degree", "university", "大學", "大学", "學位", "学位")),
    ("none", ("none", "no degree", "high school", "secondary", "中學", "中学", "高中", "冇", "沒有", "没有",
              "無", "无")),
)


def parse_degree(text: str) -> str:
    """bachelor/學士/本科/学士 -> "bachelor", master/碩士/硕士 -> "master", PhD/博士 -> "doctorate", ...

    The highest level named wins ("MSc after a BA" -> master); 副學士 (associate degree) is a sub-degree.
    """
    cleaned = re.sub(r"[’'`]", "", text.strip().lower())
    if not cleaned:
        raise ParseError("no degree given")
    if re.search(r"\bno(t| any)? (university )?degree\b|冇(學位|学位)|沒有(學位|学位)|没有(学位|學位)", cleaned):
        return "none"
    words = set(re.findall(r"[a-z.\-]+", cleaned))
    plain = cleaned.replace("副學士", "").replace("副学士", "")
    for level, needles in _DEGREE_WORDS:
        for needle in needles:
            if needle.isascii():
                hit = needle in words or (" " in needle and needle in cleaned)
            else:
                hit = needle in (plain if level == "bachelor" else cleaned)
            if hit:
                return level
    raise ParseError(f"not a degree we know: {text!r}")


@dataclass(frozen=True)
class PartialDate:
    """A date as precise as the person gave it."""

    year: int
    month: int | None = None
    day: int | None = None

    def earliest(self) -> dt.date:
        """First possible day (used where an earlier date is the cautious reading)."""
        return dt.date(self.year, self.month or 1, self.day or 1)

    def latest(self) -> dt.date:
        """Last possible day."""
        if self.day:
            return dt.date(self.year, self.month or 12, self.day)
        month = self.month or 12
        following = dt.date(self.year + (month == 12), month % 12 + 1, 1)
        return following - dt.timedelta(days=1)


_MONTHS = {name: i + 1 for i, name in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
     "november", "december"])}
_MONTHS.update({name[:3]: i for name, i in list(_MONTHS.items())})
_MONTHS["sept"] = 9


def parse_date(text: str) -> PartialDate:
    """"2019" -> 2019, "June 2020" -> 2020-06, 2019年6月 -> 2019-06, "2020-06-30", "30 June 2020", "6/2020"."""
    cleaned = re.sub(r"\s+", " ", text.strip().lower().replace(",", " ")).strip()
    patterns: tuple[tuple[str, str], ...] = (
        (r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})$", "ymd"),
        (r"^(?P<y>\d{4})[-/.](?P<m>\d{1,2})$", "ym"),
        (r"^(?P<m>\d{1,2})/(?P<y>\d{4})$", "ym"),
        (r"^(?P<y>\d{4}) ?年 ?(?P<m>\d{1,2}) ?月 ?(?:(?P<d>\d{1,2}) ?[日號号])?$", "cn"),
        (r"^(?P<y>\d{4}) ?年$", "y"),
        (r"^(?P<y>\d{4})$", "y"),
        (r"^(?P<mn>[a-z]+)\.? (?P<y>\d{4})$", "mny"),
        (r"^(?P<d>\d{1,2}) (?P<mn>[a-z]+)\.? (?P<y>\d{4})$", "dmny"),
        (r"^(?P<mn>[a-z]+)\.? (?P<d>\d{1,2}) (?P<y>\d{4})$", "mndy"),
    )
    for pattern, _ in patterns:
        match = re.match(pattern, cleaned)
        if not match:
            continue
        groups = match.groupdict()
        year = int(groups["y"])
        month = int(groups["m"]) if groups.get("m") else None
        if groups.get("mn"):
            month = _MONTHS.get(groups["mn"])
            if month is None:
                raise ParseError(f"not a month: {groups['mn']!r}")
        day = int(groups["d"]) if groups.get("d") else None
        if not 1900 <= year <= 2100:
            raise ParseError(f"year out of range: {year}")
        try:
            dt.date(year, month or 1, day or 1)
        except ValueError:
            raise ParseError(f"not a real date: {text!r}") from None
        return PartialDate(year, month, day)
    raise ParseError(f"not a date: {text!r}")
