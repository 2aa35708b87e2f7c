"""The rule data files: every rule dated and sourced, versions contiguous, university entries consistent."""

from __future__ import annotations

import datetime as dt
from itertools import pairwise

import pytest

from talentbot.core.eligibility.ruledata import load_rulebook, to_date

BOOK = load_rulebook()


@pytest.mark.parametrize("scheme", ["TTPS", "GEP", "ASMTP", "QMAS", "TechTAS", "IANG"])
def test_versions_are_sourced_and_contiguous(scheme: str) -> None:
    versions = BOOK.scheme(scheme)["versions"]
    assert BOOK.scheme(scheme)["page"].startswith("https://www.immd.gov.hk/")
    for version in versions:
        assert version["sources"], version
    for earlier, later in pairwise(versions):
        assert earlier["effective_to"] == later["effective_from"]
    assert versions[-1]["effective_to"] is None


def test_exactly_one_version_in_force_on_any_day() -> None:
    day = dt.date(2020, 1, 1)
    while day < dt.date(2027, 1, 1):
        for scheme in ("GEP", "ASMTP", "QMAS", "TechTAS", "IANG"):
            assert BOOK.version(scheme, day) is not None
        day += dt.timedelta(days=13)


def test_university_entries_are_complete_and_consistent() -> None:
    versions = [v["id"] for v in BOOK.universities["list_versions"]]
    assert versions[0] == "2022-12-28" and versions[-1] == "2026-01-01"
    assert BOOK.universities["list_versions"][-1]["institutions"] == 200
    ids = set()
    for entry in BOOK.universities["universities"]:
        assert entry["id"] not in ids
        ids.add(entry["id"])
        assert set(entry["names"]) == {"en", "zh-Hant", "zh-Hans"} and entry["names"]["en"]
        assert entry["source"].startswith("http")
        assert set(entry["lists"]) <= set(versions) and entry["lists"]
        if entry.get("added"):
            assert entry["lists"][0] == entry["added"]
        if entry.get("removed"):
            assert entry["removed"] not in entry["lists"]
            assert all(v < entry["removed"] for v in entry["lists"])
        if not entry.get("added") and not entry.get("removed"):
            assert entry["note"], entry["id"]  # why we hold it from launch


def test_no_exchange_rate_is_held_without_a_source() -> None:
    for currency, rate in (BOOK.currency.get("rates") or {}).items():
        assert rate.get("source", "").startswith("http"), currency
        assert to_date(rate["as_of"]) is not None
