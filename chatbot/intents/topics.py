"""Which knowledge entry a question is about: rapidfuzz over the entries' question forms, with a classifier.

The matcher compares the line with every question form of :mod:`chatbot.knowledge` after both
are reduced to their content words (lower case, contractions expanded, typos of known words
corrected, function words dropped, plural and verb endings folded, a few synonyms merged, an API
name read as its words and as one word), with
``rapidfuzz.process.extract`` and ``fuzz.token_sort_ratio`` (computed as ``fuzz.ratio`` on words sorted
once, when the index is built): an entry's closeness is the mean of
its best three forms, so one lucky form does not beat an entry that several forms agree on. That
is blended with the share of the line's words the entry uses, each weighted by how rare it is
across entries (see :meth:`_Index.rank`). A word of the line the forms have only with or without
a final e or as a plural is read as theirs ("deactivating", "overage"); a rare word that no form
has but an answer does ("UTC") counts for the entries whose answer has it.

Each entry's score is then blended half and half with the probability the classifier of
:mod:`.topic_model` gives it (a linear model over character n-grams and words, trained by
scikit-learn on the same forms and run here without it). Measured by ``bench/bench_retrieval.py``
(top-1 entry), first on the 1,029 labelled questions of ``tests/chatbot/data``, then on the 101 of
``understanding_v8.jsonl`` (written blind and scored before it was released, never tuned on):

=====================  ========  ======  ==========================
candidate              labelled  v8      load, memory
=====================  ========  ======  ==========================
rapidfuzz alone        0.928     0.931   0.05 s, +0.5 MB
the classifier alone   0.960     0.970   0.01 s, +3 MB
both blended (chosen)  0.967     1.000
scikit-learn live      0.960     0.970   2.3 s, +103 MB
bm25s                  0.905     0.931   0.18 s, +24.5 MB
TF-IDF with cosine     0.899     0.911   0.76 s, +88 MB
=====================  ========  ======  ==========================

The app's budget is 80 MB resident after start, so the classifier ships as numbers; rapidfuzz is
loaded for typo correction anyway.

:func:`match` returns a :class:`TopicMatch`: the entry when the best score is high enough and
clear of the runner-up, else no topic and the closest entries, which the bot offers instead of
guessing. The index is built on first use, or ahead of time by :func:`warm` (the shells call it
after the first screen).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from types import MappingProxyType

from rapidfuzz import fuzz, process

from .. import knowledge
from . import topic_model
from .tokens import _KNOWN, _correct, _tokenise
from .vocabulary import _PEOPLE

__all__ = ["TopicMatch", "match", "rank", "terms", "training_forms", "warm"]

#: words that carry no topic (questions are mostly made of them)
_FUNCTION_WORDS: frozenset[str] = frozenset("""
a an the i me my mine we us our you your it its is are am be been being was were to of in on at for
from by and or but do does did done can could would should will shall may might must with this that
these those there here about if so just any some get got have has had please not no what how when
which who whom whose then than also too very really still yet again now ok okay hi hello hey thanks
thank there they them their one ones something anything thing things want wanted need needed know
tell say said let lets way bot app application chatbot actually exactly supposed basically explain describe
understand wonder wondering curious question walk guide teach show through over
""".split())

#: surface forms merged into one word for matching
_SYNONYMS: Mapping[str, str] = MappingProxyType({
    **dict.fromkeys("licence licences licenses licensed licenced licencing licensing".split(), "license"),
    **dict.fromkeys("pc pcs computer computers laptop laptops machine machines workstation box device devices "
                    "notebook".split(), "device"),
    **dict.fromkeys("transfer transferring migrate migrating migration moving moved switch".split(), "move"),
    **dict.fromkeys("expire expires expired expiring expiry expiration".split(), "expire"),
    **dict.fromkeys("refused refuse refuses rejected reject rejects refusal denied deny declined".split(), "refuse"),
    **dict.fromkeys("fail fails failed failing failure error errors".split(), "fail"),
    **dict.fromkeys("delete deleted deleting remove removed removing wipe wiped erase erased".split(), "delete"),
    **dict.fromkeys("internet network connection offline airgapped disconnected unplugged".split(), "offline"),
    **dict.fromkeys("seat seats".split(), "activation"),
    **dict.fromkeys("req".split(), "request"),
    **dict.fromkeys("lic".split(), "response"),
    **dict.fromkeys("edit edits edited editing modify modifies modified modifying alter alters altered altering tweak "
                    "tweaks tweaked tweaking".split(), "edit"),
    **dict.fromkeys("quit quits quitting exit exits exiting close closes closing".split(), "quit"),
    **dict.fromkeys("date dates clock clocks".split(), "clock"),
    **dict.fromkeys("entitlement entitlements module modules".split(), "feature"),
    **dict.fromkeys("choose chose choosing pick picked picking select selecting".split(), "pick"),
    **dict.fromkeys("release releases released releasing return returns returned returning".split(), "return"),
    **dict.fromkeys(_PEOPLE | {"coworkers", "colleague", "colleagues"}, "someone"),
})

#: "SignatureMismatchError" and "get_current_license" are read as their words
_CAMEL_CASE = re.compile(r"(?<=[a-z])(?=[A-Z])")
_IDENTIFIER = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b(?!\.\w)|\b[a-z]+(?:[A-Z][a-z]+)+\b")
_MIN_STEM = 4
_BEST_FORMS = 3
#: a word only answers use counts for the entries whose answer has it, when at most this many do
_ANSWER_OWNERS = 2
#: how much the weighted shared words count against the closeness of the forms
_WORD_SHARE = 0.3
#: how much the classifier's probability counts in the blended score
_MODEL_SHARE = 0.5


def training_forms(entries: Iterable[knowledge.Entry]) -> list[tuple[str, str]]:
    """(entry id, text) for every question form and title: what both matchers learn from."""
    return [(entry.id, text) for entry in entries for text in (*entry.questions, entry.title)]


def _stem(word: str) -> str:
    """Fold the commonest English endings, so "activations", "activating" and "activated" meet."""
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= _MIN_STEM and not word.endswith("ss"):
            return word[: len(word) - len(suffix)] + keep
    return word


def terms(text: str) -> tuple[str, ...]:
    """The content words of ``text`` as the matcher compares them; an API name ("is_online", "isOnline") is read as
    its words and as one word, which names its entry more surely ("is" and "online" alone say little)."""
    out = [name.replace("_", "").lower() for name in _IDENTIFIER.findall(text)]
    for token in _tokenise(_CAMEL_CASE.sub(" ", text).replace("_", " ")):
        token = _correct(token) or token
        token = _SYNONYMS.get(token, token)
        if token not in _FUNCTION_WORDS:
            out.append(_stem(token))
    return tuple(out)


@dataclass(frozen=True)
class TopicMatch:
    """The entry a line asks about (``topic``), or None with the ``closest`` entries to offer."""

    topic: str | None
    closest: tuple[str, ...] = ()
    score: float = 0.0


class _Index:
    """Every question form reduced to its terms, which entry each belongs to, and each term's weight."""

    def __init__(self, entries: Iterable[knowledge.Entry]) -> None:
        entries_list = tuple(entries)
        forms: list[str] = []
        owners: list[str] = []
        vocabulary: dict[str, set[str]] = {}
        for topic, question in training_forms(entries_list):
            found = terms(question)
            vocabulary.setdefault(topic, set()).update(found)
            forms.append(" ".join(sorted(found)))  # sorted once here: token_sort_ratio is ratio on sorted words
            owners.append(topic)
        self.forms: Sequence[str] = tuple(forms)
        self.owners: Sequence[str] = tuple(owners)
        self.vocabulary: Mapping[str, frozenset[str]] = {k: frozenset(v) for k, v in vocabulary.items()}
        self.known: frozenset[str] = frozenset(word for words in vocabulary.values() for word in words)
        #: the entries whose answer (not questions) uses a word no question form has and that is not an everyday word
        #: ("UTC", "overage")
        answered: dict[str, set[str]] = {}
        for entry in entries_list:
            for word in set(terms(entry.answer)) - self.known - _KNOWN:
                answered.setdefault(word, set()).add(entry.id)
        self.answered: Mapping[str, frozenset[str]] = {w: frozenset(ids) for w, ids in answered.items()
                                                       if len(ids) <= _ANSWER_OWNERS}
        counts: dict[str, int] = {}
        for words in vocabulary.values():
            for word in words:
                counts[word] = counts.get(word, 0) + 1
        self.rare_weight = math.log(len(vocabulary) + 1)
        self.weights: Mapping[str, float] = {w: math.log((len(vocabulary) + 1) / (n + 0.5)) for w, n in counts.items()}

    def _known_form(self, word: str) -> str:
        """``word``, or the form the question forms use when they have it only with or without a final e or as a
        plural ("deactivating" -> "deactivate", "overage" -> "overag" of "overages")."""
        if word in self.known:
            return word
        for variant in (word + "e", word[:-1] if word.endswith("e") else "", _stem(word + "s")):
            if variant in self.known:
                return variant
        return word

    def rank(self, text: str) -> list[tuple[str, float]]:
        """Every entry with its score (0–100), best first.

        The score blends how closely the line reads like the entry's best question forms
        (``token_sort_ratio``, character level, so typos and word order cost little) with the
        share of the line's words, weighted by rarity across entries, that the entry uses: a word
        such as "guard" or "grace" names its entry more surely than "file" or "license" do.
        """
        found = tuple(self._known_form(word) for word in terms(text))
        if not found:
            return []
        per_entry: dict[str, list[float]] = {}
        for _, score, index in process.extract(" ".join(sorted(found)), self.forms, scorer=fuzz.ratio, limit=None):
            per_entry.setdefault(self.owners[index], []).append(score)
        unique = set(found)
        total = sum(self.weights.get(w, self.rare_weight) for w in unique)
        ranked = []
        for topic, scores in per_entry.items():
            closeness = sum(sorted(scores)[-_BEST_FORMS:]) / min(_BEST_FORMS, len(scores))
            shared = sum(self.weights[w] for w in unique & self.vocabulary[topic]) + sum(
                self.rare_weight for w in unique - self.known if topic in self.answered.get(w, ()))
            shared = shared / total * 100
            ranked.append((topic, (1 - _WORD_SHARE) * closeness + _WORD_SHARE * shared))
        return sorted(ranked, key=lambda item: -item[1])


