"""The applicant profile of interfaces §3: typed dataclasses and a strict parser with one-line errors."""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

DEGREES: tuple[str, ...] = ("none", "sub_degree", "bachelor", "master", "doctorate")
"""Degree levels of interfaces §3, lowest first (the index orders them)."""

CAMPUSES: tuple[str, ...] = ("hong_kong", "gba")
"""`hk_degree.campus`: a Hong Kong campus, or a Hong Kong university's Greater Bay Area campus."""

MAX_AGE = 130
"""Ages above this are typing mistakes, not applicants."""

MAX_YEARS = 80.0
"""Work experience above this many years is a typing mistake."""

_ISO_ALPHA2 = re.compile(r"^[A-Z]{2}$")

TOP_LEVEL_FIELDS: tuple[str, ...] = (
    "as_of", "age", "mainland_chinese_resident", "nationality", "annual_income_hkd", "degree",
    "university", "graduation_date", "work_experience_years", "hk_degree", "job_offer",
)


class ProfileError(ValueError):
    """A profile that cannot be evaluated; the message is one line naming the field."""


@dataclass(frozen=True)
class HKDegree:
    """A degree from a full-time, locally-accredited Hong Kong programme (or a GBA campus): the IANG basis."""

    level: str | None = None  # one of DEGREES; None: not given
    graduation_date: dt.date | None = None  # date on the graduation certificate
    campus: str | None = None  # one of CAMPUSES; None: not given


@dataclass(frozen=True)
class JobOffer:
    """A confirmed offer of employment in Hong Kong."""

    annual_salary_hkd: float | None = None  # None: not given
    on_talent_list: bool | None = None  # the post is a Talent List profession; None: not given
    technology_area: str | None = None  # TechTAS area; None with technology_area_given: not a technology job
    technology_area_given: bool = False  # whether the key was present (null means "none")


@dataclass(frozen=True)
class Profile:
    """What we know about a person. None means unknown, except where a `*_given` flag says "has none"."""

    as_of: dt.date = field(default_factory=dt.date.today)  # the day whose rules apply
    age: int | None = None
    mainland_chinese_resident: bool | None = None
    nationality: str | None = None  # ISO 3166-1 alpha-2, upper case
    annual_income_hkd: float | None = None  # in the year before the application
    degree: str | None = None  # highest degree, one of DEGREES
    university: str | None = None  # free text, where the degree was obtained
    graduation_date: dt.date | None = None
    work_experience_years: float | None = None  # full-time work or self-employment
    hk_degree: HKDegree | None = None
    hk_degree_given: bool = False  # True with hk_degree None: the person has no Hong Kong degree
    job_offer: JobOffer | None = None
    job_offer_given: bool = False  # True with job_offer None: the person has no job offer

    @property
    def has_job_offer(self) -> bool | None:
        """True/False when known, None when the profile does not say."""
        if self.job_offer is not None:
            return True
        return False if self.job_offer_given else None

    @property
    def has_hk_degree(self) -> bool | None:
        """True/False when known, None when the profile does not say."""
        if self.hk_degree is not None:
            return True
        return False if self.hk_degree_given else None


def degree_rank(degree: str) -> int:
    """Position of a degree level in DEGREES, so levels compare (bachelor < master)."""
    return DEGREES.index(degree)


def parse_profile(data: Any) -> Profile:
    """Validate the JSON object of interfaces §3 and build a Profile; raise ProfileError on anything wrong."""
    if not isinstance(data, Mapping):
        raise ProfileError(f"profile must be a JSON object, not {_json_type(data)}")
    unknown = sorted(set(data) - set(TOP_LEVEL_FIELDS))
    if unknown:
        raise ProfileError(f"unknown field {unknown[0]!r}; known fields: {', '.join(TOP_LEVEL_FIELDS)}")
    as_of = _date(data, "as_of")
    kwargs: dict[str, Any] = {
        "age": _int(data, "age", 0, MAX_AGE),
        "mainland_chinese_resident": _bool(data, "mainland_chinese_resident"),
        "nationality": _nationality(data),
        "annual_income_hkd": _number(data, "annual_income_hkd", 0.0, None),
        "degree": _choice(data, "degree", DEGREES),
        "university": _text(data, "university"),
        "graduation_date": _date(data, "graduation_date"),
        "work_experience_years": _number(data, "work_experience_years", 0.0, MAX_YEARS),
        "hk_degree_given": "hk_degree" in data,
        "hk_degree": _hk_degree(data.get("hk_degree")),
        "job_offer_given": "job_offer" in data,
        "job_offer": _job_offer(data.get("job_offer")),
    }
    if as_of is not None:
        kwargs["as_of"] = as_of
    return Profile(**kwargs)


