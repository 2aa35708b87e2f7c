"""Trackers as the action server receives them, built from a dict the rasa-sdk way."""

from __future__ import annotations

from typing import Any, Callable, cast

import pytest
from rasa_sdk import Tracker
from rasa_sdk.types import TrackerState

from talentbot.core.eligibility_chat.slots import BOOKKEEPING_SLOTS, FORM_SLOTS


def _form_tracker(text: str, intent: str = "inform", entities: list[tuple[str, str]] | None = None,
                  requested: str | None = None, language: str = "en", events: list[dict] | None = None,
                  **slots: Any) -> Tracker:
    """The tracker of eligibility_form: all form slots empty unless given, `requested` the slot asked last."""
    values: dict[str, Any] = {slot: None for slot in (*FORM_SLOTS, *BOOKKEEPING_SLOTS)}
    values.update({"language": language, "scheme": None, "requested_slot": requested, **slots})
    return Tracker.from_dict(
        cast(TrackerState, {  # the wire form: rasa_sdk's TypedDict lacks latest_input_channel
            "sender_id": "test-user",
            "slots": values,
            "latest_message": {
                "text": text,
                "intent": {"name": intent, "confidence": 0.99},
                "entities": [{"entity": k, "value": v} for k, v in (entities or [])],
            },
            "events": events or [],
            "paused": False,
            "latest_input_channel": "rest",
            "active_loop": {"name": "eligibility_form"},
            "latest_action_name": "eligibility_form",
        })
    )


@pytest.fixture
def form_tracker() -> Callable[..., Tracker]:
    """Builds eligibility_form trackers (see `_form_tracker`)."""
    return _form_tracker
