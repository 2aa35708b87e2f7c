"""Masking what a kept message text may hold that identifies or describes a person: e-mail addresses, phone numbers,
every other number, in English, Traditional Chinese (Cantonese too) and Simplified Chinese."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from talentbot.core.analytics.masking import mask_personal_data


@pytest.mark.parametrize("text, masked", [
    ("Call me on +852 9123 4567 or mail chan.tai-man@example.com.hk",
     "Call me on [phone] or mail [email]"),
    ("I earn 2,500,000 HKD a year and I'm 35, can I apply?",
     "I earn [number] HKD a year and I'm [number], can I apply?"),
    ("my phone is 9123-4567, passport E1234567", "my phone is [phone], passport E[number]"),
    ("(852) 2824 6111 is the number I called", "[phone] is the number I called"),
    ("HKID A123456(7) please", "HKID A[number] please"),
    ("Top 100 universities list?", "Top [number] universities list?"),
], ids=["phone-and-email", "income-and-age", "phone-and-passport", "bracketed-area-code", "hkid", "plain-number"])
def test_english(text: str, masked: str) -> None:
    assert mask_personal_data(text) == masked


@pytest.mark.parametrize("text, masked", [
    ("我年薪二百五十萬，今年三十五歲，可唔可以申請高才通？", "我年薪[number]，今年[number]歲，可唔可以申請高才通？"),
    ("請打 9123 4567 或者電郵 chan＠mail.hk 搵我", "請打 [phone] 或者電郵 [email] 搵我"),
    ("我嘅身份證係 Y１２３４５６（７）", "我嘅身份證係 Y[number]"),
    ("一般要等幾耐？三年經驗夠唔夠？", "一般要等幾耐？三年經驗夠唔夠？"),
], ids=["numerals", "phone-and-fullwidth-at", "fullwidth-digits", "ordinary-words-kept"])
def test_traditional_chinese_and_cantonese(text: str, masked: str) -> None:
    assert mask_personal_data(text) == masked


@pytest.mark.parametrize("text, masked", [
    ("我的手机是13800138000，邮箱wang.li@qq.com", "我的手机是[phone]，邮箱[email]"),
    ("年薪两百万可以申请吗？我35岁", "年薪[number]可以申请吗？我[number]岁"),
    ("+86 138-0013-8000 打这个电话", "[phone] 打这个电话"),
    ("一些问题：申请要多少钱？", "一些问题：申请要多少钱？"),
], ids=["mobile-and-email", "amount-and-age", "international", "ordinary-words-kept"])
def test_simplified_chinese(text: str, masked: str) -> None:
    assert mask_personal_data(text) == masked


@given(st.text(alphabet=st.sampled_from("0123456789０１２３４５６７８９ +-().,@＠ab中文二百萬x"), max_size=60))
def test_no_digit_survives_and_masking_is_idempotent(text: str) -> None:
    masked = mask_personal_data(text)
    assert not re.search(r"[0-9０-９]", masked)
    assert mask_personal_data(masked) == masked


@given(st.emails())
def test_every_email_address_is_masked(address: str) -> None:
    assert "@" not in mask_personal_data(f"write to {address} please")
