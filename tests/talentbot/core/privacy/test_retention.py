"""The retention: TALENTBOT_RETENTION_DAYS or 180 days, counted back from now; user ids the stores can hold."""

from __future__ import annotations

import datetime as dt

import pytest

from talentbot.core.privacy.retention import (
    DEFAULT_RETENTION_DAYS,
    RETENTION_ENV,
    check_sender_id,
    cutoff,
    retention_days,
)


def test_the_default_is_180_days_and_the_environment_sets_another() -> None:
    assert DEFAULT_RETENTION_DAYS == 180
    assert retention_days({}) == 180
    assert retention_days({RETENTION_ENV: " 30 "}) == 30


@pytest.mark.parametrize("raw", ["0", "-5", "half a year", "1.5"])
def test_a_retention_that_is_not_a_whole_number_of_days_is_refused(raw: str) -> None:
    with pytest.raises(ValueError, match=RETENTION_ENV):
        retention_days({RETENTION_ENV: raw})


def test_the_cutoff_is_the_retention_before_now_in_utc() -> None:
    now = dt.datetime(2026, 11, 30, 20, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    assert cutoff(180, now) == dt.datetime(2026, 6, 3, 12, 0, tzinfo=dt.timezone.utc)
    with pytest.raises(ValueError):
        cutoff(180, dt.datetime(2026, 11, 30))


@pytest.mark.parametrize("sender_id", ["telegram:12345", "web:" + "ab" * 16, "wechat:oAbC-_123", "alice"])
def test_user_ids_of_every_channel_are_accepted(sender_id: str) -> None:
    assert check_sender_id(sender_id) == sender_id


@pytest.mark.parametrize("sender_id", ["", "   ", "telegram:1\n2", "x" * 256])
def test_user_ids_no_store_could_hold_are_refused(sender_id: str) -> None:
    with pytest.raises(ValueError):
        check_sender_id(sender_id)
