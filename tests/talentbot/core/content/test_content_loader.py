"""The editor's check: broken content is refused at load time with every problem named."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from talentbot.core.content.loader import DEFAULT_DIR, ContentError, load_content


@pytest.fixture()
def draft(tmp_path: Path) -> Path:
    """A copy of the shipped content an editor can break."""
    folder = tmp_path / "content"
    shutil.copytree(DEFAULT_DIR, folder)
    return folder


def _edit(folder: Path, file: str, key: str, change) -> None:
    path = folder / file
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(next(e for e in data["entries"] if e["key"] == key))
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda e: e["summary"].pop("zh-Hans"), "summary lacks zh-Hans"),
        (lambda e: e.pop("source"), "has no source"),
        (lambda e: e.update(as_of=None), "malformed field"),
        (lambda e: e["summary"].update(en="x" * 601), "en summary has 601 characters"),
        (lambda e: e["summary"].update({"zh-Hant": "字" * 301}), "zh-Hant summary has 301 characters"),
        (lambda e: e.update(scheme="XYZ"), "unknown scheme"),
        (lambda e: e.pop("more"), "no `more` part"),
    ],
)
def test_broken_entry_is_refused_with_its_key(draft: Path, change, problem: str) -> None:
    _edit(draft, "schemes.yml", "schemes.TTPS", change)
    with pytest.raises(ContentError) as error:
        load_content(draft)
    assert any("schemes.TTPS" in p and problem in p for p in error.value.problems), error.value.problems


def test_unverified_fact_without_confirm_wording_is_refused(draft: Path) -> None:
    def drop_confirm(entry: dict) -> None:
        entry["more"]["en"] = "Category C has a quota of 10,000."

    _edit(draft, "schemes.yml", "schemes.TTPS", drop_confirm)
    with pytest.raises(ContentError, match="en states UNVERIFIED facts"):
        load_content(draft)


def test_removed_scheme_answer_is_a_coverage_problem(draft: Path) -> None:
    path = draft / "processing.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["entries"] = [e for e in data["entries"] if e["key"] != "processing.TechTAS"]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ContentError, match="no answer for ask_processing_time × TechTAS"):
        load_content(draft)


def test_editor_change_is_served_without_code_change(draft: Path) -> None:
    _edit(draft, "processing.yml", "processing.TTPS", lambda e: e["summary"].update(en="Edited answer."))
    assert load_content(draft).entry("processing.TTPS").summary["en"] == "Edited answer."


def test_wrapped_chinese_lines_are_joined_without_spaces() -> None:
    text = load_content(DEFAULT_DIR).entry("schemes.TTPS").summary["zh-Hant"]
    assert "。 " not in text and "， " not in text


def test_more_cues_missing_a_language_are_refused(draft: Path) -> None:
    path = draft / "ui.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    del data["more_cues"]["zh-Hant"]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ContentError, match="more_cues: no cues for zh-Hant"):
        load_content(draft)
