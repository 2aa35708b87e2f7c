"""The console's review queue against the real server on a free port: supervisors only, the groups with their
languages, texts and guesses, decisions on exactly the messages shown (CSRF, conflicts, bad bodies), withdrawal."""

from __future__ import annotations

from typing import Any, Dict, Iterator, List

import pytest
from sqlalchemy import inspect

from talentbot.core.analytics import db
from talentbot.core.analytics.records import message_row
from talentbot.core.analytics.store import AnalyticsStore
from talentbot.core.handoff.store import SqlTicketStore, utcnow
from tests.talentbot.conftest import RunningConsole

pytestmark = pytest.mark.server

SALT = b"review-console-salt" * 2  # not the other tests' salt: rows share the PostgreSQL database
SCRIPT = '<script>alert("x")</script>'
JSON = {"Content-Type": "application/json"}


@pytest.fixture(autouse=True)
def one_database(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The review tables live in the queue's own database (no ANALYTICS_DB_URL of the machine's)."""
    monkeypatch.delenv("ANALYTICS_DB_URL", raising=False)
    yield


def add_misses(store: SqlTicketStore) -> None:
    """Four messages not understood about a dog, in three languages, and one about nothing (with a script)."""
    db.upgrade(store.engine)
    with store.engine.begin() as connection:  # the PostgreSQL database is shared by the run's tests
        if inspect(connection).has_table("review_members"):
            for table in ("review_members", "review_decisions", "analytics_messages"):
                connection.exec_driver_sql(f"DELETE FROM {table}")
    rows = []
    for number, (language, text) in enumerate([
        ("en", "Can I bring my dog to Hong Kong?"), ("en", "can i move to hk with my dog"),
        ("zh-Hant", "可唔可以帶隻狗嚟香港"), ("zh-Hans", "可以带狗去香港吗"), ("en", f"asdf {SCRIPT}"),
    ]):
        event = {"sender_id": f"web:{number}", "event": "user", "timestamp": 1_750_000_000.0 + number, "text": text,
                 "parse_data": {"intent": {"name": "nlu_fallback", "confidence": 0.3},
                                "question_bank": {"ranking": [{"id": "ttps.dependants", "score": 0.5,
                                                               "similarity": 0.2}]}}}
        made = message_row(event, {"v": 1, "language": language, "actions": [], "outcome": {}}, SALT, utcnow())
        assert made is not None
        rows.append(made)
    AnalyticsStore(store.engine).add(rows)


async def _queue(client: Any) -> Dict[str, Any]:
    response = await client.get("/api/review")
    assert response.status_code == 200, response.text
    return response.json()


def _dogs(queue: Dict[str, Any]) -> Dict[str, Any]:
    return next(g for g in queue["groups"] if g["size"] == 4)


async def test_the_page_and_the_api_need_a_supervisor(console: RunningConsole) -> None:
    async with console.client() as client:
        page = await client.get("/review")
        api = await client.get("/api/review")
    assert page.status_code == 302 and page.headers["location"] == "/login"
    assert api.status_code == 401
    client, csrf = await console.logged_in("amy")
    async with client:
        page = await client.get("/review")
        refused: List[Any] = [await client.get(path) for path in
                              ("/api/review", "/api/review/targets", "/api/review/decisions")]
        post = await client.post("/api/review/decisions", json={}, headers={"X-CSRF-Token": csrf})
    assert page.status_code == 403 and "supervisors" in page.text
    assert [r.status_code for r in refused] == [403, 403, 403] and post.status_code == 403


async def test_supervisors_see_the_groups(console: RunningConsole) -> None:
    add_misses(console.store)
    client, _ = await console.logged_in("sue")
    async with client:
        page = await client.get("/review")
        queue = await _queue(client)
        found = (await client.get("/api/review/targets")).json()
    assert page.status_code == 200 and 'data-page="review"' in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert queue["misses"] == 5 and queue["decided"] == 0
    dogs = _dogs(queue)
    assert dogs["languages"] == {"en": 2, "zh-Hans": 1, "zh-Hant": 1}
    assert dogs["reasons"] == {"nlu_fallback": 4} and len(dogs["members"]) == 4
    assert [e["text"] for e in dogs["examples"]][0] == "Can I bring my dog to Hong Kong?"
    assert dogs["guesses"][0]["id"] == "ttps.dependants" and dogs["guesses"][0]["label"]
    other = next(g for g in queue["groups"] if g["size"] == 1)
    assert other["representative"] == f"asdf {SCRIPT}"  # data, shown with textContent by the page
    assert {"kind": "intent", "id": "ask_living_info"} in [{"kind": t["kind"], "id": t["id"]} for t in found]
    assert any(t["id"] == "daily.sim_card" and t["labels"]["en"] for t in found)


async def test_a_decision_covers_the_group_and_can_be_withdrawn(console: RunningConsole) -> None:
    add_misses(console.store)
    client, csrf = await console.logged_in("sue")
    async with client:
        dogs = _dogs(await _queue(client))
        body = {"group_id": dogs["id"], "members": dogs["members"], "status": "paraphrase",
                "target": {"kind": "intent", "id": "ask_living_info"}, "excluded": dogs["members"][:1]}
        forged = await client.post("/api/review/decisions", json=body)
        made = await client.post("/api/review/decisions", json=body, headers={"X-CSRF-Token": csrf})
        again = await client.post("/api/review/decisions", json=body, headers={"X-CSRF-Token": csrf})
        after = await _queue(client)
        decided = (await client.get("/api/review/decisions")).json()
        withdrawn = await client.post(f"/api/review/decisions/{made.json()['id']}/withdraw", json={},
                                      headers={"X-CSRF-Token": csrf})
        twice = await client.post(f"/api/review/decisions/{made.json()['id']}/withdraw", json={},
                                  headers={"X-CSRF-Token": csrf})
        missing = await client.post("/api/review/decisions/99999/withdraw", json={}, headers={"X-CSRF-Token": csrf})
        back = await _queue(client)
    assert forged.status_code == 403
    assert made.status_code == 201, made.text
    assert made.json()["decided_by"] == "sue" and made.json()["target"] == {"kind": "intent", "id": "ask_living_info"}
    assert again.status_code == 409 and "meanwhile" in again.json()["error"]
    assert after["decided"] == 4 and all(g["size"] != 4 for g in after["groups"])
    assert [d["id"] for d in decided] == [made.json()["id"]] and decided[0]["examples"]
    assert [e["accepted"] for e in decided[0]["examples"]][0] is False
    assert withdrawn.status_code == 200 and withdrawn.json()["withdrawn_by"] == "sue"
    assert twice.status_code == 409 and missing.status_code == 404
    assert _dogs(back)["members"] == dogs["members"]


@pytest.mark.parametrize("change, status, message", [
    ({"status": "approved"}, 400, "status must be"),
    ({"members": "all"}, 400, "members must be"),
    ({"members": [True]}, 400, "members must hold"),
    ({"members": []}, 400, "members must be"),
    ({"group_id": 7}, 400, "group_id"),
    ({"target": {"kind": "intent", "id": "nope"}}, 400, "no intent 'nope'"),
    ({"target": {"kind": "entry", "id": "ttps.nope"}}, 400, "no entry"),
    ({"target": "ask_living_info"}, 400, "needs \"target\""),
    ({"status": "content_gap", "note": " "}, 400, "needs a note"),
    ({"status": "content_gap", "note": 5}, 400, "note must be a string"),
    ({"excluded": [123456]}, 400, "excluded messages must be members"),
    ({"members": [987654321]}, 409, "no longer in the queue"),
])
async def test_bad_decisions_are_refused(console: RunningConsole, change: Dict[str, Any], status: int,
                                         message: str) -> None:
    add_misses(console.store)
    client, csrf = await console.logged_in("sue")
    async with client:
        dogs = _dogs(await _queue(client))
        body = {"group_id": dogs["id"], "members": dogs["members"], "status": "paraphrase",
                "target": {"kind": "intent", "id": "ask_living_info"}, **change}
        response = await client.post("/api/review/decisions", json=body, headers={"X-CSRF-Token": csrf})
        not_json = await client.post("/api/review/decisions", content=b"x", headers={"X-CSRF-Token": csrf})
    assert response.status_code == status and message in response.json()["error"], response.text
    assert not_json.status_code == 415


async def test_a_content_gap_and_a_dismissal(console: RunningConsole) -> None:
    add_misses(console.store)
    client, csrf = await console.logged_in("sue")
    async with client:
        queue = await _queue(client)
        dogs, other = _dogs(queue), next(g for g in queue["groups"] if g["size"] == 1)
        gap = await client.post("/api/review/decisions", headers={"X-CSRF-Token": csrf, **JSON}, json={
            "group_id": dogs["id"], "members": dogs["members"], "status": "content_gap",
            "note": "Pets: the AFCD's import permits\u0000"})
        dismissed = await client.post("/api/review/decisions", headers={"X-CSRF-Token": csrf}, json={
            "group_id": other["id"], "members": other["members"], "status": "dismissed"})
        empty = await _queue(client)
    assert gap.status_code == 201 and gap.json()["note"] == "Pets: the AFCD's import permits"
    assert gap.json()["target"] is None
    assert dismissed.status_code == 201 and empty["groups"] == [] and empty["decided"] == 5
