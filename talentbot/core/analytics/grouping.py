"""Grouping the messages the assistant did not understand, so that forty ways of asking one missing question show
as one group of the review queue (talentbot.core.analytics.review), with its counts per language.

Pure: texts in, groups out (no database, no model; the concept list below is a data file read once). It works
without any downloaded model, in two steps:

1. **Within a language** (English; Chinese, Traditional and Simplified together): TF-IDF cosine over character
   1-3-grams of Han text folded to Simplified, question words cut out (so 「點樣續簽」 and 「怎么续签」 share 续签),
   English words (lightly stemmed, question words left out), word pairs and in-word character 3-grams (typos), plus
   the concepts the text names (`data/concepts.yml`: 狗 / dog / 宠物 are `pet`); the assistant's own best guesses
   (the bank entries it ranked closest) raise the similarity of messages already alike in words, never make it.
   Average-linkage clustering cut at `threshold`: a message joins a group
   when it is close to the group as a whole, not to one member only, so chains of loosely related messages do not
   snowball into one.
2. **Across languages**: English and Chinese wordings share no characters, so the groups of step 1 are joined when
   their concepts and best guesses (averaged over each group's members) are close: each group with its most similar
   group of the other language, when that choice is mutual and above `bridge_threshold`.

Masked personal data (``[number]``, ``[email]``, ``[phone]``, talentbot.core.analytics.masking) and scheme names are
cut out before comparing: two messages are not alike because both held a phone number, or both named 高才通 (a
question missing for one scheme is missing for all).

Stable ids: members are taken oldest first (by `Miss.key`), and a group's id is a hash of its oldest member's key,
so a group keeps its id while new similar messages join it.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import yaml
from numpy.typing import NDArray
from sklearn.cluster import AgglomerativeClustering
from sklearn.feature_extraction import DictVectorizer
from sklearn.preprocessing import normalize

from talentbot.core.analytics.guesses import ENTRY as ENTRY  # re-exported: the kinds of guess
from talentbot.core.analytics.guesses import INTENT as INTENT
from talentbot.core.analytics.guesses import Guess as Guess
from talentbot.core.analytics.masking import EMAIL, NUMBER, PHONE
from talentbot.core.qbank.text import QUESTION_WORDS, STOP_WORDS, fold, stem

CONCEPTS_FILE = Path(__file__).resolve().parent / "data" / "concepts.yml"

DEFAULT_THRESHOLD = 0.08
"""Average similarity (0..1) at which messages of one language make one group. Short messages share few of their
many n-grams, so similarities are low: on the test set (tests/talentbot/core/analytics/data/review_misses.yml, the
half kept for tuning) 0.08 gave the best pairwise F1 (0.06: more recall, less precision; 0.12: the reverse)."""

DEFAULT_BRIDGE_THRESHOLD = 0.35
"""Similarity of concepts and guesses at which an English group and a Chinese group are one question (anything from
0.2 to 0.7 gave the same groups on the test set: the mutual choice does most of the work)."""

MAX_MISSES = 4000
"""Most messages grouped in one call (the similarity matrix is n x n): the caller passes the newest ones."""

# weights of the feature kinds within a message's vector (before its length is normalised)
HAN_WEIGHT = 1.0
UNIGRAM_WEIGHT = 1.0
WORD_WEIGHT = 1.0
PAIR_WEIGHT = 0.6
TRIGRAM_WEIGHT = 0.25
CONCEPT_WEIGHT = 2.0
GUESS_BOOST = 0.5
"""How much agreeing guesses (the same bank entries ranked close) raise two messages' word similarity."""

BRIDGE_GUESS_SHARE = 1.0
"""Weight of the guesses beside the concepts when joining groups across languages."""

INTENT_GUESS_WEIGHT = 0.0
"""Weight of a guessed intent beside a guessed bank entry: none. A dozen answer intents against hundreds of entries,
and a misunderstood message's intent is the one that was wrong: on the test set any weight only lost precision."""

GUESSES_SHOWN = 5

