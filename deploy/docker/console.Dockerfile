# syntax=docker/dockerfile:1
# talentbot: the staff console (talentbot serve console; human handoff queue). Build from the project root:
#   docker build -f deploy/docker/console.Dockerfile -t talentbot-console .
# The same image runs `talentbot serve prepare` (queue database migrations, channel credentials) before the servers.

# The console's browser libraries (Chart.js for the insights page), as `make console-assets` installs them: npm ci
# from talentbot/console/vendor/package-lock.json, the files the page loads copied out with their licences. Only
# those files reach the image below; Node itself does not.
FROM node:22-bookworm-slim AS console-assets
WORKDIR /build
COPY talentbot/console/vendor/package.json talentbot/console/vendor/package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts --loglevel=error \
 && mkdir vendor \
 && cp node_modules/chart.js/dist/chart.umd.js node_modules/chart.js/LICENSE.md vendor/ \
 && cp node_modules/@kurkle/color/LICENSE.md vendor/LICENSE.kurkle-color.md

FROM python:3.10-slim-bookworm

# TF_CPP_MIN_LOG_LEVEL, SQLALCHEMY_SILENCE_UBER_WARNING: as `make` sets them. MPLCONFIGDIR: matplotlib (imported
# by Rasa) needs a writable folder. RASA_TELEMETRY_ENABLED=false: nothing leaves the host.
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    SQLALCHEMY_SILENCE_UBER_WARNING=1 \
    TF_CPP_MIN_LOG_LEVEL=2 \
    RASA_TELEMETRY_ENABLED=false \
    MPLCONFIGDIR=/tmp/matplotlib

# The servers run as this user (uid 10001), never as root.
RUN groupadd --system --gid 10001 talentbot \
 && useradd --system --uid 10001 --gid talentbot --create-home --home-dir /home/talentbot \
      --shell /usr/sbin/nologin talentbot

WORKDIR /opt/talentbot

# Every dependency at its requirements.lock version, with --no-deps so the lock alone decides (as `make venv`
# does, with the same pinned installer tools: newer setuptools/wheel need a packaging that Rasa 3.6 cannot import).
# The same lines in all three Dockerfiles, so the three images share these layers.
COPY requirements.lock ./
RUN pip install --no-cache-dir pip==24.0 setuptools==70.3.0 wheel==0.45.1 \
 && pip install --no-cache-dir --no-deps -r requirements.lock

# The project, installed editable: talentbot/core/paths.py finds bot/, nlu_data/ and models/ beside the package.
# var/ and spool/ are the folders the servers may write to (`talentbot serve prepare` writes var/credentials.yml;
# spool/ is for the Rasa server's events spool: compose mounts a volume there, which starts as this folder).
COPY . .
RUN pip install --no-cache-dir --no-deps -e . \
 && pip check \
 && mkdir -p var spool \
 && chown talentbot:talentbot var spool
COPY --from=console-assets /build/vendor/ talentbot/console/static/assets/vendor/

# `talentbot serve` needs RASA_AUTH_TOKEN and ACTION_SERVER_TOKEN, and RASA_URL to reach the Rasa server.
ENV STAFF_CONSOLE_HOST=0.0.0.0 \
    STAFF_CONSOLE_PORT=8080
USER 10001:10001
EXPOSE 8080

HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/health', timeout=4)"]

CMD ["talentbot", "serve", "console"]
