"""`talentbot review export` (talentbot.core.analytics.review_export, talentbot.wiring.review_export_cli): Rasa NLU
YAML for intents, the bank's own files with the new questions in place, the content gaps; only accepted members,
no repeats, never into bot/ or nlu_data/."""

from __future__ import annotations

import argparse
import datetime as dt
import io
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import pytest
import yaml

from talentbot.core import paths
from talentbot.core.analytics.review import CONTENT_GAP, DISMISSED, PARAPHRASE, Decision, Example, ReviewStore
from talentbot.core.analytics.review_export import (
    build,
    gazetteer_from_lookups,
    merged_bank_file,
    nlu_line,
    nlu_texts,
)
from talentbot.core.qbank.loader import read_bank
from talentbot.core.qbank.validate import validate
from talentbot.wiring import review_export_cli

TODAY = dt.date(2026, 12, 1)
WHEN = dt.datetime(2026, 12, 1, 8, tzinfo=dt.timezone.utc)


def _yaml(path: Path) -> object:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def project() -> Tuple[object, dict, object, dict]:
    bank, _ = read_bank(paths.QUESTIONS)
    existing = nlu_texts(_yaml(p) for p in sorted(paths.NLU_DATA.glob("*.yml")))
    names = gazetteer_from_lookups(_yaml(p) for p in sorted((paths.NLU_DATA / "lookups").glob("*.yml")))
    files = {p.name: p.read_text(encoding="utf-8") for p in sorted(paths.QUESTIONS.glob("*.yml"))}
    return bank, existing, names, files


def decision(number: int, status: str = PARAPHRASE, kind: Optional[str] = "intent",
             target: Optional[str] = "ask_living_info", note: Optional[str] = None) -> Decision:
    return Decision(number, f"g{number}", "s" * 64, status, kind if status == PARAPHRASE else None,
                    target if status == PARAPHRASE else None, note, 3, {"en": 2, "zh-Hant": 1}, "sue", WHEN)


def examples(*texts: str, language: Optional[str] = None, accepted: bool = True) -> List[Example]:
    return [Example(100 + i, text, language, accepted) for i, text in enumerate(texts)]


def run(project, accepted: Sequence[Tuple[Decision, Sequence[Example]]]):
    bank, existing, names, files = project
    return build(accepted, bank.entries, existing, names, files, TODAY)


def test_paraphrases_of_an_intent_become_rasa_nlu_yaml_per_language(project) -> None:
    result = run(project, [(decision(1), examples("Can I bring my dog to Hong Kong on TTPS?", "How do I move my cat",
                                                  language="en")
                            + examples("可唔可以帶隻狗嚟香港", language=None))])
    english = yaml.safe_load(result.files["nlu_data/review-en.yml"])
    assert english["version"] == "3.1"
    assert english["nlu"] == [{"intent": "ask_living_info", "examples":
                               "- Can I bring my dog to Hong Kong on [TTPS](scheme)?\n- How do I move my cat\n"}]
    chinese = yaml.safe_load(result.files["nlu_data/review-zh-Hant.yml"])  # the language told from the text
    assert chinese["nlu"][0]["examples"] == "- 可唔可以帶隻狗嚟香港\n"
    assert "#1" in result.files["nlu_data/review-en.yml"] and result.nlu_examples == 3


def test_rasa_reads_the_examples_with_their_entities(project, tmp_path: Path) -> None:
    from rasa.shared.nlu.training_data.loading import load_data

    result = run(project, [(decision(1), examples("Is [number](approx) too old for 高才通?", "my [number][phone] ok",
                                                  language="en"))])
    path = tmp_path / "review-en.yml"
    path.write_text(result.files["nlu_data/review-en.yml"], encoding="utf-8")
    data = load_data(str(path))
    texts = {m.get("text"): m.get("entities") or [] for m in data.intent_examples}
    assert set(texts) == {"Is [number] (approx) too old for 高才通?", "my [number] [phone] ok"}
    [entity] = texts["Is [number] (approx) too old for 高才通?"]
    assert (entity["entity"], entity["value"]) == ("scheme", "TTPS")


def test_names_are_annotated_only_where_the_training_data_wants_them(project) -> None:
    names = project[2]
    assert nlu_line("租屋 in 北京", "ask_living_info", names) == \
        '[租屋]{"entity": "topic", "value": "housing"} in [北京]{"entity": "location", "value": "Beijing"}'
    assert nlu_line("租屋 in 北京", "ask_dependants", names) == \
        '租屋 in [北京]{"entity": "location", "value": "Beijing"}'
    assert nlu_line("TTPS 3 years", "inform", names) == "TTPS 3 years"


def test_only_accepted_kept_and_new_texts_are_exported(project) -> None:
    known = "Hello, I have a question!"  # nlu_data/en.yml's greet, written another way
    result = run(project, [
        (decision(1), examples("Can I bring my dog?", "can I bring my dog ??", known, "[number]", "left out",
                               language="en")
         + [Example(7, "left out too", "en", False), Example(8, None, "en", True)]),
        (decision(2, DISMISSED), examples("dismissed ones are never exported", language="en")),
    ])
    english = yaml.safe_load(result.files["nlu_data/review-en.yml"])
    assert english["nlu"][0]["examples"] == "- Can I bring my dog?\n- left out\n"
    assert sorted(s.why for s in result.skipped) == [
        "already an NLU example (ask_living_info)", "already an NLU example (greet)", "left out by the supervisor",
        "no words", "text no longer kept (retention)"]
    assert "dismissed" not in "".join(result.files.values())


