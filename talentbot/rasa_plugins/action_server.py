"""The action server: rasa_sdk's app for the `actions` package, on loopback by default, behind a shared secret.

rasa-sdk 3.6 has no authentication of its own and listens on 0.0.0.0 (SANIC_HOST), so anyone who can reach port
5055 can run any action for any conversation (`action_handoff` for another channel's user, say). Started as
`python -m talentbot.rasa_plugins.action_server` (by talentbot.wiring.devserver and the systemd unit), it answers
`/webhook` and
`/actions` only to requests carrying `Authorization: Bearer $ACTION_SERVER_TOKEN`, which Rasa sends from the
`headers` of `action_endpoint` (bot/endpoints.production.yml). `/health` (alive), `/ready` (the handoff database
answers: 200, else 503 with the reason) and `/metrics` (action calls by action and outcome, every Sanic worker's,
talentbot/core/observability/metrics.py) stay open for probes and scrapers: they say nothing about conversations.
Without ACTION_SERVER_TOKEN it refuses to start unless `--no-token` is given (the embedded set-up of
`talentbot run`, where it listens on loopback only).

The routes are rasa_sdk's, served here rather than by `rasa_sdk.endpoint.create_app`: the token is checked before
a byte of the body is read, the body is capped, checked and cleaned (talentbot/rasa_plugins/action_call.py) before an
action
sees it, and every refusal is a 4xx saying what is wrong, in rasa_sdk's form (`error`, `action_name`: Rasa reads
`action_name` from a 400). A failing action is a 500 that names the action, never an echo of the request.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, List, Mapping, Optional, Union, cast

from prometheus_client import Counter, Histogram

from talentbot.core import paths
from talentbot.core.inbound import Refusal
from talentbot.core.observability import logs, metrics, readiness
from talentbot.rasa_plugins.action_call import MAX_CALL_BYTES, SlotTypes, parse_call, slot_types, too_large
from talentbot.rasa_plugins.rasa_api_auth import token_matches

if TYPE_CHECKING:  # for annotations only: the code imports rasa_sdk and Sanic lazily, where it needs them
    from rasa_sdk.types import ActionCall as SdkActionCall
    from sanic import Sanic
    from sanic.request import Request
    from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)

TOKEN_VARIABLE = "ACTION_SERVER_TOKEN"
"""The shared secret Rasa sends to the action server (`Authorization: Bearer <token>`)."""

HOST_VARIABLE = "ACTION_SERVER_HOST"
DEFAULT_HOST = "127.0.0.1"
"""The action server talks to the Rasa server only: loopback unless ACTION_SERVER_HOST (or `--interface`) says
otherwise, e.g. 0.0.0.0 for an action server on its own host, always with a token."""

OPEN_PATHS = frozenset({"/health", "/ready", "/metrics"})
"""Paths answered without the token: the probes and the metrics say nothing about conversations."""

ACTION_CALLS = Counter("talentbot_action_calls_total",
                       "Calls of the action server's /webhook, by action (none: refused before one was named) and "
                       "outcome (ok, rejected, not_found, failed, refused)",
                       ["action", "outcome"])
ACTION_SECONDS = Histogram("talentbot_action_duration_seconds",
                           "Time the action server took to run an action (its body read and checked, the action run)",
                           ["action"], buckets=metrics.SECONDS_BUCKETS)

OK, REJECTED, NOT_FOUND, FAILED, REFUSED = "ok", "rejected", "not_found", "failed", "refused"
"""A call's outcome: events returned; the action rejected it (400); no such action (404); the action raised (500);
the call itself was refused (wrong shape, too large: 400/413)."""
NO_ACTION = "none"


def refusal(path: str, authorization: Optional[str], token: Optional[str]) -> Optional[str]:
    """Why a request is refused (answered 401), or None. With no token configured nothing is refused."""
    if not token or path in OPEN_PATHS:
        return None
    if token_matches(authorization, token):
        return None
    return "missing or wrong action server token (Authorization: Bearer ...)"


async def read_body(request: Any, limit: int = MAX_CALL_BYTES) -> Union[bytes, Refusal]:
    """A streamed request's body, or a 413 as soon as it passes `limit` (declared or sent): nothing more is read."""
    declared = request.headers.get("Content-Length", "")  # Sanic has refused one that is not a number
    if declared.isdigit() and int(declared) > limit:
        return too_large()
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await request.stream.read()
        if chunk is None:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            return too_large()
        chunks.append(chunk)


