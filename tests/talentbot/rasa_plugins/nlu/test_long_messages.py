"""Long messages: every NLU step costs time in proportion to the message's length, with the same results as before.

Work is counted, not timed: the lines of our NLU and question-bank code executed (a trace hook), which does not
depend on the machine or its load. A quadratic step doubles its share twice when the text doubles; the timings
themselves are in the bench (`make bench`, "long message").
"""
from __future__ import annotations

import sys
from itertools import pairwise
from pathlib import Path
from types import FrameType
from typing import Any, Callable, List, Optional, Tuple

import jieba
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from talentbot.core.gazetteer import EntityMatch, Gazetteer, _without_overlaps
from talentbot.core.qbank.index import Document, Index
from talentbot.core.qbank.schemes import masker
from talentbot.core.segmentation import mask_spans, segment

ROOT = Path(__file__).resolve().parents[4]
COUNTED = tuple(str(ROOT / "talentbot" / part) for part in (
    "rasa_plugins/nlu", "core/qbank", "core/gazetteer.py", "core/segmentation.py"))

NAMES = {
    ("scheme", "高才通"): "TTPS",
    ("scheme", "TTPS"): "TTPS",
    ("scheme", "Top Talent Pass Scheme"): "TTPS",
    ("scheme", "優才"): "QMAS",
    ("scheme", "內地專才"): "ASMTP",
    ("scheme", "專才"): "GEP",
    ("location", "倫敦"): "London",
    ("location", "US"): "United States",
}
_JIEBA = jieba.Tokenizer()


def steps(run: Callable[[], Any]) -> int:
    """Lines of the NLU components, the gazetteer, segmentation and the question bank executed by `run` (C code such
    as regexes is not counted)."""
    count = 0

    def local(frame: FrameType, event: str, arg: Any) -> Optional[Callable]:
        nonlocal count
        if event == "line":
            count += 1
        return local

    def trace(frame: FrameType, event: str, arg: Any) -> Optional[Callable]:
        return local if frame.f_code.co_filename.startswith(COUNTED) else None

    previous = sys.gettrace()
    sys.settrace(trace)
    try:
        run()
    finally:
        sys.settrace(previous)
    return count


def names_message(length: int) -> str:
    """A message made of nothing but scheme names, the worst case for overlap removal and masking."""
    return ("高才通TTPS優才內地專才 " * length)[:length]


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return Gazetteer(NAMES)


def nlu_steps(gazetteer: Gazetteer, text: str) -> None:
    """What the tokenizer, the entity extractor and the question-bank ranker do with a message."""
    found = gazetteer.find(text)
    mask_spans(segment(text, _JIEBA.cut), text, [(m.start, m.end, m.entity) for m in found])
    index = Index([Document("ttps.what", ("高才通係咩？", "what is TTPS")), Document("qmas.what", ("優才係咩？",))],
                  masker(gazetteer))
    index.rank(text)


def test_a_10000_character_message_of_names_costs_linear_work(gazetteer: Gazetteer) -> None:
    _JIEBA.initialize()
    short, long = names_message(10_000), names_message(20_000)
    assert len(gazetteer.find(short)) > 2_500  # thousands of names: the case that was quadratic
    work_short = steps(lambda: nlu_steps(gazetteer, short))
    work_long = steps(lambda: nlu_steps(gazetteer, long))
    assert work_long < 2.3 * work_short, (work_short, work_long)  # quadratic would be about 4x


# --- the same results as the quadratic versions they replace ---------------------------------------------------


def reference_without_overlaps(matches: List[EntityMatch]) -> List[EntityMatch]:
    """The former overlap removal: each candidate compared with every match kept."""
    kept: List[EntityMatch] = []
    for match in sorted(matches, key=lambda m: (-(m.end - m.start), m.start)):
        if all(match.end <= k.start or match.start >= k.end for k in kept):
            kept.append(match)
    return sorted(kept, key=lambda m: m.start)


def reference_mask_spans(tokens, text, spans):
    """The former masking: every span cut out of every word."""
    spans = sorted(spans)
    out = [(text[s:e], s, label) for s, e, label in spans]
    for word, start in tokens:
        pieces = [(start, start + len(word))]
        for s, e, _ in spans:
            pieces = [p for a, b in pieces for p in ((a, min(b, s)), (max(a, e), b)) if p[0] < p[1]]
        out.extend((text[a:b], a, None) for a, b in pieces)
    return sorted(out, key=lambda item: item[1])


@st.composite
def overlapping_matches(draw: Any) -> List[EntityMatch]:
    found = []
    for number in range(draw(st.integers(0, 25))):
        start = draw(st.integers(0, 40))
        end = start + draw(st.integers(1, 8))
        found.append(EntityMatch("scheme", f"v{number}", start, end, "x" * (end - start)))
    return found


@settings(max_examples=300, deadline=None)
@given(overlapping_matches())
def test_overlap_removal_keeps_what_it_kept_before(matches: List[EntityMatch]) -> None:
    assert _without_overlaps(list(matches)) == reference_without_overlaps(list(matches))


@st.composite
def tokens_and_spans(draw: Any) -> Tuple[str, List[Tuple[str, int]], List[Tuple[int, int, str]]]:
    text = draw(st.text(alphabet="高才通ab ", min_size=0, max_size=40))
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=12, unique=True)))
    tokens = [(text[a:b], a) for a, b in pairwise(cuts) if draw(st.booleans())]
    spans = []
    for _ in range(draw(st.integers(0, 6))):
        start = draw(st.integers(0, len(text)))
        end = draw(st.integers(start, len(text)))  # empty and overlapping spans too
        spans.append((start, end, draw(st.sampled_from(["__scheme__", "__location__"]))))
    return text, tokens, spans


@settings(max_examples=300, deadline=None)
@given(tokens_and_spans())
def test_masking_gives_what_it_gave_before(case) -> None:
    text, tokens, spans = case
    assert mask_spans(tokens, text, spans) == reference_mask_spans(tokens, text, spans)


def test_masking_a_real_long_message_gives_what_it_gave_before(gazetteer: Gazetteer) -> None:
    text = names_message(3_000) + "我想問下喺倫敦點申請 US"
    spans = [(m.start, m.end, f"__{m.entity}__") for m in gazetteer.find(text)]
    tokens = segment(text, _JIEBA.cut)
    assert mask_spans(tokens, text, spans) == reference_mask_spans(tokens, text, spans)
