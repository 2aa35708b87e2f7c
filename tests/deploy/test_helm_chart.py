"""deploy/helm/talentbot: rendered by Helm's engine without a cluster, every manifest valid against the Kubernetes
schemas (strict), and wired the way the code expects (probes, secrets, variables, channels, exposure)."""

from __future__ import annotations

import copy
import re
import shutil
from pathlib import Path
from typing import Any, Dict, List

import pytest
import yaml

from connectors.registry import CHANNELS
from talentbot.core import paths
from talentbot.core.analytics.identity import SALT_VARIABLE as ANALYTICS_SALT
from talentbot.core.analytics.spool import SPOOL_VARIABLE
from talentbot.core.observability.logs import SALT_VARIABLE as LOG_SALT
from talentbot.core.observability.metrics import MULTIPROCESS_VARIABLE
from talentbot.wiring.devserver import credentials_for
from tests.deploy.validators import (
    CHART,
    DOCKERFILES,
    EVERYTHING_ON,
    REQUIRED_VALUES,
    HelmFailure,
    by_kind,
    component,
    containers,
    env_names,
    helm_lint,
    manifests,
    pod_spec,
    referenced_variables,
    render_chart,
    schema_errors,
)

VALUE_SETS = {"defaults": REQUIRED_VALUES, "everything on": EVERYTHING_ON}
PORTS = {"rasa": 5005, "actions": 5055, "console": 8080}
SALTS = {LOG_SALT: "log-salt", ANALYTICS_SALT: "analytics-salt"}
SECRET_VARIABLES = {"RASA_AUTH_TOKEN", "ACTION_SERVER_TOKEN", "DB_PASSWORD", "RABBITMQ_PASSWORD", *SALTS} | {
    name for spec in CHANNELS.values() for name in spec.required_env + spec.optional_env
    if not name.endswith("_API_BASE_URL")
}
"""Variables that must only ever come from the Secret (the *_API_BASE_URL ones point channels at test fakes)."""


@pytest.fixture(scope="module", params=list(VALUE_SETS))
def objects(request: pytest.FixtureRequest) -> List[Dict[str, Any]]:
    return manifests(render_chart(VALUE_SETS[request.param]))


@pytest.fixture(scope="module")
def everything() -> List[Dict[str, Any]]:
    return manifests(render_chart(EVERYTHING_ON))


def test_the_chart_lints_clean() -> None:
    report = helm_lint(REQUIRED_VALUES)
    assert report["errors"] == []
    assert [m for m in report["messages"] if m["severity"] >= 2] == []  # 1 is info ("icon is recommended")


def test_every_rendered_manifest_is_a_valid_kubernetes_object(objects: List[Dict[str, Any]]) -> None:
    assert objects
    assert [error for error in map(schema_errors, objects) if error] == []


def test_the_release_has_a_deployment_service_and_disruption_budget_per_component(
        objects: List[Dict[str, Any]]) -> None:
    for kind in ("Deployment", "PodDisruptionBudget"):
        assert sorted(component(item) for item in by_kind(objects, kind).values()) == [
            "actions", "console", "events", "rasa"]
    # a Service per server; the events consumers listen on nothing
    assert sorted(component(item) for item in by_kind(objects, "Service").values()) == ["actions", "console", "rasa"]
    assert [component(item) for item in by_kind(objects, "Job").values()] == ["prepare"]
    assert [component(item) for item in by_kind(objects, "CronJob").values()] == ["purge"]
    assert by_kind(objects, "Secret") == {}  # secrets are the operator's Secret, never rendered from values


