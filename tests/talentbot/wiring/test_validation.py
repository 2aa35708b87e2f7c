"""`talentbot validate`: which `rasa data validate` warnings count as explained."""

from talentbot.wiring.validation import unexplained

OUTPUT = """
2026-11-25 10:18:34 INFO     rasa.validator  - Validating intents...
/x/rasa/shared/utils/io.py:100: UserWarning: The intent 'inform' is not used in any story or rule.
/x/rasa/shared/utils/io.py:100: UserWarning: The utterance 'utter_default' is not used in any story or rule.
2026-11-25 10:18:34 WARNING  rasa.validator  - Story structure conflict after intent 'greet'
"""


def test_explained_warnings_are_dropped_and_others_kept() -> None:
    explained = {r"utter_default.*not used": "uttered by the core fallback"}
    assert unexplained(OUTPUT, explained) == [
        "The intent 'inform' is not used in any story or rule.",
        "rasa.validator  - Story structure conflict after intent 'greet'",
    ]


def test_nothing_to_explain_in_a_clean_run() -> None:
    assert unexplained("2026-11-25 INFO rasa.validator - Validating intents...\n", {}) == []
