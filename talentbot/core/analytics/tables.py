"""The figures' tables: named, titled, with their columns and rows, as JSON and as CSV.

The insights page and the content-gap report show every figure as a table (charts are drawn from the same numbers),
and each table can be downloaded as CSV. The CSV starts with a UTF-8 byte order mark: without it, Excel reads a CSV
file in the machine's ANSI code page and shows the Chinese of a language label or a user's question as mojibake.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Union

Cell = Union[str, int, float, None]

BOM = "\ufeff"


@dataclass(frozen=True)
class Table:
    """One table of figures: `name` is its key in URLs (``?table=``) and file names; `title` is shown above it."""

    name: str
    title: str
    columns: Tuple[str, ...]
    rows: List[Tuple[Cell, ...]] = field(default_factory=list)

    def json(self) -> Dict[str, Any]:
        return {"name": self.name, "title": self.title, "columns": list(self.columns),
                "rows": [list(row) for row in self.rows]}


def by_name(tables: Iterable[Table], name: str) -> Optional[Table]:
    return next((table for table in tables if table.name == name), None)


def csv_text(table: Table, bom: bool = True) -> str:
    """The table as CSV (RFC 4180, CRLF line ends, as Excel writes it), the header first; None is an empty cell."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.columns)
    writer.writerows([_csv_cell(cell) for cell in row] for row in table.rows)
    return (BOM if bom else "") + out.getvalue()


def _csv_cell(cell: Cell) -> Cell:
    """A text starting with =, +, - or @ is a formula to a spreadsheet: quoted with an apostrophe so opening the file
    never runs what a user typed (the kept texts of misunderstood messages are users' words)."""
    if isinstance(cell, str) and cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + cell
    return cell


def csv_sections(tables: Sequence[Table]) -> str:
    """Several tables in one text, each under a ``# name: title`` line and apart by an empty line (the command's
    `--format csv` without `--table`); one BOM at the start."""
    return BOM + "\r\n".join(f"# {table.name}: {table.title}\r\n" + csv_text(table, bom=False) for table in tables)