@cache
def _index() -> _Index:
    return _Index(knowledge.entries())


def warm() -> None:
    """Build the index and load the classifier now (otherwise the first question does)."""
    _index()
    topic_model.load()


def rank(text: str) -> list[tuple[str, float]]:
    """Every entry with its score (0–100), best first: the fuzzy matcher's score blended with the classifier's
    probability (:mod:`.topic_model`). A line with no content word ranks nothing."""
    fuzzy = _index().rank(text)
    if not fuzzy:
        return []
    probabilities = topic_model.load().probabilities(text)
    blended = [(topic, (1 - _MODEL_SHARE) * score + _MODEL_SHARE * 100 * probabilities.get(topic, 0.0))
               for topic, score in fuzzy]
    return sorted(blended, key=lambda item: -item[1])


#: below this score no entry is sure enough to answer with (the thresholds were chosen on the labelled sets in
#: tests/chatbot/data, with the blended score)
SURE = 40.0
#: ... and the best must lead the runner-up by this much
MARGIN = 2.0
#: below this score nothing is close enough even to offer
OFFER = 30.0
#: entries within this much of the best are offered when unsure
CLOSE = 8.0


def match(text: str) -> TopicMatch:
    ranked = rank(text)
    if not ranked:
        return TopicMatch(None)
    (best, score), runner_up = ranked[0], (ranked[1][1] if len(ranked) > 1 else 0.0)
    if score >= SURE and score - runner_up >= MARGIN:
        return TopicMatch(best, score=score)
    if score < OFFER:
        return TopicMatch(None, (), score)
    closest = tuple(topic for topic, value in ranked[:3] if value >= score - CLOSE)
    return TopicMatch(None, closest, score)
