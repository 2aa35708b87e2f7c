"""What a new ticket records about the conversation: reason, language, channel, summary, schemes and topics."""

from __future__ import annotations

from talentbot.core.handoff.request import handoff_request, previous_bot_action, reason_for, summary_of


def user(text: str, *entities: tuple) -> dict:
    return {"event": "user", "text": text,
            "parse_data": {"entities": [{"entity": name, "value": value} for name, value in entities]}}


def action(name: str) -> dict:
    return {"event": "action", "name": name}


def test_the_reason_follows_what_the_user_was_answering() -> None:
    assert reason_for(None) == "requested"
    assert reason_for("utter_greet") == "requested"
    assert reason_for("utter_offer_staff") == "not_understood"
    assert reason_for("action_eligibility_result") == "needs_judgement"


def test_previous_bot_action_is_the_one_before_the_latest_message() -> None:
    events = [action("action_listen"), user("hi"), action("utter_greet"), action("action_listen"),
              user("/request_human"), action("action_listen")]
    assert previous_bot_action(events) == "utter_greet"
    assert previous_bot_action([user("person please")]) is None
    assert previous_bot_action([user("a"), user("b")]) is None


def test_summary_keeps_the_last_three_typed_messages() -> None:
    said = ["hello", "/greet", "what is TTPS", "  can my   wife come ", "I want a person"]
    assert summary_of(said) == "what is TTPS / can my wife come / I want a person"


def test_summary_is_shortened() -> None:
    summary = summary_of(["高才通" * 400])
    assert len(summary) == 500 and summary.endswith("…")


def test_request_from_events_and_slots() -> None:
    events = [user("高才通要幾多錢", ("scheme", "TTPS")), action("action_answer"), action("action_listen"),
              user("租屋呢", ("topic", "housing")), action("action_answer"), action("action_listen"),
              user("優才同高才通", ("scheme", "QMAS"), ("scheme", "TTPS")), action("utter_offer_staff"),
              action("action_listen"), user("/request_human")]
    request = handoff_request(events, {"language": "zh-Hant", "scheme": "QMAS", "topic": None}, "telegram")
    assert request.reason == "not_understood"
    assert request.language == "zh-Hant" and request.channel == "telegram"
    assert request.schemes == ("QMAS", "TTPS") and request.topics == ("housing",)
    assert request.summary == "高才通要幾多錢 / 租屋呢 / 優才同高才通"


def test_request_defaults() -> None:
    request = handoff_request([user("human")], {}, None)
    assert (request.language, request.channel, request.schemes) == ("en", "rest", ())
