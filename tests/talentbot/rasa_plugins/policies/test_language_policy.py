"""LanguagePolicy: the `language` slot follows each user message, a requested language sticks, unsupported
scripts get one English answer; all without winning a prediction otherwise."""

from typing import List, Optional

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from talentbot.rasa_plugins.policies.language import LanguagePolicy

DOMAIN = Domain.from_yaml(
    """
version: "3.1"
intents: [greet, change_language, ask_scheme_info]
entities: [language]
slots:
  language:
    type: categorical
    values: [en, zh-Hant, zh-Hans]
    initial_value: en
    influence_conversation: false
    mappings: [{type: custom}]
  language_requested:
    type: categorical
    values: [en, zh-Hant, zh-Hans]
    influence_conversation: false
    mappings: [{type: custom}]
responses:
  utter_greet: [{text: hi}]
  utter_language_unsupported: [{text: "English, 中文 only"}]
"""
)


@pytest.fixture
def policy(tmp_path) -> LanguagePolicy:
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), "test")
    created = LanguagePolicy.create(LanguagePolicy.get_default_config(), storage, Resource("lang"), context)
    assert isinstance(created, LanguagePolicy)
    return created


def user(
    text: str, intent: str = "greet", entities: Optional[list] = None, metadata: Optional[dict] = None
) -> List[Event]:
    return [
        ActionExecuted(ACTION_LISTEN_NAME),
        UserUttered(text, {"name": intent, "confidence": 0.99}, entities or [], metadata=metadata),
    ]


def predict(policy: LanguagePolicy, events: List[Event]):
    tracker = DialogueStateTracker.from_events("u1", events, slots=DOMAIN.slots)
    return policy.predict_action_probabilities(tracker, DOMAIN)


def slot_events(prediction) -> dict:
    return {e.key: e.value for e in prediction.events if isinstance(e, SlotSet)}


@pytest.mark.parametrize(
    "text, expected",
    [("高才通要咩條件？", "zh-Hant"), ("高才通申请条件是什么？", "zh-Hans"), ("what is TTPS", None)],
)
def test_sets_the_language_of_the_latest_message(policy, text, expected) -> None:
    prediction = predict(policy, user(text))
    assert slot_events(prediction).get("language") == expected  # None: already English, nothing to set
    assert max(prediction.probabilities) == 0.0  # never wins the prediction for a supported language


def test_follows_the_user_back_and_forth(policy) -> None:
    events = user("高才通申请条件是什么？") + [SlotSet("language", "zh-Hans"), ActionExecuted("utter_greet")]
    assert slot_events(predict(policy, events + user("and for QMAS?"))) == {"language": "en"}


def test_script_neutral_text_keeps_the_script(policy) -> None:
    events = [SlotSet("language", "zh-Hans")] + user("你好")
    assert slot_events(predict(policy, events)) == {}


def test_is_idempotent_within_a_turn(policy) -> None:
    events = user("高才通要咩條件？") + [SlotSet("language", "zh-Hant"), ActionExecuted("utter_greet")]
    assert slot_events(predict(policy, events)) == {}


def test_a_requested_language_sticks(policy) -> None:
    change = user("please answer in English", "change_language", [{"entity": "language", "value": "en"}])
    events = [SlotSet("language", "zh-Hant")] + change
    assert slot_events(predict(policy, events)) == {"language_requested": "en", "language": "en"}
    later = events + [SlotSet("language_requested", "en"), SlotSet("language", "en"), ActionExecuted("utter_greet")]
    assert slot_events(predict(policy, later + user("高才通要咩條件？"))) == {}


def test_change_language_without_a_language_changes_nothing(policy) -> None:
    assert slot_events(predict(policy, user("can you speak another language", "change_language"))) == {}


def test_trigger_intent_texts_do_not_change_the_language(policy) -> None:
    events = [SlotSet("language", "zh-Hant")] + user("EXTERNAL: handoff_resumed")
    assert slot_events(predict(policy, events)) == {}


def test_channel_locale_decides_content_free_messages(policy) -> None:
    assert slot_events(predict(policy, user("👍", metadata={"language": "zh_CN"}))) == {"language": "zh-Hans"}


def test_unsupported_script_gets_one_english_answer(policy) -> None:
    events = [SlotSet("language", "zh-Hant")] + user("Привет")
    prediction = predict(policy, events)
    assert slot_events(prediction) == {"language": "en"}
    assert DOMAIN.action_names_or_texts[prediction.probabilities.index(1.0)] == "utter_language_unsupported"
    after = events + [SlotSet("language", "en"), ActionExecuted("utter_language_unsupported")]
    prediction = predict(policy, after)
    assert DOMAIN.action_names_or_texts[prediction.probabilities.index(1.0)] == ACTION_LISTEN_NAME
