"""Which profile field each form slot holds, and how slot values become an interfaces §3 profile."""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterable, Mapping

FORM_NAME = "eligibility_form"

FIELD_SLOTS: dict[str, str] = {
    "annual_income_hkd": "elig_income",  # float, HK$
    "degree": "elig_degree",  # one of profile.DEGREES
    "university": "elig_university",  # free text, or the list's English name when matched
    "graduation_date": "elig_graduation",  # ISO date
    "work_experience_years": "elig_experience",  # float
    "mainland_chinese_resident": "elig_mainland",  # YES / NO
    "job_offer": "elig_job_offer",  # YES / NO
    "job_offer.technology_area": "elig_tech_area",  # area key or free text; NONE: not a technology job
    "hk_degree": "elig_hk_degree",  # YES / NO
    "hk_degree.level": "elig_hk_level",  # one of profile.DEGREES
    "hk_degree.campus": "elig_hk_campus",  # hong_kong / gba
    "hk_degree.graduation_date": "elig_hk_graduation",  # ISO date
    "age": "elig_age",  # whole years
    "nationality": "elig_nationality",  # ISO 3166-1 alpha-2
}
"""Every profile field the form can ask about (engine.next_questions names these fields) and its slot."""

SLOT_FIELDS: dict[str, str] = {slot: field for field, slot in FIELD_SLOTS.items()}
FORM_SLOTS: tuple[str, ...] = tuple(FIELD_SLOTS.values())

SCOPE_SLOT = "elig_scope"
"""Schemes the check is about, comma-separated ("TTPS"); empty: every scheme."""
CANDIDATES_SLOT = "elig_candidates"
"""Universities (English names) to choose from after an ambiguous answer; asked as buttons."""
TURN_SLOT = "elig_turn"
"""What the form did with the latest message (a TurnOutcome value); STOPPED tells the result action to
say goodbye instead of giving a result. Set on every handled message, which also tells Rasa the form
used the message (a form that sets nothing is rejected and other rules answer)."""
BOOKKEEPING_SLOTS: tuple[str, ...] = (SCOPE_SLOT, CANDIDATES_SLOT, TURN_SLOT)

SKIPPED = "skipped"
"""Slot value of a question the user skipped: the field stays unknown and is not asked again."""
YES, NO = "yes", "no"
NONE = "none"
"""elig_tech_area value for "not a technology job" (the profile's technology_area null)."""


def is_known(value: Any) -> bool:
    """Whether a slot value is a real answer (not empty, not skipped)."""
    return value is not None and value != SKIPPED


def profile_data(values: Mapping[str, Any], as_of: dt.date | None = None) -> dict[str, Any]:
    """The interfaces §3 profile JSON for the slot values (unknown and skipped fields left out)."""
    known = {SLOT_FIELDS[s]: v for s, v in values.items() if s in SLOT_FIELDS and is_known(v)}
    data: dict[str, Any] = {}
    if as_of is not None:
        data["as_of"] = as_of.isoformat()
    for field in ("annual_income_hkd", "work_experience_years"):
        if field in known:
            data[field] = float(known[field])
    if "age" in known:
        data["age"] = int(known["age"])
    for field in ("degree", "university", "graduation_date", "nationality"):
        if field in known:
            data[field] = str(known[field])
    if "mainland_chinese_resident" in known:
        data["mainland_chinese_resident"] = known["mainland_chinese_resident"] == YES
    if known.get("job_offer") == NO:
        data["job_offer"] = None
    elif known.get("job_offer") == YES:
        offer: dict[str, Any] = {}
        if "job_offer.technology_area" in known:
            area = known["job_offer.technology_area"]
            offer["technology_area"] = None if area == NONE else str(area)
        data["job_offer"] = offer
    if known.get("hk_degree") == NO:
        data["hk_degree"] = None
    elif known.get("hk_degree") == YES:
        data["hk_degree"] = {
            key: str(known[f"hk_degree.{key}"])
            for key in ("level", "campus", "graduation_date")
            if f"hk_degree.{key}" in known
        }
    return data


def slots_to_ask(fields: Iterable[str], values: Mapping[str, Any]) -> list[str]:
    """The slots for `fields` (engine.next_questions order) that have no value yet, skipped ones left out."""
    slots = [FIELD_SLOTS[f] for f in fields if f in FIELD_SLOTS]
    return [s for s in slots if values.get(s) is None]


def scope_from_slot(value: Any) -> list[str] | None:
    """The schemes in scope (None: all) from SCOPE_SLOT."""
    if not value:
        return None
    return [s for s in str(value).split(",") if s]


def scope_to_slot(schemes: Iterable[str]) -> str | None:
    """SCOPE_SLOT value for a list of schemes (None: all)."""
    joined = ",".join(dict.fromkeys(schemes))
    return joined or None
