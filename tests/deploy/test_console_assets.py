"""The staff console's browser libraries (Chart.js for the insights page): pinned by a lock file, installed at build
time (`make console-assets`, the console's Docker build stage) with their licences, never committed."""

from __future__ import annotations

import json
import re

from dockerfile_parse import DockerfileParser

from talentbot.core import paths
from tests.deploy.validators import DOCKERFILES

VENDOR = paths.ROOT / "talentbot" / "console" / "vendor"
ASSETS = "talentbot/console/static/assets/vendor"


def test_chart_js_is_pinned_to_one_4x_version() -> None:
    wanted = json.loads((VENDOR / "package.json").read_text(encoding="utf-8"))["dependencies"]["chart.js"]
    lock = json.loads((VENDOR / "package-lock.json").read_text(encoding="utf-8"))
    locked = lock["packages"]["node_modules/chart.js"]
    assert re.fullmatch(r"4\.\d+\.\d+", wanted) and locked["version"] == wanted
    assert locked["license"] == "MIT" and locked["integrity"].startswith("sha512-")
    assert all(entry.get("integrity") for name, entry in lock["packages"].items() if name)


def test_the_console_image_builds_them_in_a_stage_of_its_own() -> None:
    steps = [(step["instruction"], step["value"]) for step in
             DockerfileParser(path=str(DOCKERFILES["console"])).structure if step["instruction"] != "COMMENT"]
    froms = [value for instruction, value in steps if instruction == "FROM"]
    assert len(froms) == 2 and re.fullmatch(r"node:\d+[\w.-]* AS console-assets", froms[0])
    stage = steps[: [i for i, (instruction, _) in enumerate(steps) if instruction == "FROM"][1]]
    copied = " ".join(value for instruction, value in stage if instruction == "COPY")
    assert "talentbot/console/vendor/package-lock.json" in copied
    run = " ".join(value for instruction, value in stage if instruction == "RUN")
    assert "npm ci" in run and "--ignore-scripts" in run and "chart.umd.js" in run and "LICENSE.md" in run
    final = [value for instruction, value in steps if instruction == "COPY" and "--from=console-assets" in value]
    assert final == [f"--from=console-assets /build/vendor/ {ASSETS}/"]


def test_the_make_target_copies_the_library_and_its_licence_and_git_leaves_them_out() -> None:
    makefile = (paths.ROOT / "Makefile").read_text(encoding="utf-8")
    for target in ("run", "test", "test-unit"):
        assert re.search(rf"^{target}: .*console-assets", makefile, re.M)
    assert "node_modules/chart.js/dist/chart.umd.js" in makefile and "node_modules/chart.js/LICENSE.md" in makefile
    assert f"/{ASSETS}/" in (paths.ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