_MASKED = re.compile("|".join(re.escape(token) for token in (EMAIL, PHONE, NUMBER)))
_HAN_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_LATIN_WORD = re.compile(r"[a-z0-9\u00c0-\u024f]+(?:['’][a-z]+)?")
_FUNCTION_WORDS = STOP_WORDS | QUESTION_WORDS | frozenset(
    "hong kong hk im i'm pls plz u ur also about any anyone someone am then than into too very really much many "
    "still yet already ok okay yes no not back want go going come coming there's it's what's anything something "
    "now after before when once".split()
)
# Chinese words that ask rather than say what is asked (Cantonese and Mandarin, folded to Simplified): cut out,
# as a break between n-grams, so 「可唔可以带狗」 and 「能不能带狗」 meet on 带狗 alone.
_ZH_FUNCTION_WORDS = sorted((
    "可唔可以 可不可以 能不能 可以 係咪 系咪 是不是 是否 有冇 有没有 点样 怎么样 怎么 怎样 如何 咩 什么 甚么 乜嘢 乜 "
    "几时 什么时候 几耐 多久 几多 多少 边度 哪里 哪儿 哪 边个 谁 吗 呢 吖 啊 呀 啦 喇 嘅 的 了 咗 吧 嘛 㗎 咧 "
    "请问 想问 问下 问一下 问问 我想 我 你 佢 他 她 我们 我哋 你哋 要 会 需要 需唔需要 需不需要 唔该 谢谢 香港 "
    "一下 下 係 是 有 冇 没有 唔 不 都 也 就 还 同埋 和 与 及 或者 定 还是"
).split(), key=len, reverse=True)
_ZH_FUNCTION = re.compile("|".join(re.escape(word) for word in _ZH_FUNCTION_WORDS))

EN_FAMILY, ZH_FAMILY = "en", "zh"


@dataclass(frozen=True)
class Miss:
    """A message the assistant did not understand: its row (`key`, the analytics row id), masked text, language
    (en, zh-Hant, zh-Hans; None when unknown) and the assistant's best guesses."""

    key: int
    text: str
    language: Optional[str] = None
    guesses: Tuple[Guess, ...] = ()


@dataclass(frozen=True)
class GroupGuess:
    """A guess of the group: the mean of its members' scores (0 for a member without it) and how many had it."""

    kind: str
    id: str
    score: float
    members: int


@dataclass(frozen=True)
class Group:
    """Misses asking one question: `representative` is the member closest to all the others."""

    id: str
    representative: str
    members: Tuple[Miss, ...]  # oldest first
    languages: Mapping[str, int]  # language -> members ("unknown" for None)
    guesses: Tuple[GroupGuess, ...] = ()
    cohesion: float = 1.0  # mean similarity of the members to one another (1 for one member)
    signature: str = field(default="")  # hash of every member's key: the exact set a decision was made on

    @property
    def size(self) -> int:
        return len(self.members)

    @property
    def keys(self) -> Tuple[int, ...]:
        return tuple(m.key for m in self.members)


def group_id(first_key: int) -> str:
    """A group's id: the hash of its oldest member's key (12 hex digits)."""
    return "g" + hashlib.sha256(f"miss:{first_key}".encode()).hexdigest()[:12]


def signature(keys: Iterable[int]) -> str:
    """The hash of a set of members' keys: which exact messages a decision covers."""
    joined = ",".join(str(k) for k in sorted(set(keys)))
    return hashlib.sha256(joined.encode()).hexdigest()


# --- features --------------------------------------------------------------------------------------------------

Concepts = Callable[[str], List[str]]
"""folded text -> the concepts it names."""


