"""Typed content entries: what the YAML files under bot/content/ hold once loaded and checked."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Mapping

from talentbot.core.i18n import LANGUAGES as LANGUAGES
from talentbot.core.i18n import Localized as Localized
from talentbot.core.spec import SCHEMES as SCHEMES
from talentbot.core.spec import TOPICS as TOPICS

#: `scheme:` value of an entry that answers for every scheme (e.g. dependants' rules are common).
ANY_SCHEME = "any"



@dataclass(frozen=True)
class Change:
    """A dated change of a rule, shown under "tell me more" so users see since when a rule holds."""

    date: date  # effective date of the change
    note: Localized  # what changed, in each language
    source: str = ""  # where the change is documented (URL or document name), for editors


@dataclass(frozen=True)
class Entry:
    """One answer: a summary short enough for a chat screen, an optional longer part, and its source."""

    key: str  # unique id, "<subject>.<what>", e.g. "schemes.TTPS"
    intent: str  # the NLU intent it answers
    summary: Localized  # first reply, within limits.MAX_SUMMARY_CHARS
    source: tuple[str, ...]  # official URL(s) the facts come from
    as_of: date  # revision date of the source page(s) (the oldest, when several)
    scheme: str | None = None  # a SCHEMES value, ANY_SCHEME, or None for the general answer
    topic: str | None = None  # a TOPICS value (living answers) or None
    title: Localized | None = None  # short label for menu buttons and headings
    more: Localized | None = None  # the "tell me more" part
    changed: tuple[Change, ...] = ()  # dated rule changes, shown with `more`
    unverified: tuple[str, ...] = ()  # facts the reference marks UNVERIFIED (editor notes, English)
    menu: str | None = None  # "scheme" or "topic": offer one button per scheme/topic entry


@dataclass(frozen=True)
class Office:
    """A Hong Kong government office abroad or in the Mainland, for "who can I contact near me"."""

    key: str  # unique id, e.g. "offices.GDETO"
    region: str  # "mainland" or "overseas"
    name: Localized  # full name in each language
    team: str  # "confirmed" (has a Dedicated Team for Attracting Businesses and Talents) or "unverified"
    places: tuple[str, ...]  # English city/country/province names for which it is the nearest office
    source: tuple[str, ...]
    as_of: date
    covers: Localized | None = None  # area it serves, when the reference gives it
    website: str | None = None  # official website, only when seen in the reference


@dataclass(frozen=True)
class Content:
    """Everything the answering action needs, loaded once per process."""

    entries: tuple[Entry, ...]
    offices: tuple[Office, ...] = ()
    phrases: Mapping[str, Localized] = field(default_factory=dict)  # labels and templates (ui.yml)
    overview_cues: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # language -> cues
    more_cues: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # language -> "tell me more" words
    scheme_menu: tuple[str, ...] = SCHEMES  # the schemes' buttons, in the order ui.yml lists them

    def entry(self, key: str) -> Entry:
        """The entry with this key; KeyError names the key when an editor removed it."""
        for candidate in self.entries:
            if candidate.key == key:
                return candidate
        raise KeyError(key)

#: The intents action_answer answers (interfaces.md §2); the rules in bot/data/rules_answers.yml map each to it.
ASK_SCHEME_INFO = "ask_scheme_info"
ASK_LIVING_INFO = "ask_living_info"
ASK_CONTACT_OFFICE = "ask_contact_office"
#: Questions about one scheme that follow up on the scheme talked about last when none is named.
FOLLOW_UP_INTENTS: tuple[str, ...] = (
    "ask_dependants", "ask_how_to_apply", "ask_processing_time", "ask_visa_extension",
)
ANSWER_INTENTS: tuple[str, ...] = (
    ASK_SCHEME_INFO, *FOLLOW_UP_INTENTS, ASK_LIVING_INFO, ASK_CONTACT_OFFICE,
)
