"""Slot extraction before tokenising: paths (quoted, spaced or plain) and license keys are pulled out of
the text, so they can neither be typo-corrected nor mistaken for words."""

from __future__ import annotations

from dataclasses import dataclass

from .patterns import (
    _KEY_RE,
    _LOOKS_LIKE_PATH_RE,
    _PATH_EXT_RE,
    _PLAIN_PATH_RE,
    _QUOTED_RE,
    _SLASH_COMMAND_RE,
    _SPACED_PATH_RE,
    _TRAILING_PATH_RE,
    _TRAILING_PUNCT_RE,
)


@dataclass(frozen=True)
class _Extracted:
    rest: str
    path: str | None
    key: str | None


def _strip_path(candidate: str) -> str:
    if _PATH_EXT_RE.search(candidate):
        return candidate
    return _TRAILING_PUNCT_RE.sub("", candidate)


def _blank(text: str, start: int, end: int) -> str:
    return text[:start] + " " * (end - start) + text[end:]


def _find_path(text: str) -> tuple[str | None, str]:
    """First path in ``text`` (quoted, spaced or plain) and the text without it."""
    for quoted in _QUOTED_RE.finditer(text):
        inner = next(g for g in quoted.groups() if g is not None).strip()
        if inner and _LOOKS_LIKE_PATH_RE.search(inner):
            return inner, _blank(text, quoted.start(), quoted.end())
    for regex in (_SPACED_PATH_RE, _TRAILING_PATH_RE, _PLAIN_PATH_RE):
        found = regex.search(text)
        if found is None or (regex is _TRAILING_PATH_RE and " " not in found.group(0)):
            continue
        path = _strip_path(found.group(0))
        slash_command = found.start() == 0 and _SLASH_COMMAND_RE.fullmatch(path)
        if path and not slash_command:
            return path, _blank(text, found.start(), found.start() + len(path))
    return None, text


def _extract(text: str) -> _Extracted:
    path, rest = _find_path(text)
    key_match = _KEY_RE.search(rest)
    key = key_match.group(0) if key_match else None
    if key_match:
        rest = _blank(rest, key_match.start(), key_match.end())
    return _Extracted(rest=rest, path=path, key=key)


def _path_kind(path: str | None) -> str | None:
    if path is None:
        return None
    lowered = path.lower()
    if lowered.endswith(".lic"):
        return "lic"
    if lowered.endswith(".req"):
        return "req"
    return "other"


