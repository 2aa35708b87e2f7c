"""The model is retrained only when its inputs change: the fingerprint is a content hash."""

from pathlib import Path

from talentbot.core import paths
from talentbot.wiring.training import fingerprint, model_path


def make_inputs(root: Path) -> list:
    (root / "data").mkdir()
    (root / "data" / "nlu.yml").write_text("nlu: []\n")
    (root / "config.yml").write_text("recipe: default.v1\n")
    return [root / "config.yml", root / "data"]


def test_same_content_same_fingerprint(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(paths, "ROOT", tmp_path)
    inputs = make_inputs(tmp_path)
    assert fingerprint(inputs) == fingerprint(inputs)


def test_any_change_changes_the_fingerprint(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(paths, "ROOT", tmp_path)
    inputs = make_inputs(tmp_path)
    before = fingerprint(inputs)
    (tmp_path / "data" / "nlu.yml").write_text("nlu: [x]\n")
    edited = fingerprint(inputs)
    (tmp_path / "data" / "more.yml").write_text("")
    added = fingerprint(inputs)
    assert len({before, edited, added}) == 3


def test_caches_do_not_count(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(paths, "ROOT", tmp_path)
    inputs = make_inputs(tmp_path)
    before = fingerprint(inputs)
    (tmp_path / "data" / "__pycache__").mkdir()
    (tmp_path / "data" / "__pycache__" / "x.cpython-310.pyc").write_bytes(b"\0")
    assert fingerprint(inputs) == before


def test_model_file_is_named_after_the_fingerprint() -> None:
    assert model_path("abc123").name == "talentbot-abc123.tar.gz"
