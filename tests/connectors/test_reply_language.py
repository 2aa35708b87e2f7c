"""The channels word their own prompts in the language Rasa states with each reply (connectors/reply_language.py),
never in one detected again from the reply's text: a domain response names it by the variation Rasa chose, an
action's message by its metadata (actions/replies.py). Checked against Rasa 3.6's own classes, from the response or
the action server's message to the output channel's send methods."""
from __future__ import annotations

from typing import Any, Optional

import pytest
from rasa.core.actions.action import ActionBotResponse, RemoteAction
from rasa.core.channels.channel import UserMessage
from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from rasa_sdk.executor import CollectingDispatcher

from actions.replies import reply_metadata
from connectors.outage import guarded
from connectors.output import TextFirstOutput, known_language, remember_language
from connectors.reply_language import reply_language
from connectors.texts import load_texts
from talentbot.core import paths

LANGUAGES = ("en", "zh-Hant", "zh-Hans")
USER = "wechat:oUser123"
MENU = [{"title": "高才通", "payload": "/ask_scheme_info"}, {"title": "優才", "payload": "/ask_scheme_info"}]


def prompt(language: Optional[str]) -> str:
    """The numbered-choice prompt in `language` (the channel's fallback languages together when None)."""
    return load_texts().text("choose_by_number", language, "wechat")


def prompt_of(text: str) -> str:
    """What follows the numbered choices of a message (the channel's prompt)."""
    blocks = text.split("\n\n")
    menu = next(i for i, block in enumerate(blocks) if block.startswith("1. "))
    return "\n\n".join(blocks[menu + 1:])


class Recording(TextFirstOutput):
    """A text-first output channel that keeps what it sends instead of calling a platform."""

    channel = "wechat"

    def __init__(self, state: Any) -> None:
        super().__init__(state, load_texts())
        self.sent: list[str] = []

    def split(self, text: str) -> list[str]:
        return [text]

    async def deliver(self, native: str, chunk: str) -> None:
        self.sent.append(chunk)


@pytest.fixture
def output(sqlite_store) -> Recording:
    return Recording(sqlite_store)


# --- what a reply states ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reply, language",
    [
        ({"metadata": {"language": "zh-Hans"}}, "zh-Hans"),  # an action's message
        ({"utter_action": "utter_greet", "condition": [{"type": "slot", "name": "language", "value": "zh-Hant"}]},
         "zh-Hant"),  # a domain response's Cantonese variation
        ({"utter_action": "utter_greet"}, "en"),  # the variation without a condition is the English one
        ({"utter_action": "utter_greet", "condition": [{"type": "slot", "name": "scheme", "value": "TTPS"}]}, "en"),
        ({"utter_action": "utter_greet", "condition": [{"type": "slot", "name": "language", "value": "fr"}]}, None),
        ({"utter_action": "utter_greet", "condition": [{"type": "slot", "name": "language", "value": "zh-Hant"}],
          "metadata": {"language": "en"}}, "en"),  # what the action says wins
        ({"metadata": {"language": "de"}}, None),  # never a language we do not write
        ({"metadata": "zh-Hant"}, None),
        ({"timestamp": 1.0, "buttons": None}, None),  # a message stating nothing: a note, a staff reply
        ({}, None),
    ],
)
def test_the_language_a_reply_states(reply: dict, language: Optional[str]) -> None:
    assert reply_language(reply) == language


# --- from Rasa's response selection and the action server's answer to the channel ---------------------------------


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(paths.DOMAIN))


def tracker(domain: Domain, language: str) -> DialogueStateTracker:
    return DialogueStateTracker.from_events("s", [SlotSet("language", language)], domain.slots)


def response_with_buttons(domain: Domain) -> str:
    """A domain response whose every variation has buttons (it ends with the numbered-choice prompt)."""
    return next(name for name, variations in sorted(domain.responses.items())
                if all(variation.get("buttons") for variation in variations))


@pytest.mark.parametrize("language", LANGUAGES)
async def test_a_domain_response_is_prompted_in_the_language_of_its_variation(
    domain: Domain, output: Recording, sqlite_store, language: str
) -> None:
    nlg = TemplatedNaturalLanguageGenerator(domain.responses)
    [uttered] = await ActionBotResponse(response_with_buttons(domain)).run(output, nlg, tracker(domain, language),
                                                                           domain)
    assert isinstance(uttered, BotUttered)
    await output.send_response(USER, uttered.message())  # what Rasa's processor does with each BotUttered
    assert prompt_of(output.sent[-1]) == prompt(language)
    assert await known_language(sqlite_store, USER) == language  # kept for the channel's later notes


@pytest.mark.parametrize("language", LANGUAGES)
async def test_an_actions_message_is_prompted_in_the_language_it_names(
    domain: Domain, output: Recording, sqlite_store, language: str
) -> None:
    dispatcher = CollectingDispatcher()  # as actions/answers.py sends: text, buttons, the language in metadata
    dispatcher.utter_message(text="想了解邊個計劃？", buttons=MENU, metadata=reply_metadata(language))
    nlg = TemplatedNaturalLanguageGenerator(domain.responses)
    # Rasa's handling of the action server's "responses", with the slot saying otherwise: the action's word counts
    other = next(code for code in LANGUAGES if code != language)
    [uttered] = await RemoteAction._utter_responses(dispatcher.messages, output, nlg, tracker(domain, other))
    await output.send_response(USER, uttered.message())
    assert output.sent == [f"想了解邊個計劃？\n\n1. 高才通\n2. 優才\n\n{prompt(language)}"]
    assert await known_language(sqlite_store, USER) == language


async def test_the_language_survives_the_answer_being_held_until_the_turn_is_stored(
    output: Recording, sqlite_store
) -> None:
    """Every channel's answer is held by connectors/outage.py until Rasa has stored the turn, then replayed."""
    async def rasa(message: UserMessage) -> None:
        assert message.output_channel is not output  # held
        await message.output_channel.send_response(message.sender_id, {
            "text": "您想了解哪个计划？", "buttons": MENU, "utter_action": "utter_ask_scheme",
            "condition": [{"type": "slot", "name": "language", "value": "zh-Hans"}]})

    await guarded(rasa)(UserMessage("计划", output, USER, input_channel="wechat"))
    assert prompt_of(output.sent[-1]) == prompt("zh-Hans")


# --- replies that state no language -------------------------------------------------------------------------------


async def test_a_reply_stating_no_language_is_prompted_in_the_users_last_one(output: Recording, sqlite_store) -> None:
    await remember_language(sqlite_store, USER, "zh-Hant")
    await output.send_text_message(USER, "[staff] We are looking into it.")  # a staff reply: changes nothing
    await output.send_text_with_buttons(USER, "Which scheme?", MENU)  # English text, nothing stated
    assert prompt_of(output.sent[-1]) == prompt("zh-Hant")
    assert await known_language(sqlite_store, USER) == "zh-Hant"


async def test_with_no_language_known_the_prompt_is_in_the_channels_fallback_languages(output: Recording) -> None:
    await output.send_text_with_buttons(USER, "高才通", MENU)
    assert prompt_of(output.sent[-1]) == prompt(None)
    assert prompt(None) not in {prompt(code) for code in LANGUAGES}  # really the languages together
