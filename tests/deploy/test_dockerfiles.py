"""deploy/docker: hadolint-clean, and built the way the project installs (Python 3.10 slim, requirements.lock with
--no-deps and the Makefile's installer pins, the project editable), run as a non-root user with a HEALTHCHECK on the
server's /health, and started with the command each server is started with elsewhere."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Dict, List

import pytest
from dockerfile_parse import DockerfileParser

from talentbot.core import paths
from tests.deploy.validators import DOCKERFILES, hadolint, hadolint_findings

COMMANDS = {
    "rasa": ["python", "-m", "talentbot.wiring.rasa_server", "run", "--model", "models", "--port", "5005",
             "--enable-api", "--endpoints", "bot/endpoints.production.yml", "--credentials", "var/credentials.yml"],
    "actions": ["python", "-m", "talentbot.rasa_plugins.action_server", "--actions", "actions", "--port", "5055"],
    "console": ["talentbot", "serve", "console"],
}
PORTS = {"rasa": 5005, "actions": 5055, "console": 8080}


def instructions(path: Path) -> List[Dict[str, Any]]:
    return list(DockerfileParser(path=str(path)).structure)


def makefile_bootstrap() -> str:
    found = re.search(r"^BOOTSTRAP := (.+)$", (paths.ROOT / "Makefile").read_text(encoding="utf-8"), re.M)
    assert found, "the Makefile's BOOTSTRAP line is gone"
    return found[1].strip()


def problems(path: Path, name: str) -> List[str]:
    """What is wrong with a server's Dockerfile, beyond hadolint's rules (empty: nothing)."""
    found = []
    steps = instructions(path)
    values = [(step["instruction"], step["value"]) for step in steps]
    froms = [value for instruction, value in values if instruction == "FROM"]
    if not froms or not re.fullmatch(r"python:3\.10(\.\d+)?-slim(-\w+)?", froms[-1]):
        found.append(f"base image must be python:3.10-slim, not {froms}")
    runs = " && ".join(value for instruction, value in values if instruction == "RUN")
    if makefile_bootstrap() not in runs:
        found.append(f"installer tools must be the Makefile's ({makefile_bootstrap()})")
    if not re.search(r"pip install (--no-cache-dir )?--no-deps -r requirements\.lock", runs):
        found.append("dependencies must come from requirements.lock with --no-deps")
    if not re.search(r"pip install (--no-cache-dir )?--no-deps -e \.", runs):
        found.append("the project must be installed editable with --no-deps (paths.ROOT is its folder)")
    users = [value for instruction, value in values if instruction == "USER"]
    if not users or users[-1].split(":")[0] in ("0", "root") or not users[-1].split(":")[0].isdigit():
        found.append(f"the server must run as a numeric non-root user, not {users}")
    healthchecks = [value for instruction, value in values if instruction == "HEALTHCHECK"]
    if len(healthchecks) != 1 or f"http://127.0.0.1:{PORTS[name]}/health" not in healthchecks[0]:
        found.append(f"one HEALTHCHECK asking http://127.0.0.1:{PORTS[name]}/health, not {healthchecks}")
    exposed = [value for instruction, value in values if instruction == "EXPOSE"]
    if exposed != [str(PORTS[name])]:
        found.append(f"EXPOSE {PORTS[name]}, not {exposed}")
    cmds = [value for instruction, value in values if instruction == "CMD"]
    if not cmds or not cmds[-1].startswith("[") or json.loads(cmds[-1]) != COMMANDS[name]:  # exec form
        found.append(f"CMD must be {COMMANDS[name]}, not {cmds}")
    return found


@pytest.mark.parametrize("name", list(DOCKERFILES))
def test_hadolint_finds_nothing(name: str) -> None:
    result = hadolint(DOCKERFILES[name])
    assert result.returncode == 0, result.stdout + result.stderr
    assert hadolint_findings(result) == []


@pytest.mark.parametrize("name", list(DOCKERFILES))
def test_each_image_installs_and_runs_as_the_project_does(name: str) -> None:
    assert problems(DOCKERFILES[name], name) == []


def test_the_three_images_share_their_dependency_layers() -> None:
    """The same instructions up to the project's install, so the three builds reuse one set of layers (in the final
    stage: the console's image builds its browser libraries in a stage of its own before it)."""
    prefixes = []
    for path in DOCKERFILES.values():
        steps = [(step["instruction"], step["value"]) for step in instructions(path)
                 if step["instruction"] != "COMMENT"]
        final = max(i for i, (instruction, _value) in enumerate(steps) if instruction == "FROM")
        steps = steps[final:]
        end = next(i for i, (instruction, value) in enumerate(steps) if instruction == "RUN" and "-e ." in value)
        prefixes.append(steps[: end + 1])
    assert prefixes[0] == prefixes[1] == prefixes[2]


def test_only_the_rasa_image_trains_a_model() -> None:
    for name, path in DOCKERFILES.items():
        trains = any("talentbot train" in step["value"] for step in instructions(path) if step["instruction"] == "RUN")
        assert trains == (name == "rasa")


def test_the_build_context_leaves_out_local_state() -> None:
    ignored = (paths.ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    for entry in (".git", ".venv", "models", "var", "trackers.db*", ".rasa"):
        assert entry in ignored
    for needed in ("bot", "nlu_data", "talentbot", "actions", "connectors", "requirements.lock", "pyproject.toml"):
        assert needed not in ignored


BROKEN = """\
FROM python:latest
RUN apt-get update && apt-get install -y curl
COPY . /app
RUN pip install rasa
USER root
CMD python -m talentbot.wiring.rasa_server run
"""


def test_a_deliberately_broken_dockerfile_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "rasa.Dockerfile"
    path.write_text(BROKEN, encoding="utf-8")
    result = hadolint(path)
    assert result.returncode != 0
    codes = {finding["code"] for finding in hadolint_findings(result)}
    assert {"DL3007", "DL3008", "DL3013", "DL3025"} <= codes  # :latest, unpinned apt and pip, shell-form CMD
    found = problems(path, "rasa")
    assert len(found) == 8, found


def test_a_dockerfile_that_is_not_one_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "console.Dockerfile"
    path.write_text("FORM python:3.10-slim\nRUN echo hi\n", encoding="utf-8")
    assert hadolint(path).returncode != 0
