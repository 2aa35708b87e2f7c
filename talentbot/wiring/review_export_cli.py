"""`talentbot review export [--out DIR]`: the review queue's accepted decisions as files for a maintainer to commit.

Reads the decisions supervisors made in the staff console's review queue (/review) and writes, into `--out`
(default var/review-export), Rasa NLU data for paraphrases of intents, the question-bank files with the paraphrases
of their entries added, and the content gaps (talentbot.core.analytics.review_export says which files and why). It
never writes into bot/ or nlu_data/: a maintainer reads the files, copies them in and commits, and the next
`make train` learns them. The database is ANALYTICS_DB_URL, else HANDOFF_DB_URL, else var/handoff.sqlite3
(`--production`: the defaults of `talentbot run --production`).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, List, Optional, TextIO

import yaml

from talentbot.core import paths
from talentbot.core.analytics import db
from talentbot.core.analytics.review import ReviewStore
from talentbot.core.analytics.review_export import Export, build, gazetteer_from_lookups, nlu_texts
from talentbot.core.handoff.store import utcnow
from talentbot.core.qbank.loader import read_bank

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
DEFAULT_OUT = paths.VAR / "review-export"


def _shown(path: Path) -> str:
    """The path relative to the project when it is inside it (TALENTBOT_VAR may put var/ anywhere)."""
    try:
        return str(path.relative_to(paths.ROOT))
    except ValueError:
        return str(path)


PROTECTED = (paths.ROOT / "bot", paths.NLU_DATA)
"""The project's own data: the export never writes there (a maintainer copies and commits)."""


def add_export_command(review_commands: Any) -> None:
    """`talentbot review export` under `talentbot review` (talentbot/wiring/review_cli.py)."""
    export = review_commands.add_parser(
        "export", help="write the review queue's accepted paraphrases (Rasa NLU and question-bank YAML) and content "
                       "gaps into a folder, for a maintainer to review and commit")
    export.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"the folder to write into (default {_shown(DEFAULT_OUT)}); never "
                             "bot/ or nlu_data/")
    export.add_argument("--production", action="store_true",
                        help="the database of `talentbot run --production` (HANDOFF_DB_URL's default)")
    export.set_defaults(handler=main)


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def _yaml(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def export_from(store: ReviewStore, out: Path) -> Export:
    """Builds the export from the store's accepted decisions and the project's data, and writes it under `out`."""
    bank, _problems = read_bank(paths.QUESTIONS)
    existing = nlu_texts(_yaml(path) for path in sorted(paths.NLU_DATA.glob("*.yml")))
    names = gazetteer_from_lookups(_yaml(path) for path in sorted((paths.NLU_DATA / "lookups").glob("*.yml")))
    files = {path.name: path.read_text(encoding="utf-8") for path in sorted(paths.QUESTIONS.glob("*.yml"))}
    result = build(store.accepted(), bank.entries, existing, names, files, utcnow().date())
    for relative, content in result.files.items():
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content, encoding="utf-8")
    return result


def main(args: argparse.Namespace, out: Optional[TextIO] = None) -> int:
    out = out or sys.stdout
    folder: Path = args.out
    if any(_inside(folder, protected) or _inside(protected, folder) for protected in PROTECTED):
        print(f"talentbot review export: --out {folder} is the project's own data (or holds it); the export is "
              "copied there by a maintainer, not written there", file=sys.stderr)
        return EXIT_USAGE
    from talentbot.wiring.events_cli import environment

    url = db.database_url(environment(args.production))
    try:
        store = ReviewStore.from_url(url)
    except Exception as problem:  # the database cannot be reached or upgraded: say so in one line
        print(f"talentbot review export: the analytics database cannot be opened: {problem}", file=sys.stderr)
        return EXIT_FAILED
    try:
        result = export_from(store, folder)
    finally:
        store.close()
    written: List[str] = sorted(result.files)
    print(f"talentbot review export: {result.summary()}", file=out)
    if not written:
        print("nothing accepted yet: mark groups in the staff console's review queue (/review) first", file=out)
        return EXIT_OK
    for relative in written:
        print(f"  {folder / relative}", file=out)
    print("Next: read them, copy them into the project (nlu_data/, bot/questions/), `talentbot validate`, commit; "
          "the next `make train` learns them.", file=out)
    return EXIT_OK