def test_a_deliberately_invalid_manifest_is_rejected(everything: List[Dict[str, Any]]) -> None:
    deployment = next(iter(by_kind(everything, "Deployment").values()))
    broken = []
    wrong_type = copy.deepcopy(deployment)
    wrong_type["spec"]["replicas"] = "two"
    broken.append(wrong_type)
    misspelt = copy.deepcopy(deployment)
    misspelt["spec"]["template"]["spec"]["containers"][0]["livenessProbes"] = {"httpGet": {"path": "/health"}}
    broken.append(misspelt)
    no_image = copy.deepcopy(deployment)
    no_image["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "http"
    broken.append(no_image)
    service = copy.deepcopy(next(iter(by_kind(everything, "Service").values())))
    service["spec"]["ports"][0]["protocol"] = 17
    broken.append(service)
    for manifest in broken:
        assert schema_errors(manifest) is not None, manifest


def test_a_chart_template_producing_an_invalid_manifest_fails_validation(tmp_path: Path) -> None:
    chart = tmp_path / "talentbot"
    shutil.copytree(CHART, chart, symlinks=False)  # resolves files/ links
    (chart / "templates" / "broken.yaml").write_text(
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: broken\nspec:\n  ports:\n"
        "    - port: {{ .Values.rasa.port }}\n      targetPort: http\n      protocoll: TCP\n", encoding="utf-8")
    errors = [error for error in map(schema_errors, manifests(render_chart(REQUIRED_VALUES, chart))) if error]
    assert len(errors) == 1 and "protocoll" in errors[0]


@pytest.mark.parametrize("bad", [
    {"rasa": {"replicaCount": "two"}},
    {"ingres": {"enabled": True}},
    {"actions": {"readinessProbe": {"httpGet": {"path": "ready", "port": "http"}}}},
    {"postgresql": {"port": "five"}},
])
def test_values_that_break_the_schema_are_refused(bad: Dict[str, Any]) -> None:
    with pytest.raises(HelmFailure) as refused:
        render_chart({**REQUIRED_VALUES, **bad})
    assert refused.value.kind == "HelmValuesError"


@pytest.mark.parametrize("missing", ["existingSecret", "postgresql", "redis", "rabbitmq"])
def test_a_release_without_its_secret_or_stores_is_refused(missing: str) -> None:
    values = {key: value for key, value in REQUIRED_VALUES.items() if key != missing}
    with pytest.raises(HelmFailure, match="is required") as refused:
        render_chart(values)
    assert refused.value.kind == "HelmRenderError"


def test_probes_ask_health_for_liveness_and_ready_for_readiness(objects: List[Dict[str, Any]]) -> None:
    for name, _pod, container in containers(objects):
        if name not in PORTS:  # the prepare Job, the events consumers and the purge answer no HTTP
            assert "ports" not in container and "livenessProbe" not in container, name
            continue
        assert container["ports"] == [{"name": "http", "containerPort": PORTS[name], "protocol": "TCP"}]
        assert container["livenessProbe"]["httpGet"] == {"path": "/health", "port": "http"}
        assert container["startupProbe"]["httpGet"] == {"path": "/health", "port": "http"}
        assert container["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "http"}
        assert container["resources"]["requests"] and container["resources"]["limits"]


def test_pods_run_as_the_images_non_root_user_without_an_api_token(objects: List[Dict[str, Any]]) -> None:
    for _name, pod, container in containers(objects):
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == 10001
        assert pod["automountServiceAccountToken"] is False
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]


def test_secrets_come_only_from_the_existing_secret(objects: List[Dict[str, Any]]) -> None:
    for _name, _pod, container in containers(objects):
        for variable in container.get("env", []):
            if variable["name"] in SECRET_VARIABLES or variable["name"] == "HANDOFF_DB_URL" and "valueFrom" in variable:
                assert set(variable) == {"name", "valueFrom"}, variable
                assert variable["valueFrom"]["secretKeyRef"]["name"] == "talentbot"


def test_variables_built_from_others_come_after_them(objects: List[Dict[str, Any]]) -> None:
    """Kubernetes expands $(VAR) only from variables defined earlier in the list."""
    for _name, _pod, container in containers(objects):
        names = env_names(container)
        for index, variable in enumerate(container.get("env", [])):
            for reference in re.findall(r"\$\((\w+)\)", variable.get("value", "")):
                assert reference in names[:index], (variable["name"], reference)


def _rasa(objects: List[Dict[str, Any]]) -> Dict[str, Any]:
    return next(container for name, _pod, container in containers(objects) if name == "rasa")


def test_the_rasa_server_gets_every_variable_its_endpoints_file_reads(objects: List[Dict[str, Any]]) -> None:
    rasa = _rasa(objects)
    endpoints = rasa["command"][rasa["command"].index("--endpoints") + 1]
    assert endpoints == "bot/endpoints.production.yml"  # the image's own: the event broker included
    missing = referenced_variables(paths.ROOT / endpoints) - set(env_names(rasa))
    assert not missing
    assert {"HANDOFF_DB_URL", "CONNECTORS_STATE_URL", "RASA_AUTH_TOKEN"} <= set(env_names(rasa))


def _env(container: Dict[str, Any]) -> Dict[str, Dict[str, Any]]:
    return {variable["name"]: variable for variable in container.get("env", [])}


def _volume_at(pod: Dict[str, Any], container: Dict[str, Any], path: str) -> Dict[str, Any]:
    """The pod volume mounted at `path` (or at the folder holding it) in the container."""
    mounts = {mount["mountPath"]: mount for mount in container.get("volumeMounts", [])}
    folder = path if path in mounts else str(Path(path).parent)
    volumes = {volume["name"]: volume for volume in pod.get("volumes", [])}
    return dict(volumes[mounts[folder]["name"]])


def test_every_rasa_pod_spools_events_in_an_emptydir_of_its_own(everything: List[Dict[str, Any]]) -> None:
    """values.yaml rasa.eventsSpool says why an emptyDir (and not a StatefulSet's volume claim per pod)."""
    pod, rasa = next((pod, container) for name, pod, container in containers(everything) if name == "rasa")
    spool = _env(rasa)[SPOOL_VARIABLE]["value"]
    assert spool.endswith(".sqlite3")
    assert _volume_at(pod, rasa, spool)["emptyDir"] == {"sizeLimit": "2Gi"}
    assert by_kind(everything, "StatefulSet") == {}


def test_every_server_adds_up_its_workers_metrics_in_an_emptydir(objects: List[Dict[str, Any]]) -> None:
    for name, pod, container in containers(objects):
        if name not in PORTS:
            assert MULTIPROCESS_VARIABLE not in _env(container), name
            continue
        folder = _env(container)[MULTIPROCESS_VARIABLE]["value"]
        assert _volume_at(pod, container, folder)["emptyDir"] == {}, name


def test_the_salts_come_from_the_secret_only_and_are_never_optional(objects: List[Dict[str, Any]]) -> None:
    needs = {"rasa": {LOG_SALT, ANALYTICS_SALT}, "actions": {LOG_SALT}, "console": {LOG_SALT},
             "events": {ANALYTICS_SALT}, "prepare": set(), "purge": set()}
    for name, _pod, container in containers(objects):
        env = _env(container)
        assert set(SALTS) & set(env) == needs[name], name
        for variable in set(SALTS) & set(env):
            assert env[variable]["valueFrom"] == {"secretKeyRef": {"name": "talentbot", "key": SALTS[variable]}}
    values = yaml.safe_load((CHART / "values.yaml").read_text(encoding="utf-8"))
    assert values["secretKeys"]["logSalt"] == "log-salt" and values["secretKeys"]["analyticsSalt"] == "analytics-salt"


def referenced_variables_of(section: Dict[str, Any]) -> set[str]:
    return set(re.findall(r"\$\{(\w+)\}", yaml.safe_dump(section)))


def test_the_events_consumers_read_the_queue_the_rasa_server_publishes_to(everything: List[Dict[str, Any]]) -> None:
    deployment = by_kind(everything, "Deployment")["talentbot-events"]
    assert deployment["spec"]["replicas"] == 3
    [consumer] = pod_spec(deployment)["containers"]
    assert consumer["command"] == ["talentbot", "events", "consume", "--production"]
    env, rasa = _env(consumer), _env(_rasa(everything))
    broker = yaml.safe_load(paths.ENDPOINTS_PRODUCTION.read_text(encoding="utf-8"))["event_broker"]
    for variable in referenced_variables_of(broker):
        assert env[variable] == rasa[variable], variable  # the same RabbitMQ, exchange and queue as the publisher
    assert env["RABBITMQ_EXCHANGE"]["value"] == "talent_events" and env["RABBITMQ_QUEUE"]["value"] == "talent_analytics"
    assert env["HANDOFF_DB_URL"] == rasa["HANDOFF_DB_URL"]  # the analytics table is in the queue's database
    assert {"RASA_AUTH_TOKEN", "ACTION_SERVER_TOKEN", "TELEGRAM_TOKEN"}.isdisjoint(env)


def test_a_daily_cronjob_runs_both_purges_with_the_retention_of_the_values(everything: List[Dict[str, Any]]) -> None:
    cronjob = by_kind(everything, "CronJob")["talentbot-purge"]["spec"]
    assert (cronjob["schedule"], cronjob["timeZone"], cronjob["concurrencyPolicy"]) == (
        "0 3 * * *", "Asia/Hong_Kong", "Forbid")
    [purge] = pod_spec(by_kind(everything, "CronJob")["talentbot-purge"])["containers"]
    script = " ".join(purge["command"])
    assert "talentbot privacy purge --production" in script and "talentbot events purge --production" in script
    env = _env(purge)
    assert env["TALENTBOT_RETENTION_DAYS"]["value"] == "120" and env["TALENTBOT_ANALYTICS_TEXT_DAYS"]["value"] == "60"
    assert {"HANDOFF_DB_URL", "DB_HOST", "REDIS_HOST", "CONNECTORS_STATE_URL"} <= set(env)  # every store it purges
    switched_off = manifests(render_chart({**REQUIRED_VALUES, "purge": {"enabled": False}}))
    assert by_kind(switched_off, "CronJob") == {}


def test_the_console_reaches_the_rasa_server_and_the_queue(objects: List[Dict[str, Any]]) -> None:
    console = next(container for name, _pod, container in containers(objects) if name == "console")
    env = {variable["name"]: variable for variable in console["env"]}
    assert env["RASA_URL"]["value"] == "http://talentbot-rasa:5005"
    assert {"RASA_AUTH_TOKEN", "ACTION_SERVER_TOKEN", "HANDOFF_DB_URL", "CONNECTORS_STATE_URL"} <= set(env)
    assert env["STAFF_CONSOLE_SECURE_COOKIE"]["value"] == "1"


def test_the_action_server_gets_its_token_and_the_queue_only(objects: List[Dict[str, Any]]) -> None:
    actions = next(container for name, _pod, container in containers(objects) if name == "actions")
    assert {"ACTION_SERVER_TOKEN", "HANDOFF_DB_URL"} <= set(env_names(actions))
    assert not {"RASA_AUTH_TOKEN", "TELEGRAM_TOKEN", "WECHAT_APP_SECRET"} & set(env_names(actions))
    rasa = _rasa(objects)
    url = next(v["value"] for v in rasa["env"] if v["name"] == "ACTION_SERVER_URL")
    assert url == "http://talentbot-actions:5055/webhook"


def test_enabled_channels_get_exactly_the_secrets_connectors_registry_reads(everything: List[Dict[str, Any]]) -> None:
    for name, _pod, container in containers(everything):
        if name not in ("rasa", "console"):
            continue
        secrets = {v["name"]: v["valueFrom"]["secretKeyRef"] for v in container["env"] if "valueFrom" in v}
        for spec in CHANNELS.values():
            for variable in spec.required_env:
                assert secrets[variable] == {"name": "talentbot", "key": variable.lower().replace("_", "-")}
            for variable in spec.optional_env:
                if not variable.endswith("_API_BASE_URL"):
                    assert secrets[variable]["optional"] is True


def _credentials(objects: List[Dict[str, Any]]) -> Dict[str, Any]:
    config = by_kind(objects, "ConfigMap")["talentbot-rasa"]
    return dict(yaml.safe_load(config["data"]["credentials.yml"]))


def test_the_channels_file_is_the_one_talentbot_serve_prepare_writes(everything: List[Dict[str, Any]]) -> None:
    all_secrets = {name: "x" for spec in CHANNELS.values() for name in spec.required_env}
    assert _credentials(everything) == credentials_for(all_secrets)
    assert _credentials(manifests(render_chart(REQUIRED_VALUES))) == credentials_for({})


def test_the_rasa_server_reads_its_channels_from_the_configmap(everything: List[Dict[str, Any]]) -> None:
    config = by_kind(everything, "ConfigMap")["talentbot-rasa"]
    assert set(config["data"]) == {"credentials.yml"}
    rasa = _rasa(everything)
    assert rasa["command"][rasa["command"].index("--credentials") + 1] == "/etc/talentbot/credentials.yml"
    mounts = {mount["mountPath"]: mount for mount in rasa["volumeMounts"]}
    assert mounts["/etc/talentbot"]["readOnly"] is True


def test_only_the_chat_paths_are_public_and_the_console_stays_internal(everything: List[Dict[str, Any]]) -> None:
    for item in by_kind(everything, "Service").values():
        assert item["spec"]["type"] == "ClusterIP"
    ingresses = by_kind(everything, "Ingress")
    public = ingresses["talentbot-rasa"]["spec"]
    assert public["ingressClassName"] == "public"
    routes = [(path["path"], path["backend"]["service"]["name"]) for rule in public["rules"]
              for path in rule["http"]["paths"]]
    assert routes == [("/webhooks/", "talentbot-rasa"), ("/socket.io/", "talentbot-rasa")]
    assert ingresses["talentbot-console"]["spec"]["ingressClassName"] == "internal"
    assert set(ingresses) == {"talentbot-rasa", "talentbot-console"}
    default = manifests(render_chart(REQUIRED_VALUES))
    assert by_kind(default, "Ingress") == {}  # nothing public unless asked for


def test_only_the_rasa_server_may_call_the_action_server(everything: List[Dict[str, Any]]) -> None:
    policy = by_kind(everything, "NetworkPolicy")["talentbot-actions"]["spec"]
    assert policy["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "actions"
    [rule] = policy["ingress"]
    assert rule["from"] == [{"podSelector": {"matchLabels": {
        "app.kubernetes.io/name": "talentbot", "app.kubernetes.io/instance": "talentbot",
        "app.kubernetes.io/component": "rasa"}}}]


def test_images_and_commands_are_the_dockerfiles(everything: List[Dict[str, Any]]) -> None:
    from dockerfile_parse import DockerfileParser

    for name, _pod, container in containers(everything):
        image = "console" if name in ("prepare", "events", "purge") else name  # one image for the CLI's commands
        assert container["image"] == f"registry.example.gov.hk/talentbot/talentbot-{image}:1.2.3"
        if name == "prepare":
            assert container["command"] == ["talentbot", "serve", "prepare"]
            continue
        if name not in DOCKERFILES:  # the consumers and the purge: above
            continue
        parser = DockerfileParser(path=str(DOCKERFILES[name]))
        cmd = yaml.safe_load(next(i["value"] for i in parser.structure if i["instruction"] == "CMD"))
        command = container["command"]
        if name == "rasa":  # this release's channels and endpoints files instead of the image's defaults
            cmd = cmd[:cmd.index("--endpoints")]
            command = command[:command.index("--endpoints")]
        if name == "console":
            cmd = [*cmd, "--console-port", "8080"]
        assert command == cmd
