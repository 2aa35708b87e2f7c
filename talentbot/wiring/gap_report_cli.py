"""`talentbot review report`: the weekly content-gap report (talentbot.core.analytics.gaps) as text, JSON or CSV.

For the content editors' weekly look (a cron job or systemd timer can mail its output): the biggest groups of
questions the assistant did not understand, the answers most often followed by a handoff, and the question-bank
entries whose as-of date is older than `--stale-days`. The staff console shows the same report at /insights/gaps.
The database is ANALYTICS_DB_URL, else HANDOFF_DB_URL, else var/handoff.sqlite3 (`--production`: the defaults of
`talentbot run --production`).
"""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from pathlib import Path
from typing import Any, List, Optional, Sequence, TextIO

from sqlalchemy.engine import make_url

from talentbot.core.analytics import db, gaps
from talentbot.core.analytics.insights import DEFAULT_DAYS, MAX_DAYS, entry_labels, last_days
from talentbot.core.analytics.tables import Cell, Table, by_name, csv_sections, csv_text
from talentbot.core.handoff.store import utcnow

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
FORMATS = ("text", "json", "csv")
TABLES = ("unanswered", "handoff_entries", "stale")


def add_report_command(review_commands: Any) -> None:
    """`talentbot review report` under `talentbot review` (talentbot/wiring/review_cli.py)."""
    report = review_commands.add_parser(
        "report", help="the weekly content-gap report: top unanswered questions, answers followed by a handoff, "
                       "stale bank entries")
    report.add_argument("--days", type=int, default=DEFAULT_DAYS,
                        help=f"the last N Hong Kong days, today included (default {DEFAULT_DAYS})")
    report.add_argument("--stale-days", type=int, default=None,
                        help=f"an entry is stale when its as-of date is older than this (default "
                             f"{gaps.STALE_DAYS_VARIABLE} or {gaps.DEFAULT_STALE_DAYS})")
    report.add_argument("--format", choices=FORMATS, default="text")
    report.add_argument("--table", choices=TABLES, default=None,
                        help="only this table (with --format csv: a plain CSV file of it)")
    report.add_argument("--production", action="store_true",
                        help="the database of `talentbot run --production` (HANDOFF_DB_URL's default)")
    report.set_defaults(handler=main)


def main(args: argparse.Namespace, out: Optional[TextIO] = None) -> int:
    out = out or sys.stdout
    from talentbot.wiring.events_cli import environment

    env = environment(args.production)
    try:
        if not 1 <= args.days <= MAX_DAYS:
            raise ValueError(f"--days must be within 1..{MAX_DAYS}")
        stale_after = args.stale_days if args.stale_days is not None else gaps.stale_days(env)
        if stale_after < 1:
            raise ValueError("--stale-days must be at least 1")
    except ValueError as problem:
        print(f"talentbot review report: {problem}", file=sys.stderr)
        return EXIT_USAGE
    now = utcnow()
    url = db.database_url(env)
    # an SQLite file no one has written yet is not made here: the report then has no analytics, only stale entries
    engine = None if _missing_sqlite_file(url) else db.make_engine(url)
    try:
        entries = gaps.bank_entries()
        report = gaps.gap_report(engine, last_days(args.days, now), entries, now, stale_after,
                                 entry_labels(entries))
    except Exception as problem:
        if problem.__class__.__module__.startswith("sqlalchemy"):
            print(f"talentbot review report: the analytics database cannot be read ({problem.__class__.__name__})",
                  file=sys.stderr)
            return EXIT_FAILED
        raise
    finally:
        if engine is not None:
            engine.dispose()
    tables = [table for table in report.tables if args.table in (None, table.name)]
    if args.format == "json":
        body = report.json()
        if args.table:
            body["tables"] = {args.table: body["tables"][args.table]}
        out.write(json.dumps(body, ensure_ascii=False, indent=1) + "\n")
    elif args.format == "csv":
        chosen = by_name(tables, args.table) if args.table else None
        out.write(csv_text(chosen) if chosen is not None else csv_sections(tables))
    else:
        out.write(text_report(report, tables))
    return EXIT_OK


def _missing_sqlite_file(url: str) -> bool:
    parsed = make_url(url)
    return parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:") \
        and not Path(str(parsed.database)).exists()


def text_report(report: gaps.GapReport, tables: Sequence[Table]) -> str:
    """The report for a terminal or an e-mail: a heading, then each table with aligned columns."""
    lines = [f"Content-gap report, {report.period.first} to {report.period.last} (Hong Kong time)",
             f"{report.misses} messages not understood; entries stale after {report.stale_days} days."]
    if not report.analytics:
        lines.append("No analytics yet: `talentbot events consume` has not written to this database.")
    for table in tables:
        lines += ["", table.title, *aligned(table)]
    return "\n".join(lines) + "\n"


def aligned(table: Table) -> List[str]:
    """The table's lines with columns padded to their widest cell (Chinese characters count two columns)."""
    if not table.rows:
        return ["  (none)"]
    cells = [[_text(cell) for cell in row] for row in [table.columns, *table.rows]]
    widths = [max(width(row[i]) for row in cells) for i in range(len(table.columns))]
    return ["  " + "  ".join(cell + " " * (widths[i] - width(cell)) for i, cell in enumerate(row)).rstrip()
            for row in cells]


def _text(cell: Cell) -> str:
    if cell is None:
        return "-"
    if isinstance(cell, float):
        return f"{cell:.1%}" if 0 <= cell <= 1 else f"{cell:g}"
    return " ".join(str(cell).split())[:80]


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(char) in ("W", "F") else 1 for char in text)
