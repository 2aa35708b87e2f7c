"""Buttons as numbered choices on text-only channels, and digits read back as the chosen button."""
from __future__ import annotations

from typing import Optional

import pytest

from connectors.choices import (
    Choice,
    choices_from_buttons,
    dump_payloads,
    load_payloads,
    numbered_payloads,
    render_numbered,
    resolve_choice,
)

BUTTONS = [
    {"title": "TTPS 高才通", "payload": '/ask_scheme_info{"scheme":"TTPS"}'},
    {"title": "QMAS 優才", "payload": '/ask_scheme_info{"scheme":"QMAS"}'},
    {"title": "Official page", "url": "https://www.immd.gov.hk/", "type": "web_url"},
]


def test_choices_from_rasa_buttons() -> None:
    choices = choices_from_buttons(BUTTONS + [{"title": "", "payload": ""}])
    assert choices[0] == Choice("TTPS 高才通", '/ask_scheme_info{"scheme":"TTPS"}')
    assert choices[2].url == "https://www.immd.gov.hk/"
    assert len(choices) == 3  # an empty button is dropped


def test_render_numbered_lists_choices_links_and_the_prompt() -> None:
    text = render_numbered("Which scheme?", choices_from_buttons(BUTTONS), "Reply with a number to choose.")
    assert text == (
        "Which scheme?\n\n1. TTPS 高才通\n2. QMAS 優才\n\nOfficial page: https://www.immd.gov.hk/\n\n"
        "Reply with a number to choose."
    )


def test_link_buttons_take_no_number() -> None:
    assert numbered_payloads(choices_from_buttons(BUTTONS)) == [
        '/ask_scheme_info{"scheme":"TTPS"}',
        '/ask_scheme_info{"scheme":"QMAS"}',
    ]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1", "first"),
        (" 2 ", "second"),
        ("２", "second"),  # full-width digit from a Chinese keyboard
        ("2.", "second"),
        ("2。", "second"),
        ("3", None),  # out of range: an ordinary message
        ("0", None),
        ("-1", None),
        ("12", None),
        ("two", None),
        ("1 please", None),
        ("", None),
    ],
)
def test_resolve_choice(text: str, expected: Optional[str]) -> None:
    assert resolve_choice(text, ["first", "second"]) == expected


@pytest.mark.parametrize(
    "raw, payloads", [(dump_payloads(["a", "高"]), ["a", "高"]), (None, []), ("{", []), ('{"a":1}', [])]
)
def test_payloads_survive_the_store_and_garbage_means_none(raw: Optional[str], payloads: list[str]) -> None:
    assert load_payloads(raw) == payloads
