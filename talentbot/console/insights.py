"""The supervisors' insights page and the weekly content-gap report in the staff console.

Routes (supervisors only: `auth.may_view_stats`, as the queue page's figures):

- `GET /insights`, `GET /insights/gaps`: the pages (no session: the log-in page; staff who are not supervisors get a
  403 page saying so, not a blank one);
- `GET /api/insights?from=YYYY-MM-DD&to=YYYY-MM-DD`: every figure of the period as JSON (talentbot.core.analytics.
  insights; default the last 7 Hong Kong days);
- `GET /api/insights.csv?table=<name>&from=&to=`: one of its tables as a CSV download;
- `GET /api/insights/gaps?from=&to=&stale_days=` and `GET /api/insights/gaps.csv?table=<name>&...`: the content-gap
  report (talentbot.core.analytics.gaps), as `talentbot review report` gives it.

Every route only reads, so none needs the CSRF token. The figures are read in a worker thread, as every other
database call of the console, and a database that cannot be reached is answered 503 by the console's middleware.
The analytics table is ANALYTICS_DB_URL's database when that is set, else the queue's own (the default: one database).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from typing import Dict, Optional, Union

from aiohttp import web
from sqlalchemy.engine import Engine

from talentbot.console.web import CONSOLE, PAGES, Console, Handler, _session, api, error
from talentbot.core.analytics import db, gaps
from talentbot.core.analytics.insights import Insights, Period, entry_labels, insights, parse_period
from talentbot.core.analytics.tables import Table, by_name, csv_text
from talentbot.core.handoff import auth
from talentbot.core.handoff.accounts import Session

FORBIDDEN_PAGE = "forbidden.html"
NOT_FOR_YOU = "the insights are for supervisors"


@dataclass
class Sources:
    """The databases the figures are read from: the analytics table's and the handoff queue's (usually one)."""

    analytics: Optional[Engine]
    handoff: Optional[Engine]


SOURCES = web.AppKey("insights_sources", Sources)


def add_insights(app: web.Application, analytics_url: Optional[str] = None) -> None:
    """Adds the routes to the console application `app` (web.build_app calls this). `analytics_url`: the analytics
    database, default ANALYTICS_DB_URL; unset, the figures are read from the queue's database."""
    handoff: Optional[Engine] = getattr(app[CONSOLE].store, "engine", None)
    url = analytics_url or os.environ.get(db.URL_VARIABLE)
    sources = Sources(handoff, handoff)
    if url:
        sources = Sources(db.make_engine(db.database_url({db.URL_VARIABLE: url})), handoff)

        async def dispose(_app: web.Application) -> None:
            if sources.analytics is not None:
                sources.analytics.dispose()

        app.on_cleanup.append(dispose)  # type: ignore[arg-type]  # aiohttp 3.9 vs aiosignal 1.4, as in web.py
    app[SOURCES] = sources
    app.add_routes([
        web.get("/insights", supervisors_page("insights.html")),
        web.get("/insights/gaps", supervisors_page("gaps.html")),
        web.get("/api/insights", api(figures)),
        web.get("/api/insights.csv", api(figures_csv)),
        web.get("/api/insights/gaps", api(gap_report)),
        web.get("/api/insights/gaps.csv", api(gap_report_csv)),
    ])


def supervisors_page(name: str) -> Handler:
    """A page for supervisors: without a session, the log-in page; a session of another role, a 403 page."""

    async def handler(request: web.Request) -> web.StreamResponse:
        console = request.app[CONSOLE]
        session = await _session(request, console)
        if session is None:
            raise web.HTTPFound("/login")
        if auth.may_view_stats(session.role):
            return web.FileResponse(PAGES / name, headers={"Content-Type": "text/html; charset=utf-8"})
        # a plain response, not a file one: a file response would answer a conditional request with 304
        return web.Response(body=(PAGES / FORBIDDEN_PAGE).read_bytes(), status=403,
                            headers={"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"})

    return handler


Refused = web.Response


def _period(request: web.Request, console: Console) -> Union[Period, Refused]:
    try:
        return parse_period(request.query.get("from"), request.query.get("to"), console.clock())
    except ValueError as problem:
        return error(400, str(problem))


