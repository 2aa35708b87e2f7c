"""What the custom actions state about their replies for analysis (talentbot.core.analytics.outcome), beside the
language the channels read: the answer given, the "Did you mean" offered, how the eligibility check ended, the
handoff ticket. Data, never the user's words or facts."""

from __future__ import annotations

from typing import cast

from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.eligibility.result import ActionEligibilityResult
from actions.handoff import ActionHandoff
from talentbot.core.handoff.store import SqlTicketStore
from tests.actions.test_answers_bank import bank, run, tracker  # noqa: F401  (bank: the module's fixture)
from tests.actions.test_handoff import tracker as handoff_tracker


def stated(message: dict) -> dict:
    metadata = message["metadata"]
    assert set(metadata) <= {"language", "outcome"}
    return metadata.get("outcome") or {}


async def test_a_bank_answer_names_its_entry(bank) -> None:  # noqa: F811
    [message], _ = await run(bank, tracker("how long?", "ask_processing_time", [("ttps.processing_time", 0.8)]))
    assert message["metadata"]["language"] == "en"
    assert stated(message) == {"answer": {"kind": "entry", "id": "ttps.processing_time"}}


async def test_a_close_call_names_the_entries_offered(bank) -> None:  # noqa: F811
    ranking = [("ttps.processing_time", 0.6), ("gep.processing_time", 0.6)]
    [message], _ = await run(bank, tracker("how long does it take", "ask_processing_time", ranking))
    assert stated(message) == {"did_you_mean": {"kind": "asked_first",
                                                "ids": ["ttps.processing_time", "gep.processing_time"]}}
    [answer, offer], _ = await run(bank, tracker("TTPS quota or time?", "ask_scheme_info",
                                                 [("ttps.quota", 0.6), ("ttps.processing_time", 0.6)]))
    assert stated(answer) == {"answer": {"kind": "entry", "id": "ttps.quota"}}
    assert stated(offer) == {"did_you_mean": {"kind": "after_answer", "ids": ["ttps.processing_time"]}}


async def test_a_topic_level_answer_names_its_content_key(bank) -> None:  # noqa: F811
    [message, *_], _ = await run(bank, tracker("what is TTPS", "ask_scheme_info", [], entities={"scheme": "TTPS"}))
    assert stated(message) == {"answer": {"kind": "content", "id": "schemes.TTPS"}}


async def test_the_eligibility_result_states_each_schemes_status_once(form_tracker) -> None:
    dispatcher = CollectingDispatcher()
    await ActionEligibilityResult().run(dispatcher, form_tracker("", elig_scope="TTPS", elig_income=2_600_000.0),
                                        cast(DomainDict, {}))
    first, *rest = dispatcher.messages
    assert stated(first) == {"eligibility": {"outcome": "result", "schemes": {"TTPS": "eligible"}}}
    assert all(stated(message) == {} for message in rest)
    dispatcher = CollectingDispatcher()
    await ActionEligibilityResult().run(dispatcher, form_tracker("", elig_turn="stopped"), cast(DomainDict, {}))
    assert stated(dispatcher.messages[0]) == {"eligibility": {"outcome": "stopped", "schemes": {}}}


async def test_a_handoff_names_its_ticket(tmp_path) -> None:
    store = SqlTicketStore.from_url(f"sqlite:///{tmp_path / 'handoff.sqlite3'}")
    dispatcher = CollectingDispatcher()
    await ActionHandoff(store).run(dispatcher, handoff_tracker("telegram:7", "en"), cast(DomainDict, {}))
    [ticket] = store.list_by_status("waiting")
    assert stated(dispatcher.messages[0]) == {"handoff": {"ticket": ticket.id, "status": "waiting"}}
    store.close()
