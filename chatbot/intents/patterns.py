"""The regular expressions: keys, paths, tokens, multi-word spellings, numbers, conversions and word counts."""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

from .vocabulary import _NUMBER_WORDS, _UNIT_NAMES

_KEY_RE = re.compile(r"(?<![A-Za-z0-9-])[A-Za-z0-9]{4}(?:-[A-Za-z0-9]{4}){3}(?![A-Za-z0-9-])")

_QUOTED_RE = re.compile(
    r"""(?:(?<=^)|(?<=[\s(=:,]))(?:"([^"\n]+)"|'([^'\n]+)'|“([^”\n]+)”|‘([^’\n]+)’)"""
    r"""(?=$|[\s.,;:!?)])"""
)
_LOOKS_LIKE_PATH_RE = re.compile(
    r"(?:^~|^\.{1,2}[\\/]|[\\/]|^[A-Za-z]:|\.(?:lic|req)$)", re.IGNORECASE
)
# Anchored paths that end in .lic/.req may contain spaces (bounded length).
_SPACED_PATH_RE = re.compile(
    r"(?:(?<=^)|(?<=[\s(=,]))"
    r"(?:[A-Za-z]:[\\/]|\\\\|~[\\/]|\.{1,2}[\\/]|/)"
    r"[^\n\"'<>|*?]{0,255}?\.(?:lic|req)(?![A-Za-z0-9_])",
    re.IGNORECASE,
)
_PLAIN_PATH_RE = re.compile(
    r"(?:(?<=^)|(?<=[\s(=,]))"
    r"(?:[^\s\"'<>|*?]+\.(?:lic|req)(?![A-Za-z0-9_])"
    r"|[A-Za-z]:[\\/][^\s\"'<>|*?]*"
    r"|(?:\\\\|~[\\/]?|\.{1,2}[\\/]|/)[^\s\"'<>|*?]+)",
    re.IGNORECASE,
)
#: a folder typed after "to", "in", "into", "at", "on", "from", "under" may hold spaces ("write the file to
#: ~/usb stick/", "save it in D:\\My Files"): it runs to the end of the line, a comma, or " and", " then", " please",
#: " now", " thanks", " for me"
_TRAILING_PATH_RE = re.compile(
    r"(?:(?<=\bto )|(?<=\bin )|(?<=\binto )|(?<=\bat )|(?<=\bon )|(?<=\bfrom )|(?<=\bunder ))"
    r"(?:[A-Za-z]:[\\/]|\\\\|~[\\/]|\.{1,2}[\\/]|/)[^\n\"'<>|*?,;]{0,255}?"
    r"(?=[,;]|\s+(?:and|then|please|pls|now|thanks|thank you|for me)\b|[.!?]*\s*$)",
    re.IGNORECASE,
)
_TRAILING_PUNCT_RE = re.compile(r"[.,;:!?)\]]+$")
_PATH_EXT_RE = re.compile(r"\.(?:lic|req)$", re.IGNORECASE)
# "/quit", "/help" at the start of a line: chat slash-commands, not paths.
_SLASH_COMMAND_RE = re.compile(r"/[A-Za-z]+")

_APOSTROPHES_RE = re.compile(r"[’‘`´]")
#: "clearLocalStorage", "isOnline": an API name is read as its words
_CAMEL_CASE_RE = re.compile(r"(?<=[a-z])(?=[A-Z][a-z])")
_POSSESSIVE_RE = re.compile(r"([a-z0-9]+)'s\b")
_TOKEN_RE = re.compile(r"[a-z0-9]*[a-z][a-z0-9]*|[0-9]+(?:\.[0-9]+)?")
# Multi-word spellings, applied to the space-joined token string.
_NO_NET = r"(?:internet|network|wifi|connection|connectivity)(?: connection| access)?"
_PHRASES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"\boff line\b", "offline"),
        (r"\bon line\b", "online"),
        (r"\bair ?gap(?:ped)?\b", "offline"),
        (rf"\b(?:without|no) (?:an |a |the |any )?{_NO_NET}\b", "offline"),
        (rf"\b(?:do|does|did|can) not have (?:an |a |the |any )?{_NO_NET}\b", "offline"),
        (r"\b(?:not|never) (?:connected|online)"
         r"(?: to (?:the )?(?:internet|network|server|wifi))?\b", "offline"),
        # "get this activated" asks for activation; "is it activated" asks for status
        (r"\bget((?: [a-z]+){0,3}) (?:activated|registered)\b", r"get\1 activate"),
        (r"\btime ?zones?\b", "timezone"),
        (r"\bhw ?id\b", "hardware id"),  # "hw" alone is a typo of "how" ("hw many")
        (r"\bgood bye\b", "goodbye"),
        (r"\bbye bye\b", "bye"),
        (r"\bsee (?:you|ya)(?: later| soon)?\b", "goodbye"),
        (r"\bre (read|load|activate|activation|register)\b", r"re\1"),
        (r"\bde (activate|activation|register|registration)\b", r"de\1"),
        (r"\bun (register|install)\b", r"un\1"),
        (r"\bcheck for updates?\b", "software update"),
        # "I'd like", "it'd be": the apostrophe is gone, so "id" is told from an id by the word after it
        (r"\b(i|it|you|that)d (like|love|rather|prefer|appreciate|be|need|want)\b", r"\1 would \2"),
        (r"\bhw (?=many|much|do|does|did|long|can|to|is|are|come|often)", "how "),
    )
)

