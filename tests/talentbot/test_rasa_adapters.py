"""talentbot.rasa_adapters: the adjusted Rasa internals behave as Rasa's own, only cheaper."""

from __future__ import annotations

import copy
from unittest import mock

import jsonschema
import pytest
import rasa
from rasa.core.actions.action import RemoteAction

from talentbot import rasa_adapters

VALID_RESPONSES = [
    {},
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "timestamp": None, "name": "answer_scheme", "value": "TTPS"}],
     "responses": [{"text": "高才通", "buttons": [{"title": "More", "payload": "/ask"}], "elements": [],
                    "custom": {}, "image": None, "attachment": None, "template": None, "response": None}]},
    {"events": [{"event": "active_loop", "name": "eligibility_form"},
                {"event": "slot", "name": "requested_slot", "value": "annual_income_hkd"}],
     "responses": [{"response": "utter_ask_annual_income_hkd"}]},
]
INVALID_RESPONSES = [
    {"events": "not a list"},
    {"events": [{"event": "no_such_event"}]},
    {"events": [{"event": "slot"}]},
    {"responses": [["not", "an", "object"]]},
    [],
]


@pytest.fixture(scope="module")
def installed():
    rasa_adapters.install()
    return rasa_adapters.UPSTREAM["RemoteAction._validate_action_result"]


def test_written_for_the_installed_rasa():
    assert rasa.__version__ == rasa_adapters.RASA_VERSION


def test_install_replaces_the_validation_once(installed):
    adjusted = RemoteAction._validate_action_result
    assert adjusted is not installed
    rasa_adapters.install()
    assert RemoteAction._validate_action_result is adjusted


@pytest.mark.parametrize("response", VALID_RESPONSES)
def test_accepts_what_rasa_accepts(installed, response):
    action = RemoteAction("action_answer", None)
    assert installed(action, copy.deepcopy(response)) is True
    assert action._validate_action_result(copy.deepcopy(response)) is True


@pytest.mark.parametrize("response", INVALID_RESPONSES)
def test_rejects_what_rasa_rejects_with_the_same_error(installed, response):
    action = RemoteAction("action_answer", None)
    with pytest.raises(jsonschema.ValidationError) as upstream:
        installed(action, copy.deepcopy(response))
    with pytest.raises(jsonschema.ValidationError) as adjusted:
        action._validate_action_result(copy.deepcopy(response))
    assert adjusted.value.message == upstream.value.message
    assert list(adjusted.value.path) == list(upstream.value.path)
    assert "Failed to validate Action server response" in adjusted.value.message


def test_the_schema_is_not_checked_again_per_response(installed):
    action = RemoteAction("action_answer", None)
    with mock.patch.object(jsonschema.Draft202012Validator, "check_schema", side_effect=AssertionError):
        for response in VALID_RESPONSES:
            assert action._validate_action_result(copy.deepcopy(response)) is True


def test_the_rasa_server_entry_point_installs_before_rasa_runs():
    from talentbot import rasa_server

    calls = mock.Mock()
    with mock.patch.object(rasa_adapters, "install", calls.install), mock.patch("rasa.__main__.main", calls.rasa_main):
        rasa_server.main()
    assert calls.mock_calls == [mock.call.install(), mock.call.rasa_main()]


def test_sqlite_tracker_store_keeps_connections_and_uses_wal(installed, tmp_path):
    import asyncio

    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
    from sqlalchemy.pool import QueuePool

    domain = Domain.from_dict({"slots": {"language": {"type": "text", "mappings": [{"type": "custom"}]}}})
    store = SQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "trackers.db"))
    assert isinstance(store.engine.pool, QueuePool)

    async def round_trip():
        tracker = await store.get_or_create_tracker("alice")
        tracker.update(UserUttered("高才通係咩？", {"name": "ask_scheme", "confidence": 0.9}))
        tracker.update(SlotSet("language", "zh-Hant"))
        tracker.update(ActionExecuted("action_answer"))
        await store.save(tracker)
        await store.save(tracker)  # nothing new: nothing stored twice
        return tracker, await store.retrieve("alice")

    saved, retrieved = asyncio.run(round_trip())
    assert [e.as_dict() for e in retrieved.events] == [e.as_dict() for e in saved.events]
    assert retrieved.get_slot("language") == "zh-Hant"
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL


def test_only_sqlite_files_get_the_settings():
    from sqlalchemy.engine import make_url

    assert rasa_adapters._is_sqlite_file(make_url("sqlite:////tmp/trackers.db"))
    assert not rasa_adapters._is_sqlite_file(make_url("sqlite://"))
    assert not rasa_adapters._is_sqlite_file(make_url("sqlite:///:memory:"))
    assert not rasa_adapters._is_sqlite_file(make_url("postgresql://postgres@127.0.0.1:5432/talentbot"))
