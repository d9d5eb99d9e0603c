"""Numbers typed as digits or words ("twenty five" -> 25)."""

from __future__ import annotations

from collections.abc import Sequence

from .patterns import _FLOAT_RE, _INT_RE, _NUMBER_SPLIT_RE
from .vocabulary import _NUMBER_SCALES, _NUMBER_TENS, _NUMBER_UNITS, _NUMBER_WORDS


def _number_from_words(words: Sequence[str], start: int = 0) -> tuple[int | None, int]:
    """Parse the run of number words at ``words[start:]``; (value, words consumed)."""
    total, current, used, last = 0, 0, 0, ""
    for i in range(start, len(words)):
        word = words[i]
        if word == "and" and last in ("hundred", "thousand") and i + 1 < len(words) \
                and words[i + 1] in _NUMBER_WORDS and words[i + 1] not in _NUMBER_SCALES:
            continue
        if word in _NUMBER_UNITS:
            if last in _NUMBER_UNITS:
                break
            if last in _NUMBER_TENS and _NUMBER_UNITS[word] >= 10:
                break
            current += _NUMBER_UNITS[word]
        elif word in _NUMBER_TENS:
            if last in _NUMBER_UNITS or last in _NUMBER_TENS:
                break
            current += _NUMBER_TENS[word]
        elif word == "hundred":
            if last in ("hundred", "thousand"):
                break
            current = (current or 1) * 100
        elif word == "thousand":
            if last == "thousand":
                break
            total += (current or 1) * 1000
            current = 0
        else:
            break
        last, used = word, i + 1 - start
    if used == 0:
        return None, 0
    return total + current, used


def _to_number(text: str) -> int | float | None:
    """A number typed as digits or words, or None."""
    text = text.strip()
    if _INT_RE.fullmatch(text):
        return int(text)
    if _FLOAT_RE.fullmatch(text):
        return float(text)
    words = [w for w in _NUMBER_SPLIT_RE.split(text.lower()) if w]
    value, used = _number_from_words(words)
    return value if used else None


def _merge_number_words(tokens: Sequence[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(tokens):
        if tokens[i] in _NUMBER_WORDS:
            value, used = _number_from_words(tokens, i)
            if used:
                out.append(str(value))
                i += used
                continue
        out.append(tokens[i])
        i += 1
    return out


def _int_token(token: str) -> int | None:
    if token.isdigit() and len(token) <= 9:
        return int(token)
    return None


