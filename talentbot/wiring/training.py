"""Trains the Rasa model only when its inputs changed, keyed by a content hash of those inputs."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path
from typing import Iterable, Optional

from talentbot.core import paths

MODEL_PREFIX = "talentbot-"


def fingerprint(inputs: Iterable[Path] = paths.TRAINING_INPUTS) -> str:
    """SHA-256 over the relative paths and bytes of every file under `inputs` (caches excluded)."""
    digest = hashlib.sha256()
    for root in inputs:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for file in files:
            if "__pycache__" in file.parts or file.suffix == ".pyc":
                continue
            digest.update(str(file.relative_to(paths.ROOT)).encode())
            digest.update(b"\0")
            digest.update(file.read_bytes())
            digest.update(b"\0")
    return digest.hexdigest()[:16]


def model_path(fp: Optional[str] = None) -> Path:
    return paths.MODELS / f"{MODEL_PREFIX}{fp or fingerprint()}.tar.gz"


def ensure_model(force: bool = False) -> Path:
    """Returns the model for the current inputs, training it first if it is not in `models/` yet."""
    target = model_path()
    if target.exists() and not force:
        print(f"Model is up to date: {target.relative_to(paths.ROOT)}", flush=True)
        return target
    print(f"Training {target.relative_to(paths.ROOT)} (inputs changed or no model yet)...", flush=True)
    command = [
        sys.executable, "-m", "rasa", "train",
        "--config", str(paths.CONFIG),
        "--domain", str(paths.DOMAIN),
        "--data", str(paths.NLU_DATA), str(paths.DIALOGUE_DATA),
        "--out", str(paths.MODELS),
        "--fixed-model-name", target.name[: -len(".tar.gz")],
    ]
    subprocess.run(command, cwd=paths.ROOT, check=True)
    if not target.exists():
        raise RuntimeError(f"rasa train finished but {target} is missing")
    return target
