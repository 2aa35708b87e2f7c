"""A user's message that loses the race with staff resolving the ticket is answered by the assistant, not dropped.

The gate looks the open ticket up, then stores the message on it; staff may resolve the ticket in between. The
console resumes the assistant before it resolves (talentbot/console/web.py `resolve`), so once the store refuses
the message the gate can hand it to the assistant as if no ticket were open.
"""

from __future__ import annotations

import uuid
from typing import Iterator, List, Optional

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from connectors.handoff_gate import HandoffGate
from talentbot.core.handoff.accounts import StaffDirectory
from talentbot.core.handoff.policy import default_policy
from talentbot.core.handoff.store import SqlTicketStore
from tests.talentbot.core.handoff.races import resolved_as_a_message_is_inserted


class Assistant:
    """Stands in for Rasa's handle_message: records what reached it and answers."""

    def __init__(self) -> None:
        self.heard: List[Optional[str]] = []

    async def on_new_message(self, message: UserMessage) -> None:
        self.heard.append(message.text)
        await message.output_channel.send_text_message(message.sender_id, "assistant answer")


async def _never_resumed(conversation_id: str) -> None:
    raise AssertionError("the gate resumes only for a cancel; staff resume before they resolve")


@pytest.fixture
def store(tmp_path) -> Iterator[SqlTicketStore]:
    opened = SqlTicketStore.from_url(f"sqlite:///{tmp_path / 'handoff.sqlite3'}")
    StaffDirectory(opened.engine).add("alice", "supervisor", "correct horse battery staple", rounds=4)
    yield opened
    opened.close()


@pytest.mark.parametrize("claimed", [True, False], ids=["assigned", "waiting"])
async def test_a_message_that_loses_to_a_resolve_is_answered_by_the_assistant(store, claimed: bool) -> None:
    user = f"web:{uuid.uuid4().hex}"
    ticket = store.open_ticket(user, "rest", "en", "requested")
    if claimed:
        store.claim(ticket.id, "alice")
    assistant, output = Assistant(), CollectingOutputChannel()
    gate = HandoffGate(store, default_policy(), resume=_never_resumed)

    with resolved_as_a_message_is_inserted(store, ticket.id):
        await gate.handle(UserMessage("what about my visa?", output, user, input_channel="rest"),
                          assistant.on_new_message)

    assert assistant.heard == ["what about my visa?"]
    assert [message["text"] for message in output.messages] == ["assistant answer"]  # no "number N in the queue"
    assert store.get(ticket.id).status == "resolved" and store.messages(ticket.id) == []
