"""`/health`, `/ready` and `/metrics` on the Rasa server, and its log lines as JSON when asked for.

Rasa has `/` (a greeting) and `/status` (the model, behind the API token). `install()` makes
`rasa.core.run.configure_app` add three routes to every app it builds, none behind the token (probes and scrapers
carry none) and none telling anything about conversations:

- `GET /health`: 200 `{"status": "ok"}` while the process answers; no dependency is looked at.
- `GET /ready`: 200 when this worker's model is loaded and its stores answer: the tracker store (`SELECT 1`, or Redis
  `PING`), the lock store when it is Redis, the handoff database (HANDOFF_DB_URL); else 503 with a short reason per
  dependency (talentbot.core.observability.readiness).
- `GET /metrics`: every worker's metrics (talentbot.rasa_plugins.rasa_metrics), in Prometheus' text format.

With TALENTBOT_LOG_FORMAT=json the server's log lines are JSON objects (talentbot.core.observability.logs): Rasa's
`configure_colored_logging` installs the JSON handler instead of coloredlogs, and Sanic's own handlers get the JSON
format once the app exists.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Dict

from talentbot.core.observability import logs, metrics, readiness
from talentbot.rasa_plugins import rasa_metrics

UPSTREAM: Dict[str, Any] = {}
"""Rasa's functions before `install()` replaced them."""

HEALTH, READY, METRICS = "/health", "/ready", "/metrics"


async def health(request: Any) -> Any:
    from sanic import response

    return response.json({"status": "ok"})


def checks(agent: Any, env: Any = os.environ) -> Dict[str, readiness.Check]:
    """The checks of the agent's stores (none for stores in memory) and of the handoff database."""
    found: Dict[str, readiness.Check] = {}
    tracker_store: Any = getattr(agent, "tracker_store", None)
    tracker_store = getattr(tracker_store, "_tracker_store", tracker_store)  # inside Rasa's FailSafeTrackerStore
    engine, redis_client = getattr(tracker_store, "engine", None), getattr(tracker_store, "red", None)
    if engine is not None:
        found[readiness.TRACKER_STORE] = readiness.sql_check(engine)
    elif redis_client is not None:
        found[readiness.TRACKER_STORE] = readiness.redis_check(redis_client)
    lock_redis = getattr(getattr(agent, "lock_store", None), "red", None)
    if lock_redis is not None:
        found[readiness.LOCK_STORE] = readiness.redis_check(lock_redis)
    found[readiness.HANDOFF_DATABASE] = readiness.handoff_database_check(env)
    return found


async def ready(request: Any) -> Any:
    from sanic import response

    agent = getattr(request.app.ctx, "agent", None)
    loaded = agent is not None and agent.is_ready()
    result = await readiness.check(checks(agent), {readiness.MODEL: readiness.OK if loaded else readiness.NOT_LOADED})
    return response.json(result.body(), status=result.status)


async def metrics_page(request: Any) -> Any:
    from sanic import response

    return response.raw(metrics.exposition(), content_type=metrics.CONTENT_TYPE)


def add_routes(app: Any) -> Any:
    """Adds the three routes to a Sanic app (a blueprint of their own, outside the API's token check)."""
    from sanic import Blueprint

    probes = Blueprint("talentbot_probes")
    probes.add_route(health, HEALTH, methods=["GET"], name="health")
    probes.add_route(ready, READY, methods=["GET"], name="ready")
    probes.add_route(metrics_page, METRICS, methods=["GET"], name="metrics")
    app.blueprint(probes)
    return app


def _channel_names(args: Any, kwargs: Dict[str, Any]) -> list:
    channels = kwargs.get("input_channels", args[0] if args else None) or []
    return [channel.name() for channel in channels]


def install() -> None:
    """Makes `rasa.core.run.configure_app` add the routes (and count by the app's channels), and Rasa's logging
    set-up write JSON lines when TALENTBOT_LOG_FORMAT=json; a second call does nothing."""
    import rasa.core.run
    import rasa.utils.io

    if "configure_app" in UPSTREAM:
        return
    upstream_app: Callable[..., Any] = rasa.core.run.configure_app
    upstream_logging: Callable[..., Any] = rasa.utils.io.configure_colored_logging
    UPSTREAM.update(configure_app=upstream_app, configure_colored_logging=upstream_logging)

    def configure_app(*args: Any, **kwargs: Any) -> Any:
        app = add_routes(upstream_app(*args, **kwargs))
        rasa_metrics.prepare(_channel_names(args, kwargs))
        logs.configure()  # Sanic's handlers, made with the app
        return app

    def configure_colored_logging(loglevel: Any) -> None:
        if logs.wants_json():
            logs.use_json(loglevel or os.environ.get(logs.LEVEL_VARIABLE) or "INFO")
        else:
            upstream_logging(loglevel)

    configure_app.__doc__ = f"Rasa's configure_app, with /health, /ready and /metrics ({__name__})."
    configure_colored_logging.__doc__ = f"Rasa's coloured logs, or JSON lines ({__name__})."
    rasa.core.run.configure_app = configure_app
    rasa.utils.io.configure_colored_logging = configure_colored_logging
