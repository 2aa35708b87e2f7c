"""The action server: rasa_sdk's app for the `actions` package, on loopback by default, behind a shared secret.

rasa-sdk 3.6 has no authentication of its own and listens on 0.0.0.0 (SANIC_HOST), so anyone who can reach port
5055 can run any action for any conversation (`action_handoff` for another channel's user, say). Started as
`python -m talentbot.action_server` (by talentbot.devserver and the systemd unit), it answers `/webhook` and
`/actions` only to requests carrying `Authorization: Bearer $ACTION_SERVER_TOKEN`, which Rasa sends from the
`headers` of `action_endpoint` (bot/endpoints.production.yml). `/health` stays open for readiness checks.
Without ACTION_SERVER_TOKEN it refuses to start unless `--no-token` is given (the embedded set-up of
`talentbot run`, where it listens on loopback only).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import List, Mapping, Optional

from talentbot.rasa_api_auth import token_matches

logger = logging.getLogger(__name__)

TOKEN_VARIABLE = "ACTION_SERVER_TOKEN"
"""The shared secret Rasa sends to the action server (`Authorization: Bearer <token>`)."""

HOST_VARIABLE = "ACTION_SERVER_HOST"
DEFAULT_HOST = "127.0.0.1"
"""The action server talks to the Rasa server only: loopback unless ACTION_SERVER_HOST (or `--interface`) says
otherwise, e.g. 0.0.0.0 for an action server on its own host, always with a token."""

OPEN_PATHS = frozenset({"/health"})
"""Paths answered without the token: the readiness check says nothing about conversations."""


def refusal(path: str, authorization: Optional[str], token: Optional[str]) -> Optional[str]:
    """Why a request is refused (answered 401), or None. With no token configured nothing is refused."""
    if not token or path in OPEN_PATHS:
        return None
    if token_matches(authorization, token):
        return None
    return "missing or wrong action server token (Authorization: Bearer ...)"


def build_app(actions_package: str, token: Optional[str], auto_reload: bool = False):
    """rasa_sdk's Sanic app (no CORS: only the Rasa server calls it) with the token check in front of every route."""
    from rasa_sdk.endpoint import create_app
    from rasa_sdk.plugin import plugin_manager
    from sanic import response

    app = create_app(actions_package, cors_origins=None, auto_reload=auto_reload)

    @app.middleware("request")
    async def require_token(request):
        why = refusal(request.path, request.headers.get("Authorization"), token)
        if why is not None:
            logger.warning("action server request refused from %s: %s %s", request.ip, request.method, request.path)
            return response.json({"error": why}, status=401)
        return None

    plugin_manager().hook.attach_sanic_app_extensions(app=app)  # as rasa_sdk's own start-up does
    return app


def parse_arguments(argv: List[str]) -> argparse.Namespace:
    from rasa_sdk.endpoint import create_argument_parser

    parser = create_argument_parser()
    parser.prog = "python -m talentbot.action_server"
    parser.add_argument("-i", "--interface", default=None,
                        help=f"interface to listen on (default: {HOST_VARIABLE} or {DEFAULT_HOST})")
    parser.add_argument("--no-token", action="store_true",
                        help=f"run without {TOKEN_VARIABLE} (loopback-only development set-ups)")
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None, env: Mapping[str, str] = os.environ) -> int:
    from rasa_sdk import utils
    from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME
    from rasa_sdk.endpoint import create_ssl_context

    from talentbot import sanic_workers

    args = parse_arguments(sys.argv[1:] if argv is None else argv)
    token = env.get(TOKEN_VARIABLE, "").strip() or None
    if token is None and not args.no_token:
        print(f"talentbot.action_server: {TOKEN_VARIABLE} is not set; the action server would run any action for "
              "anyone who can reach it (use --no-token only on loopback)", file=sys.stderr)
        return 2
    host = args.interface or env.get(HOST_VARIABLE, "").strip() or DEFAULT_HOST
    if token is None and host not in ("127.0.0.1", "::1", "localhost"):
        logger.warning("action server without a token listening on %s", host)

    utils.configure_colored_logging(args.loglevel)
    utils.configure_file_logging(logging.getLogger(APPLICATION_ROOT_LOGGER_NAME), args.log_file, args.loglevel,
                                 args.logging_config_file)
    utils.update_sanic_log_level()
    sanic_workers.install()
    app = build_app(args.actions or "actions", token, args.auto_reload)
    ssl_context = create_ssl_context(args.ssl_certificate, args.ssl_keyfile, args.ssl_password)
    logger.info("Action server on %s://%s:%d (%s)", "https" if ssl_context else "http", host, args.port,
                "token required" if token else "no token")
    app.run(host, args.port, ssl=ssl_context, workers=utils.number_of_sanic_workers())
    return 0


if __name__ == "__main__":
    sys.exit(main())
