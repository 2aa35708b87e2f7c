"""Gazetteer: names found in any language and script, mapped to canonical values, on the right spans."""

import pytest

from talentbot.core.gazetteer import Gazetteer, fold

ENTRIES = {
    ("scheme", "高才通"): "TTPS",
    ("scheme", "TTPS"): "TTPS",
    ("scheme", "Top Talent Pass"): "TTPS",
    ("scheme", "Top Talent Pass Scheme"): "TTPS",
    ("scheme", "優才"): "QMAS",
    ("scheme", "优才"): "QMAS",
    ("scheme", "GEP"): "GEP",
    ("location", "倫敦"): "London",
    ("location", "New York"): "New York",
    ("topic", "租屋"): "housing",
    ("location", "US"): "United States",
    ("scheme", "內地專才"): "ASMTP",
    ("scheme", "專才"): "GEP",
}


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return Gazetteer(ENTRIES)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("高才通要咩條件？", [("scheme", "TTPS", 0, 3)]),
        ("TTPS要幾多income", [("scheme", "TTPS", 0, 4)]),
        ("what is the top talent pass scheme?", [("scheme", "TTPS", 12, 34)]),  # longest match wins
        ("ttps or QMAS", [("scheme", "TTPS", 0, 4)]),  # case-insensitive; QMAS is not in this table
        ("优才同優才", [("scheme", "QMAS", 0, 2), ("scheme", "QMAS", 3, 5)]),
        ("想喺倫敦搵人問下租屋", [("location", "London", 2, 4), ("topic", "housing", 8, 10)]),
        ("offices in new   york?", [("location", "New York", 11, 21)]),  # any run of spaces
        ("ＴＴＰＳ", [("scheme", "TTPS", 0, 4)]),  # full-width letters
        ("內地專才定專才", [("scheme", "ASMTP", 0, 4), ("scheme", "GEP", 5, 7)]),  # the longer name wins
        ("offices in the US?", [("location", "United States", 15, 17)]),
        ("can you tell us about TTPS", [("scheme", "TTPS", 22, 26)]),  # "us" is a pronoun
    ],
)
def test_finds_names_with_canonical_values(gazetteer: Gazetteer, text: str, expected) -> None:
    assert [(m.entity, m.value, m.start, m.end) for m in gazetteer.find(text)] == expected


@pytest.mark.parametrize("text", ["GEPT exam", "myttps", "TTPSs", "", "hello"])
def test_latin_names_match_whole_words_only(gazetteer: Gazetteer, text: str) -> None:
    assert gazetteer.find(text) == []


def test_surface_text_is_the_original_text(gazetteer: Gazetteer) -> None:
    [match] = gazetteer.find("Tell me about TOP TALENT PASS")
    assert match.text == "TOP TALENT PASS"


def test_round_trips_through_its_serialised_form(gazetteer: Gazetteer) -> None:
    again = Gazetteer.from_entries(gazetteer.to_entries())
    assert [m.value for m in again.find("優才定高才通")] == ["QMAS", "TTPS"]
    assert len(again) == len(gazetteer)


def test_fold_keeps_offsets() -> None:
    for text in ["ＴＴＰＳ係咩", "Straße ǅ", "İstanbul", "🇭🇰 HK"]:
        assert len(fold(text)) == len(text)
