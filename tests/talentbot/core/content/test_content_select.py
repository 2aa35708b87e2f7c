"""Which answer a question gets: named scheme, remembered scheme, overview, living menu, nearest office."""

from __future__ import annotations

import pytest

from talentbot.core.content import Query, load_content, select
from talentbot.core.content.loader import DEFAULT_DIR
from talentbot.core.content.select import is_more_request

CONTENT = load_content(DEFAULT_DIR)


@pytest.mark.parametrize(
    ("query", "expected_keys", "expected_schemes"),
    [
        # a named scheme always wins and replaces the remembered one
        (Query("ask_scheme_info", schemes=("QMAS",), remembered_scheme="TTPS"), ["schemes.QMAS"], ["QMAS"]),
        # nothing named, nothing remembered: overview with buttons
        (Query("ask_scheme_info"), ["schemes.overview"], [None]),
        # "and the quota?" right after a TTPS answer continues TTPS
        (Query("ask_scheme_info", remembered_scheme="TTPS", last_answer_scheme="TTPS", text="what about the quota?"),
         ["schemes.TTPS"], ["TTPS"]),
        # ... but "what schemes are there?" asks in general
        (Query("ask_scheme_info", remembered_scheme="TTPS", last_answer_scheme="TTPS", text="What schemes are there?"),
         ["schemes.overview"], [None]),
        (Query("ask_scheme_info", remembered_scheme="TTPS", last_answer_scheme="TTPS", text="香港有咩計劃？"),
         ["schemes.overview"], [None]),
        # after another subject, a bare scheme question gets the overview
        (Query("ask_scheme_info", remembered_scheme="TTPS", last_answer_scheme=None, text="requirements?"),
         ["schemes.overview"], [None]),
        # follow-up intents use the remembered scheme
        (Query("ask_processing_time", remembered_scheme="TTPS"), ["processing.TTPS"], ["TTPS"]),
        (Query("ask_dependants", remembered_scheme="TTPS", text="咁佢屋企人呢？"), ["dependants.all"], ["TTPS"]),
        (Query("ask_visa_extension", remembered_scheme="IANG"), ["stay.IANG"], ["IANG"]),
        (Query("ask_how_to_apply"), ["applying.general"], [None]),
        # two schemes named: one answer each
        (Query("ask_scheme_info", schemes=("GEP", "ASMTP")), ["schemes.GEP", "schemes.ASMTP"], ["GEP", "ASMTP"]),
        # an unknown scheme value is ignored
        (Query("ask_processing_time", schemes=("XYZ",)), ["processing.general"], [None]),
        # living: topic or menu
        (Query("ask_living_info", topic="tax"), ["living.tax"], [None]),
        (Query("ask_living_info"), ["living.menu"], [None]),
        (Query("ask_living_info", topic="unknown"), ["living.menu"], [None]),
        # offices: the list when no place or an unknown place
        (Query("ask_contact_office"), ["offices.list"], [None]),
        (Query("ask_contact_office", location="Atlantis"), ["offices.list"], [None]),
    ],
)
def test_selection(query: Query, expected_keys: list[str], expected_schemes: list[str | None]) -> None:
    answers = select(CONTENT, query)
    assert [a.entry.key for a in answers if a.entry] == expected_keys
    assert [a.scheme for a in answers] == expected_schemes


@pytest.mark.parametrize(
    ("location", "office"),
    [("Shenzhen", "offices.GDETO"), ("Germany", "offices.Berlin"), ("shanghai", "offices.SHETO"),
     ("  Tokyo ", "offices.Tokyo"), ("Chengdu", "offices.CDETO"), ("Wuhan", "offices.WHETO"),
     ("Beijing", "offices.BJO"), ("Sydney", "offices.Sydney"), ("United Kingdom", "offices.London")],
)
def test_nearest_office_for_a_named_place(location: str, office: str) -> None:
    [answer] = select(CONTENT, Query("ask_contact_office", location=location))
    assert answer.office is not None and answer.office.key == office


def test_intents_it_does_not_answer_get_nothing() -> None:
    assert select(CONTENT, Query("greet")) == []


def test_tell_me_more_is_carried_to_the_answer() -> None:
    [answer] = select(CONTENT, Query("ask_scheme_info", schemes=("TTPS",), detail=True))
    assert answer.detail


@pytest.mark.parametrize(("text", "more"), [
    ("Tell me more!", True), ("can you go into more detail", True), ("可唔可以講多啲？", True), ("詳細啲講下", True),
    ("详细说说", True), ("能不能多讲一点", True),
    ("what is TTPS", False), ("what's going on with QMAS", False), ("高才通係咩", False), ("专才要多久", False),
])
def test_a_typed_tell_me_more(text: str, more: bool) -> None:
    assert is_more_request(CONTENT, text) is more