class _Forms:
    """Finds known forms in a folded text, longest first and without overlaps: Chinese forms anywhere in a Han run,
    English forms as whole words (a dictionary look-up per position: a regular expression of a few hundred
    alternatives took a millisecond a message)."""

    def __init__(self, forms: Mapping[str, str]) -> None:
        self.han: Dict[str, str] = {}
        self.latin: Dict[Tuple[str, ...], str] = {}
        for form, value in forms.items():
            words = tuple(_LATIN_WORD.findall(form))
            if words and not _HAN_RUN.search(form):
                self.latin.setdefault(words, value)
            elif form:
                self.han.setdefault(form, value)
        self.han_longest = max((len(f) for f in self.han), default=0)
        self.latin_longest = max((len(f) for f in self.latin), default=0)

    def find(self, folded: str) -> List[Tuple[int, int, str]]:
        """(start, end, value) of each form found."""
        found: List[Tuple[int, int, str]] = []
        for run in _HAN_RUN.finditer(folded):
            text, i = run.group(0), 0
            while i < len(text):
                for length in range(min(self.han_longest, len(text) - i), 0, -1):
                    value = self.han.get(text[i:i + length])
                    if value is not None:
                        found.append((run.start() + i, run.start() + i + length, value))
                        i += length
                        break
                else:
                    i += 1
        words = list(_LATIN_WORD.finditer(folded))
        i = 0
        while i < len(words):
            for length in range(min(self.latin_longest, len(words) - i), 0, -1):
                value = self.latin.get(tuple(w.group(0) for w in words[i:i + length]))
                if value is not None:
                    found.append((words[i].start(), words[i + length - 1].end(), value))
                    i += length
                    break
            else:
                i += 1
        return found

    def cut(self, folded: str) -> str:
        """The text with every form found replaced by a space."""
        pieces, last = [], 0
        for start, end, _ in sorted(self.find(folded)):
            pieces.append(folded[last:start])
            last = end
        pieces.append(folded[last:])
        return " ".join(pieces)


@lru_cache(maxsize=1)
def _lexicon() -> Tuple[_Forms, _Forms]:
    """data/concepts.yml: the concepts' forms, and the scheme names'."""
    data = yaml.safe_load(CONCEPTS_FILE.read_text(encoding="utf-8")) or {}
    form_to_concept: Dict[str, str] = {}
    for concept, forms in (data.get("concepts") or {}).items():
        for language in ("en", "zh"):
            for form in (forms or {}).get(language) or ():
                form_to_concept.setdefault(fold(str(form)), str(concept))
    schemes = {fold(str(form)): "scheme" for language in ("en", "zh")
               for form in (data.get("schemes") or {}).get(language) or ()}
    return _Forms(form_to_concept), _Forms(schemes)


def concepts_in(folded: str) -> List[str]:
    """The concepts of data/concepts.yml a folded text names (longest form first, each occurrence once)."""
    return [value for _, _, value in _lexicon()[0].find(folded)]


def family(text: str) -> str:
    """EN_FAMILY or ZH_FAMILY, from the characters (as language.detect: Han at least as many as Latin words)."""
    han = sum(len(run) for run in _HAN_RUN.findall(text))
    return ZH_FAMILY if han and han >= len(_LATIN_WORD.findall(text.casefold())) else EN_FAMILY


def prepared(text: str) -> str:
    """The text as compared: masked tokens and scheme names cut out, width, case and script folded (Simplified)."""
    return _lexicon()[1].cut(fold(_MASKED.sub(" ", text)))


def surface_features(folded: str) -> Dict[str, float]:
    """Weighted features of a folded text: Han 2-3-grams ("c:"), English words ("w:"), word pairs ("b:"), in-word
    character 3-grams ("t:")."""
    out: Dict[str, float] = defaultdict(float)
    for run in _HAN_RUN.findall(folded):
        for piece in _ZH_FUNCTION.split(run):
            for char in piece:
                out["c:" + char] += UNIGRAM_WEIGHT
            for n in (2, 3):
                for i in range(len(piece) - n + 1):
                    out["c:" + piece[i:i + n]] += HAN_WEIGHT
    words = [stem(w) for w in _LATIN_WORD.findall(folded)]
    content = [w for w in words if w not in _FUNCTION_WORDS and not w.isdigit()]
    for word in content:
        out["w:" + word] += WORD_WEIGHT
        padded = f"<{word}>"
        if len(word) >= 4:
            for i in range(len(padded) - 2):
                out["t:" + padded[i:i + 3]] += TRIGRAM_WEIGHT
    for a, b in pairwise(content):
        out[f"b:{a}_{b}"] += PAIR_WEIGHT
    return out


