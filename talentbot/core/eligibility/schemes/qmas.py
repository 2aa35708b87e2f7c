"""Quality Migrant Admission Scheme (優才): prerequisites we can check; the points test is the Panel's."""

from __future__ import annotations

from typing import Any, Mapping

from talentbot.core.eligibility.profile import Profile
from talentbot.core.eligibility.reasons import Reason
from talentbot.core.eligibility.result import SchemeResult
from talentbot.core.eligibility.schemes.common import (
    Assessment,
    Context,
    degree_check,
    failed,
    nationality_check,
    passed,
    unknown,
)

SCHEME = "QMAS"


def assess(profile: Profile, ctx: Context) -> SchemeResult:
    """The minimum age, a first degree (normally), nationality; the rest (financial means, good character, points)
    cannot be settled from a profile, so the best outcome is `likely`."""
    version = ctx.book.version(SCHEME, ctx.day)
    assert version is not None
    assessment = Assessment(SCHEME, sources=[ctx.book.scheme(SCHEME)["page"], *version["sources"]])
    nationality_check(SCHEME, profile, ctx, assessment)
    minimum = version["min_age"]
    if profile.age is None:
        assessment.add(unknown(Reason("qmas_age_missing", minimum=minimum), "age"))
    elif profile.age < minimum:
        assessment.add(failed(Reason("qmas_age_below", minimum=minimum, age=profile.age)))
    else:
        assessment.add(passed(Reason("qmas_age_pass", age=profile.age, minimum=minimum)))
    assessment.add(degree_check(SCHEME, profile))
    assessment.notes.append(Reason("qmas_means_character"))
    assessment.notes.append(_selection(version))
    if version["annual_quota"]:
        assessment.notes.append(Reason("qmas_quota"))
    return assessment.result("likely")


def _selection(version: Mapping[str, Any]) -> Reason:
    """How applicants meeting the prerequisites are selected in that version: the old points test or, from
    1 Nov 2024, the questionnaire of criteria."""
    if version["assessment"] == "points_test":
        return Reason("qmas_selection_points_test", pass_mark=version["points_pass_mark"],
                      maximum=version["points_maximum"])
    if version["assessment"] == "questionnaire":
        return Reason("qmas_selection_questionnaire", min_criteria=version["questionnaire_min_criteria"],
                      criteria=version["questionnaire_criteria"])
    raise ValueError(f"QMAS assessment {version['assessment']!r} is not one the rules know")
