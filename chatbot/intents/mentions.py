"""What a line mentions besides its intent and slots: an error code, a user-based license's credentials.

An error code pasted from the portal or an earlier reply ("the portal said
max_activations_reached") is explained by its own code; "user NAME password PASSWORD" names a
user-based license. Both are taken from the line as typed, before anything is lower-cased or
corrected, and the credentials are cut out of the text the rules see (a password must never be
read as words).
"""

from __future__ import annotations

import re

from licensing import ERROR_CODES

from .model import Credentials

__all__ = ["code", "credentials", "spaced_code"]

#: too general to be recognised written with spaces ("a license error", "a usage error")
_GENERIC = frozenset({"license_error", "file_error", "usage_error", "invalid_argument", "binding_error", "no_license"})
_CODE = re.compile(r"\b(" + "|".join(sorted(ERROR_CODES, key=len, reverse=True)) + r")\b")
#: a code of two words or more written with spaces, as people retype it ("clock tampered")
_SPACED = re.compile(r"\b(" + "|".join(code.replace("_", r"[ -]") for code in sorted(ERROR_CODES, key=len, reverse=True)
                                        if "_" in code and code not in _GENERIC) + r")\b", re.IGNORECASE)
#: "user NAME password PASSWORD" (also "username: …", "e-mail … and pw …"); never a sentence about them
_CREDENTIALS = re.compile(
    r"\b(?:user(?:\s*name)?|login|e-?mail)\s*[:=]?\s*(?!(?:name|and|or)\b)(?P<user>\S+)\s+(?:and\s+)?"
    r"(?:pass(?:word)?|pw|pwd)\s*[:=]?\s*(?P<password>\S+)", re.IGNORECASE)


def code(text: str) -> str | None:
    """The first licensing error code named in ``text``."""
    found = _CODE.search(text)
    return found.group(1) if found else None


def spaced_code(text: str) -> str | None:
    """A code of two words or more retyped with spaces ("it keeps saying clock tampered")."""
    found = _SPACED.search(text)
    return re.sub(r"[ -]", "_", found.group(1).lower()) if found else None


def credentials(text: str) -> tuple[Credentials, str] | None:
    """The credentials in ``text`` and the text without them; None when it names none."""
    found = _CREDENTIALS.search(text)
    if found is None:
        return None
    rest = text[:found.start()] + " " + text[found.end():]
    return Credentials(found["user"], found["password"]), rest
