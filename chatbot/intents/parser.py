"""The pipeline behind :func:`chatbot.intents.parse`."""

from __future__ import annotations

from .extract import _extract
from .model import _UNKNOWN_SUGGESTION, UNKNOWN, Intent
from .rules import _guarded, _View
from .slots import _match_conversion, _match_wordcount, _slots_for
from .tokens import _canonical, _corrected, _tokenise


def parse(text: str) -> Intent:
    """Parse one user utterance into an :class:`Intent`.  Never raises for a str."""
    if not isinstance(text, str):
        raise TypeError(f"parse() expects str, got {type(text).__name__}")
    stripped = text.strip()
    if not stripped:
        return Intent(UNKNOWN, candidates=_UNKNOWN_SUGGESTION)
    skill = _match_wordcount(stripped) or _match_conversion(stripped)
    if skill is not None:
        return skill
    extracted = _extract(stripped)
    tokens = _tokenise(extracted.rest)
    raw = _View.build(_canonical(tokens), extracted)
    corrected = _View.build(_corrected(tokens), extracted)
    name, candidates = _guarded(corrected, raw)
    return Intent(name, _slots_for(name, corrected.words, extracted), candidates)