def _hk_degree(value: Any) -> HKDegree | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ProfileError(f"hk_degree must be an object or null, not {_json_type(value)}")
    _reject_unknown(value, "hk_degree", ("level", "graduation_date", "campus"))
    return HKDegree(
        level=_choice(value, "level", DEGREES, "hk_degree."),
        graduation_date=_date(value, "graduation_date", "hk_degree."),
        campus=_choice(value, "campus", CAMPUSES, "hk_degree."),
    )


def _job_offer(value: Any) -> JobOffer | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ProfileError(f"job_offer must be an object or null, not {_json_type(value)}")
    _reject_unknown(value, "job_offer", ("annual_salary_hkd", "on_talent_list", "technology_area"))
    return JobOffer(
        annual_salary_hkd=_number(value, "annual_salary_hkd", 0.0, None, "job_offer."),
        on_talent_list=_bool(value, "on_talent_list", "job_offer."),
        technology_area=_text(value, "technology_area", "job_offer."),
        technology_area_given="technology_area" in value,
    )


def _reject_unknown(value: Mapping[str, Any], name: str, known: tuple[str, ...]) -> None:
    unknown = sorted(set(value) - set(known))
    if unknown:
        raise ProfileError(f"unknown field {name}.{unknown[0]}; known: {', '.join(known)}")


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "an array"
    return "an object"


def _int(data: Mapping[str, Any], key: str, low: int, high: int, prefix: str = "") -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (
        isinstance(value, float) and not value.is_integer()
    ):
        raise ProfileError(f"{prefix}{key} must be a whole number, not {_json_type(value)} ({value!r})")
    if not low <= value <= high:
        raise ProfileError(f"{prefix}{key} must be between {low} and {high}, got {value}")
    return int(value)


def _number(
    data: Mapping[str, Any], key: str, low: float, high: float | None, prefix: str = ""
) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ProfileError(f"{prefix}{key} must be a number, not {_json_type(value)} ({value!r})")
    if value < low:
        raise ProfileError(f"{prefix}{key} must not be negative, got {value}")
    if high is not None and value > high:
        raise ProfileError(f"{prefix}{key} must be at most {high:g}, got {value}")
    return value


def _bool(data: Mapping[str, Any], key: str, prefix: str = "") -> bool | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise ProfileError(f"{prefix}{key} must be true or false, not {_json_type(value)} ({value!r})")
    return value


def _text(data: Mapping[str, Any], key: str, prefix: str = "") -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ProfileError(f"{prefix}{key} must be a string, not {_json_type(value)}")
    value = value.strip()
    return value or None


def _choice(data: Mapping[str, Any], key: str, choices: tuple[str, ...], prefix: str = "") -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or value not in choices:
        raise ProfileError(f"{prefix}{key} must be one of {', '.join(choices)}; got {value!r}")
    return value


def _date(data: Mapping[str, Any], key: str, prefix: str = "") -> dt.date | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ProfileError(f"{prefix}{key} must be a date string YYYY-MM-DD, not {_json_type(value)}")
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise ProfileError(f"{prefix}{key} must be a real date in the form YYYY-MM-DD, got {value!r}") from None


def _nationality(data: Mapping[str, Any]) -> str | None:
    value = _text(data, "nationality")
    if value is None:
        return None
    code = value.upper()
    if not _ISO_ALPHA2.match(code):
        raise ProfileError(f"nationality must be an ISO 3166-1 alpha-2 code such as GB or CN, got {value!r}")
    return code
