"""action_handoff opens a ticket, tells the user their place (or that staff already have them) in their language,
and pauses the assistant."""

from __future__ import annotations

import re
from typing import Any, Iterator, Optional, cast

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import ConversationPaused
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict, TrackerState

from actions.handoff import ActionHandoff
from talentbot.core.handoff.accounts import StaffDirectory
from talentbot.core.handoff.store import SqlTicketStore


def tracker(sender: str, language: str, channel: str = "telegram", after: str = "utter_greet") -> Tracker:
    events: list[dict[str, Any]] = [
        {"event": "user", "text": "優才要幾多分", "parse_data": {"entities": [{"entity": "scheme", "value": "QMAS"}]}},
        {"event": "action", "name": after},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "/request_human", "parse_data": {"entities": []}, "input_channel": channel},
    ]
    return Tracker.from_dict(cast(TrackerState, {  # the wire form: rasa_sdk's TypedDict lacks latest_input_channel
        "sender_id": sender, "slots": {"language": language, "scheme": "QMAS", "topic": None},
        "latest_message": {"text": "/request_human", "intent": {"name": "request_human"}, "entities": []},
        "events": events, "paused": False, "latest_input_channel": channel, "active_loop": {},
        "latest_action_name": "action_listen",
    }))


@pytest.fixture
def store(tmp_path) -> Iterator[SqlTicketStore]:
    opened = SqlTicketStore.from_url(f"sqlite:///{tmp_path / 'handoff.sqlite3'}")
    yield opened
    opened.close()




async def run(action: ActionHandoff, tracker_: Tracker):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker_, cast(DomainDict, {}))
    return dispatcher.messages, events


async def test_opens_a_ticket_and_pauses(store) -> None:
    messages, events = await run(ActionHandoff(store), tracker("telegram:42", "zh-Hant", after="utter_offer_staff"))
    assert events == [ConversationPaused()]
    [ticket] = store.list_by_status("waiting")
    assert (ticket.conversation_id, ticket.channel, ticket.language, ticket.reason) == (
        "telegram:42", "telegram", "zh-Hant", "not_understood")
    assert ticket.schemes == ["QMAS"] and ticket.summary == "優才要幾多分"
    [message] = messages
    assert "排第 1 位" in message["text"] and "唔使喇" in message["text"]


async def test_the_second_user_is_second_in_line(store) -> None:
    await run(ActionHandoff(store), tracker("wechat:first", "en"))
    messages, _ = await run(ActionHandoff(store), tracker("wechat:second", "zh-Hans", channel="wechat"))
    assert "排在第 2 位" in messages[0]["text"]


async def test_asking_twice_does_not_queue_twice(store) -> None:
    await run(ActionHandoff(store), tracker("telegram:7", "en"))
    messages, _ = await run(ActionHandoff(store), tracker("telegram:7", "en"))
    assert len(store.list_by_status("waiting")) == 1 and "number 1" in messages[0]["text"]


TAKEN = {  # "a member of staff already has your conversation", as each language says it
    "en": "A member of our staff already has your conversation",
    "zh-Hant": "我哋同事已經跟緊你嘅查詢",
    "zh-Hans": "工作人员已经在跟进您的咨询",
}


@pytest.mark.parametrize("language", sorted(TAKEN))
async def test_asking_again_once_staff_have_the_ticket_says_so_not_a_place(store, language: str) -> None:
    await run(ActionHandoff(store), tracker("telegram:7", language))
    [ticket] = store.list_by_status("waiting")
    StaffDirectory(store.engine).add("amy", "agent", "correct horse battery staple", rounds=4)
    store.claim(ticket.id, "amy")
    messages, events = await run(ActionHandoff(store), tracker("telegram:7", language))
    [message] = messages
    assert TAKEN[language] in message["text"]
    assert not re.search(r"number \d|第 \d 位", message["text"])  # no place: the ticket left the queue
    assert events == [ConversationPaused()]  # the user's messages still go to the staff member
    assert store.open_ticket_for("telegram:7") == store.get(ticket.id)  # the same ticket, still amy's


class ClaimedAsItOpens(SqlTicketStore):
    """A member of staff claims each ticket between its opening and the look-up of its place."""

    def place_in_queue(self, ticket_id: int) -> Optional[int]:
        self.claim(ticket_id, "amy")
        return super().place_in_queue(ticket_id)


async def test_a_place_that_cannot_be_worked_out_is_not_number_1(tmp_path) -> None:
    racing = ClaimedAsItOpens.from_url(f"sqlite:///{tmp_path / 'handoff.sqlite3'}")
    try:
        StaffDirectory(racing.engine).add("amy", "agent", "correct horse battery staple", rounds=4)
        messages, events = await run(ActionHandoff(racing), tracker("web:5", "en"))
    finally:
        racing.close()
    [message] = messages
    assert "they will reply here" in message["text"] and "number" not in message["text"]
    assert events == [ConversationPaused()]


async def test_without_the_queue_the_user_gets_the_enquiry_contacts_and_the_bot_stays_on() -> None:
    class Broken:
        def open_ticket(self, *args, **kwargs):
            raise ConnectionError("database down")

    messages, events = await run(ActionHandoff(Broken()), tracker("telegram:9", "en"))  # type: ignore[arg-type]
    assert events == [] and messages[0]["response"] == "utter_human_contact"
