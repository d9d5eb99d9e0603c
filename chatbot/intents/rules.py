"""The command rules: an ordered table of small functions over a view of the line; the first that
fires decides the intent. Destructive intents are never chosen on a typo correction alone."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .extract import _Extracted, _path_kind
from .model import (
    _UNKNOWN_SUGGESTION,
    ACTIVATE_OFFLINE,
    ACTIVATE_ONLINE,
    BORROW_SEAT,
    CHECK_ONLINE,
    CLARIFY,
    CLEAR_STORAGE,
    CONSUME,
    CREATE_ACTIVATION_REQUEST,
    DEACTIVATE_OFFLINE,
    DEACTIVATE_ONLINE,
    DESTRUCTIVE_INTENTS,
    HELP,
    IS_ONLINE,
    LICENSE_STATUS,
    LIST_FEATURES,
    LIST_SEATS,
    LOCAL_CHECK,
    QUIT,
    REFRESH_OFFLINE,
    RELEASE_SEAT,
    RELOAD_LICENSE,
    REQUEST_SEAT,
    RETURN_BORROWED_SEAT,
    SKILL_CONVERT,
    SKILL_DICE,
    SKILL_JOKE,
    SKILL_TIME,
    SKILL_WORDCOUNT,
    START_FLOATING_SERVER,
    STOP_FLOATING_SERVER,
    UNKNOWN,
)
from .patterns import _CLOSE_APP_RE, _DICE_NOTATION_RE, _NUMBER_TOKEN_RE
from .vocabulary import (
    _ACTION_VERBS,
    _FILLER,
    _GREETINGS,
    _HELP_RES,
    _IS_ONLINE_RES,
    _LICENSING,
    _NETWORK_WORDS,
    _ONLINE_WORDS,
    _OOS_RES,
    _PEOPLE,
    _RELEASE_CONTEXT,
    _SEAT_TAKE,
    _SERVER_START,
    _SERVER_STOP,
    _SIDES_WORDS,
    _STORAGE_TARGETS,
    _TIME_RES,
    _TROUBLE,
)


@dataclass(frozen=True)
class _View:
    words: tuple[str, ...]
    bag: frozenset[str]
    line: str
    path_kind: str | None
    has_key: bool

    @classmethod
    def build(cls, words: tuple[str, ...], extracted: _Extracted) -> _View:
        return cls(
            words=words,
            bag=frozenset(words),
            line=" " + " ".join(words) + " ",
            path_kind=_path_kind(extracted.path),
            has_key=extracted.key is not None,
        )

    def has(self, *concepts: str) -> bool:
        return any(c in self.bag for c in concepts)

    def matches(self, patterns: Iterable[re.Pattern[str]]) -> bool:
        return any(p.search(self.line) for p in patterns)

    @property
    def has_number(self) -> bool:
        return any(_NUMBER_TOKEN_RE.fullmatch(w) for w in self.words)

    @property
    def licensing(self) -> bool:
        return bool(self.bag & _LICENSING) or self.has_key or self.path_kind is not None


_Decision = tuple[str, tuple[str, ...]]
_Rule = Callable[[_View], _Decision | None]


def _pick(name: str) -> _Decision:
    return name, ()


def _ask(*candidates: str) -> _Decision:
    return CLARIFY, tuple(candidates)



#: "does reinstalling cost me an activation?": what something costs in seats or uses is not a price (the rules read
#: "cost" as "oos", "seat" as "device")
_COSTS_A_SEAT = re.compile(r" oos (?:me |us )?(?:a |an |one |another |any |extra )?(?:activation|device|credit|use) ")
#: buying or selling the computer, not the license: "I'm buying a new laptop, how do I move my license?", "deactivate
#: this pc before I sell it"
_MACHINE = r"(?:pc|computer|laptop|machine|device|workstation|box|hardware)"
_TRADES_THE_MACHINE = re.compile(rf" oos (?:(?:my|the|this|our|that|a|an) )?(?:new |old |used )?{_MACHINE} "
                                 rf"| {_MACHINE} (?:[a-z]+ ){{0,4}}oos it ")


def _rule_out_of_scope(v: _View) -> _Decision | None:
    if ("oos" in v.bag and not _COSTS_A_SEAT.search(v.line) and not _TRADES_THE_MACHINE.search(v.line)) or v.matches(_OOS_RES) or " software update " in v.line or (
            "renew" in v.bag and "seat" not in v.bag):
        return UNKNOWN, _UNKNOWN_SUGGESTION
    if v.has("give", "share", "lend", "sell", "gift", "convert") and v.has("license") and " give me " not in v.line:
        return UNKNOWN, _UNKNOWN_SUGGESTION
    if "move" in v.bag and v.has("license", "activation", "key") and v.bag & _PEOPLE:
        return UNKNOWN, _UNKNOWN_SUGGESTION  # handing a license to someone else is the vendor's business
    return None


def _rule_move(v: _View) -> _Decision | None:
    """Moving the license to another computer: explained (deactivate here, activate there), never run."""
    if "move" in v.bag and (v.has("license", "activation", "key", "device") or v.path_kind or v.has_key) and not v.has(
            "deactivate"):  # "I'm moving pcs, deactivate offline please": the step asked for runs
        return _pick(HELP)
    return None


#: giving a seat back: "release my seat", "give the seat back", "free up my seat", "drop the lease"
_SEAT_BACK = re.compile(r" (?:release|return|drop|leave|relinquish|surrender|hand back|give up) "
                        r"| (?:give|hand) (?:[a-z]+ ){0,3}back | back (?:my |the |this |our )?seat "
                        r"| free (?:up )?(?:my|the|this|our) seat | done with (?:my |the |this )?seat | end (?:my|the) ")
#: asking about the seats: "how many seats are free?", "who holds the seats?", "seats", "list the seats"
_SEAT_LIST = re.compile(r" how many (?:[a-z]+ ){0,2}seat | who (?:has|holds|is holding|is using|uses|took|got) "
                        r"| (?:list|show|display|check)(?: me)? (?:the |all |all the |our |my )?(?:floating )?seat "
                        r"| seat (?:are |is )?(?:free|available|taken|in use|used|left|remaining|open|status|list) "
                        r"| (?:free|available|open|spare) seat | any seat |^ (?:the |floating )?seat $")
#: the floating server's state, asked: "is the floating server running?"
_SERVER_STATE = frozenset({"running", "up", "down", "reachable", "alive", "online", "available", "working",
                           "answering", "there", "status", "started", "ok", "okay"})


def _rule_floating(v: _View) -> _Decision | None:
    """Floating seats: take, give back, borrow, return a borrow, list; the demo's floating server started or
    stopped. "release the seat online" is an activation given back, not a floating seat (deactivate)."""
    seat, floating = "seat" in v.bag, "floating" in v.bag
    if floating and "server" in v.bag and not seat:
        if v.bag & _SERVER_STOP:
            return _pick(STOP_FLOATING_SERVER)
        if v.bag & _SERVER_START:
            return _pick(START_FLOATING_SERVER)
        return _pick(LIST_SEATS) if v.bag & _SERVER_STATE else None
    if "borrow" in v.bag and (seat or floating or v.has_number or v.bag <= _FILLER | {"borrow", "one"}) \
            and not v.bag & _PEOPLE:
        return _pick(RETURN_BORROWED_SEAT if v.matches((_SEAT_BACK,)) else BORROW_SEAT)
    if not seat or v.has("online", "offline"):
        return None
    if v.matches((_SEAT_LIST,)):
        return _pick(LIST_SEATS)
    if v.matches((_SEAT_BACK,)):
        return _pick(RELEASE_SEAT)
    if v.bag & _SEAT_TAKE or " check out " in v.line or " sign out " in v.line:
        return _pick(REQUEST_SEAT)
    return None


def _rule_help(v: _View) -> _Decision | None:
    if v.matches(_HELP_RES):
        return _pick(HELP)
    if "help" in v.bag and v.bag <= (_FILLER | {"help"}):
        return _pick(HELP)
    return None


def _rule_quit(v: _View) -> _Decision | None:
    if "quit" in v.bag and not v.licensing and not v.has("joke", "roll", "dice", "convert"):
        return _pick(QUIT)
    if _CLOSE_APP_RE.search(v.line):
        return _pick(QUIT)
    return None


def _rule_joke(v: _View) -> _Decision | None:
    return _pick(SKILL_JOKE) if "joke" in v.bag else None


def _rule_dice(v: _View) -> _Decision | None:
    if v.licensing:
        return None
    if v.has("roll", "dice") or any(_DICE_NOTATION_RE.fullmatch(w) for w in v.words):
        return _pick(SKILL_DICE)
    if "die" in v.bag and (v.has_number or v.bag & _SIDES_WORDS):
        return _pick(SKILL_DICE)
    return None


def _rule_time(v: _View) -> _Decision | None:
    if v.licensing or not v.matches(_TIME_RES):
        return None
    return _pick(SKILL_TIME)


def _deactivate_requested(v: _View) -> bool:
    if "deactivate" in v.bag:
        return True
    return "release" in v.bag and bool(v.bag & _RELEASE_CONTEXT)


def _rule_deactivate(v: _View) -> _Decision | None:
    if not _deactivate_requested(v):
        return None
    offline = v.has("offline", "request", "file") or v.path_kind in ("lic", "req")
    online = bool(v.bag & _ONLINE_WORDS)
    if offline and not online:
        return _pick(DEACTIVATE_OFFLINE)
    if online and not offline:
        return _pick(DEACTIVATE_ONLINE)
    return _ask(DEACTIVATE_ONLINE, DEACTIVATE_OFFLINE)


def _rule_clear(v: _View) -> _Decision | None:
    if not v.has("clear", "forget"):
        return None
    if v.bag & _STORAGE_TARGETS:
        return _pick(CLEAR_STORAGE)
    if v.has("license", "activation", "key") or v.has_key or v.path_kind:
        return _ask(CLEAR_STORAGE, DEACTIVATE_ONLINE, DEACTIVATE_OFFLINE)
    return None


def _rule_status_question(v: _View) -> _Decision | None:
    if not v.has("status", "activated", "deactivated"):
        return None
    if v.bag & _ACTION_VERBS or v.matches(_IS_ONLINE_RES):
        return None
    if "check" in v.bag and v.has("online", "server", "internet", "local", "offline"):
        return None
    return _pick(LICENSE_STATUS)


def _rule_trouble(v: _View) -> _Decision | None:
    """"Why can't I activate?", "activation failed": the bot should diagnose."""
    if not v.bag & _TROUBLE or not v.licensing:
        return None
    if v.bag & (_ONLINE_WORDS | {"offline"}) or v.has_key or v.path_kind:
        return None
    return _pick(LICENSE_STATUS)


def _rule_create_request(v: _View) -> _Decision | None:
    creating = "create" in v.bag
    if "request" in v.bag and (creating or v.has("activate", "activation", "offline", "file")):
        return _pick(CREATE_ACTIVATION_REQUEST)
    if v.path_kind == "req" and creating:
        return _pick(CREATE_ACTIVATION_REQUEST)
    return None


def _rule_activate(v: _View) -> _Decision | None:
    if not v.has("activate", "activation"):
        return None
    offline = "offline" in v.bag or v.path_kind in ("lic", "req")
    online = bool(v.bag & _ONLINE_WORDS)
    if offline and not online:
        return _pick(ACTIVATE_OFFLINE)
    if online and not offline:
        return _pick(ACTIVATE_ONLINE)
    if offline and online:
        return _ask(ACTIVATE_ONLINE, ACTIVATE_OFFLINE)
    if v.has_key or "key" in v.bag:
        return _pick(ACTIVATE_ONLINE)
    if "file" in v.bag:
        return _pick(ACTIVATE_OFFLINE)
    return _ask(ACTIVATE_ONLINE, ACTIVATE_OFFLINE)


def _rule_enter_key(v: _View) -> _Decision | None:
    if "enter" in v.bag and ("key" in v.bag or v.has_key):
        return _pick(ACTIVATE_ONLINE)
    return None


def _rule_refresh(v: _View) -> _Decision | None:
    if "refresh" in v.bag:
        return _pick(REFRESH_OFFLINE)
    if "update" in v.bag and (v.has("license", "file") or v.path_kind == "lic"):
        return _pick(REFRESH_OFFLINE)
    return None


def _rule_is_online(v: _View) -> _Decision | None:
    if v.matches(_IS_ONLINE_RES):
        return _pick(IS_ONLINE)
    if v.bag & _NETWORK_WORDS and v.bag <= (_FILLER | _NETWORK_WORDS):
        return _pick(IS_ONLINE)
    return None


def _rule_check(v: _View) -> _Decision | None:
    if "check" not in v.bag:
        return None
    online = bool(v.bag & _ONLINE_WORDS)
    local = v.has("local", "offline") or v.path_kind is not None
    if online and not local:
        return _pick(CHECK_ONLINE)
    if local and not online:
        return _pick(LOCAL_CHECK)
    if online and local:
        return _ask(CHECK_ONLINE, LOCAL_CHECK)
    return _pick(LICENSE_STATUS)


def _rule_consume(v: _View) -> _Decision | None:
    if "consume" in v.bag:
        return _pick(CONSUME)
    if v.has("use", "spend", "record") and ("credit" in v.bag or v.has_number):
        return _pick(CONSUME)
    if "record" in v.bag and "use" in v.bag:
        return _pick(CONSUME)
    return None


def _rule_features(v: _View) -> _Decision | None:
    return _pick(LIST_FEATURES) if "feature" in v.bag else None


def _rule_reload(v: _View) -> _Decision | None:
    if "reload" in v.bag and v.path_kind is None:
        return _pick(RELOAD_LICENSE)
    if "load" in v.bag and v.path_kind is None and v.has("license", "disk", "file", "again"):
        return _pick(RELOAD_LICENSE)
    return None


def _rule_bare_path(v: _View) -> _Decision | None:
    if v.path_kind == "req":
        return _pick(CREATE_ACTIVATION_REQUEST)
    if v.path_kind is not None:
        return _ask(ACTIVATE_OFFLINE, REFRESH_OFFLINE)
    return None


def _rule_bare_key(v: _View) -> _Decision | None:
    return _pick(ACTIVATE_ONLINE) if v.has_key else None


def _rule_status(v: _View) -> _Decision | None:
    if v.has("license", "status", "activated", "deactivated", "credit", "key"):
        return _pick(LICENSE_STATUS)
    return None


def _rule_convert(v: _View) -> _Decision | None:
    return _pick(SKILL_CONVERT) if "convert" in v.bag else None


def _rule_wordcount(v: _View) -> _Decision | None:
    return _pick(SKILL_WORDCOUNT) if v.has("count") and v.has("word") else None


def _rule_help_fallback(v: _View) -> _Decision | None:
    if "help" in v.bag or (v.bag & _GREETINGS and v.bag <= (_FILLER | _GREETINGS)):
        return _pick(HELP)
    return None


_RULES: tuple[_Rule, ...] = (
    _rule_out_of_scope,
    _rule_help,
    _rule_move,
    _rule_floating,
    _rule_quit,
    _rule_joke,
    _rule_dice,
    _rule_time,
    _rule_deactivate,
    _rule_clear,
    _rule_status_question,
    _rule_trouble,
    _rule_create_request,
    _rule_activate,
    _rule_enter_key,
    _rule_refresh,
    _rule_is_online,
    _rule_check,
    _rule_consume,
    _rule_features,
    _rule_reload,
    _rule_bare_path,
    _rule_bare_key,
    _rule_status,
    _rule_convert,
    _rule_wordcount,
    _rule_help_fallback,
)


def _classify(v: _View) -> _Decision:
    for rule in _RULES:
        decision = rule(v)
        if decision is not None:
            return decision
    return UNKNOWN, _UNKNOWN_SUGGESTION


def _offered(decision: _Decision) -> list[str]:
    """The intents a decision puts forward (its candidates, for clarify)."""
    name, candidates = decision
    if name == CLARIFY:
        return list(candidates)
    return [] if name == UNKNOWN else [name]


#: destructive intents the bot always confirms before running ("Deactivate …? yes / no"): a typo of
#: one of them may be read as it, since the confirmation is the question a clarify would ask
_CONFIRMED_FIRST = frozenset({DEACTIVATE_ONLINE, DEACTIVATE_OFFLINE, CLEAR_STORAGE})


def _guarded(corrected: _View, raw: _View) -> _Decision:
    """Classify, refusing to act destructively on typo-correction alone.

    If the corrected reading puts a destructive intent forward (chosen, or offered in a clarify)
    and the uncorrected reading does not agree, the answer is a clarify offering both readings,
    the corrected one first — except for a single intent the bot confirms before running it.
    """
    decision = _classify(corrected)
    if corrected.words == raw.words or not set(_offered(decision)) & DESTRUCTIVE_INTENTS:
        return decision
    if decision[0] in _CONFIRMED_FIRST:
        return decision
    raw_decision = _classify(raw)
    if raw_decision == decision:
        return decision
    return _ask(*dict.fromkeys(_offered(decision) + _offered(raw_decision)))


