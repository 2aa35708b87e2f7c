"""Numbers, money, durations, degrees and dates as people write them."""

from __future__ import annotations

import pytest

from talentbot.core.eligibility.parse import (
    ParseError,
    PartialDate,
    parse_chinese_number,
    parse_date,
    parse_degree,
    parse_money,
    parse_years,
)


@pytest.mark.parametrize(
    ("text", "hkd", "assumed"),
    [
        ("HK$2.5M", 2_500_000, False),
        ("HK$ 2,500,000", 2_500_000, False),
        ("2,500,000", 2_500_000, True),
        ("2.5 million", 2_500_000, True),
        ("2.5m", 2_500_000, True),
        ("250萬", 2_500_000, True),
        ("二百五十萬", 2_500_000, True),
        ("两百五十万", 2_500_000, True),
        ("250万港币", 2_500_000, False),
        ("250萬港幣", 2_500_000, False),
        ("年薪250萬", 2_500_000, True),
        ("2.5百萬", 2_500_000, True),
        ("$300k", 300_000, True),
        ("HKD 2,499,999", 2_499_999, False),
    ],
)
def test_hong_kong_dollar_amounts(text: str, hkd: float, assumed: bool) -> None:
    money = parse_money(text)
    assert (money.currency, money.amount_hkd, money.currency_assumed) == ("HKD", hkd, assumed)


@pytest.mark.parametrize(
    ("text", "currency", "amount"),
    [("3 million RMB", "CNY", 3_000_000), ("300万人民币", "CNY", 3_000_000), ("USD 400,000", "USD", 400_000),
     ("£200k", "GBP", 200_000)],
)
def test_foreign_currency_needs_confirmation_without_a_sourced_rate(text: str, currency: str, amount: float) -> None:
    money = parse_money(text)
    assert (money.currency, money.amount, money.amount_hkd) == (currency, amount, None)
    assert money.note and "confirm" in money.note


def test_foreign_currency_is_converted_only_with_a_stated_rate() -> None:
    rates = {"CNY": {"hkd_per_unit": 1.1, "as_of": "2025-01-01", "source": "https://example.org/rate"}}
    money = parse_money("3 million RMB", rates=rates)
    assert money.amount_hkd == pytest.approx(3_300_000)
    assert money.note and "https://example.org/rate" in money.note


@pytest.mark.parametrize("text", ["", "lots", "-5", "負100萬", "2.5 apples"])
def test_not_money(text: str) -> None:
    with pytest.raises(ParseError):
        parse_money(text)


@pytest.mark.parametrize(
    ("text", "value"),
    [("二百五十萬", 2_500_000), ("十五", 15), ("三", 3), ("一億二千萬", 120_000_000), ("兩千", 2000), ("十", 10)],
)
def test_chinese_numbers(text: str, value: int) -> None:
    assert parse_chinese_number(text) == value


@pytest.mark.parametrize(
    ("text", "years"),
    [("6 yrs", 6), ("6 years", 6), ("三年", 3), ("五年半", 5.5), ("一年半", 1.5), ("3.5 years", 3.5),
     ("18 months", 1.5), ("十年", 10), ("兩年", 2), ("两年", 2), ("6個月", 0.5), ("冇", 0), ("about 4 years", 4),
     ("3年工作經驗", 3)],
)
def test_years(text: str, years: float) -> None:
    assert parse_years(text) == pytest.approx(years)


@pytest.mark.parametrize("text", ["", "many", "a while"])
def test_not_years(text: str) -> None:
    with pytest.raises(ParseError):
        parse_years(text)


@pytest.mark.parametrize(
    ("text", "degree"),
    [
        ("bachelor", "bachelor"), ("Bachelor of Arts", "bachelor"), ("BSc", "bachelor"), ("學士", "bachelor"),
        ("本科", "bachelor"), ("学士", "bachelor"), ("大學畢業", "bachelor"), ("master", "master"),
        ("Master's degree", "master"), ("MBA", "master"), ("碩士", "master"), ("硕士", "master"),
        ("PhD", "doctorate"), ("博士", "doctorate"), ("副學士", "sub_degree"), ("associate degree", "sub_degree"),
        ("Higher Diploma", "sub_degree"), ("高級文憑", "sub_degree"), ("no degree", "none"), ("high school", "none"),
        ("冇學位", "none"), ("MSc after a BA", "master"),
    ],
)
def test_degrees(text: str, degree: str) -> None:
    assert parse_degree(text) == degree


def test_unknown_degree_is_an_error() -> None:
    with pytest.raises(ParseError):
        parse_degree("certificate of attendance")


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("2019", PartialDate(2019)),
        ("2019年", PartialDate(2019)),
        ("June 2020", PartialDate(2020, 6)),
        ("Jun. 2020", PartialDate(2020, 6)),
        ("2019年6月", PartialDate(2019, 6)),
        ("2019年6月30日", PartialDate(2019, 6, 30)),
        ("2020-06-30", PartialDate(2020, 6, 30)),
        ("30 June 2020", PartialDate(2020, 6, 30)),
        ("June 30, 2020", PartialDate(2020, 6, 30)),
        ("6/2020", PartialDate(2020, 6)),
        ("2020-06", PartialDate(2020, 6)),
    ],
)
def test_dates(text: str, date: PartialDate) -> None:
    assert parse_date(text) == date


@pytest.mark.parametrize("text", ["2020-02-30", "Smarch 2020", "yesterday", "1800", "13/2020"])
def test_not_dates(text: str) -> None:
    with pytest.raises(ParseError):
        parse_date(text)


def test_partial_date_bounds() -> None:
    assert str(PartialDate(2020).earliest()) == "2020-01-01"
    assert str(PartialDate(2020, 2).latest()) == "2020-02-29"
    assert str(PartialDate(2020).latest()) == "2020-12-31"
