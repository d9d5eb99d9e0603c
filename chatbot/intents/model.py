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
    "topic", "fact", "feature", "choice",
)

# Dialogue acts: what a line does in the conversation, resolved by the dialogue manager.
GREET = "greet"
THANK = "thank"
BYE = "bye"
AFFIRM = "affirm"
DENY = "deny"
DONE = "done"
FOLLOW_UP = "follow_up"
WHY = "why"
SELECT = "select"
ACT_NAMES: tuple[str, ...] = (GREET, THANK, BYE, AFFIRM, DENY, DONE, FOLLOW_UP, WHY, SELECT)

# The facts of the held license a ``license_status`` question may ask for (the ``fact`` slot).
FACT_NAMES: tuple[str, ...] = (
    "activations", "device_id", "license_key", "license_type", "expiry", "feature", "consumption",
    "last_check", "server_contact",
)

_UNKNOWN_SUGGESTION: tuple[str, ...] = (HELP,)


@dataclass(frozen=True)
class Credentials:
    """A user-based license's name and password, as typed ("user NAME password PASSWORD")."""

    user: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class Intent:
    """The parse of one utterance.

    ``slots`` holds only values the user typed (read-only mapping); ``candidates`` lists intent
    names to offer for ``clarify`` (and a suggestion such as ``("help",)`` for ``unknown``);
    ``act`` is the dialogue act, if any. Besides the slots, what a line mentions that the bot
    may use: ``closest`` (a question no entry answers for sure: the nearest knowledge entries,
    best first, to offer), ``code`` (an error code pasted from the portal or the app) and
    ``credentials`` (a user-based license's name and password).
    """

    name: str
    slots: Mapping[str, object] = field(default_factory=dict)
    candidates: tuple[str, ...] = ()
    act: str | None = None
    closest: tuple[str, ...] = ()
    code: str | None = None
    credentials: Credentials | None = None

    def __post_init__(self) -> None:
        if self.name not in INTENT_NAMES:
            raise ValueError(f"unknown intent name: {self.name!r}")
        if self.act is not None and self.act not in ACT_NAMES:
            raise ValueError(f"unknown dialogue act: {self.act!r}")
        object.__setattr__(self, "slots", MappingProxyType(dict(self.slots)))
        object.__setattr__(self, "candidates", tuple(self.candidates))
        object.__setattr__(self, "closest", tuple(self.closest))

    def __hash__(self) -> int:
        return hash((self.name, frozenset(self.slots.items()), self.candidates, self.act, self.closest, self.code,
                     self.credentials))

    def __reduce__(self) -> tuple[type[Intent], tuple[object, ...]]:
        # MappingProxyType cannot be pickled; rebuild from a plain dict.
        return (Intent, (self.name, dict(self.slots), self.candidates, self.act, self.closest, self.code,
                         self.credentials))

    def as_dict(self) -> dict[str, object]:
        """A plain, JSON-friendly copy (the password left out)."""
        return {"name": self.name, "slots": dict(self.slots), "candidates": list(self.candidates),
                "act": self.act, "closest": list(self.closest), "code": self.code,
                "user": None if self.credentials is None else self.credentials.user}