def domain_slot_types(domain: Path = paths.DOMAIN) -> SlotTypes:
    """The typed slots of the domain Rasa runs with (the same repository), read once at start-up."""
    import yaml

    files = sorted(domain.glob("**/*.yml")) if domain.is_dir() else [domain]
    return slot_types(yaml.safe_load(file.read_text(encoding="utf-8")) or {} for file in files)


def _answer(body: Any, status: int = 200) -> HTTPResponse:
    from sanic import response

    return response.json(body, status=status, dumps=json.dumps)  # the standard library's: no ujson surprises


def build_app(actions_package: str, token: Optional[str], auto_reload: bool = False) -> Sanic:
    """rasa_sdk's routes (/health, /webhook, /actions; no CORS: only the Rasa server calls them) behind the token."""
    from rasa_sdk import utils as sdk_utils
    from rasa_sdk.executor import ActionExecutor
    from rasa_sdk.interfaces import ActionExecutionRejection, ActionNotFoundException
    from rasa_sdk.plugin import plugin_manager
    from sanic import Sanic
    from sanic.exceptions import SanicException

    app = Sanic("talentbot_actions", configure_logging=False)
    app.config.REQUEST_MAX_SIZE = MAX_CALL_BYTES  # also the most Sanic reads (and drops) of a refused body
    executor = ActionExecutor()
    executor.register_package(actions_package)
    slots = domain_slot_types()

    @app.middleware("request")
    async def require_token(request: Request) -> Optional[HTTPResponse]:
        """Runs before the webhook's body is read (it is streamed): a caller without the token gets nothing read."""
        why = refusal(request.path, request.headers.get("Authorization"), token)
        if why is not None:
            logger.warning("action server request refused from %s: %s %s", request.ip, request.method, request.path)
            return _answer({"error": why}, status=401)
        return None

    @app.get("/health")
    async def health(_request: Request) -> HTTPResponse:
        return _answer({"status": "ok"})

    @app.get("/ready")
    async def ready(_request: Request) -> HTTPResponse:
        result = await readiness.check({readiness.HANDOFF_DATABASE: readiness.handoff_database_check()})
        return _answer(result.body(), status=result.status)

    @app.get("/metrics")
    async def metrics_page(_request: Request) -> HTTPResponse:
        from sanic import response

        return response.raw(metrics.exposition(), content_type=metrics.CONTENT_TYPE)

    def count(action: Optional[str], outcome: str, start: float) -> None:
        name = action if action in executor.actions else NO_ACTION if action is None else metrics.OTHER
        ACTION_CALLS.labels(name, outcome).inc()
        if outcome != REFUSED:
            ACTION_SECONDS.labels(name).observe(time.perf_counter() - start)

    @app.get("/actions")
    async def actions(_request: Request) -> HTTPResponse:
        if auto_reload:
            executor.reload()
        return _answer([{"name": action} for action in executor.actions])

    @app.post("/webhook", stream=True)
    async def webhook(request: Request) -> HTTPResponse:
        start = time.perf_counter()
        body = await read_body(request)
        call = body if isinstance(body, Refusal) else parse_call(body, request.headers.get("Content-Encoding"), slots)
        if isinstance(call, Refusal):
            logger.warning("action call refused (%d): %s", call.status, call.reason)
            count(None, REFUSED, start)
            return _answer({"error": call.reason, "action_name": None}, status=call.status)
        sdk_utils.check_version_compatibility(call.get("version"))
        if auto_reload:
            executor.reload()
        action = call["next_action"]
        try:
            result = await executor.run(cast("SdkActionCall", call))  # parse_call checked its shape
        except ActionExecutionRejection as rejected:
            count(action, REJECTED, start)
            return _answer({"error": rejected.message, "action_name": rejected.action_name}, status=400)
        except ActionNotFoundException as unknown:
            count(action, NOT_FOUND, start)
            return _answer({"error": f"{unknown.message} (GET /actions lists them)", "action_name": action},
                           status=404)
        except Exception:
            count(action, FAILED, start)
            logger.exception("action %s failed for %s", action, logs.pseudonym(call["tracker"]["sender_id"]))
            return _answer({"error": f"the action {action!r} failed; the action server's log says why",
                            "action_name": action}, status=500)
        count(action, OK, start)
        return _answer(result)

    @app.exception(SanicException)
    async def refused(request: Request, exception: SanicException) -> HTTPResponse:
        """Sanic's own refusals (no such route, wrong method, bad HTTP, a body over REQUEST_MAX_SIZE), as JSON."""
        return _answer({"error": str(exception) or type(exception).__name__, "action_name": None},
                       status=getattr(exception, "status_code", 400))

    @app.exception(Exception)
    async def failed(request: Request, exception: Exception) -> HTTPResponse:
        logger.error("action server error on %s %s", request.method, request.path, exc_info=exception)
        return _answer({"error": "the action server failed; its log says why", "action_name": None}, status=500)

    plugin_manager().hook.attach_sanic_app_extensions(app=app)  # as rasa_sdk's own start-up does
    return app


