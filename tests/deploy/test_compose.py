"""deploy/compose: valid against the Compose Specification's schema (dclint), published on 127.0.0.1 except the TLS
proxy, secrets from the env file only, and the variables the code reads."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict

import pytest
import yaml

from connectors.registry import CHANNELS
from talentbot.core import paths
from talentbot.core.analytics.identity import SALT_VARIABLE as ANALYTICS_SALT
from talentbot.core.analytics.spool import SPOOL_VARIABLE
from talentbot.core.observability.logs import SALT_VARIABLE as LOG_SALT
from talentbot.core.observability.metrics import MULTIPROCESS_VARIABLE
from tests.deploy.validators import COMPOSE, DOCKERFILES, dclint, referenced_variables

FILES = [COMPOSE / "compose.yaml"]
SECRETS = {"RASA_AUTH_TOKEN", "ACTION_SERVER_TOKEN", "DB_PASSWORD", "POSTGRES_PASSWORD", "RABBITMQ_PASSWORD",
           "RABBITMQ_DEFAULT_PASS", "HANDOFF_DB_URL", LOG_SALT, ANALYTICS_SALT} | {
    name for spec in CHANNELS.values() for name in spec.required_env + spec.optional_env
    if not name.endswith("_API_BASE_URL")}


def load(path: Path) -> Dict[str, Any]:
    return dict(yaml.safe_load(path.read_text(encoding="utf-8")))  # PyYAML resolves the `<<` merges as compose does


@pytest.fixture(scope="module")
def services() -> Dict[str, Dict[str, Any]]:
    return dict(load(COMPOSE / "compose.yaml")["services"])


def test_the_compose_files_pass_the_compose_schema_and_dclint() -> None:
    result = dclint(*FILES)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("change, finding", [
    (lambda s: s.replace("    restart: unless-stopped\n", "    restart: unless-stopped\n    restart_policy: x\n", 1),
     "invalid-schema"),  # not a compose key
    (lambda s: s.replace("        condition: service_healthy\n", "        condition: service_ready\n", 1),
     "invalid-schema"),  # not a condition
    (lambda s: s.replace('"127.0.0.1:5005:5005"', '"5005:5005"'), "no-unbound-port-interfaces"),
    (lambda s: s.replace("image: postgres:16-bookworm", "image: postgres"), "service-image-require-explicit-tag"),
])
def test_a_deliberately_broken_compose_file_is_rejected(tmp_path: Path, change: Any, finding: str) -> None:
    text = (COMPOSE / "compose.yaml").read_text(encoding="utf-8")
    broken = change(text)
    assert broken != text
    path = tmp_path / "compose.yaml"
    path.write_text(broken, encoding="utf-8")
    result = dclint(path)
    assert result.returncode != 0
    assert finding in result.stdout


def _published(service: Dict[str, Any]) -> list[str]:
    return [str(port) for port in service.get("ports", [])]


def test_only_the_tls_proxy_is_public(services: Dict[str, Dict[str, Any]]) -> None:
    assert _published(services["proxy"]) == ["0.0.0.0:443:443"]
    assert _published(services["rasa"]) == ["127.0.0.1:5005:5005"]
    assert _published(services["console"]) == ["127.0.0.1:8080:8080"]
    assert _published(services["rabbitmq"]) == ["127.0.0.1:15672:15672"]  # its management UI; AMQP is not published
    for name in ("actions", "postgres", "redis", "prepare", "events", "purge"):
        assert _published(services[name]) == [], name


def test_the_proxy_passes_only_the_chat_paths() -> None:
    config = (COMPOSE / "nginx.conf.template").read_text(encoding="utf-8")
    locations = re.findall(r"location (\S+) \{([^}]*)\}", config)
    passed = {path: body for path, body in locations if "proxy_pass" in body}
    assert set(passed) == {"/webhooks/", "/socket.io/"}
    assert all("proxy_pass http://rasa:5005;" in body for body in passed.values())
    assert ("/", " return 404; ") in locations


def _environment(service: Dict[str, Any]) -> Dict[str, str]:
    return {name: str(value) for name, value in (service.get("environment") or {}).items()}


def test_secrets_come_from_the_env_file_only(services: Dict[str, Dict[str, Any]]) -> None:
    example = (COMPOSE / "talentbot.env.example").read_text(encoding="utf-8")
    documented = set(re.findall(r"^#?([A-Z][A-Z0-9_]+)=", example, re.MULTILINE))
    for path in FILES:
        for name, service in load(path)["services"].items():
            for variable, value in _environment(service).items():
                if variable in SECRETS:
                    assert "${" in value, (name, variable)  # interpolated from the env file, never written here
        for variable in re.findall(r"\$\{(\w+)", path.read_text(encoding="utf-8")):
            assert variable in documented, f"{variable} ({path.name}) is not in talentbot.env.example"


def test_the_rasa_server_gets_every_variable_its_endpoints_files_read(services: Dict[str, Dict[str, Any]]) -> None:
    rasa = _environment(services["rasa"])
    assert "command" not in services["rasa"]  # the image's: bot/endpoints.production.yml, the event broker included
    assert referenced_variables(paths.ENDPOINTS_PRODUCTION) <= set(rasa)
    assert rasa["ACTION_SERVER_URL"] == "http://actions:5055/webhook"
    assert rasa["CONNECTORS_STATE_URL"].startswith("redis://redis:6379/")
    assert rasa["RABBITMQ_HOST"] == "rabbitmq"


def test_the_events_consumer_reads_the_queue_the_rasa_server_publishes_to(services: Dict[str, Dict[str, Any]]) -> None:
    events, rasa = services["events"], _environment(services["rasa"])
    assert events["command"] == ["talentbot", "events", "consume", "--production"]
    assert events["image"] == services["console"]["image"] and events["build"] == services["console"]["build"]
    env = _environment(events)
    broker = {"event_broker": load(paths.ENDPOINTS_PRODUCTION)["event_broker"]}
    broker_variables = set(re.findall(r"\$\{(\w+)\}", yaml.safe_dump(broker)))
    assert broker_variables and all(env[name] == rasa[name] for name in broker_variables)
    assert env["HANDOFF_DB_URL"] == rasa["HANDOFF_DB_URL"]  # the analytics table is in the queue's database
    assert env[ANALYTICS_SALT] == rasa[ANALYTICS_SALT]
    assert events["deploy"]["replicas"] == "${EVENTS_CONSUMERS:-1}"
    assert {"postgres", "prepare", "rabbitmq"} <= set(events["depends_on"])


def test_the_spool_is_a_volume_the_purge_reaches_too(services: Dict[str, Dict[str, Any]]) -> None:
    """A volume: what RabbitMQ has not confirmed survives a new Rasa container (an image update); the daily purge
    (profile `purge`, run by cron) mounts it to delete old events, and purges the rest of the stores."""
    rasa, purge = services["rasa"], services["purge"]
    spool = _environment(rasa)[SPOOL_VARIABLE]
    assert _environment(purge)[SPOOL_VARIABLE] == spool
    folder = str(Path(spool).parent)
    assert f"events-spool:{folder}" in rasa["volumes"] and f"events-spool:{folder}" in purge["volumes"]
    assert "events-spool" in load(COMPOSE / "compose.yaml")["volumes"]
    assert purge["profiles"] == ["purge"] and purge["restart"] == "no"
    script = " ".join(purge["command"])
    assert "talentbot privacy purge --production" in script and "talentbot events purge --production" in script
    assert "$$?" in script  # compose would interpolate a single $
    assert {"HANDOFF_DB_URL", "CONNECTORS_STATE_URL", "REDIS_HOST", "TALENTBOT_RETENTION_DAYS",
            "TALENTBOT_ANALYTICS_TEXT_DAYS"} <= set(_environment(purge))
    cron = re.search(r"^#\s+(\S+ \S+ \S+ \S+ \S+) root (docker compose .*)$",
                     (COMPOSE / "compose.yaml").read_text(encoding="utf-8"), re.MULTILINE)
    assert cron and "--profile purge run --rm purge" in cron[2]


def test_every_server_adds_up_its_workers_metrics_and_logs_one_pseudonym(services: Dict[str, Dict[str, Any]]) -> None:
    for name in ("rasa", "actions", "console"):
        env = _environment(services[name])
        assert env[MULTIPROCESS_VARIABLE].startswith("/tmp/"), name  # writable in every image (the container's /tmp)
        assert env[LOG_SALT] == "${TALENTBOT_LOG_SALT:?set TALENTBOT_LOG_SALT in the env file}", name


def test_each_server_gets_what_it_needs_and_no_more(services: Dict[str, Dict[str, Any]]) -> None:
    channels = {name for spec in CHANNELS.values() for name in spec.required_env + spec.optional_env
                if not name.endswith("_API_BASE_URL")}
    for name in ("rasa", "console", "prepare"):  # channels start (rasa), reply (console), are listed (prepare)
        assert channels <= set(_environment(services[name])), name
    assert set(_environment(services["actions"])) == {"HANDOFF_DB_URL", "ACTION_SERVER_TOKEN", LOG_SALT,
                                                      MULTIPROCESS_VARIABLE}
    assert ANALYTICS_SALT not in _environment(services["console"])
    console = _environment(services["console"])
    assert console["RASA_URL"] == "http://rasa:5005"
    assert {"RASA_AUTH_TOKEN", "ACTION_SERVER_TOKEN", "HANDOFF_DB_URL", "CONNECTORS_STATE_URL"} <= set(console)
    assert set(_environment(services["postgres"])) == {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"}


def test_the_queue_database_is_the_tracker_store_database(services: Dict[str, Dict[str, Any]]) -> None:
    rasa = _environment(services["rasa"])
    expected = f"postgresql://{rasa['DB_USER']}:${{DB_PASSWORD:?set DB_PASSWORD in the env file}}@" \
               f"{rasa['DB_HOST']}:{rasa['DB_PORT']}/{rasa['DB_NAME']}"
    for name in ("rasa", "actions", "console", "prepare"):
        assert _environment(services[name])["HANDOFF_DB_URL"] == expected, name


def test_servers_are_built_from_the_dockerfiles_and_checked_for_readiness(services: Dict[str, Dict[str, Any]]) -> None:
    ports = {"rasa": 5005, "actions": 5055, "console": 8080}
    for name, port in ports.items():
        build = services[name]["build"]
        assert (COMPOSE / build["context"]).resolve() == paths.ROOT
        assert paths.ROOT / build["dockerfile"] == DOCKERFILES[name]
        assert f"http://127.0.0.1:{port}/ready" in " ".join(services[name]["healthcheck"]["test"])
        assert services[name]["init"] is True
    assert services["prepare"]["image"] == services["console"]["image"]
    assert services["prepare"]["command"] == ["talentbot", "serve", "prepare"]
    for name in ("rasa", "actions", "console"):
        assert services[name]["depends_on"]["prepare"] == {"condition": "service_completed_successfully"}
    mounts = services["rasa"]["volumes"]
    assert "talentbot-var:/opt/talentbot/var:ro" in mounts  # the credentials.yml prepare writes
