"""Tokenising (lower case, contractions, multi-word spellings, number words) and typo correction
against the bot's own command vocabulary."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType

from rapidfuzz import fuzz, process

from .numbers import _merge_number_words
from .patterns import _APOSTROPHES_RE, _PHRASES, _POSSESSIVE_RE, _TOKEN_RE
from .vocabulary import (
    _CANON,
    _COMMON_WORDS,
    _CONTRACTIONS,
    _FILLER,
    _GREETINGS,
    _HELP_RES,
    _IS_ONLINE_RES,
    _NUMBER_WORDS,
    _OOS_RES,
    _PEOPLE,
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
    | _pattern_words(_HELP_RES + _TIME_RES + _IS_ONLINE_RES + _OOS_RES)
)

# Typo targets: the command vocabulary (long enough to be worth correcting).
_FUZZ_TARGETS: tuple[str, ...] = tuple(sorted(w for w in _CANON if len(w) >= 4))
_FUZZ_CUTOFF = 80.0
_FUZZ_MIN_LEN = 4
_FUZZ_MAX_LEN_GAP = 1


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
    table: dict[str, str] = {}
    for target in _FUZZ_TARGETS:
        for variant in _transpositions(target):
            if variant not in _KNOWN:
                table.setdefault(variant, target)
    return MappingProxyType(table)


_TRANSPOSED: Mapping[str, str] = _build_transposition_table()
_FUZZ_BUCKETS: Mapping[tuple[str, int], tuple[str, ...]] = _build_fuzz_buckets()


def _drop_possessive(match: re.Match[str]) -> str:
    """"wife's" -> "wife", but keep contractions such as "what's" -> "whats"."""
    joined = match.group(1) + "s"
    return joined if joined in _CONTRACTIONS else match.group(1)


def _tokenise(text: str) -> list[str]:
    lowered = _APOSTROPHES_RE.sub("'", text.lower())
    lowered = _POSSESSIVE_RE.sub(_drop_possessive, lowered).replace("'", "")
    tokens: list[str] = []
    for token in _TOKEN_RE.findall(lowered):
        tokens.extend(_CONTRACTIONS.get(token, (token,)))
    joined = " ".join(tokens)
    for regex, replacement in _PHRASES:
        joined = regex.sub(replacement, joined)
    return _merge_number_words(joined.split())


def _correct(token: str) -> str | None:
    """The command word ``token`` is a typo of, or None."""
    if len(token) < _FUZZ_MIN_LEN or not token.isalpha() or token in _KNOWN:
        return None
    if token in _TRANSPOSED:
        return _TRANSPOSED[token]
    choices = _FUZZ_BUCKETS.get((token[0], len(token)))
    if not choices:
        return None
    match = process.extractOne(token, choices, scorer=fuzz.ratio,
                               score_cutoff=_FUZZ_CUTOFF)
    return match[0] if match else None


def _surface(tokens: Sequence[str]) -> list[str]:
    """The tokens with typos of command words corrected, still as words ("licnse" -> "license")."""
    return [_correct(token) or token for token in tokens]


def _canonical(tokens: Sequence[str]) -> tuple[str, ...]:
    return tuple(_CANON.get(t, t) for t in tokens)


def _corrected(tokens: Sequence[str]) -> tuple[str, ...]:
    return _canonical(_surface(tokens))


