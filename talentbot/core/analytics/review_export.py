"""`talentbot review export`: the review queue's accepted decisions as files a maintainer reviews and commits.

Nothing is trained from users' texts by itself: a supervisor accepts a group (talentbot.core.analytics.review), the
export writes its masked texts into files beside the project's own, and a maintainer reads them, copies them in and
commits; the next `make train` learns them. The export writes only into its own folder, never into bot/ or
nlu_data/. Files (paths relative to the export folder, mirroring the project's):

- ``nlu_data/review-<language>.yml``: Rasa NLU training data (``version: "3.1"``, one ``- intent:`` block per intent)
  for the groups accepted as paraphrases of an intent. Rasa reads every file under nlu_data/, so the file can be
  copied there as it is, or its lines appended to the intent's block in ``nlu_data/<language>.yml``. Names are
  annotated as the training data's rules ask (nlu_data/README.md: schemes and places in every intent but
  ``inform``, topics in ``ask_living_info``), from the lookup tables.
- ``bot/questions/<file>.yml``: for the groups accepted as paraphrases of a bank entry, the bank file the entry is in
  with the new questions added under the entry's language lists (the file's own text otherwise unchanged: comments
  and order kept), ready to replace the project's copy; and ``bot/questions/<file>.review.yml``, just the additions
  (``entries: [{id, questions: {language: [...]}}]``) to read in a review.
- ``content_gaps.md`` and ``content_gaps.yml``: the groups flagged as content gaps, with the supervisor's note, the
  counts per language and example texts, for the content team.

Every example is the message's masked text (numbers, e-mail addresses, phone numbers already replaced, see
talentbot.core.analytics.masking), only of members the supervisor left in. A text already a training example (any
intent) or a bank question (any entry), after folding case, width, script and punctuation, is left out, as are
repeats: `talentbot validate` refuses both.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import yaml

from talentbot.core.analytics.guesses import ENTRY, INTENT
from talentbot.core.analytics.masking import EMAIL, NUMBER, PHONE
from talentbot.core.analytics.review import CONTENT_GAP, PARAPHRASE, Decision, Example
from talentbot.core.gazetteer import Gazetteer
from talentbot.core.i18n import EN, LANGUAGES
from talentbot.core.language import Verdict, detect
from talentbot.core.qbank.text import fold_phrase

NLU_DIR = "nlu_data"
BANK_DIR = "bot/questions"
GAPS_MD = "content_gaps.md"
GAPS_YML = "content_gaps.yml"
EXAMPLES_PER_GAP = 10

ANNOTATED: Mapping[str, Optional[Tuple[str, ...]]] = {"scheme": None, "location": None,
                                                      "topic": ("ask_living_info",),
                                                      "language": ("change_language",)}
"""Which entities the training data annotates in which intents (None: every intent but `inform`)."""

_MASKED_OR_BRACKET = re.compile(r"\](?=[(\[{])")
_WORDLESS = re.compile(r"^[\W_]*$")


@dataclass(frozen=True)
class Skipped:
    decision: int
    text: Optional[str]
    why: str


@dataclass
class Export:
    """The files (relative path -> text) and what was written or left out, for the command's summary."""

    files: Dict[str, str] = field(default_factory=dict)
    nlu_examples: int = 0
    bank_questions: int = 0
    gaps: int = 0
    skipped: List[Skipped] = field(default_factory=list)

    def summary(self) -> str:
        reasons: Dict[str, int] = defaultdict(int)
        for item in self.skipped:
            reasons[item.why] += 1
        left_out = "; ".join(f"{n} {why}" for why, n in sorted(reasons.items())) or "none"
        return (f"{self.nlu_examples} NLU example(s), {self.bank_questions} bank question(s), {self.gaps} content "
                f"gap(s); left out: {left_out}")


# --- reading the project's data (the caller passes it in) -------------------------------------------------------


def nlu_texts(documents: Iterable[Any]) -> Dict[str, str]:
    """Folded example text -> its intent, from parsed Rasa NLU YAML documents (annotations removed)."""
    found: Dict[str, str] = {}
    for document in documents:
        for block in (document or {}).get("nlu") or ():
            if not isinstance(block, dict) or "intent" not in block:
                continue
            for line in str(block.get("examples") or "").splitlines():
                line = line.strip()
                if line.startswith("- "):
                    found.setdefault(fold_phrase(_plain(line[2:])), str(block["intent"]))
    return found


def gazetteer_from_lookups(documents: Iterable[Any]) -> Gazetteer:
    """The names of nlu_data/lookups (parsed YAML): every `lookup` table's forms, valued by the `synonym` blocks."""
    tables: Dict[str, List[str]] = {}
    canonical: Dict[str, str] = {}
    for document in documents:
        for block in (document or {}).get("nlu") or ():
            if not isinstance(block, dict):
                continue
            forms = [line.strip()[2:].strip() for line in str(block.get("examples") or "").splitlines()
                     if line.strip().startswith("- ")]
            if "lookup" in block:
                tables.setdefault(str(block["lookup"]), []).extend(forms)
            elif "synonym" in block:
                for form in forms:
                    canonical.setdefault(form.lower(), str(block["synonym"]))
    return Gazetteer({(entity, form): canonical.get(form.lower(), form)
                      for entity, forms in tables.items() for form in forms})


