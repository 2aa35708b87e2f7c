"""`talentbot review ...`: the content editors' commands over the analytics table, under one `review` subcommand.

Each command lives in a module of its own and adds its parser here with one line, so the commands can grow apart
without touching one another (`report`: the weekly content-gap report, talentbot/wiring/gap_report_cli.py;
`export`: the review queue's accepted items as files to commit, talentbot/wiring/review_export_cli.py).
"""

from __future__ import annotations

from typing import Any


def add_review_commands(commands: Any) -> None:
    """`talentbot review ...` under the CLI's subcommands (`commands`: argparse's subparsers action)."""
    review = commands.add_parser("review", help="content review: what users asked that the assistant missed")
    review_commands = review.add_subparsers(dest="review_command", required=True)

    from talentbot.wiring.gap_report_cli import add_report_command

    add_report_command(review_commands)  # `talentbot review report`

    from talentbot.wiring.review_export_cli import add_export_command

    add_export_command(review_commands)  # `talentbot review export`