def _guess_features(guesses: Sequence[Guess]) -> Dict[str, float]:
    out: Dict[str, float] = defaultdict(float)
    for guess in guesses:
        weight = INTENT_GUESS_WEIGHT if guess.kind == INTENT else 1.0
        out[f"{guess.kind}:{guess.id}"] += weight * max(0.0, float(guess.score))
    return out


@dataclass(frozen=True)
class Background:
    """How many of a body of ordinary questions hold each feature (e.g. the question bank's paraphrases): with it,
    words every question uses (申请, 需要, visa) weigh little even in a short queue, and the rare words that say
    what a missing question is about (狗, tipping) weigh much."""

    documents: int
    frequencies: Mapping[str, int]


def background_from(texts: Iterable[str], concepts: Optional[Concepts] = None) -> Background:
    """The document frequencies of `texts`' features (as `group_misses` computes them)."""
    counted: Counter[str] = Counter()
    n = 0
    for text in texts:
        n += 1
        counted.update(_features(prepared(text), concepts or concepts_in)[0].keys())
    return Background(n, dict(counted))


Sparse = Any
"""A scipy sparse row matrix (CSR), as scikit-learn returns it (scipy itself ships no type stubs)."""

Floats = NDArray[np.float64]


def _matrix(rows: Sequence[Mapping[str, float]], idf: bool = True,
            background: Optional[Background] = None) -> Sparse:
    """Rows of weighted features as an L2-normalised sparse matrix: sublinear weights (1 + log w above 1), times
    each feature's smoothed IDF over these rows (and the background's documents, when given)."""
    vectorizer = DictVectorizer(dtype=np.float64, sort=False)
    matrix = vectorizer.fit_transform([{k: v for k, v in row.items() if v > 0} for row in rows]).tocsr()
    if matrix.shape[1] == 0:
        return matrix  # no features at all (no guesses): every similarity is 0
    matrix.data = np.where(matrix.data > 1.0, 1.0 + np.log(np.maximum(matrix.data, 1.0)), matrix.data)
    if idf and matrix.nnz:
        df = np.bincount(matrix.indices, minlength=matrix.shape[1]).astype(np.float64)
        documents = float(len(rows))
        if background is not None:
            df += np.fromiter((background.frequencies.get(f, 0) for f in vectorizer.feature_names_),
                              dtype=np.float64, count=matrix.shape[1])
            documents += background.documents
        matrix.data = matrix.data * (np.log((1 + documents) / (1 + df)) + 1.0)[matrix.indices]
    return normalize(matrix, norm="l2", copy=False)


@dataclass
class _Vectors:
    """Each miss as three unit vectors (rows): its words (surface and concepts), its concepts alone (the bridge
    between languages), its guesses."""

    words: Sparse
    concepts: Sparse
    guesses: Sparse

    def similarity(self, rows: Sequence[int]) -> Floats:
        """The messages' pairwise similarity (0..1): their words' cosine, raised by up to GUESS_BOOST times when
        the assistant's guesses for them agree (guesses alone never make two messages alike)."""
        words = self.words[rows]
        lexical = (words @ words.T).toarray()
        guesses = self.guesses[rows]
        agreed = (guesses @ guesses.T).toarray()
        combined = lexical * (1.0 + GUESS_BOOST * agreed)
        np.fill_diagonal(combined, 1.0)
        clipped: Floats = np.clip(combined, 0.0, 1.0)
        return clipped


def _features(folded: str, concepts: Concepts) -> Tuple[Dict[str, float], Dict[str, float]]:
    """A folded text's words (surface features and the concepts it names) and its concepts alone."""
    features = surface_features(folded)
    found: Dict[str, float] = {"k:" + concept: CONCEPT_WEIGHT for concept in concepts(folded)}
    features.update(found)  # named once or thrice, the same concept
    return features, found


