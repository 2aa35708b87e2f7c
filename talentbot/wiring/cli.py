"""The `talentbot` command: train, run, validate, the eligibility check, staff accounts, personal data."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from typing import List, Optional


def _train(args: argparse.Namespace) -> int:
    from talentbot.wiring.training import ensure_model

    ensure_model(force=args.force)
    return 0


def _run(args: argparse.Namespace) -> int:
    from talentbot.wiring.devserver import run

    return run(args.port, args.actions_port, production=args.production, console_port=args.console_port)


def _serve(args: argparse.Namespace) -> int:
    from talentbot.wiring.devserver import serve

    return serve(args.server, args.port, args.actions_port, args.console_port)


def _validate(args: argparse.Namespace) -> int:
    """`rasa data validate`, failing on any warning that is not listed as explained."""
    from talentbot.wiring.validation import validate

    return validate()


def _eligibility(args: argparse.Namespace) -> int:
    from talentbot.wiring.eligibility_cli import run

    return run(sys.stdin, sys.stdout, sys.stderr)


def _telegram_set_webhook(args: argparse.Namespace) -> int:
    import asyncio

    from connectors.telegram import set_webhook

    asyncio.run(set_webhook(args.url))
    print(f"Telegram webhook set to {args.url.rstrip('/')}/webhooks/telegram/webhook")
    return 0


def _staff(args: argparse.Namespace) -> int:
    from talentbot.wiring.handoff_cli import main_staff_add

    return main_staff_add(args.extra, sys.stdin)


def _console(args: argparse.Namespace) -> int:
    from talentbot.wiring.handoff_service import run_console

    return run_console(args.port)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="talentbot", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train the Rasa model if its inputs changed")
    train.add_argument("--force", action="store_true", help="train even if an up-to-date model exists")
    train.set_defaults(handler=_train)

    run = commands.add_parser(
        "run", help="start the Rasa server, the action server and the staff console (Ctrl-C stops them all)"
    )
    run.add_argument("--port", type=int, default=int(os.environ.get("RASA_PORT", 5005)))
    run.add_argument("--actions-port", type=int, default=int(os.environ.get("ACTIONS_PORT", 5055)))
    run.add_argument("--console-port", type=int, default=None, help="default STAFF_CONSOLE_PORT or 8080")
    run.add_argument(
        "--production", action="store_true",
        help="PostgreSQL tracker store, Redis lock store, several Sanic workers (bot/endpoints.production.yml)",
    )
    run.set_defaults(handler=_run)

    serve = commands.add_parser(
        "serve", help="one production server in the foreground, for systemd (deploy/systemd/); "
                      "prepare: the queue database and credentials first",
    )
    serve.add_argument("server", choices=["prepare", "rasa", "actions", "console"])
    serve.add_argument("--port", type=int, default=int(os.environ.get("RASA_PORT", 5005)))
    serve.add_argument("--actions-port", type=int, default=int(os.environ.get("ACTIONS_PORT", 5055)))
    serve.add_argument("--console-port", type=int, default=None, help="default STAFF_CONSOLE_PORT or 8080")
    serve.set_defaults(handler=_serve)

    validate = commands.add_parser("validate", help="rasa data validate, with no unexplained warning")
    validate.set_defaults(handler=_validate)

    eligibility = commands.add_parser(
        "eligibility", help="read a profile as JSON on stdin, print which schemes fit as JSON"
    )
    eligibility.set_defaults(handler=_eligibility)

    telegram = commands.add_parser("telegram", help="Telegram bot set-up")
    telegram_commands = telegram.add_subparsers(dest="telegram_command", required=True)
    set_webhook = telegram_commands.add_parser(
        "set-webhook", help="register https://<url>/webhooks/telegram/webhook with Telegram (TELEGRAM_* variables)"
    )
    set_webhook.add_argument("url", help="the assistant's public HTTPS base address")
    set_webhook.set_defaults(handler=_telegram_set_webhook)

    staff = commands.add_parser("staff", help="staff console accounts")
    staff_commands = staff.add_subparsers(dest="staff_command", required=True)
    staff_add = staff_commands.add_parser(
        "add", help="--username U --role agent|supervisor; the password is read from standard input", add_help=False
    )
    # its options are parsed by talentbot.wiring.handoff_cli
    staff_add.set_defaults(handler=_staff, passes_options=True)

    console = commands.add_parser(
        "console", help="the staff console alone (talentbot run starts it too); RASA_URL and RASA_AUTH_TOKEN reach Rasa"
    )
    console.add_argument("--port", type=int, default=None, help="default STAFF_CONSOLE_PORT or 8080")
    console.set_defaults(handler=_console)

    from talentbot.wiring.privacy_cli import add_privacy_commands

    add_privacy_commands(commands)  # `talentbot privacy purge|export|delete`

    from talentbot.wiring.events_cli import add_events_commands

    add_events_commands(commands)  # `talentbot events consume|purge`

    from talentbot.wiring.review_cli import add_review_commands

    add_review_commands(commands)  # `talentbot review report|...`
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra and not getattr(args, "passes_options", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.extra = extra
    try:
        return args.handler(args)
    except subprocess.CalledProcessError as error:
        print(f"talentbot {args.command}: {error}", file=sys.stderr)
        return error.returncode or 1


if __name__ == "__main__":
    sys.exit(main())
