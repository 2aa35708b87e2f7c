"""The Rasa server with talentbot's adjustments: `python -m talentbot.wiring.rasa_server run ...` is `rasa run ...`
(same arguments) after `talentbot.rasa_plugins.rasa_adapters.install()`. `talentbot.wiring.devserver` and the systemd
unit start Rasa
this way.

Beyond plain `rasa run`: the HTTP API token comes from RASA_AUTH_TOKEN (never the command line, where `ps` shows
it) and travels in the Authorization header, never in URLs (talentbot.rasa_plugins.rasa_api_auth); the server listens on
127.0.0.1 unless RASA_HOST or `--interface` says otherwise; CORS origins come from RASA_CORS_ORIGINS (none by
default); a dead Sanic worker is replaced (talentbot.rasa_plugins.sanic_workers); request bodies are capped at 1 MiB
(talentbot.rasa_plugins.rasa_body_limit); the HTTP API's conversation ids and bodies are checked and cleaned as the
channels'
input is (talentbot.rasa_plugins.rasa_api_input); `/health`, `/ready` and `/metrics` answer without the token, the
metrics count every Sanic worker (talentbot.rasa_plugins.rasa_probes, rasa_metrics), and TALENTBOT_LOG_FORMAT=json
makes the log lines JSON objects.
"""

from __future__ import annotations

import os
import sys

# One BLAS thread. numpy's and scipy's OpenBLAS start a worker per core when imported, and after each small matrix
# product (the question bank's, the featurizers') that worker spins waiting for more: measured under 16 senders on
# 2 cores, it burnt 8.6 ms of CPU per message next to the event loop's 11, CPU the action server and the other
# replicas need. Requests are served one at a time on the event loop, so a second BLAS thread never helps. Set
# before numpy is first imported (OpenBLAS reads it once); an operator's own setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from talentbot.core.observability import logs, metrics
from talentbot.rasa_plugins import (
    rasa_adapters,
    rasa_api_auth,
    rasa_api_input,
    rasa_body_limit,
    rasa_metrics,
    rasa_probes,
    sanic_workers,
)


def main() -> None:
    try:
        # Changed inside this process only: /proc/<pid>/cmdline, which `ps` shows, keeps the original arguments.
        sys.argv[1:] = rasa_api_auth.server_arguments(sys.argv[1:], os.environ)
    except ValueError as error:
        sys.exit(f"talentbot.wiring.rasa_server: {error}")
    logs.configure()  # JSON lines from the start (warnings while Rasa is imported too), if asked for
    metrics.prepare_multiprocess_dir()  # before any worker counts anything
    rasa_adapters.install()
    rasa_api_auth.install()
    rasa_api_input.install()
    rasa_body_limit.install()
    sanic_workers.install()
    rasa_metrics.install()
    rasa_probes.install()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
