"""The insights page's figures and the content-gap report: the pure computations on their own, then the whole
report from a database filled by the real store code (the consumer's rows, the queue's tickets), on SQLite and on
the real PostgreSQL, with Hong Kong days that are not UTC days."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import statistics
from typing import Any, Dict, Iterator, List, Optional, Sequence

import pytest
from sqlalchemy import create_engine, delete

from talentbot.core.analytics import gaps, insights
from talentbot.core.analytics.grouping import Group
from talentbot.core.analytics.insights import FormTurn, Period, TicketTimes
from talentbot.core.analytics.models import messages
from talentbot.core.analytics.records import message_row
from talentbot.core.analytics.store import AnalyticsStore
from talentbot.core.analytics.tables import BOM, Table, csv_sections, csv_text
from talentbot.core.handoff import models as handoff_models
from talentbot.core.handoff.accounts import StaffDirectory, StaffExists
from talentbot.core.handoff.hours import HONG_KONG, default_hours
from talentbot.core.handoff.store import SqlTicketStore
from talentbot.core.qbank.model import QuestionEntry

SALT = b"s" * 32
UTC = dt.timezone.utc
PERIOD = Period(dt.date(2026, 3, 2), dt.date(2026, 3, 8))  # Monday to Sunday, no public holiday
NOW = dt.datetime(2026, 3, 9, 2, 0, tzinfo=UTC)


def hk(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=HONG_KONG)


# --- pure computations -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("values, fraction, expected", [
    ([], 0.5, None),
    ([7.0], 0.9, 7.0),
    ([1.0, 2.0, 3.0, 4.0], 0.5, 2.5),
    ([300.0, 600.0], 0.9, 570.0),
    ([10.0, 1.0, 5.0], 0.0, 1.0),
    ([10.0, 1.0, 5.0], 1.0, 10.0),
])
def test_percentile_interpolates_between_ranks(values: List[float], fraction: float,
                                               expected: Optional[float]) -> None:
    assert insights.percentile(values, fraction) == expected


def test_the_median_is_the_statistics_median() -> None:
    values = [3.0, 100.0, 7.5, 12.0, 1.0, 42.0]
    assert insights.percentile(values, 0.5) == statistics.median(values)
    with pytest.raises(ValueError):
        insights.percentile(values, 1.5)


def test_a_rate_of_nothing_is_none_not_zero() -> None:
    assert insights.rate(0, 0) is None
    assert insights.rate(1, 3) == 0.3333
    assert insights.rate(0, 5) == 0.0


def test_a_period_is_whole_hong_kong_days() -> None:
    assert PERIOD.start == dt.datetime(2026, 3, 1, 16, 0, tzinfo=UTC)
    assert PERIOD.end == dt.datetime(2026, 3, 8, 16, 0, tzinfo=UTC)
    assert len(PERIOD.days()) == 7
    late_sunday_utc = dt.datetime(2026, 3, 8, 17, 0, tzinfo=UTC)  # already Monday 9 March in Hong Kong
    assert insights.last_days(7, late_sunday_utc) == Period(dt.date(2026, 3, 3), dt.date(2026, 3, 9))


@pytest.mark.parametrize("first, last, expected", [
    (None, None, Period(dt.date(2026, 3, 3), dt.date(2026, 3, 9))),
    ("2026-03-02", "2026-03-08", PERIOD),
    (None, "2026-03-08", PERIOD),
    ("2026-03-08", "2026-03-08", Period(dt.date(2026, 3, 8), dt.date(2026, 3, 8))),
])
def test_parse_period(first: Optional[str], last: Optional[str], expected: Period) -> None:
    assert insights.parse_period(first, last, NOW) == expected


@pytest.mark.parametrize("first, last, problem", [
    ("2026-03-09", "2026-03-08", "after"),
    ("yesterday", None, "YYYY-MM-DD"),
    ("2026-3-1", None, "YYYY-MM-DD"),
    ("2024-01-01", "2026-03-08", "at most"),
])
def test_parse_period_refuses(first: Optional[str], last: Optional[str], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        insights.parse_period(first, last, NOW)


def ticket(reason: str, opened: str, claimed: Optional[str] = None, status: str = "assigned",
           resolution: Optional[str] = None) -> TicketTimes:
    return TicketTimes(reason, hk(opened), hk(claimed) if claimed else None, status, resolution)


def test_handoff_figures_by_reason_and_staffed_hours() -> None:
    found = [
        ticket("requested", "2026-03-02 10:02", "2026-03-02 10:07"),  # Monday morning: staffed, 5 min
        ticket("not_understood", "2026-03-07 20:00", "2026-03-09 09:00"),  # Saturday night: waits for Monday
        ticket("needs_judgement", "2026-03-03 11:00", status="resolved", resolution="cancelled"),
        ticket("requested", "2026-03-04 14:00", "2026-03-04 14:10"),
        ticket("requested", "2026-03-05 10:00", status="waiting"),
    ]
    figures = insights.handoff_figures(found, default_hours())
    requested = figures.by_reason["requested"]
    assert (requested.opened, requested.claimed, requested.waiting, requested.cancelled) == (3, 2, 1, 0)
    assert requested.row("requested")[-2:] == (450.0, 570.0)
    assert figures.by_reason["needs_judgement"].cancelled == 1
    assert figures.by_reason["not_understood"].waits == [37 * 3600.0]
    staffed, unstaffed = figures.by_hours[insights.STAFFED], figures.by_hours[insights.UNSTAFFED]
    assert (staffed.opened, staffed.claimed, unstaffed.opened, unstaffed.claimed) == (4, 2, 1, 1)
    assert figures.total.row("all")[-2:] == (600.0, 106680.0)


def test_a_reason_the_policy_does_not_know_still_counts() -> None:
    figures = insights.handoff_figures([ticket("legacy", "2026-03-02 10:00", "2026-03-02 10:01")], default_hours())
    assert figures.by_reason["legacy"].opened == 1 and figures.total.opened == 1


def form_turn(conversation: str, when: str, form: bool = True, ended: bool = False) -> FormTurn:
    return FormTurn(conversation, hk(when), form, ended)


def test_an_eligibility_check_starts_where_the_form_first_runs() -> None:
    turns = [
        form_turn("a", "2026-03-01 23:58", form=False),  # context before the period
        form_turn("a", "2026-03-01 23:59"),  # started before the period: not counted
        form_turn("a", "2026-03-02 00:01"),  # the same check's next question
        form_turn("a", "2026-03-02 00:02", ended=True),
        form_turn("a", "2026-03-02 00:03"),  # right after a result: a new check
        form_turn("a", "2026-03-02 00:04", form=False, ended=True),  # "stop"
        form_turn("b", "2026-03-03 09:00", form=False),
        form_turn("b", "2026-03-03 09:01"),
        form_turn("b", "2026-03-03 09:02"),
        form_turn("b", "2026-03-03 09:03", form=False),  # a question in between: the check was put aside
        form_turn("b", "2026-03-03 09:04"),  # asked again
    ]
    assert insights.eligibility_starts(reversed(turns), PERIOD.start) == 3


def test_eligibility_outcomes_per_scheme() -> None:
    figures = insights.eligibility_outcomes([
        {"outcome": "result", "schemes": {"TTPS": "eligible", "QMAS": "likely"}},
        {"outcome": "result", "schemes": {"TTPS": "not_eligible", "QMAS": "likely"}},
        {"outcome": "stopped", "schemes": {}},
        {"outcome": "left"},
        "not a mapping",
    ], started=5)
    assert figures.ended == {"result": 2, "stopped": 1, "left": 1}
    assert figures.schemes == {"TTPS": {"eligible": 1, "not_eligible": 1}, "QMAS": {"likely": 2}}
    assert insights.status_order(["not_eligible", "odd", "likely", "eligible", "unknown"]) == \
        ["eligible", "likely", "unknown", "not_eligible", "odd"]


def answer_turn(conversation: str, minute: int, kind: Optional[str] = None, answer: Optional[str] = None,
                handoff: bool = False) -> gaps.Turn:
    return gaps.Turn(conversation, hk(f"2026-03-03 10:{minute:02d}"), minute, kind, answer, handoff)


def test_an_answer_leads_to_a_handoff_within_the_next_three_messages() -> None:
    turns = [
        answer_turn("a", 0, "entry", "ttps.quota"),
        answer_turn("a", 1),
        answer_turn("a", 2),
        answer_turn("a", 3, handoff=True),  # the third message after: counts
        answer_turn("b", 0, "entry", "ttps.quota"),
        answer_turn("b", 1), answer_turn("b", 2), answer_turn("b", 3),
        answer_turn("b", 4, handoff=True),  # the fourth: does not
        answer_turn("c", 0, "changes", "ttps.quota"),  # an entry's rule changes count as the entry
        answer_turn("c", 1, "content", "schemes.TTPS"),
        answer_turn("c", 2, handoff=True),
        answer_turn("d", 0, "entry", "qmas.points", handoff=True),  # a handoff in the same turn is not "after"
    ]
    led = gaps.answers_before_handoff(turns, PERIOD.start, PERIOD.end)
    assert led == {("entry", "ttps.quota"): 2, ("content", "schemes.TTPS"): 1}
    rows = gaps.handoff_rows({("entry", "ttps.quota"): 8, ("content", "schemes.TTPS"): 1}, led,
                             {"ttps.quota": "Is there a quota?"})
    assert rows == [("entry", "ttps.quota", "Is there a quota?", 8, 2, 0.25),
                    ("content", "schemes.TTPS", "", 1, 1, 1.0)]


def entry(entry_id: str, as_of: dt.date) -> QuestionEntry:
    return QuestionEntry(id=entry_id, intent="ask_scheme_info", questions={"en": ("What?",)}, answer={"en": "A."},
                         source=("https://www.immd.gov.hk/x",), as_of=as_of, file="ttps.yml")


def test_stale_entries_oldest_first() -> None:
    today = dt.date(2026, 3, 9)
    entries = [entry("new", dt.date(2026, 1, 1)), entry("old", dt.date(2024, 1, 1)),
               entry("older", dt.date(2021, 1, 31)), entry("edge", today - dt.timedelta(days=365))]
    rows = gaps.stale_entries(entries, today, 365)
    assert [row[0] for row in rows] == ["older", "old"]
    assert rows[1] == ("old", "ttps.yml", "2024-01-01", 798, "https://www.immd.gov.hk/x")
    assert gaps.stale_days({}) == 365 and gaps.stale_days({gaps.STALE_DAYS_VARIABLE: "90"}) == 90
    with pytest.raises(ValueError):
        gaps.stale_days({gaps.STALE_DAYS_VARIABLE: "0"})


def test_csv_has_a_bom_for_excel_and_defuses_formulas() -> None:
    table = Table("t", "T", ("Question", "Messages"), [("可唔可以帶狗？", 3), ("=HYPERLINK(1)", None)])
    text = csv_text(table)
    assert text.startswith(BOM)
    assert text[1:].split("\r\n") == ["Question,Messages", "可唔可以帶狗？,3", "'=HYPERLINK(1),", ""]
    both = csv_sections([table, Table("u", "U", ("A",), [])])
    assert both.startswith(BOM + "# t: T\r\nQuestion,Messages") and "\r\n# u: U\r\nA\r\n" in both
    assert both.count(BOM) == 1


# --- the whole report from a database filled by the real store code ----------------------------------------------


def row(sender: str, when: str, intent: str = "greet", language: Optional[str] = "en", channel: str = "rest",
        actions: Sequence[str] = (), stated: Optional[Dict[str, Any]] = None, text: str = "hello") -> Dict[str, Any]:
    event = {"sender_id": sender, "event": "user", "timestamp": hk(when).timestamp(), "text": text,
             "input_channel": channel, "parse_data": {"intent": {"name": intent, "confidence": 0.8}}}
    summary = {"v": 1, "language": language, "actions": list(actions), "outcome": stated or {}}
    made = message_row(event, summary, SALT, NOW)
    assert made is not None
    return made


FORM = ["eligibility_form"]
ROWS = [
    row("early", "2026-03-01 23:59"),  # Sunday before the period (15:59 UTC): left out
    row("ann", "2026-03-02 00:00"),  # the period's first instant (Sunday 16:00 UTC)
    row("ann", "2026-03-02 10:01", intent="ask_requirements", actions=["action_answer"],
        stated={"answer": {"kind": "entry", "id": "ttps.category_a"}}),
    row("ann", "2026-03-02 10:02", intent="request_human", actions=["action_handoff"],
        stated={"handoff": {"ticket": 1, "status": "waiting"}}),
    row("bo", "2026-03-03 23:30", intent="nlu_fallback", language="zh-Hant", channel="telegram",
        actions=["utter_ask_rephrase"], text="我可唔可以帶隻狗嚟香港？"),  # Tuesday in Hong Kong, 15:30 UTC
    row("bo", "2026-03-04 00:10", intent="nlu_fallback", language="zh-Hant", channel="telegram",
        actions=["utter_ask_rephrase"], text="可唔可以帶狗過嚟"),  # Wednesday in Hong Kong, still Tuesday in UTC
    row("bo", "2026-03-04 00:12", intent="ask_scheme_info", language="zh-Hant", channel="telegram",
        actions=["action_answer"], stated={"answer": {"kind": "content", "id": "schemes.TTPS"},
                                           "did_you_mean": {"kind": "after_answer", "ids": ["ttps.what_is"]}}),
    row("cy", "2026-03-04 09:00", intent="check_eligibility", language="zh-Hans", channel="socketio", actions=FORM),
    row("cy", "2026-03-04 09:01", intent="inform", language="zh-Hans", channel="socketio", actions=FORM),
    row("cy", "2026-03-04 09:02", intent="inform", language="zh-Hans", channel="socketio",
        actions=[*FORM, "action_eligibility_result"],
        stated={"eligibility": {"outcome": "result", "schemes": {"TTPS": "eligible", "QMAS": "likely"}}}),
    row("cy", "2026-03-04 09:05", intent="check_eligibility", language="zh-Hans", channel="socketio", actions=FORM),
    row("cy", "2026-03-04 09:06", intent="stop", language="zh-Hans", channel="socketio",
        actions=["action_eligibility_stop"], stated={"eligibility": {"outcome": "stopped", "schemes": {}}}),
    row("cy", "2026-03-04 09:07", intent="ask_scheme_info", language="zh-Hans", channel="socketio",
        actions=["action_answer"], stated={"did_you_mean": {"kind": "asked_first", "ids": ["a", "b"]}}),
    row("dee", "2026-03-08 23:59", intent="nlu_fallback", actions=["utter_ask_rephrase"],
        text="can I bring my dog to Hong Kong"),  # the period's last minute
    row("eve", "2026-03-09 00:00", intent="greet"),  # Monday after: left out
]


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'handoff.sqlite3'}"
        return
    found = request.getfixturevalue("postgres_url")  # the run's own database, shared: emptied of these tables
    SqlTicketStore.from_url(found).close()
    AnalyticsStore.from_url(found).close()
    engine = create_engine(found)
    with engine.begin() as connection:
        for table in (messages, handoff_models.messages, handoff_models.tickets):
            connection.execute(delete(table))
    engine.dispose()
    yield found


@pytest.fixture
def filled(url: str) -> Iterator[str]:
    tickets = SqlTicketStore.from_url(url)
    with contextlib.suppress(StaffExists):  # the run's PostgreSQL database may have her from another test
        StaffDirectory(tickets.engine).add("amy", "agent", "correct horse battery staple", rounds=4)
    analytics = AnalyticsStore.from_url(url)
    assert analytics.add(ROWS) == len(ROWS)
    one = tickets.open_ticket("ann", "rest", "en", "requested", now=hk("2026-03-02 10:02"))
    tickets.claim(one.id, "amy", now=hk("2026-03-02 10:07"))
    two = tickets.open_ticket("zed", "telegram", "zh-Hant", "not_understood", now=hk("2026-03-07 20:00"))
    tickets.claim(two.id, "amy", now=hk("2026-03-09 09:00"))
    three = tickets.open_ticket("yan", "rest", "zh-Hans", "needs_judgement", now=hk("2026-03-03 11:00"))
    tickets.cancel(three.id, now=hk("2026-03-03 11:01"))
    tickets.open_ticket("old", "rest", "en", "requested", now=hk("2026-03-01 12:00"))  # before the period
    tickets.close()
    analytics.close()
    yield url


def test_the_figures_of_a_week(filled: str) -> None:
    engine = create_engine(filled)
    try:
        found = insights.insights(engine, engine, PERIOD, default_hours(), {"ttps.category_a": "How much?"})
    finally:
        engine.dispose()
    body = found.json()
    tables = body["tables"]
    assert body["analytics"] is True and (body["from"], body["to"]) == ("2026-03-02", "2026-03-08")
    assert tables["languages"]["rows"] == [["en", 2, 4], ["zh-Hant", 1, 3], ["zh-Hans", 1, 6]]
    assert tables["channels"]["rows"] == [["socketio", 1, 6], ["rest", 2, 4], ["telegram", 1, 3]]
    assert tables["days"]["rows"] == [["2026-03-02", 1, 3], ["2026-03-03", 1, 1], ["2026-03-04", 2, 8],
                                      ["2026-03-08", 1, 1]]
    assert ["2026-03-04", "zh-Hant", "telegram", 1, 2] in tables["daily"]["rows"]
    assert body["summary"]["conversations"] == 4 and body["summary"]["messages"] == 13
    assert body["series"]["days"][0] == "2026-03-02" and len(body["series"]["days"]) == 7
    assert body["series"]["messages_by_language"]["zh-Hant"] == [0, 1, 2, 0, 0, 0, 0]
    intents = dict((name, n) for name, n, _share in tables["intents"]["rows"])
    assert intents["nlu_fallback"] == 3 and intents["inform"] == 2
    assert ["entry", "ttps.category_a", "How much?", 1] in tables["answers"]["rows"]
    assert ["content", "schemes.TTPS", "", 1] in tables["answers"]["rows"]
    rates = {r[0]: r for r in tables["rates"]["rows"]}
    assert rates["all"][1:] == [13, 3, 0, 3, 0.2308, 2, 1, 1, 0.1538]
    assert rates["zh-Hant"][1:6] == [3, 2, 0, 2, 0.6667]
    reasons = {r[0]: r for r in tables["handoff_reasons"]["rows"]}
    assert reasons["requested"][1:] == [1, 1, 0, 0, 300.0, 300.0]
    assert reasons["not_understood"][1:] == [1, 1, 0, 0, 133200.0, 133200.0]
    assert reasons["needs_judgement"][1:] == [1, 0, 1, 0, None, None]
    assert reasons["all"][1:3] == [3, 2]
    hours = {r[0]: r for r in tables["handoff_hours"]["rows"]}
    assert hours[insights.STAFFED][1:3] == [2, 1] and hours[insights.UNSTAFFED][1:3] == [1, 1]
    assert dict(map(tuple, tables["eligibility"]["rows"])) == {
        "started": 2, "ended: result": 1, "ended: stopped": 1, "ended: left": 0}
    assert tables["eligibility_schemes"]["columns"] == ["Scheme", "eligible", "likely"]
    assert tables["eligibility_schemes"]["rows"] == [["QMAS", 0, 1], ["TTPS", 1, 0]]
    assert (body["summary"]["eligibility_started"], body["summary"]["eligibility_finished"]) == (2, 1)
    assert body["summary"]["median_wait_seconds"] == 66750.0


def test_without_analytics_only_the_queue_counts(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'q.sqlite3'}"
    tickets = SqlTicketStore.from_url(url)  # the console's database before any consumer ran
    tickets.open_ticket("ann", "rest", "en", "requested", now=hk("2026-03-02 10:02"))
    try:
        found = insights.insights(tickets.engine, tickets.engine, PERIOD, default_hours())
    finally:
        tickets.close()
    assert found.analytics is False and found.summary["messages"] == 0 and found.summary["handoffs"] == 1
    assert found.json()["tables"]["languages"]["rows"] == []


def test_the_content_gap_report(filled: str) -> None:
    engine = create_engine(filled)
    entries = [entry("ttps.category_a", dt.date(2024, 1, 1)), entry("ttps.quota", dt.date(2026, 1, 1))]
    try:
        report = gaps.gap_report(engine, PERIOD, entries, NOW, 365, {"ttps.category_a": "How much?"})
    finally:
        engine.dispose()
    tables = {table.name: table for table in report.tables}
    assert report.misses == 3
    unanswered = tables["unanswered"].rows
    assert sum(int(r[1] or 0) for r in unanswered) == 3
    texts = {"我可唔可以帶隻狗嚟香港？", "可唔可以帶狗過嚟", "can I bring my dog to Hong Kong"}
    assert {r[0] for r in unanswered} <= texts
    assert any("zh-Hant" in str(r[2]) for r in unanswered)
    assert tables["handoff_entries"].rows == [("entry", "ttps.category_a", "How much?", 1, 1, 1.0)]
    assert [r[0] for r in tables["stale"].rows] == ["ttps.category_a"]
    assert report.json()["tables"]["stale"]["rows"][0][:3] == ["ttps.category_a", "ttps.yml", "2024-01-01"]


def test_unanswered_rows_from_groups() -> None:
    from talentbot.core.analytics.grouping import GroupGuess, Miss

    small = Group("g1", "dog?", (Miss(1, "dog?", "en"),), {"en": 1})
    big = Group("g2", "可唔可以帶狗", (Miss(2, "可唔可以帶狗", "zh-Hant"), Miss(3, "能带狗吗", "zh-Hans")),
                {"zh-Hant": 1, "zh-Hans": 1}, (GroupGuess("entry", "living.pets", 0.4, 2),))
    assert gaps.unanswered_rows([small, big]) == [
        ("可唔可以帶狗", 2, "zh-Hant 1, zh-Hans 1", "living.pets"), ("dog?", 1, "en 1", "")]
    assert gaps.classifier_guess("nlu_fallback", 0.3) == ()
    assert gaps.classifier_guess("ask_fees", None)[0].id == "ask_fees"


BANK_FILE = """entries:
  - id: pets.dogs
    intent: ask_living
    questions: {en: [Can I bring my dog?], zh-Hant: [可唔可以帶狗？], zh-Hans: [可以带狗吗？]}
    answer: {en: Yes., zh-Hant: 可以。, zh-Hans: 可以。}
    source: https://www.afcd.gov.hk/
    as_of: "AS_OF"
"""


def test_the_bank_entries_are_read_again_when_a_file_changes(tmp_path) -> None:
    path = tmp_path / "pets.yml"
    path.write_text(BANK_FILE.replace("AS_OF", "2020-01-01"), encoding="utf-8")
    first = gaps.bank_entries(tmp_path)
    assert [(e.id, e.as_of, e.file) for e in first] == [("pets.dogs", dt.date(2020, 1, 1), "pets.yml")]
    assert gaps.bank_entries(tmp_path) is first  # the same files: not read again
    path.write_text(BANK_FILE.replace("AS_OF", "2026-02-01"), encoding="utf-8")
    stat = path.stat()
    os.utime(path, (stat.st_atime, stat.st_mtime + 10))  # a file system with a coarse clock still sees a change
    assert gaps.bank_entries(tmp_path)[0].as_of == dt.date(2026, 2, 1)
    assert insights.entry_labels(gaps.bank_entries(tmp_path), "zh-Hant") == {"pets.dogs": "可唔可以帶狗？"}
