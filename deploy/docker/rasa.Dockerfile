# syntax=docker/dockerfile:1
# talentbot: the Rasa server with our components, channels and hooks (python -m talentbot.wiring.rasa_server run).
# Build from the project root:  docker build -f deploy/docker/rasa.Dockerfile -t talentbot-rasa .
# The model is baked in: trained during the build from the very sources copied into the image (`talentbot train`,
# the content hash `make train` uses), so code and model always match. To serve another model, mount a folder over
# /opt/talentbot/models: Rasa loads the newest .tar.gz in it.
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

# The trained model (about 50 MB); Rasa's training cache is not kept.
RUN talentbot train \
 && rm -rf .rasa /root/.config/rasa

# Channels: the base set (REST, socket.io, chat page) unless var/ is mounted with the file `talentbot serve prepare`
# writes (compose) or a ConfigMap (Helm), which add the platform channels whose secrets are set.
RUN cp bot/credentials.yml var/credentials.yml \
 && chown talentbot:talentbot var/credentials.yml

# Inside its container the server listens on every interface; which host ports publish it is compose's or
# Kubernetes' choice. The API token (RASA_AUTH_TOKEN), stores and secrets come from the environment at run time.
ENV RASA_HOST=0.0.0.0
USER 10001:10001
EXPOSE 5005

# Liveness: /health answers once the server runs. Loading TensorFlow and the model takes ~30 s on 2 cores.
HEALTHCHECK --interval=30s --timeout=5s --start-period=300s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:5005/health', timeout=4)"]

CMD ["python", "-m", "talentbot.wiring.rasa_server", "run", "--model", "models", "--port", "5005", "--enable-api", \
     "--endpoints", "bot/endpoints.production.yml", "--credentials", "var/credentials.yml"]