_NUM_WORD_ALT = "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True))
# Number words are bounded ({0,10}) so a long run of them cannot make the
# conversion regexes backtrack quadratically.
_NUM_PAT = (
    rf"(?:-?[0-9]{{1,12}}(?:\.[0-9]{{1,12}})?(?![0-9])"
    rf"|\b(?:{_NUM_WORD_ALT})(?:[\s-]+(?:and[\s-]+)?(?:{_NUM_WORD_ALT})){{0,10}}\b)"
)
_UNIT_ALT = "|".join(re.escape(u) for u in sorted(_UNIT_NAMES, key=len, reverse=True))
_UNIT_PAT = (
    rf"(?:(?:degrees?\s+|deg\s+|°\s*|º\s*|fluid\s+|square\s+|sq\s+|cubic\s+|nautical\s+)?"
    rf"(?:{_UNIT_ALT})(?:\s+per\s+(?:hour|second|minute))?)(?![\w/])"
)
_ANY_UNIT_PAT = r"(?:°?[A-Za-z][A-Za-z/]*)"
_CONVERSION_RES: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p, re.IGNORECASE)
    for p in (
        # how many feet (are there) in 3 meters
        rf"\bhow\s+many\s+(?P<to>{_UNIT_PAT})\s+(?:are\s+)?(?:there\s+)?in\s+"
        rf"(?:an?\s+)?(?:(?P<num>{_NUM_PAT})\s*)?(?P<from>{_UNIT_PAT})",
        # how many miles is 10 km
        rf"\bhow\s+many\s+(?P<to>{_UNIT_PAT})\s+(?:is|are|make|makes|equals?)\s+(?:an?\s+)?(?:(?P<num>{_NUM_PAT})\s*)?"
        rf"(?P<from>{_UNIT_PAT})\b",
        # (convert) 10 km to miles / what is 5 kg in pounds
        rf"(?<![\w.])(?P<num>{_NUM_PAT})\s*(?P<from>{_UNIT_PAT})\s+"
        rf"(?:to|in|into|as)\s+(?P<to>{_UNIT_PAT})",
        # convert km to miles
        rf"\bconvert\s+(?:from\s+)?(?P<from>{_UNIT_PAT})\s+(?:to|into|in)\s+(?P<to>{_UNIT_PAT})",
        # convert 10 km
        rf"\bconvert\s+(?P<num>{_NUM_PAT})\s*(?P<from>{_UNIT_PAT})",
        # convert 3 furlongs to parsecs (units the bot may not know)
        rf"\bconvert\s+(?P<num>{_NUM_PAT})\s*(?P<from>{_ANY_UNIT_PAT})"
        rf"(?:\s+(?:to|into|in)\s+(?P<to>{_ANY_UNIT_PAT}))?",
    )
)
_LICENSE_WORD_RE = re.compile(r"licen[cs]", re.IGNORECASE)

_POLITE_PREFIX = (
    r"^(?:(?:hey|hi|ok|okay|so|now|and|bot)[,!]?\s+)*"
    r"(?:(?:please|pls|kindly|can\s+you|could\s+you|would\s+you|will\s+you|"
    r"i\s+want\s+you\s+to|i'd\s+like\s+you\s+to)\s+)*"
)
_TEXT_NOUN = r"(?:text|sentence|string|phrase|line|message|words)"
_TEXT_INTRO = (
    r"(?:\s+(?:in|of|for|on))?"
    rf"(?:\s+(?:(?:the\s+)?following(?:\s+{_TEXT_NOUN})?|(?:this|the|my)\s+{_TEXT_NOUN}))?"
    r"\s*[:\-–]?\s*(?P<text>.*)$"
)
_WORDCOUNT_RES: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p, re.IGNORECASE | re.DOTALL)
    for p in (
        _POLITE_PREFIX + r"(?:count|tally)\s+(?:up\s+)?(?:the\s+|all\s+(?:the\s+)?)?"
        r"(?:number\s+of\s+)?words?\b" + _TEXT_INTRO,
        r"\bword[\s-]?count\b" + _TEXT_INTRO,
        r"\bhow\s+many\s+words\s+(?:are\s+)?(?:there\s+)?(?:in|does)\b" + _TEXT_INTRO,
    )
)
_QUOTE_PAIRS: Mapping[str, str] = MappingProxyType(
    {'"': '"', "'": "'", "“": "”", "‘": "’", "«": "»"}
)

_DICE_NOTATION_RE = re.compile(r"([0-9]{0,6})d([0-9]{1,6})")
_NUMBER_TOKEN_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_INT_RE = re.compile(r"-?[0-9]{1,12}")
_FLOAT_RE = re.compile(r"-?[0-9]{1,12}\.[0-9]{1,12}")
_NUMBER_SPLIT_RE = re.compile(r"[\s-]+")
#: "close the chatbot", "shut down the bot", "end this session": quitting, said of the app itself
_CLOSE_APP_RE = re.compile(r" (?:close|shut down|shutdown|end|stop|terminate|kill) (?:the |this |our |my )?"
                           r"(?:app|application|program|chat|chatbot|bot|session|conversation|window|assistant) ")
# "how many words does X have?": drop the trailing verb of the question.
_WORDCOUNT_TAIL_RE = re.compile(r"\s+(?:have|contain|has)\s*\??\s*$", re.IGNORECASE)

