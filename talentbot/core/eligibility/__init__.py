"""Eligibility rules for Hong Kong's talent admission schemes: pure logic, rules as dated data (data/*.yml).

Typical use (e.g. from a Rasa form):

    profile = parse_profile({"annual_income_hkd": 2600000, "as_of": "2025-03-01"})
    evaluation = evaluate(profile)              # Evaluation; .to_json() is interfaces §3
    questions = next_questions(profile, ["TTPS"])  # what to ask next, most decisive first
"""

from talentbot.core.eligibility.engine import evaluate, next_questions
from talentbot.core.eligibility.profile import HKDegree, JobOffer, Profile, ProfileError, parse_profile
from talentbot.core.eligibility.result import SCHEMES, Evaluation, SchemeResult

__all__ = [
    "SCHEMES", "Evaluation", "HKDegree", "JobOffer", "Profile", "ProfileError", "SchemeResult", "evaluate",
    "next_questions", "parse_profile",
]