MAX_STALE_DAYS = 36600
"""A century: any larger age would only be a typing error."""


def _stale_days(request: web.Request) -> Union[int, Refused]:
    """`?stale_days=`, else TALENTBOT_CONTENT_STALE_DAYS, else 365."""
    raw = request.query.get("stale_days")
    if not raw:
        try:
            return gaps.stale_days()
        except ValueError as problem:  # the deployment's setting is wrong, not the request
            return error(500, str(problem))
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 5) or not 1 <= int(raw) <= MAX_STALE_DAYS:
        return error(400, f"stale_days must be a whole number of days, 1 to {MAX_STALE_DAYS}")
    return int(raw)


def _labels() -> Dict[str, str]:
    return entry_labels(gaps.bank_entries())


def _compute_insights(sources: Sources, period: Period, console: Console) -> Insights:
    assert sources.analytics is not None and sources.handoff is not None
    return insights(sources.analytics, sources.handoff, period, console.policy.hours, _labels())


def _compute_gaps(sources: Sources, period: Period, stale_after: int, now: dt.datetime) -> gaps.GapReport:
    assert sources.analytics is not None
    entries = gaps.bank_entries()
    return gaps.gap_report(sources.analytics, period, entries, now, stale_after, entry_labels(entries))


def _allowed(request: web.Request, session: Session) -> Union[Sources, Refused]:
    if not auth.may_view_stats(session.role):
        return error(403, NOT_FOR_YOU)
    sources = request.app[SOURCES]
    if sources.analytics is None or sources.handoff is None:
        return error(503, "the console has no database to read the figures from")
    return sources


async def _insights(request: web.Request, console: Console, session: Session) -> Union[Insights, Refused]:
    sources = _allowed(request, session)
    if isinstance(sources, web.Response):
        return sources
    period = _period(request, console)
    if isinstance(period, web.Response):
        return period
    return await console.run(_compute_insights, sources, period, console)


async def _gaps(request: web.Request, console: Console, session: Session) -> Union[gaps.GapReport, Refused]:
    sources = _allowed(request, session)
    if isinstance(sources, web.Response):
        return sources
    period = _period(request, console)
    if isinstance(period, web.Response):
        return period
    stale_after = _stale_days(request)
    if isinstance(stale_after, web.Response):
        return stale_after
    return await console.run(_compute_gaps, sources, period, stale_after, console.clock())


async def figures(request: web.Request, console: Console, session: Session) -> web.StreamResponse:
    found = await _insights(request, console, session)
    return found if isinstance(found, web.Response) else web.json_response(found.json())


async def gap_report(request: web.Request, console: Console, session: Session) -> web.StreamResponse:
    found = await _gaps(request, console, session)
    return found if isinstance(found, web.Response) else web.json_response(found.json())


def _csv(request: web.Request, report: Union[Insights, gaps.GapReport], prefix: str) -> web.StreamResponse:
    name = request.query.get("table", "")
    table: Optional[Table] = by_name(report.tables, name)
    if table is None:
        known = ", ".join(t.name for t in report.tables)
        return error(404, f"no table {name[:40]!r}; the tables are {known}")
    return csv_response(table, f"{prefix}-{table.name}-{report.period.first}-{report.period.last}.csv")


def csv_response(table: Table, filename: str) -> web.Response:
    """The table as a download: UTF-8 with a byte order mark (Excel then reads the Chinese right), an ASCII file
    name (the table's and the period's, so no encoding of the header is needed)."""
    return web.Response(body=csv_text(table).encode("utf-8"), headers={
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="{filename}"',
    })


async def figures_csv(request: web.Request, console: Console, session: Session) -> web.StreamResponse:
    found = await _insights(request, console, session)
    return found if isinstance(found, web.Response) else _csv(request, found, "talentbot-insights")


async def gap_report_csv(request: web.Request, console: Console, session: Session) -> web.StreamResponse:
    found = await _gaps(request, console, session)
    return found if isinstance(found, web.Response) else _csv(request, found, "talentbot-content-gaps")