def parse_arguments(argv: List[str]) -> argparse.Namespace:
    from rasa_sdk.endpoint import create_argument_parser

    parser = create_argument_parser()
    parser.prog = "python -m talentbot.rasa_plugins.action_server"
    parser.add_argument("-i", "--interface", default=None,
                        help=f"interface to listen on (default: {HOST_VARIABLE} or {DEFAULT_HOST})")
    parser.add_argument("--no-token", action="store_true",
                        help=f"run without {TOKEN_VARIABLE} (loopback-only development set-ups)")
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None, env: Mapping[str, str] = os.environ) -> int:
    logs.configure(env)  # JSON lines from the start (warnings while rasa_sdk is imported too), if asked for
    from rasa_sdk import utils
    from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME
    from rasa_sdk.endpoint import create_ssl_context

    from talentbot.rasa_plugins import sanic_workers

    args = parse_arguments(sys.argv[1:] if argv is None else argv)
    token = env.get(TOKEN_VARIABLE, "").strip() or None
    if token is None and not args.no_token:
        print(f"talentbot.rasa_plugins.action_server: {TOKEN_VARIABLE} is not set; the action server would run any "
              "action for anyone who can reach it (use --no-token only on loopback)", file=sys.stderr)
        return 2
    host = args.interface or env.get(HOST_VARIABLE, "").strip() or DEFAULT_HOST
    if token is None and host not in ("127.0.0.1", "::1", "localhost"):
        logger.warning("action server without a token listening on %s", host)

    if logs.wants_json(env):
        logs.use_json(args.loglevel or env.get(logs.LEVEL_VARIABLE) or "INFO")
    else:
        utils.configure_colored_logging(args.loglevel)
    utils.configure_file_logging(logging.getLogger(APPLICATION_ROOT_LOGGER_NAME), args.log_file, args.loglevel,
                                 args.logging_config_file)
    utils.update_sanic_log_level()
    logs.configure(env)  # a log file's handler too
    metrics.prepare_multiprocess_dir(env)  # before any worker counts anything
    sanic_workers.install()
    app = build_app(args.actions or "actions", token, args.auto_reload)
    ssl_context = create_ssl_context(args.ssl_certificate, args.ssl_keyfile, args.ssl_password)
    logger.info("Action server on %s://%s:%d (%s)", "https" if ssl_context else "http", host, args.port,
                "token required" if token else "no token")
    app.run(host, args.port, ssl=ssl_context, workers=utils.number_of_sanic_workers())
    return 0


if __name__ == "__main__":
    sys.exit(main())
