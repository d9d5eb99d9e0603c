"""The intent names, the slot names, and the :class:`Intent` every parse returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

ACTIVATE_ONLINE = "activate_online"
ACTIVATE_OFFLINE = "activate_offline"
CREATE_ACTIVATION_REQUEST = "create_activation_request"
DEACTIVATE_ONLINE = "deactivate_online"
DEACTIVATE_OFFLINE = "deactivate_offline"
REFRESH_OFFLINE = "refresh_offline"
CHECK_ONLINE = "check_online"
LOCAL_CHECK = "local_check"
LICENSE_STATUS = "license_status"
LIST_FEATURES = "list_features"
CONSUME = "consume"
IS_ONLINE = "is_online"
CLEAR_STORAGE = "clear_storage"
RELOAD_LICENSE = "reload_license"
HELP = "help"
QUIT = "quit"
SKILL_JOKE = "skill_joke"
SKILL_WORDCOUNT = "skill_wordcount"
SKILL_CONVERT = "skill_convert"
SKILL_DICE = "skill_dice"
SKILL_TIME = "skill_time"
UNKNOWN = "unknown"
CLARIFY = "clarify"

INTENT_NAMES: tuple[str, ...] = (
    ACTIVATE_ONLINE, ACTIVATE_OFFLINE, CREATE_ACTIVATION_REQUEST,
    DEACTIVATE_ONLINE, DEACTIVATE_OFFLINE, REFRESH_OFFLINE, CHECK_ONLINE,
    LOCAL_CHECK, LICENSE_STATUS, LIST_FEATURES, CONSUME, IS_ONLINE,
    CLEAR_STORAGE, RELOAD_LICENSE, HELP, QUIT, SKILL_JOKE, SKILL_WORDCOUNT,
    SKILL_CONVERT, SKILL_DICE, SKILL_TIME, UNKNOWN, CLARIFY,
)

#: Intents that lose a seat, local data or the session: never fuzzy-guessed.
DESTRUCTIVE_INTENTS: frozenset[str] = frozenset(
    {DEACTIVATE_ONLINE, DEACTIVATE_OFFLINE, CLEAR_STORAGE, QUIT}
)

SLOT_NAMES: tuple[str, ...] = (
    "path", "key", "count", "sides", "value", "unit_from", "unit_to", "text",
)

_UNKNOWN_SUGGESTION: tuple[str, ...] = (HELP,)


@dataclass(frozen=True)
class Intent:
    """The parse of one utterance.

    ``slots`` holds only values the user typed (read-only mapping);
    ``candidates`` lists intent names to offer for ``clarify`` (and a
    suggestion such as ``("help",)`` for ``unknown``).
    """

    name: str
    slots: Mapping[str, object] = field(default_factory=dict)
    candidates: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.name not in INTENT_NAMES:
            raise ValueError(f"unknown intent name: {self.name!r}")
        object.__setattr__(self, "slots", MappingProxyType(dict(self.slots)))
        object.__setattr__(self, "candidates", tuple(self.candidates))

    def __hash__(self) -> int:
        return hash((self.name, frozenset(self.slots.items()), self.candidates))

    def __reduce__(self) -> tuple[type[Intent], tuple[str, dict[str, object], tuple[str, ...]]]:
        # MappingProxyType cannot be pickled; rebuild from a plain dict.
        return (Intent, (self.name, dict(self.slots), self.candidates))

    def as_dict(self) -> dict[str, object]:
        """A plain, JSON-friendly copy: {"name", "slots", "candidates"}."""
        return {"name": self.name, "slots": dict(self.slots),
                "candidates": list(self.candidates)}


