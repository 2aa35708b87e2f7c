"""The layers point inward only (ARCHITECTURE.md).

`talentbot.core` is pure; the edges (`talentbot.rasa_plugins`, `talentbot.console`, `connectors`, `actions`) adapt
it and do not import one another; `talentbot.wiring` assembles them; `tools` may use anything. Every import in
every module counts, including those inside functions, so a cycle cannot hide behind a late import.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Iterator, Optional

import pytest

from talentbot.core import paths

EDGES = ("talentbot.rasa_plugins", "talentbot.console", "connectors", "actions")
MAY_IMPORT: dict[str, tuple[str, ...]] = {
    "talentbot.core": ("talentbot.core",),
    **{edge: ("talentbot.core", edge) for edge in EDGES},
    "talentbot.wiring": ("talentbot.core", *EDGES, "talentbot.wiring"),
    "tools": ("talentbot", "connectors", "actions", "tools"),
}
"""Which of our layers each layer may import (its own included)."""

FRAMEWORKS = ("rasa", "rasa_sdk", "sanic", "aiohttp", "socketio", "telegram", "wechatpy", "httpx", "websockets",
              "redis.asyncio")
"""What the pure core must not import: the frameworks and network clients the edges adapt it to."""

OURS = ("talentbot", "connectors", "actions", "tools")
SOURCE_DIRS = ("talentbot", "connectors", "actions", "tools")


def layer_of(module: str) -> Optional[str]:
    """The layer a dotted module name belongs to (the longest matching prefix), None for the bare `talentbot`."""
    for name in sorted(MAY_IMPORT, key=len, reverse=True):
        if module == name or module.startswith(name + "."):
            return name
    return None


def _within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes)


def imported_modules(source: str, module: str, is_package: bool) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) for every import statement in `source`, wherever it is in the file."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = module.split(".")
                anchor = parts if is_package else parts[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            yield node.lineno, base
            if layer_of(base) is None:  # `from talentbot import wiring` imports a layer by its name
                for alias in node.names:
                    yield node.lineno, f"{base}.{alias.name}"


def violations(source: str, module: str, is_package: bool = False) -> list[str]:
    """The wrong-way imports of one module, as readable lines (empty when it keeps to its layer)."""
    layer = layer_of(module)
    if layer is None:
        return []
    found = []
    for line, target in imported_modules(source, module, is_package):
        if _within(target, OURS):
            target_layer = layer_of(target)
            if target_layer is not None and not _within(target_layer, MAY_IMPORT[layer]):
                found.append(f"{module}:{line} imports {target} ({layer} may import {', '.join(MAY_IMPORT[layer])})")
        elif layer == "talentbot.core" and _within(target, FRAMEWORKS):
            found.append(f"{module}:{line} imports {target} (the core imports no framework)")
    return sorted(set(found))


def project_modules() -> Iterator[tuple[Path, str, bool]]:
    for folder in SOURCE_DIRS:
        for path in sorted((paths.ROOT / folder).rglob("*.py")):
            if "migrations" in path.parts:
                continue  # Alembic scripts, loaded by Alembic, not imported
            parts = list(path.relative_to(paths.ROOT).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            if is_package:
                parts = parts[:-1]
            yield path, ".".join(parts), is_package


def test_every_layer_imports_only_inward():
    found = [problem for path, module, is_package in project_modules()
             for problem in violations(path.read_text(encoding="utf-8"), module, is_package)]
    assert found == []


def test_every_source_module_belongs_to_a_layer():
    loose = [module for _path, module, _pkg in project_modules() if layer_of(module) is None and module != "talentbot"]
    assert loose == []


@pytest.mark.parametrize("module,source", [
    ("talentbot.core.handoff.service", "from connectors.outbound import send_text"),
    ("talentbot.core.language", "def late():\n    import rasa.shared.nlu.constants\n"),
    ("talentbot.core.qbank.index", "from aiohttp import web"),
    ("connectors.webchat", "from talentbot.console.rasa_api import TOKEN_VARIABLE"),
    ("talentbot.rasa_plugins.action_call", "from connectors.inbound import Refusal"),
    ("talentbot.console.web", "from talentbot import wiring"),
    ("actions.answers", "from talentbot.rasa_plugins.nlu import question_bank"),
    ("talentbot.core.content.render", "from ...wiring import cli"),
])
def test_a_wrong_way_import_is_reported(module: str, source: str):
    assert violations(source, module) != []


@pytest.mark.parametrize("module,source", [
    ("talentbot.core.qbank.index", "from talentbot.core.qbank.text import words\nimport numpy"),
    ("talentbot.core.content.render", "from .model import Answer\nfrom ..language import detect"),
    ("connectors.rest", "from talentbot.core.inbound import clean_text\nfrom rasa.core.channels import rest"),
    ("talentbot.wiring.devserver", "from connectors import registry\nfrom talentbot.rasa_plugins import action_server"),
    ("tools.bench.main", "from talentbot.wiring.devserver import ServerSet"),
])
def test_an_inward_import_is_allowed(module: str, source: str):
    assert violations(source, module) == []
