"""Staffed hours: Hong Kong time, weekends, public holidays from the data file, windows that run past midnight."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml

from talentbot.core.handoff import datafiles
from talentbot.core.handoff.hours import (
    HONG_KONG,
    StaffedHours,
    Window,
    covers,
    default_hours,
    is_staffed,
    next_opening,
    parse_hours,
    staffed_time_between,
)
from tests.talentbot.conftest import hkt

UTC = dt.timezone.utc
HOURS = default_hours()  # Mon-Fri 08:45-17:15, Sat 09:00-12:00, closed on 2026 general holidays

# A night shift 22:00-02:00 on Fridays, and 2026-04-03 (Good Friday) a holiday.
NIGHT = StaffedHours((Window(frozenset({4}), dt.time(22, 0), dt.time(2, 0)),),
                     frozenset({dt.date(2026, 4, 3)}), frozenset({2026}))


@pytest.mark.parametrize("moment, staffed", [
    ("2026-03-02 08:44", False),  # Monday, a minute before opening
    ("2026-03-02 08:45", True),  # opening is inclusive
    ("2026-03-02 17:14", True),
    ("2026-03-02 17:15", False),  # closing is exclusive
    ("2026-03-07 11:59", True),  # Saturday morning
    ("2026-03-07 12:00", False),  # Saturday afternoon
    ("2026-03-08 10:00", False),  # Sunday
    ("2026-02-17 10:00", False),  # Lunar New Year's Day (a Tuesday)
    ("2026-04-06 10:00", False),  # the day following Ching Ming Festival (a Monday)
    ("2026-10-02 10:00", True),  # the Friday after National Day is a working day
    ("2026-12-26 10:00", False),  # first weekday after Christmas, a Saturday: the Saturday window is closed
])
def test_default_hours_in_hong_kong_time(moment: str, staffed: bool) -> None:
    assert is_staffed(hkt(moment), HOURS) is staffed


@pytest.mark.parametrize("utc_moment, staffed", [
    ("2026-03-02 00:45", True),  # 08:45 in Hong Kong
    ("2026-03-02 00:44", False),
    ("2026-03-01 23:00", False),  # Sunday in UTC, Monday 07:00 in Hong Kong: not yet open
    ("2026-03-06 09:14", True),  # Friday 17:14 Hong Kong
])
def test_moments_in_other_zones_are_converted(utc_moment: str, staffed: bool) -> None:
    assert is_staffed(dt.datetime.fromisoformat(utc_moment).replace(tzinfo=UTC), HOURS) is staffed


def test_naive_moments_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        is_staffed(dt.datetime(2026, 3, 2, 10, 0), HOURS)


@pytest.mark.parametrize("moment, staffed", [
    ("2026-03-13 21:59", False),  # Friday before the shift
    ("2026-03-13 22:00", True),
    ("2026-03-13 23:59", True),
    ("2026-03-14 00:30", True),  # Saturday small hours belong to Friday's shift
    ("2026-03-14 01:59", True),
    ("2026-03-14 02:00", False),
    ("2026-03-15 00:30", False),  # no shift started on Saturday
    ("2026-04-03 23:00", False),  # Good Friday: the shift starting on the holiday is closed
    ("2026-04-04 00:30", False),  # ... including its hours after midnight
])
def test_windows_across_midnight(moment: str, staffed: bool) -> None:
    assert is_staffed(hkt(moment), NIGHT) is staffed


@pytest.mark.parametrize("moment, opening", [
    ("2026-03-02 10:00", "2026-03-02 10:00"),  # staffed: now
    ("2026-03-02 18:00", "2026-03-03 08:45"),  # weekday evening: next morning
    ("2026-03-07 13:00", "2026-03-09 08:45"),  # Saturday afternoon: Monday
    ("2026-02-16 20:00", "2026-02-20 08:45"),  # eve of Lunar New Year: after the three days
    ("2026-04-02 18:00", "2026-04-08 08:45"),  # Easter: Good Friday, Saturday after, Sunday, two Mondays-in-lieu
    ("2026-03-13 20:00", "2026-03-14 09:00"),  # Friday night: Saturday morning
])
def test_next_opening(moment: str, opening: str) -> None:
    assert next_opening(hkt(moment), HOURS) == hkt(opening)


def test_next_opening_inside_a_night_shift_is_now() -> None:
    assert next_opening(hkt("2026-03-14 01:00"), NIGHT) == hkt("2026-03-14 01:00")
    assert next_opening(hkt("2026-03-14 03:00"), NIGHT) == hkt("2026-03-20 22:00")


def test_next_opening_fails_loudly_without_any_window() -> None:
    with pytest.raises(ValueError, match="no staffed hours"):
        next_opening(hkt("2026-03-02 10:00"), StaffedHours((), frozenset(), frozenset()))


@pytest.mark.parametrize("start, end, minutes", [
    ("2026-03-02 09:00", "2026-03-02 09:10", 10),  # all staffed
    ("2026-03-02 17:00", "2026-03-03 09:00", 15 + 15),  # 17:00-17:15, then 08:45-09:00
    ("2026-03-07 11:50", "2026-03-09 08:50", 10 + 5),  # Saturday's last 10 minutes, Monday's first 5
    ("2026-02-16 17:10", "2026-02-20 08:50", 5 + 5),  # across the Lunar New Year holidays
    ("2026-03-02 10:00", "2026-03-02 09:00", 0),  # end before start
])
def test_staffed_time_between(start: str, end: str, minutes: int) -> None:
    assert staffed_time_between(hkt(start), hkt(end), HOURS) == dt.timedelta(minutes=minutes)


def test_staffed_time_counts_overlapping_windows_once() -> None:
    overlapping = StaffedHours((Window(frozenset({0}), dt.time(9), dt.time(12)),
                                Window(frozenset({0}), dt.time(11), dt.time(13))), frozenset(), frozenset())
    assert staffed_time_between(hkt("2026-03-02 08:00"), hkt("2026-03-02 14:00"), overlapping) == dt.timedelta(hours=4)


def test_unknown_day_names_are_refused() -> None:
    policy = {"staffed_hours": {"windows": [{"days": ["monday"], "start": "09:00", "end": "17:00"}]}}
    with pytest.raises(ValueError, match="unknown day names"):
        parse_hours(policy, {"holidays": []})


def test_holidays_can_be_ignored_by_configuration() -> None:
    policy = yaml.safe_load(datafiles.POLICY_FILE.read_text(encoding="utf-8"))
    policy["staffed_hours"]["closed_on_public_holidays"] = False
    hours = parse_hours(policy, datafiles.load(datafiles.HOLIDAYS_FILE))
    assert is_staffed(hkt("2026-02-17 10:00"), hours)


# --- the holiday data file -----------------------------------------------------------------------------------

HOLIDAYS = datafiles.load(datafiles.HOLIDAYS_FILE)


def test_holiday_file_names_its_source_and_date() -> None:
    assert HOLIDAYS["source"].startswith("https://www.info.gov.hk/")
    dt.date.fromisoformat(HOLIDAYS["as_of"])
    assert HOLIDAYS["status"] in {"verified", "UNVERIFIED"}


def test_2026_has_the_seventeen_gazetted_general_holidays_besides_sundays() -> None:
    days = [dt.date.fromisoformat(entry["date"]) for entry in HOLIDAYS["holidays"]]
    assert len(days) == len(set(days)) == 17
    assert all(day.year == 2026 for day in days)
    assert not [day for day in days if day.weekday() == 6]  # a holiday on Sunday is replaced by a day in lieu


@pytest.mark.parametrize("day, covered", [(dt.date(2026, 5, 1), True), (dt.date(2027, 5, 1), False)])
def test_the_holiday_list_says_which_years_it_covers(day: dt.date, covered: bool) -> None:
    assert covers(day, HOURS) is covered


def test_the_zone_is_hong_kong() -> None:
    assert HOURS.zone == HONG_KONG
