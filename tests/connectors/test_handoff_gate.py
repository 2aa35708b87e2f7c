"""While staff have a conversation, its messages go to the ticket; "cancel" while waiting returns to the assistant."""

from __future__ import annotations

import uuid
from typing import Iterator, List, Optional

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

from connectors.handoff_gate import HandoffGate
from talentbot.core.handoff.accounts import StaffDirectory
from talentbot.core.handoff.policy import default_policy
from talentbot.core.handoff.store import SqlTicketStore


class Recorder:
    """Stands in for Rasa's handle_message and for resuming the tracker."""

    def __init__(self) -> None:
        self.to_bot: List[Optional[str]] = []
        self.resumed: List[str] = []

    async def on_new_message(self, message: UserMessage) -> None:
        self.to_bot.append(message.text)
        await message.output_channel.send_text_message(message.sender_id, "assistant answer")

    async def resume(self, conversation_id: str) -> None:
        self.resumed.append(conversation_id)


@pytest.fixture
def store(tmp_path) -> Iterator[SqlTicketStore]:
    opened = SqlTicketStore.from_url(f"sqlite:///{tmp_path / 'handoff.sqlite3'}")
    for name in ("alice", "bob"):
        StaffDirectory(opened.engine).add(name, "agent", "correct horse battery staple", rounds=4)
    yield opened
    opened.close()


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def gate(store, recorder) -> HandoffGate:
    return HandoffGate(store, default_policy(), resume=recorder.resume)


async def send(gate: HandoffGate, recorder: Recorder, sender: str, text: str) -> List[str]:
    output = CollectingOutputChannel()
    await gate.handle(UserMessage(text, output, sender, input_channel="rest"), recorder.on_new_message)
    return [message["text"] for message in output.messages]


def conversation() -> str:
    return f"web:{uuid.uuid4().hex}"


async def test_without_a_ticket_the_assistant_answers(gate, recorder) -> None:
    assert await send(gate, recorder, conversation(), "hello") == ["assistant answer"]
    assert recorder.to_bot == ["hello"]


async def test_a_waiting_users_messages_join_the_ticket_with_their_place(gate, store, recorder) -> None:
    first, second = conversation(), conversation()
    store.open_ticket(first, "rest", "en", "requested")
    ticket = store.open_ticket(second, "rest", "zh-Hant", "requested")
    replies = await send(gate, recorder, second, "我想問下優才嘅計分")
    assert replies == ["收到，已經加埋落你嘅查詢度。你而家排第 2 位。"]
    assert recorder.to_bot == []
    assert [(m.sender, m.text) for m in store.messages(ticket.id)] == [("user", "我想問下優才嘅計分")]


async def test_messages_to_a_claimed_ticket_reach_staff_without_an_automatic_reply(gate, store, recorder) -> None:
    user = conversation()
    ticket = store.open_ticket(user, "rest", "en", "requested")
    store.claim(ticket.id, "alice")
    assert await send(gate, recorder, user, "cancel") == []
    assert [m.text for m in store.messages(ticket.id)] == ["cancel"]
    assert store.get(ticket.id).status == "assigned" and recorder.resumed == []


async def test_cancel_while_waiting_closes_the_ticket_and_resumes_the_assistant(gate, store, recorder) -> None:
    user = conversation()
    ticket = store.open_ticket(user, "rest", "zh-Hans", "not_understood")
    assert await send(gate, recorder, user, "不用了") == [
        "好的，已经为您取消排队。您现在回到了智能助手，请问想了解什么？"]
    closed = store.get(ticket.id)
    assert (closed.status, closed.resolution) == ("resolved", "cancelled")
    assert recorder.resumed == [user] and recorder.to_bot == []
    assert await send(gate, recorder, user, "what is TTPS") == ["assistant answer"]


async def test_a_cancel_that_loses_to_a_claim_goes_to_the_staff_member(gate, store, recorder) -> None:
    user = conversation()
    ticket = store.open_ticket(user, "rest", "en", "requested")
    stale = store.get(ticket.id)
    store.claim(ticket.id, "bob")
    assert await gate._cancel(stale, UserMessage("cancel", CollectingOutputChannel(), user)) is True
    assert store.get(ticket.id).status == "assigned" and [m.text for m in store.messages(ticket.id)] == ["cancel"]
    assert await send(gate, recorder, user, "hello?") == [] and recorder.to_bot == []  # still staff's, resumed or not


async def test_the_assistant_listens_before_the_ticket_closes(store, recorder) -> None:
    """A message arriving just after the cancel finds no ticket and goes to the assistant: had the ticket closed
    first, it would reach a conversation Rasa still has paused, and be ignored."""
    user = conversation()
    ticket = store.open_ticket(user, "rest", "en", "requested")
    seen_at_resume: List[str] = []

    async def resume(conversation_id: str) -> None:
        seen_at_resume.append(store.get(ticket.id).status)
        await recorder.resume(conversation_id)

    gate = HandoffGate(store, default_policy(), resume=resume)
    await send(gate, recorder, user, "cancel")
    assert seen_at_resume == ["waiting"] and store.get(ticket.id).status == "resolved"


async def test_a_cancel_that_cannot_resume_the_assistant_keeps_the_user_in_the_queue(store, recorder) -> None:
    user = conversation()
    ticket = store.open_ticket(user, "rest", "en", "requested")

    async def broken_resume(conversation_id: str) -> None:
        raise ConnectionRefusedError("tracker store down")

    gate = HandoffGate(store, default_policy(), resume=broken_resume)
    with pytest.raises(ConnectionRefusedError):  # the channel refuses the message politely (connectors/outage.py)
        await send(gate, recorder, user, "cancel")
    assert store.get(ticket.id).status == "waiting"  # not closed with the assistant still paused


async def test_the_assistant_answers_if_the_queue_database_is_down(recorder) -> None:
    class Broken:
        def open_ticket_for(self, conversation_id: str):
            raise ConnectionError("database down")

    gate = HandoffGate(Broken(), default_policy(), resume=recorder.resume)  # type: ignore[arg-type]
    assert await send(gate, recorder, conversation(), "hello") == ["assistant answer"]