def _vectors(misses: Sequence[Miss], concepts: Concepts, background: Optional[Background]) -> _Vectors:
    surfaces, named, guessed = [], [], []
    for miss in misses:
        features, found = _features(prepared(miss.text), concepts)
        surfaces.append(features)
        named.append(found)
        guessed.append(_guess_features(miss.guesses))
    return _Vectors(_matrix(surfaces, background=background), _matrix(named, background=background),
                    _matrix(guessed, idf=False))


# --- clustering ------------------------------------------------------------------------------------------------


def _average_linkage(similarity: Floats, threshold: float) -> List[List[int]]:
    """Clusters (lists of positions) whose members' average similarity to each other cluster stays below
    `threshold`: average linkage on 1 - similarity, merging while the distance is below 1 - threshold."""
    n = similarity.shape[0]
    if n == 1:
        return [[0]]
    clustering = AgglomerativeClustering(n_clusters=None, affinity="precomputed", linkage="average",
                                         distance_threshold=1.0 - threshold)
    labels = clustering.fit_predict(1.0 - similarity)
    clusters: Dict[int, List[int]] = defaultdict(list)
    for position, label in enumerate(labels):
        clusters[int(label)].append(position)
    return list(clusters.values())


def _bridges(clusters: List[List[int]], families: Sequence[str], vectors: _Vectors,
             threshold: float) -> List[List[int]]:
    """Joins each English cluster with its most similar Chinese cluster (and back) when both choose each other and
    their concepts-and-guesses similarity reaches `threshold`."""
    english = [i for i, c in enumerate(clusters) if families[c[0]] == EN_FAMILY]
    chinese = [i for i, c in enumerate(clusters) if families[c[0]] == ZH_FAMILY]
    if not english or not chinese:
        return clusters
    weight = math.sqrt(BRIDGE_GUESS_SHARE)

    def centroid(members: List[int]) -> Floats:
        """The members' mean concepts and (weighted) guesses, as one unit vector."""
        mean = np.concatenate([np.asarray(vectors.concepts[members].mean(axis=0)).ravel(),
                               weight * np.asarray(vectors.guesses[members].mean(axis=0)).ravel()])
        norm = np.linalg.norm(mean)
        unit: Floats = mean / norm if norm else mean
        return unit

    en = np.vstack([centroid(clusters[i]) for i in english])
    zh = np.vstack([centroid(clusters[i]) for i in chinese])
    scores = en @ zh.T
    best_zh = scores.argmax(axis=1)
    best_en = scores.argmax(axis=0)
    joined: Dict[int, int] = {}
    for e, z in enumerate(best_zh):
        if best_en[z] == e and scores[e, z] >= threshold:
            joined[chinese[int(z)]] = english[e]
    out: List[List[int]] = []
    merged: Dict[int, List[int]] = {}
    for index, members in enumerate(clusters):
        if index in joined:
            continue
        merged[index] = list(members)
        out.append(merged[index])
    for z, e in joined.items():
        merged[e].extend(clusters[z])
    return out


def group_misses(misses: Sequence[Miss], threshold: float = DEFAULT_THRESHOLD,
                 bridge_threshold: Optional[float] = DEFAULT_BRIDGE_THRESHOLD,
                 concepts: Optional[Concepts] = None, background: Optional[Background] = None) -> List[Group]:
    """The misses in groups of one question each, largest group first (then oldest first).

    `threshold`: average similarity within a group (0..1; higher makes smaller, surer groups). `bridge_threshold`:
    similarity at which an English and a Chinese group are joined (None: never). `concepts`: what a folded text
    names (default: data/concepts.yml). `background`: document frequencies of ordinary questions (`background_from`
    the bank's paraphrases), so that common question words weigh little. At most MAX_MISSES misses (the newest
    when there are more)."""
    ordered = sorted({m.key: m for m in misses}.values(), key=lambda m: m.key)[-MAX_MISSES:]
    if not ordered:
        return []
    vectors = _vectors(ordered, concepts or concepts_in, background)
    families = [family(m.text) for m in ordered]
    clusters: List[List[int]] = []
    for name in (EN_FAMILY, ZH_FAMILY):
        rows = [i for i, f in enumerate(families) if f == name]
        if not rows:
            continue
        similarity = vectors.similarity(rows)
        clusters.extend([rows[p] for p in cluster] for cluster in _average_linkage(similarity, threshold))
    if bridge_threshold is not None:
        clusters = _bridges(clusters, families, vectors, bridge_threshold)
    groups = [_group(sorted(cluster), ordered, vectors) for cluster in clusters]
    return sorted(groups, key=lambda g: (-g.size, g.members[0].key))


