"""Staffed hours in Hong Kong time: whether staff are in now, when they are next in, staffed time between two moments.

Pure: every function takes the moment and the hours as arguments (no clock, no I/O). Moments must be timezone-aware;
they are compared in Hong Kong time, so a server running in UTC gets the same answers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Dict, FrozenSet, Iterator, List, Tuple
from zoneinfo import ZoneInfo

from talentbot.core.handoff import datafiles

HONG_KONG = ZoneInfo("Asia/Hong_Kong")

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Weekday keys of policy.yml, Monday first as in `date.weekday()`."""

LOOKAHEAD_DAYS = 400
"""How far `next_opening` searches; more than a year so that a data file with no windows fails loudly, not forever."""


@dataclass(frozen=True)
class Window:
    """Staff are in from `start` on each of `days` until `end` (the next day's `end` when end <= start)."""

    days: FrozenSet[int]  # weekday numbers, 0 = Monday
    start: dt.time
    end: dt.time

    @property
    def crosses_midnight(self) -> bool:
        return self.end <= self.start


@dataclass(frozen=True)
class StaffedHours:
    """The weekly windows, the public holidays that close a window starting on them, and the zone they are in."""

    windows: Tuple[Window, ...]
    holidays: FrozenSet[dt.date]
    holiday_years: FrozenSet[int]  # years the holiday list covers; other years are assumed to have none
    zone: ZoneInfo = HONG_KONG

    def is_holiday(self, day: dt.date) -> bool:
        return day in self.holidays


def _parse_time(text: str) -> dt.time:
    hours, minutes = text.split(":")
    return dt.time(int(hours), int(minutes))


def parse_hours(policy: Dict[str, Any], holidays: Dict[str, Any]) -> StaffedHours:
    """Builds StaffedHours from policy.yml's `staffed_hours` and hk_public_holidays.yml.

    Raises ValueError on bad data."""
    section = policy["staffed_hours"]
    windows: List[Window] = []
    for raw in section["windows"]:
        unknown = set(raw["days"]) - set(DAY_NAMES)
        if unknown:
            raise ValueError(f"unknown day names in staffed_hours: {sorted(unknown)}")
        windows.append(Window(frozenset(DAY_NAMES.index(day) for day in raw["days"]),
                              _parse_time(raw["start"]), _parse_time(raw["end"])))
    days: FrozenSet[dt.date] = frozenset()
    if section.get("closed_on_public_holidays", True):
        days = frozenset(dt.date.fromisoformat(entry["date"]) for entry in holidays["holidays"])
    return StaffedHours(tuple(windows), days, frozenset(holidays.get("years", [])),
                        ZoneInfo(section.get("time_zone", "Asia/Hong_Kong")))


def default_hours() -> StaffedHours:
    """The hours of the data files shipped with the package."""
    return parse_hours(datafiles.load(datafiles.POLICY_FILE), datafiles.load(datafiles.HOLIDAYS_FILE))


def _require_aware(moment: dt.datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("moments must be timezone-aware (naive times are ambiguous across zones)")


def _intervals_starting_on(day: dt.date, hours: StaffedHours) -> Iterator[Tuple[dt.datetime, dt.datetime]]:
    """The staffed intervals that begin on `day` (local time), none if it is a public holiday."""
    if hours.is_holiday(day):
        return
    for window in hours.windows:
        if day.weekday() not in window.days:
            continue
        start = dt.datetime.combine(day, window.start, hours.zone)
        end_day = day + dt.timedelta(days=1) if window.crosses_midnight else day
        yield start, dt.datetime.combine(end_day, window.end, hours.zone)


def _intervals_around(
    moment: dt.datetime, hours: StaffedHours, days_after: int
) -> Iterator[Tuple[dt.datetime, dt.datetime]]:
    """Intervals starting from the day before `moment` (a window may run past midnight) to `days_after` days later."""
    local_day = moment.astimezone(hours.zone).date()
    for offset in range(-1, days_after + 1):
        yield from sorted(_intervals_starting_on(local_day + dt.timedelta(days=offset), hours))


def is_staffed(moment: dt.datetime, hours: StaffedHours) -> bool:
    """Whether staff are in at `moment` (start inclusive, end exclusive)."""
    _require_aware(moment)
    return any(start <= moment < end for start, end in _intervals_around(moment, hours, 0))


def next_opening(moment: dt.datetime, hours: StaffedHours) -> dt.datetime:
    """`moment` itself when staffed, else the start of the next staffed interval (in the hours' zone)."""
    _require_aware(moment)
    for start, end in _intervals_around(moment, hours, LOOKAHEAD_DAYS):
        if end > moment:
            return max(start, moment.astimezone(hours.zone))
    raise ValueError(f"no staffed hours within {LOOKAHEAD_DAYS} days of {moment.isoformat()}")


def staffed_time_between(start: dt.datetime, end: dt.datetime, hours: StaffedHours) -> dt.timedelta:
    """How much of [start, end) falls within staffed hours: the waiting time that counts against staff."""
    _require_aware(start)
    _require_aware(end)
    if end <= start:
        return dt.timedelta(0)
    days = (end - start).days + 1
    total = dt.timedelta(0)
    reached = start  # overlapping windows must not count the same minutes twice
    for begin, finish in sorted(_intervals_around(start, hours, days)):
        begin, finish = max(begin, reached), min(finish, end)
        if finish > begin:
            total += finish - begin
            reached = finish
    return total


def covers(day: dt.date, hours: StaffedHours) -> bool:
    """Whether the holiday list covers `day`'s year (outside it, public holidays are unknown and not observed)."""
    return day.year in hours.holiday_years
