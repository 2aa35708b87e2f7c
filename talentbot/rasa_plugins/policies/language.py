"""LanguagePolicy: sets the `language` slot from each user message inside the Rasa server.

Why a policy: the slot must be right before the first bot turn after a user message, and Rasa applies a
prediction's `events` from every policy, winning or not, before it runs the predicted action. Doing it here
costs no round trip to the action server (a custom slot-mapping action would cost one on every turn).
The decisions themselves are in the pure `talentbot.core.language` module.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text, Tuple

from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, SlotSet, UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker

from talentbot.core.language import EN, LANGUAGES, Verdict, choose_reply_language

LANGUAGE_SLOT = "language"
REQUESTED_SLOT = "language_requested"
CHANGE_LANGUAGE_INTENT = "change_language"
UNSUPPORTED_RESPONSE = "utter_language_unsupported"
METADATA_HINT_KEY = "language"
"""Channels put the platform's locale (Telegram language_code, WeChat user locale) under this metadata key."""


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
)
class LanguagePolicy(Policy):
    """Keeps the reply language, and answers messages in scripts we do not support."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        # Above RulePolicy (6): only used when it is sure (an unsupported script), confidence 0 otherwise.
        return {"priority": 7}

    def train(
        self, training_trackers: List[TrackerWithCachedStates], domain: Domain, **kwargs: Any
    ) -> Resource:
        """Nothing to learn: the policy follows fixed rules."""
        return self._resource

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[Text, Any]] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        probabilities = self._default_predictions(domain)
        message = tracker.latest_message
        if message is None or not tracker.events:
            return self._prediction(probabilities)

        events, unsupported = self._language_events(tracker)
        last_action = tracker.latest_action_name
        if unsupported and last_action == ACTION_LISTEN_NAME and UNSUPPORTED_RESPONSE in domain.action_names_or_texts:
            probabilities[domain.index_for_action(UNSUPPORTED_RESPONSE)] = 1.0
        elif last_action == UNSUPPORTED_RESPONSE:
            probabilities[domain.index_for_action(ACTION_LISTEN_NAME)] = 1.0
        return self._prediction(probabilities, events=events)

    @staticmethod
    def _language_events(tracker: DialogueStateTracker) -> Tuple[List[Event], bool]:
        """SlotSet events that bring `language` (and `language_requested`) in line with the latest message,
        and whether that message is written in a script we do not support (it is answered in English)."""
        message = tracker.latest_message or UserUttered.empty()  # Rasa starts every tracker with an empty one
        events: List[Event] = []
        requested = tracker.get_slot(REQUESTED_SLOT)
        if (message.intent or {}).get("name") == CHANGE_LANGUAGE_INTENT:
            asked = next(
                (e.get("value") for e in message.entities if e.get("entity") == LANGUAGE_SLOT),
                None,
            )
            if asked in LANGUAGES and asked != requested:
                requested = asked
                events.append(SlotSet(REQUESTED_SLOT, asked))
        current = tracker.get_slot(LANGUAGE_SLOT)
        hint = (message.metadata or {}).get(METADATA_HINT_KEY)
        detection = choose_reply_language(message.text, current, requested, hint)
        unsupported = detection.verdict is Verdict.UNSUPPORTED
        language = EN if unsupported else detection.language
        if language and language != current:
            events.append(SlotSet(LANGUAGE_SLOT, language))
        return events, unsupported
