"""What the conversation engine hands its shells: a :class:`Reply` per line, a :class:`LicenseStatus`.

Plain frozen dataclasses with no import of the licensing engine, so the Textual app, the
prompt_toolkit REPL and pipe mode can name these types (and import them at start-up) without
loading the engine before the first screen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["Reply", "LicenseStatus", "CONFIRM", "CANCEL"]

#: dialogue-turn intents of a :class:`Reply`, besides the names of :mod:`chatbot.intents`
CONFIRM = "confirm"
CANCEL = "cancel"


@dataclass(frozen=True)
class LicenseStatus:
    """What the UI status bar shows; computed afresh on every call."""

    licensed: bool  # local checks pass right now
    license_type: str | None
    expires: datetime | None
    days_left: int | None
    consumption_left: int | None  # None when the license does not count consumption
    online: bool | None  # None = not known yet
    summary: str  # one short line for people
    problem_code: str | None  # the first failing check's code when not licensed


@dataclass(frozen=True)
class Reply:
    """The bot's answer to one line."""

    text: str  # Markdown for people
    intent: str  # a chatbot.intents name, or "confirm" / "cancel" for dialogue turns
    ok: bool  # False when the line failed: a refusal, an error, unknown input
    suggestions: tuple[str, ...] = ()
    status: LicenseStatus | None = None  # set when the licence state may have changed
    data: Mapping[str, Any] = field(default_factory=dict)
    quit: bool = False