def test_paraphrases_of_a_bank_entry_go_into_its_own_file(project, tmp_path: Path) -> None:
    result = run(project, [(decision(3, kind="entry", target="daily.sim_card"),
                            examples("where do i get a local sim when i land", language="en")
                            + examples("啱落機想買張電話卡，去邊度買？", language="zh-Hant")
                            + examples(project[0].by_id["daily.sim_card"].questions["en"][0], language="en"))])
    original = (paths.QUESTIONS / "living_daily.yml").read_text(encoding="utf-8")
    merged = result.files["bot/questions/living_daily.yml"]
    added = [line for line in merged.splitlines() if line not in original.splitlines()]
    assert [line.strip() for line in added] == ["- where do i get a local sim when i land",
                                                "- 啱落機想買張電話卡，去邊度買？"]
    assert [s.why for s in result.skipped] == ["already a bank question"]
    review = yaml.safe_load(result.files["bot/questions/living_daily.review.yml"])
    assert review["entries"] == [{"id": "daily.sim_card", "questions": {
        "en": ["where do i get a local sim when i land"], "zh-Hant": ["啱落機想買張電話卡，去邊度買？"]}}]
    folder = tmp_path / "questions"
    folder.mkdir()
    for path in paths.QUESTIONS.glob("*.yml"):
        (folder / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "living_daily.yml").write_text(merged, encoding="utf-8")
    bank, problems = read_bank(folder)
    assert problems == [] and validate(bank) == []
    questions = bank.by_id["daily.sim_card"].questions
    assert questions["en"][-1] == "where do i get a local sim when i land"
    assert questions["zh-Hant"][-1] == "啱落機想買張電話卡，去邊度買？"
    assert "where do i" not in "".join(v for k, v in result.files.items() if k.startswith("nlu_data"))


def test_merging_keeps_the_files_own_text() -> None:
    original = ("# a comment\nentries:\n  - id: a.b\n    questions:\n      en:\n        - One?\n        - 'Two: yes?'\n"
                "      zh-Hant:\n        - 一？\n    answer:\n      en: x\n  - id: c.d\n    questions:\n      en:\n"
                "        - Three?\n")
    merged = merged_bank_file(original, {"a.b": {"en": ["New: one?"], "zh-Hant": ["新？"]}, "c.d": {"en": ["Four"]}})
    expected = original.replace("        - 'Two: yes?'\n", "        - 'Two: yes?'\n        - 'New: one?'\n")
    expected = expected.replace("        - 一？\n", "        - 一？\n        - 新？\n")
    assert merged == expected.replace("- Three?\n", "- Three?\n        - Four\n")
    with pytest.raises(ValueError):
        merged_bank_file(original, {"c.d": {"zh-Hans": ["x"]}})


def test_content_gaps_for_the_content_team(project) -> None:
    result = run(project, [(decision(4, CONTENT_GAP, note="Voting rights of talent scheme holders"),
                            examples("Can I vote in HK?", "我可唔可以投票", language=None))])
    assert result.gaps == 1 and "nlu_data/review-en.yml" not in result.files
    assert "## Voting rights of talent scheme holders" in result.files["content_gaps.md"]
    assert "  - 我可唔可以投票" in result.files["content_gaps.md"]
    gaps = yaml.safe_load(result.files["content_gaps.yml"])["gaps"]
    assert gaps[0]["examples"] == [{"language": "en", "text": "Can I vote in HK?"},
                                   {"language": "zh-Hant", "text": "我可唔可以投票"}]
    assert gaps[0]["flagged_by"] == "sue" and gaps[0]["decision"] == 4


# --- the command ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("out", [paths.ROOT / "bot", paths.NLU_DATA / "extra", paths.ROOT])
def test_the_command_never_writes_into_the_projects_data(out: Path) -> None:
    assert review_export_cli.main(argparse.Namespace(out=out, production=False)) == review_export_cli.EXIT_USAGE


def test_the_command_writes_the_accepted_items(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from talentbot.core.analytics.records import message_row
    from talentbot.core.analytics.store import AnalyticsStore

    url = f"sqlite:///{tmp_path / 'handoff.sqlite3'}"
    monkeypatch.setenv("ANALYTICS_DB_URL", url)
    out = tmp_path / "export"
    printed = io.StringIO()
    assert review_export_cli.main(argparse.Namespace(out=out, production=False), printed) == 0
    assert "nothing accepted yet" in printed.getvalue() and not out.exists()
    store = AnalyticsStore.from_url(url)
    rows = [message_row({"sender_id": "web:1", "event": "user", "timestamp": 1.0 + n, "text": text,
                         "parse_data": {"intent": {"name": "nlu_fallback", "confidence": 0.3}}},
                        {"v": 1, "language": "en", "actions": [], "outcome": {}}, b"s" * 32, WHEN)
            for n, text in enumerate(["Can I bring my dog to Hong Kong?", "can i move to hk with my dog"])]
    store.add([r for r in rows if r is not None])
    review = ReviewStore(store.engine)
    keys = [m.key for m in review.candidates().misses]
    review.decide("g1", keys, PARAPHRASE, "sue", WHEN, "intent", "ask_living_info")
    store.close()
    printed = io.StringIO()
    assert review_export_cli.main(argparse.Namespace(out=out, production=False), printed) == 0
    assert "2 NLU example(s)" in printed.getvalue()
    assert yaml.safe_load((out / "nlu_data" / "review-en.yml").read_text(encoding="utf-8"))["nlu"][0]["intent"] == \
        "ask_living_info"
