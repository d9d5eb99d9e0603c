"""Tokenising (lower case, contractions, multi-word spellings, number words) and typo correction
against the bot's own command vocabulary."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType

from rapidfuzz import fuzz, process

from .numbers import _merge_number_words
from .patterns import _APOSTROPHES_RE, _CAMEL_CASE_RE, _PHRASES, _POSSESSIVE_RE, _TOKEN_RE
from .vocabulary import (
    _CANON,
    _COMMON_WORDS,
    _CONTRACTIONS,
    _FEATURE_NAMES,
    _FILLER,
    _GREETINGS,
    _HELP_RES,
    _IS_ONLINE_RES,
    _NUMBER_WORDS,
    _OOS_RES,
    _PEOPLE,
    _QUESTION_WORDS,
    _RELEASE_CONTEXT,
    _SIDES_WORDS,
    _STORAGE_TARGETS,
    _TIME_RES,
    _TROUBLE,
    _UNIT_NAMES,
    _pattern_words,
)

_KNOWN: frozenset[str] = (
    frozenset(_CANON) | _COMMON_WORDS | _NUMBER_WORDS
    | frozenset(u for u in _UNIT_NAMES if u.isalpha()) | frozenset(_CONTRACTIONS)
    | _FILLER | _GREETINGS | _PEOPLE | _SIDES_WORDS | _STORAGE_TARGETS | _RELEASE_CONTEXT | _TROUBLE
    | _pattern_words(_HELP_RES + _TIME_RES + _IS_ONLINE_RES + _OOS_RES) | _FEATURE_NAMES
)

# Typo targets: the command vocabulary and the words questions hinge on (long enough to be worth correcting).
_FUZZ_TARGETS: tuple[str, ...] = tuple(sorted({w for w in (*_CANON, *_QUESTION_WORDS) if len(w) >= 4}))
_FUZZ_CUTOFF = 80.0
_FUZZ_MIN_LEN = 4
_FUZZ_MAX_LEN_GAP = 1
#: a three-letter token is corrected only when it is a four-letter target with a vowel or an "h" (not the
#: first letter) dropped, as quick typing does ("jok", "hav", "wen", "knd"), and never into a word of a
#: destructive command ("qit" stays unknown)
_SHORT_LEN = 3
_DROPPED = frozenset("aeiouh")
_DESTRUCTIVE_CONCEPTS = frozenset({"quit", "clear", "forget", "deactivate", "release"})
#: a run-together pair of command words ("localcheck", "clearstorage") is split when both halves are words
#: the rules know (the second may be a typo); the halves are at least this long
_SPLIT_MIN = 4


def _build_fuzz_buckets() -> Mapping[tuple[str, int], tuple[str, ...]]:
    """Targets keyed by (first letter, token length).

    A typo rarely hits the first letter and rarely changes the length by more
    than one; restricting candidates this way keeps real words such as
    "mode" (-> module), "failed" (-> file) or "unclear" (-> clear) intact.
    """
    buckets: dict[tuple[str, int], list[str]] = {}
    for target in _FUZZ_TARGETS:
        for length in range(len(target) - _FUZZ_MAX_LEN_GAP, len(target) + _FUZZ_MAX_LEN_GAP + 1):
            buckets.setdefault((target[0], length), []).append(target)
    return MappingProxyType({k: tuple(v) for k, v in buckets.items()})


def _transpositions(word: str) -> Iterable[str]:
    for i in range(len(word) - 1):
        if word[i] != word[i + 1]:
            yield word[:i] + word[i + 1] + word[i] + word[i + 2:]


def _build_transposition_table() -> Mapping[str, str]:
    """Two neighbouring letters swapped ("strat", "licnese"): the commonest typo, and one that a unique known word
    explains, so any known word of four letters or more is a target, the command words first."""
    table: dict[str, str] = {}
    for target in (*_FUZZ_TARGETS, *sorted(w for w in _KNOWN if len(w) >= _FUZZ_MIN_LEN and w.isalpha())):
        for variant in _transpositions(target):
            if variant not in _KNOWN:
                table.setdefault(variant, target)
    return MappingProxyType(table)


def _build_short_table() -> Mapping[str, str]:
    table: dict[str, str | None] = {}
    for target in _FUZZ_TARGETS:
        if len(target) != _SHORT_LEN + 1 or _CANON.get(target) in _DESTRUCTIVE_CONCEPTS:
            continue
        for i in range(1, len(target)):
            if target[i] not in _DROPPED:
                continue
            variant = target[:i] + target[i + 1:]
            if variant not in _KNOWN:
                table[variant] = target if table.get(variant, target) == target else None  # ambiguous: none
    return MappingProxyType({k: v for k, v in table.items() if v is not None})


_TRANSPOSED: Mapping[str, str] = _build_transposition_table()
_SHORT_TYPOS: Mapping[str, str] = _build_short_table()
_SPLIT_WORDS: frozenset[str] = frozenset(w for w in (*_CANON, *_QUESTION_WORDS) if len(w) >= _SPLIT_MIN) | {"id", "key"}
_FUZZ_BUCKETS: Mapping[tuple[str, int], tuple[str, ...]] = _build_fuzz_buckets()


def _drop_possessive(match: re.Match[str]) -> str:
    """"wife's" -> "wife", but keep contractions such as "what's" -> "whats"."""
    joined = match.group(1) + "s"
    return joined if joined in _CONTRACTIONS else match.group(1)


def _tokenise(text: str) -> list[str]:
    lowered = _APOSTROPHES_RE.sub("'", _CAMEL_CASE_RE.sub(" ", text).lower())
    lowered = _POSSESSIVE_RE.sub(_drop_possessive, lowered).replace("'", "")
    tokens: list[str] = []
    for token in _TOKEN_RE.findall(lowered):
        tokens.extend(_CONTRACTIONS.get(token, (token,)))
    joined = " ".join(tokens)
    for regex, replacement in _PHRASES:
        joined = regex.sub(replacement, joined)
    return _merge_number_words(joined.split())


def _correct(token: str) -> str | None:
    """The command or question word ``token`` is a typo of, or None."""
    if not token.isalpha() or token in _KNOWN:
        return None
    if len(token) == _SHORT_LEN:
        return _SHORT_TYPOS.get(token)
    if len(token) < _FUZZ_MIN_LEN:
        return None
    if token in _TRANSPOSED:
        return _TRANSPOSED[token]
    choices = _FUZZ_BUCKETS.get((token[0], len(token)))
    if not choices:
        return None
    match = process.extractOne(token, choices, scorer=fuzz.ratio,
                               score_cutoff=_FUZZ_CUTOFF)
    return match[0] if match else None


def _split(token: str) -> tuple[str, str] | None:
    """Two known words run together ("localcheck" -> local, check; "licensekey" -> license, key)."""
    if not token.isalpha() or token in _KNOWN or len(token) < 2 * _SPLIT_MIN - 2:
        return None
    for cut in range(_SPLIT_MIN, len(token) - 1):
        head, tail = token[:cut], token[cut:]
        if head in _SPLIT_WORDS and (tail in _SPLIT_WORDS or _correct(tail) in _SPLIT_WORDS):
            return head, _correct(tail) or tail
    return None


def _surface(tokens: Sequence[str]) -> list[str]:
    """The tokens with typos of command and question words corrected, still as words ("licnse" ->
    "license"), and two command words typed as one split ("localcheck" -> "local check")."""
    out: list[str] = []
    for token in tokens:
        corrected = _correct(token)
        if corrected is not None:
            out.append(corrected)
            continue
        out.extend(_split(token) or (token,))
    return out


def _canonical(tokens: Sequence[str]) -> tuple[str, ...]:
    return tuple(_CANON.get(t, t) for t in tokens)


def _corrected(tokens: Sequence[str]) -> tuple[str, ...]:
    return _canonical(_surface(tokens))


