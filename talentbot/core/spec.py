"""Names fixed by ../shared/spec/interfaces.md that outside checks rely on: keep them exactly."""

from __future__ import annotations

from talentbot.core.i18n import LANGUAGES

INTENTS = frozenset({
    "greet", "goodbye", "thank", "affirm", "deny", "bot_challenge", "ask_scheme_info", "check_eligibility",
    "ask_dependants", "ask_how_to_apply", "ask_processing_time", "ask_visa_extension", "ask_living_info",
    "ask_contact_office", "request_human", "change_language", "inform", "out_of_scope",
})
ENTITIES = frozenset({"scheme", "topic", "location", "language"})
SCHEMES: tuple[str, ...] = ("TTPS", "GEP", "ASMTP", "QMAS", "TechTAS", "IANG")
"""The `scheme` entity's values, in the order of interfaces.md (the eligibility result lists schemes in it)."""
TOPICS = ("housing", "education", "healthcare", "transport", "tax", "banking", "employment", "daily_life")

__all__ = ["INTENTS", "ENTITIES", "SCHEMES", "TOPICS", "LANGUAGES"]
