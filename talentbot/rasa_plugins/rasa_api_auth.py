"""The Rasa server's HTTP API token kept out of URLs and process lists.

Rasa 3.6 takes the token only as `rasa run --auth-token T` (no environment variable, no file), where `ps` shows it
to every user of the machine, and accepts it only as `?token=T` in the URL, where access logs, proxies and browser
histories keep it. `talentbot.wiring.rasa_server` therefore reads it from `RASA_AUTH_TOKEN` and hands it to Rasa inside
the
process (`server_arguments`), and `install()` makes the API take it from the `Authorization: Bearer T` header and
refuse it in the URL. JWT (`--jwt-secret`) is left as Rasa has it, for deployments that issue per-user tokens.
"""

from __future__ import annotations

import hmac
import logging
from functools import wraps
from inspect import isawaitable
from typing import Any, Callable, Dict, List, Mapping, Optional

logger = logging.getLogger(__name__)

TOKEN_VARIABLE = "RASA_AUTH_TOKEN"
"""The API token (also the staff console's key to the API and to the web page's push route)."""

HOST_VARIABLE = "RASA_HOST"
DEFAULT_HOST = "127.0.0.1"
"""The interface the Rasa server listens on unless `--interface` or RASA_HOST says otherwise: loopback, with a TLS
proxy (nginx, HAProxy) in front for the outside world. Rasa's own default is 0.0.0.0."""

CORS_VARIABLE = "RASA_CORS_ORIGINS"
"""Origins (space- or comma-separated, e.g. `https://talent.example.gov.hk`) whose pages may call the Rasa server
from a browser. Unset: none; the chat page is served by the Rasa server itself, so it needs no CORS."""

URL_TOKEN_REFUSED = "The API token goes in the header `Authorization: Bearer <token>`, never in the URL."

UPSTREAM: Dict[str, Any] = {}
"""Rasa's `requires_auth` before `install()` replaced it."""


def bearer(authorization: Optional[str]) -> Optional[str]:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    scheme, _, value = (authorization or "").strip().partition(" ")
    value = value.strip()
    return value if scheme.lower() == "bearer" and value else None


def token_matches(authorization: Optional[str], token: Optional[str]) -> bool:
    """Whether the header carries exactly `token` (compared in constant time)."""
    given = bearer(authorization)
    if not token or given is None:
        return False
    return hmac.compare_digest(given.encode(), token.encode())


def _option_given(argv: List[str], *names: str) -> bool:
    return any(arg in names or any(arg.startswith(f"{name}=") for name in names) for arg in argv)


def server_arguments(argv: List[str], env: Mapping[str, str]) -> List[str]:
    """`rasa run` arguments completed from the environment: the token (RASA_AUTH_TOKEN), the interface (RASA_HOST,
    else loopback) and the CORS origins (RASA_CORS_ORIGINS), each unless given on the command line. Other
    sub-commands are returned unchanged. Raises ValueError for an HTTP API that nothing would protect."""
    if not argv or argv[0] != "run" or (len(argv) > 1 and argv[1] == "actions"):
        return list(argv)
    argv = list(argv)
    if not _option_given(argv, "-i", "--interface"):
        argv += ["--interface", env.get(HOST_VARIABLE, "").strip() or DEFAULT_HOST]
    token = env.get(TOKEN_VARIABLE, "").strip()
    if token and not _option_given(argv, "-t", "--auth-token"):
        argv.append(f"--auth-token={token}")  # one argument: a token may start with "-" (token_urlsafe)
    if not _option_given(argv, "--cors"):
        origins = env.get(CORS_VARIABLE, "").replace(",", " ").split()
        if origins:
            argv += ["--cors", *origins]
    has_token = _option_given(argv, "-t", "--auth-token") or _option_given(argv, "--jwt-secret")
    if "--enable-api" in argv and not has_token:
        raise ValueError(f"--enable-api without a token would open the HTTP API to anyone: set {TOKEN_VARIABLE}")
    if "--cors" in argv and "*" in argv[argv.index("--cors") + 1:]:
        logger.warning("--cors * lets every web site call this server from its users' browsers")
    return argv


def install() -> None:
    """Makes the HTTP API accept the token in the Authorization header and refuse it in the URL (before the API's
    routes are made: Rasa looks `requires_auth` up when it builds the app)."""
    import rasa.server
    from rasa.server import ErrorResponse

    if "requires_auth" in UPSTREAM:
        return
    upstream = rasa.server.requires_auth
    UPSTREAM["requires_auth"] = upstream

    def requires_auth(app: Any, token: Optional[str] = None) -> Callable:
        def decorator(f: Callable) -> Callable:
            checked_by_rasa = upstream(app, token)(f)  # JWT, or 401 (or open, with neither token nor JWT)

            @wraps(f)
            async def decorated(request: Any, *args: Any, **kwargs: Any) -> Any:
                if "token" in request.args:
                    raise ErrorResponse(401, "NotAuthenticated", URL_TOKEN_REFUSED)
                if token_matches(request.headers.get("Authorization"), token):
                    result = f(request, *args, **kwargs)
                    return await result if isawaitable(result) else result
                return await checked_by_rasa(request, *args, **kwargs)

            return decorated

        return decorator

    rasa.server.requires_auth = requires_auth