_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")


def _plain(example: str) -> str:
    """An example's text without its entity annotations."""
    return _ANNOTATION.sub(lambda m: m.group(1), example)


# --- building the files ------------------------------------------------------------------------------------------


def language_of(example: Example) -> str:
    """The row's language, else what its text shows, else English."""
    if example.language in LANGUAGES:
        return str(example.language)
    found = detect(example.text or "")
    return found.language if found.verdict is Verdict.LANGUAGE and found.language else EN


def _clean(text: str) -> str:
    return " ".join(text.split())


def nlu_line(text: str, intent: str, names: Optional[Gazetteer]) -> str:
    """An example as a line of an NLU block: brackets that Rasa would read as an annotation separated (a masked
    ``[number](...)``), names annotated where the training data's rules want them."""
    text = _MASKED_OR_BRACKET.sub("] ", _clean(text))
    if names is None or intent == "inform":
        return text
    pieces: List[str] = []
    last = 0
    for match in names.find(text):
        wanted = ANNOTATED.get(match.entity, ())
        if wanted is not None and intent not in wanted:
            continue
        pieces.append(text[last:match.start])
        surface = match.text
        pieces.append(f"[{surface}]({match.entity})" if surface == match.value
                      else f'[{surface}]{{"entity": "{match.entity}", "value": "{match.value}"}}')
        last = match.end
    pieces.append(text[last:])
    return "".join(pieces)


def _yaml_item(text: str) -> str:
    """`text` as one item of a YAML list (quoted as needed)."""
    dumped = yaml.safe_dump([text], allow_unicode=True, width=100000, default_flow_style=False)
    return dumped.strip().splitlines()[0]


