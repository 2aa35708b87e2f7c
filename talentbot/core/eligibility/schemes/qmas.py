"""Quality Migrant Admission Scheme (優才): prerequisites we can check; the points test is the Panel's."""

from __future__ import annotations

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
_DEGREE_EXCEPTION = (" Exceptions are made for good technical qualifications or proven professional abilities "
                     "with documentary evidence.")


def assess(profile: Profile, ctx: Context) -> SchemeResult:
    """Age 18+, a first degree (normally), nationality; the rest (financial means, good character, points)
    cannot be settled from a profile, so the best outcome is `likely`."""
    version = ctx.book.version(SCHEME, ctx.day)
    assert version is not None
    assessment = Assessment(SCHEME, sources=[ctx.book.scheme(SCHEME)["page"], *version["sources"]])
    nationality_check(SCHEME, profile, ctx, assessment)
    minimum = version["min_age"]
    if profile.age is None:
        assessment.add(unknown(Reason("qmas_age_missing", f"QMAS applicants must be {minimum} or older; age not "
                                      f"given.", minimum=minimum), "age"))
    elif profile.age < minimum:
        assessment.add(failed(Reason("qmas_age_below", f"QMAS applicants must be {minimum} or older at "
                                     f"application; you are {profile.age}.", minimum=minimum, age=profile.age)))
    else:
        assessment.add(passed(Reason("qmas_age_pass", f"Age {profile.age} meets the minimum of {minimum} (no upper "
                                     f"limit).", age=profile.age, minimum=minimum)))
    assessment.add(degree_check(SCHEME, profile, exception=_DEGREE_EXCEPTION))
    assessment.notes.append(Reason("qmas_means_character", "You must also show you can support yourself and "
                                   "your dependants and have a good character record."))
    assessment.notes.append(Reason("qmas_selection", f"Selection is by the {version['assessment']}; we cannot "
                                   f"score it, so not every application that meets the prerequisites is approved."))
    if version["annual_quota"]:
        assessment.notes.append(Reason("qmas_quota", "An annual quota applied at that time."))
    return assessment.result("likely")
