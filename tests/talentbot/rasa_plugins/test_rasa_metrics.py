"""talentbot.rasa_plugins.rasa_metrics and rasa_probes: messages counted by channel, language and outcome, what a turn
did, action server calls, and the readiness checks of an agent's stores."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Optional

import pytest
from prometheus_client import REGISTRY
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.slots import TextSlot
from rasa.shared.core.trackers import DialogueStateTracker

from talentbot.core.observability import readiness
from talentbot.core.store_outages import StoreUnavailable
from talentbot.rasa_plugins import rasa_metrics, rasa_probes


@pytest.fixture(scope="module", autouse=True)
def prepared() -> None:
    rasa_metrics.prepare(["rest", "socketio"])


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def tracker(language: Optional[str], *turn) -> DialogueStateTracker:
    """A conversation with one earlier turn (a fallback and an offer that must not count again) and `turn`."""
    found = DialogueStateTracker("someone", [TextSlot("language", mappings=[{"type": "custom"}])])
    for event in (UserUttered("??", {"name": "nlu_fallback"}), ActionExecuted("action_default_fallback"),
                  BotUttered("Did you mean one of these?"), ActionExecuted("action_listen"), *turn):
        found.update(event)
    if language is not None:
        found.update(SlotSet("language", language))
    return found


def test_a_turns_fallbacks_and_offers_are_read_from_its_own_events() -> None:
    plain = tracker("en", UserUttered("What is TTPS?", {"name": "ask_scheme_info"}), ActionExecuted("action_answer"),
                    BotUttered("Top Talent Pass Scheme ..."))
    assert rasa_metrics.summary(plain) == ("en", (), ())
    missed = tracker("zh-Hant", UserUttered("??", {"name": "nlu_fallback"}), ActionExecuted("utter_ask_rephrase"),
                     BotUttered("唔好意思..."))
    assert rasa_metrics.summary(missed) == ("zh-Hant", ("nlu_fallback",), ())
    offered = tracker("en", UserUttered("how long is the first visa valid for?", {"name": "ask_scheme_info"}),
                      ActionExecuted("action_answer"), BotUttered("Did you mean one of these?"))
    assert rasa_metrics.summary(offered) == ("en", (), ("asked_first",))


def message(channel: str = "rest") -> SimpleNamespace:
    return SimpleNamespace(input_channel=channel, sender_id="someone", text="What is TTPS?")


async def test_a_message_is_counted_by_channel_language_and_outcome_and_timed() -> None:
    stored = tracker("zh-Hans", UserUttered("??", {"name": "nlu_fallback"}), ActionExecuted("utter_ask_rephrase"))

    async def save_tracker(processor, tracker_) -> None:
        return None

    save = rasa_metrics.handing_over(save_tracker)

    async def handle_message(agent, message_) -> list:
        await save(None, stored)
        return []

    before = (sample("talentbot_messages_total", channel="rest", language="zh-Hans", outcome="answered"),
              sample("talentbot_message_duration_seconds_count", channel="rest"),
              sample("talentbot_fallbacks_total", kind="nlu_fallback", language="zh-Hans"))
    assert await rasa_metrics.counted(handle_message)(None, message()) == []
    after = (sample("talentbot_messages_total", channel="rest", language="zh-Hans", outcome="answered"),
             sample("talentbot_message_duration_seconds_count", channel="rest"),
             sample("talentbot_fallbacks_total", kind="nlu_fallback", language="zh-Hans"))
    assert [b - a for a, b in zip(before, after, strict=True)] == [1, 1, 1]
    await save(None, stored)  # outside a message (the HTTP API): nothing is counted, nothing fails
    assert rasa_metrics.CURRENT_TURN.get() is None


@pytest.mark.parametrize("error, outcome", [
    (StoreUnavailable("lock store", ConnectionRefusedError("refused")), "store_unavailable"),
    (RuntimeError("a bug"), "error"),
])
async def test_a_message_that_failed_is_counted_with_its_outcome(error: Exception, outcome: str) -> None:
    async def handle_message(agent, message_) -> list:
        raise error

    before = sample("talentbot_messages_total", channel="other", language="unknown", outcome=outcome)
    with pytest.raises(type(error)):
        await rasa_metrics.counted(handle_message)(None, message("somewhere"))
    assert sample("talentbot_messages_total", channel="other", language="unknown", outcome=outcome) == before + 1


class Rejected(Exception):
    pass


@pytest.mark.parametrize("raised, outcome", [(None, "ok"), (Rejected, "rejected"), (RuntimeError, "error")])
async def test_action_server_calls_are_counted_by_action_and_outcome(raised, outcome) -> None:
    async def run(action, *args) -> list:
        if raised is not None:
            raise raised("no")
        return []

    action = SimpleNamespace(name=lambda: "action_answer")
    before = sample("talentbot_action_server_calls_total", action="action_answer", outcome=outcome)
    timed = rasa_metrics.timed_action(run, Rejected)
    if raised is None:
        assert await timed(action, None, None, None, None) == []
    else:
        with pytest.raises(raised):
            await timed(action, None, None, None, None)
    assert sample("talentbot_action_server_calls_total", action="action_answer", outcome=outcome) == before + 1


def test_the_agents_stores_are_checked_as_configured() -> None:
    sql_store = SimpleNamespace(engine=object())
    agent = SimpleNamespace(tracker_store=SimpleNamespace(_tracker_store=sql_store),  # inside FailSafeTrackerStore
                            lock_store=SimpleNamespace(red=object()))
    assert sorted(rasa_probes.checks(agent)) == ["handoff_database", "lock_store", "tracker_store"]
    in_memory = SimpleNamespace(tracker_store=SimpleNamespace(_tracker_store=SimpleNamespace()),
                                lock_store=SimpleNamespace())
    assert sorted(rasa_probes.checks(in_memory)) == ["handoff_database"]
    assert sorted(rasa_probes.checks(None)) == ["handoff_database"]


async def test_the_checks_of_an_agent_answer(tmp_path) -> None:
    import redis

    from talentbot.wiring.devserver import free_port

    store = SimpleNamespace(red=redis.StrictRedis(port=free_port(), socket_timeout=1, socket_connect_timeout=1))
    agent = SimpleNamespace(tracker_store=SimpleNamespace(_tracker_store=store), lock_store=None)
    found = rasa_probes.checks(agent, {"HANDOFF_DB_URL": f"sqlite:///{tmp_path / 'absent.sqlite3'}"})
    result = await readiness.check(found, {"model": readiness.OK})
    assert result.checks == {"model": "ok", "tracker_store": "unreachable", "handoff_database": "unreachable"}
