"""Slot filling: the values the user typed for the chosen intent (word count text, conversion,
dice, counts, paths and keys)."""

from __future__ import annotations

from collections.abc import Sequence

from .extract import _Extracted
from .model import (
    CONSUME,
    HELP,
    INTENT_NAMES,
    QUIT,
    SKILL_CONVERT,
    SKILL_DICE,
    SKILL_JOKE,
    SKILL_TIME,
    SKILL_WORDCOUNT,
    UNKNOWN,
    Intent,
)
from .numbers import _int_token, _to_number
from .patterns import (
    _CONVERSION_RES,
    _DICE_NOTATION_RE,
    _LICENSE_WORD_RE,
    _QUOTE_PAIRS,
    _WORDCOUNT_RES,
    _WORDCOUNT_TAIL_RE,
)
from .vocabulary import _SIDES_WORDS


def _unquote(text: str) -> str:
    text = text.strip()
    if text and text[0] in _QUOTE_PAIRS:
        end = text.find(_QUOTE_PAIRS[text[0]], 1)
        if end > 1:
            return text[1:end]
    return text


def _match_wordcount(text: str) -> Intent | None:
    for regex in _WORDCOUNT_RES:
        match = regex.search(text)
        if match:
            body = _unquote(_WORDCOUNT_TAIL_RE.sub("", match.group("text"))).strip()
            return Intent(SKILL_WORDCOUNT, {"text": body} if body else {})
    return None


def _match_conversion(text: str) -> Intent | None:
    for index, regex in enumerate(_CONVERSION_RES):
        match = regex.search(text)
        if match is None:
            continue
        if index == len(_CONVERSION_RES) - 1 and _LICENSE_WORD_RE.search(text):
            continue
        groups = match.groupdict()
        slots: dict[str, object] = {}
        if groups.get("num"):
            value = _to_number(groups["num"])
            if value is not None:
                slots["value"] = value
        if groups.get("from"):
            slots["unit_from"] = groups["from"].strip()
        if groups.get("to"):
            slots["unit_to"] = groups["to"].strip()
        return Intent(SKILL_CONVERT, slots)
    return None


def _dice_number_role(words: Sequence[str], i: int) -> str | None:
    """Whether the number at ``words[i]`` is a dice "count" or "sides" (or neither)."""
    nxt = words[i + 1] if i + 1 < len(words) else ""
    after = words[i + 2] if i + 2 < len(words) else ""
    if nxt in _SIDES_WORDS:
        return "sides"                                   # "6 sided", "8 sides"
    if nxt in ("dice", "die", "times") or _DICE_NOTATION_RE.fullmatch(nxt):
        return "count"                                   # "2 dice", "3 d6"
    if _int_token(nxt) is not None and after in _SIDES_WORDS:
        return "count"                                   # "2 6 sided dice"
    return None


def _dice_slots(words: Sequence[str]) -> dict[str, int]:
    slots: dict[str, int] = {}
    for i, word in enumerate(words):
        notation = _DICE_NOTATION_RE.fullmatch(word)     # "d20", "3d6"
        if notation:
            if notation.group(1) and int(notation.group(1)) > 0:
                slots.setdefault("count", int(notation.group(1)))
            slots.setdefault("sides", int(notation.group(2)))
            continue
        value = _int_token(word)
        role = _dice_number_role(words, i) if value is not None else None
        if role is not None and value is not None:
            slots.setdefault(role, value)
    return slots


def _first_count(words: Sequence[str]) -> dict[str, int]:
    for word in words:
        value = _int_token(word)
        if value is not None:
            return {"count": value}
    return {}


_PATH_KEY_INTENTS = frozenset(INTENT_NAMES) - {
    HELP, QUIT, SKILL_JOKE, SKILL_WORDCOUNT, SKILL_CONVERT, SKILL_DICE,
    SKILL_TIME, UNKNOWN,
}


def _slots_for(name: str, words: Sequence[str], extracted: _Extracted) -> dict[str, object]:
    slots: dict[str, object] = {}
    if name in _PATH_KEY_INTENTS:
        if extracted.path is not None:
            slots["path"] = extracted.path
        if extracted.key is not None:
            slots["key"] = extracted.key
    if name == CONSUME:
        slots.update(_first_count(words))
    elif name == SKILL_DICE:
        slots.update(_dice_slots(words))
    return slots