def _group(positions: List[int], ordered: Sequence[Miss], vectors: _Vectors) -> Group:
    members = tuple(ordered[p] for p in positions)
    similarity = vectors.similarity(positions)
    if len(positions) > 1:
        mean_to_others = (similarity.sum(axis=1) - 1.0) / (len(positions) - 1)
        representative = members[int(np.argmax(mean_to_others))].text  # argmax: the oldest of equals
        cohesion = float(mean_to_others.mean())
    else:
        representative, cohesion = members[0].text, 1.0
    languages = Counter(m.language or "unknown" for m in members)
    return Group(id=group_id(members[0].key), representative=representative, members=members,
                 languages=dict(sorted(languages.items(), key=lambda kv: (-kv[1], kv[0]))),
                 guesses=combined_guesses(members), cohesion=round(cohesion, 3),
                 signature=signature(m.key for m in members))


def subgroup(group: Group, keep: Callable[[Miss], bool]) -> Optional[Group]:
    """The group cut to the members `keep` accepts (e.g. those no decision covers yet), with its own id, signature,
    counts and guesses; its representative stays when kept, else its oldest kept member speaks for it. None when no
    member is kept."""
    members = tuple(m for m in group.members if keep(m))
    if not members:
        return None
    if len(members) == len(group.members):
        return group
    representative = group.representative if any(m.text == group.representative for m in members) \
        else members[0].text
    languages = Counter(m.language or "unknown" for m in members)
    return Group(id=group_id(members[0].key), representative=representative, members=members,
                 languages=dict(sorted(languages.items(), key=lambda kv: (-kv[1], kv[0]))),
                 guesses=combined_guesses(members), cohesion=group.cohesion,
                 signature=signature(m.key for m in members))


def combined_guesses(members: Sequence[Miss], limit: int = GUESSES_SHOWN) -> Tuple[GroupGuess, ...]:
    """The group's best guesses: each guess's mean score over all members (bank entries before intents at equal
    score), with how many members had it."""
    totals: Dict[Tuple[str, str], float] = defaultdict(float)
    counts: Dict[Tuple[str, str], int] = defaultdict(int)
    for miss in members:
        seen = set()
        for guess in miss.guesses:
            key = (guess.kind, guess.id)
            if key in seen:
                continue
            seen.add(key)
            totals[key] += max(0.0, float(guess.score))
            counts[key] += 1
    ranked = sorted(totals, key=lambda k: (-totals[k], k[0] != ENTRY, k[1]))
    n = max(1, len(members))
    return tuple(GroupGuess(kind, id_, round(totals[(kind, id_)] / n, 4), counts[(kind, id_)])
                 for kind, id_ in ranked[:limit])


# --- measuring a grouping --------------------------------------------------------------------------------------


def pairwise_scores(groups: Iterable[Iterable[int]],
                    truth: Mapping[int, Union[str, int, None]]) -> Tuple[float, float]:
    """Pairwise precision and recall of a grouping against true labels (key -> label; None: a message of its own).
    Precision: of the pairs put together, how many ask the same question; recall: of the pairs that ask the same
    question, how many were put together."""
    together = 0
    correct = 0
    for group in groups:
        keys = list(group)
        for i, a in enumerate(keys):
            for b in keys[i + 1:]:
                together += 1
                if truth.get(a) is not None and truth.get(a) == truth.get(b):
                    correct += 1
    by_label: Counter[Union[str, int]] = Counter(label for label in truth.values() if label is not None)
    should = sum(n * (n - 1) // 2 for n in by_label.values())
    precision = correct / together if together else 1.0
    recall = correct / should if should else 1.0
    return precision, recall