def build(accepted: Sequence[Tuple[Decision, Sequence[Example]]], entries: Sequence[Any],
          existing_nlu: Mapping[str, str], names: Optional[Gazetteer], bank_files: Mapping[str, str],
          today: dt.date) -> Export:
    """The export's files from the accepted decisions (`ReviewStore.accepted`), the bank's entries (objects with
    `id`, `file`, `questions`), the project's NLU examples (`nlu_texts`), its names and the bank files' texts
    (file name -> YAML text)."""
    export = Export()
    by_entry = {str(e.id): e for e in entries}
    seen: Dict[str, str] = dict(existing_nlu)
    bank_seen = {fold_phrase(q) for e in entries for qs in e.questions.values() for q in qs}
    nlu: Dict[str, Dict[str, List[str]]] = defaultdict(lambda: defaultdict(list))  # language -> intent -> lines
    bank: Dict[str, Dict[str, Dict[str, List[str]]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    sources: Dict[str, set[int]] = defaultdict(set)
    gaps: List[Tuple[Decision, List[Example]]] = []
    for decision, examples in accepted:
        if decision.status == CONTENT_GAP:
            gaps.append((decision, [e for e in examples if e.text]))
            continue
        if decision.status != PARAPHRASE or not decision.target_id:
            continue
        entry = by_entry.get(decision.target_id) if decision.target_kind == ENTRY else None
        if decision.target_kind == ENTRY and entry is None:
            export.skipped.extend(Skipped(decision.id, e.text, "target entry no longer in the bank") for e in examples)
            continue
        for example in examples:
            why = _unusable(example)
            if why:
                export.skipped.append(Skipped(decision.id, example.text, why))
                continue
            assert example.text is not None
            text, folded, language = _clean(example.text), fold_phrase(example.text), language_of(example)
            if decision.target_kind == INTENT:
                if folded in seen:
                    export.skipped.append(Skipped(decision.id, text, f"already an NLU example ({seen[folded]})"))
                    continue
                seen[folded] = decision.target_id
                nlu[language][decision.target_id].append(nlu_line(text, decision.target_id, names))
                export.nlu_examples += 1
                sources[f"{NLU_DIR}/review-{language}.yml"].add(decision.id)
            else:
                assert entry is not None
                if folded in bank_seen:
                    export.skipped.append(Skipped(decision.id, text, "already a bank question"))
                    continue
                bank_seen.add(folded)
                bank[str(entry.file)][str(entry.id)][language].append(text)
                export.bank_questions += 1
                sources[f"{BANK_DIR}/{entry.file}"].add(decision.id)
    header = (f"# Written by `talentbot review export` on {today.isoformat()}: messages the assistant did not\n"
              "# understand, masked, that supervisors accepted in the review queue (decisions {decisions}).\n"
              "# Review before committing.\n")
    for language in sorted(nlu):
        path = f"{NLU_DIR}/review-{language}.yml"
        body = ['version: "3.1"', "nlu:"]
        for intent in sorted(nlu[language]):
            body += [f"- intent: {intent}", "  examples: |"] + [f"    - {line}" for line in nlu[language][intent]]
        export.files[path] = header.format(decisions=_ids(sources[path])) + \
            "# Copy into nlu_data/ as it is (Rasa reads every file there), or append each block's lines to the same\n" \
            f"# intent in nlu_data/{language}.yml.\n" + "\n".join(body) + "\n"
    for file_name in sorted(bank):
        path = f"{BANK_DIR}/{file_name}"
        additions = {"entries": [{"id": entry_id, "questions": {lang: qs for lang, qs in sorted(langs.items())}}
                                 for entry_id, langs in sorted(bank[file_name].items())]}
        export.files[path[:-len(".yml")] + ".review.yml"] = header.format(decisions=_ids(sources[path])) + \
            f"# The questions added to {path} (the file beside this one is that file with them in place).\n" + \
            yaml.safe_dump(additions, allow_unicode=True, sort_keys=False, width=1000)
        original = bank_files.get(file_name)
        if original is not None:
            export.files[path] = merged_bank_file(original, bank[file_name])
    if gaps:
        export.files[GAPS_MD], export.files[GAPS_YML] = content_gaps(gaps, today)
        export.gaps = len(gaps)
    return export


def _unusable(example: Example) -> Optional[str]:
    if not example.accepted:
        return "left out by the supervisor"
    if not example.text or not example.text.strip():
        return "text no longer kept (retention)"
    if _WORDLESS.match(example.text.replace(NUMBER, "").replace(EMAIL, "").replace(PHONE, "")):
        return "no words"
    return None


def _ids(decisions: Iterable[int]) -> str:
    return ", ".join(f"#{d}" for d in sorted(decisions))


_ENTRY_LINE = re.compile(r"^(\s*)- id:\s*(\S+)\s*$")
_KEY_LINE = re.compile(r"^(\s*)([A-Za-z][\w-]*):\s*$")


def merged_bank_file(original: str, additions: Mapping[str, Mapping[str, Sequence[str]]]) -> str:
    """A bank file's text with `additions` (entry id -> language -> questions) appended to the end of each entry's
    language list, the rest of the text (comments, order, quoting) unchanged."""
    lines = original.splitlines()
    inserts: Dict[int, List[str]] = defaultdict(list)
    entry: Optional[str] = None
    entry_indent = -1
    in_questions = False
    questions_indent = -1
    language: Optional[str] = None
    last_item: Dict[Tuple[str, str], Tuple[int, int]] = {}  # (entry, language) -> (line of its last item, indent)
    for number, line in enumerate(lines):
        found = _ENTRY_LINE.match(line)
        if found:
            entry, entry_indent, in_questions, language = found.group(2), len(found.group(1)), False, None
            continue
        if entry is None or not line.strip() or line.lstrip().startswith("#"):
            continue
        indent = len(line) - len(line.lstrip())
        key = _KEY_LINE.match(line)
        if key and indent <= entry_indent + 2:
            in_questions, questions_indent, language = key.group(2) == "questions", indent, None
            continue
        if in_questions and key and indent > questions_indent:
            language = key.group(2)
            continue
        if in_questions and language and line.lstrip().startswith("- "):
            last_item[(entry, language)] = (number, indent)
    for entry_id, languages in additions.items():
        for lang, questions in languages.items():
            place = last_item.get((entry_id, lang))
            if place is None:
                raise ValueError(f"the bank file has no {lang} questions for entry {entry_id}")
            number, indent = place
            inserts[number] += [" " * indent + _yaml_item(q) for q in questions]
    out: List[str] = []
    for number, line in enumerate(lines):
        out.append(line)
        out.extend(inserts.get(number, ()))
    return "\n".join(out) + ("\n" if original.endswith("\n") else "")


def content_gaps(gaps: Sequence[Tuple[Decision, Sequence[Example]]], today: dt.date) -> Tuple[str, str]:
    """The content gaps as Markdown (to read) and YAML (to process)."""
    md = [f"# Content gaps from the review queue ({today.isoformat()})", "",
          "Questions users asked that the assistant has no answer for, as supervisors flagged them. The examples are "
          "the users' messages, masked.", ""]
    items = []
    for decision, examples in gaps:
        languages = ", ".join(f"{lang} {n}" for lang, n in decision.languages.items())
        md += [f"## {decision.note}", "",
               f"- {decision.members} message(s) ({languages}); flagged by {decision.decided_by} on "
               f"{decision.decided_at.date().isoformat()} (decision #{decision.id})", "- examples:"]
        md += [f"  - {_clean(e.text or '')}" for e in examples[:EXAMPLES_PER_GAP]]
        md.append("")
        items.append({"decision": decision.id, "note": decision.note, "messages": decision.members,
                      "languages": dict(decision.languages), "flagged_by": decision.decided_by,
                      "flagged_on": decision.decided_at.date().isoformat(),
                      "examples": [{"language": language_of(e), "text": _clean(e.text or "")}
                                   for e in examples[:EXAMPLES_PER_GAP]]})
    gaps_yaml = f"# Written by `talentbot review export` on {today.isoformat()} (see {GAPS_MD}).\n" + \
        yaml.safe_dump({"gaps": items}, allow_unicode=True, sort_keys=False, width=1000)
    return "\n".join(md).rstrip() + "\n", gaps_yaml
