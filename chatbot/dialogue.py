"""The dialogue: one state per conversation, and the manager that reads each line against it.

:func:`chatbot.intents.parse` reads a line alone; this module gives it its place in the
conversation. The state (:class:`DialogueState`) holds

* ``last`` — the last turn run: its intent and slots (what "and in meters?" continues);
* ``pending`` — a question the last reply asked (a confirmation, "did you mean…?", which key, how
  many uses) or a step left to do (step 2 of the offline activation, a refresh file to bring);
* ``shown`` — the last list shown (the demo keys, the options of a "did you mean", the closest
  topics), which "the second one" or "the perpetual one" picks from;
* ``problem`` — the last refusal or error, which "why?" explains in full.

:class:`Dialogue` resolves each line in this order:

1. a pending *question* reads the line as its answer first ("yes", a key, a number); an answer
   that does not fit drops the question, so the user never gets stuck in a prompt;
2. dialogue acts: "done" / "next" complete the pending step, "yes" / "no" answer a confirmation,
   "why?" explains the last refusal, "the second one" picks from the list just shown, "and in
   meters?" reuses the last slots; small talk ("hi", "thanks", "who are you?") is answered
   briefly and keeps the pending step;
3. anything else runs its intent's handler (:mod:`chatbot.handlers`).

The handlers act; the wording lives in :mod:`chatbot.wording` and the knowledge base.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from . import intents
from .explain import Explanation
from .replies import CANCEL, CONFIRM, Reply

if TYPE_CHECKING:
    from .handlers import Handlers

__all__ = ["Dialogue", "DialogueState", "Pending", "Problem", "Shown", "Turn", "PARSE_LIMIT"]

#: Only this much of a line is parsed; a longer word-count text is still counted whole.
PARSE_LIMIT = 1000
_WORDS = re.compile(r"[a-z0-9']+")
#: an answer to "did you mean A or B?" by its words is short: "offline", "the online one please"
_ANSWER_WORDS = 4


@dataclass(frozen=True)
class Turn:
    """One intent to run: its name, slots (the parser's plus the bot's own), and the line typed."""

    name: str
    slots: Mapping[str, Any]
    line: str = ""
    candidates: tuple[str, ...] = ()
    parsed: intents.Intent | None = None


@dataclass(frozen=True)
class Pending:
    """What the last reply left open.

    ``kind``: ``confirm``, ``clarify``, ``license_id``, ``count`` or ``duration`` (a question: the
    next line is read as its answer), or ``step`` (a step left to do: "done" / "next" runs ``turn``).
    """

    kind: str
    turn: Turn


@dataclass(frozen=True)
class Problem:
    """The last thing that went wrong, for "why?": the line that failed and its explanation."""

    line: str
    explanation: Explanation


@dataclass(frozen=True)
class Shown:
    """A list the last reply showed, in order: ``kind`` and its items (name, payload).

    ``keys``: (demo label, key); ``options``: (command, command); ``topics``: (title, knowledge id).
    """

    kind: str
    items: tuple[tuple[str, str], ...]

    def pick(self, choice: object) -> tuple[str, str] | None:
        """The item an ordinal (1-based, -1 for the last) or a name ("time-based", "time based") picks."""
        if isinstance(choice, int):
            index = choice - 1 if choice > 0 else len(self.items) + choice
            return self.items[index] if 0 <= index < len(self.items) else None
        wanted = str(choice).replace(" ", "-")
        return next((item for item in self.items if item[0].replace(" ", "-") == wanted), None)


@dataclass
class DialogueState:
    """Everything the conversation remembers between lines."""

    line: str = ""  # the line being answered
    last: Turn | None = None
    pending: Pending | None = None
    shown: Shown | None = None
    problem: Problem | None = None
    #: the last reply asked "do you mean …?" of one knowledge entry (``shown``): a "yes" now reads it
    offered_one: bool = False


#: replies after which "why?" still means the problem before them (talk, not an action)
_KEEPS_PROBLEM = frozenset({intents.HELP, intents.UNKNOWN, intents.CLARIFY, intents.QUIT, CANCEL})
#: the intents whose next step "done" runs (step 2 of the offline activation; a refresh once its file is there)
_STEPS = frozenset({intents.ACTIVATE_OFFLINE, intents.REFRESH_OFFLINE})
#: how a bare answer is read: "3" to "how many uses?" as "consume 3", "3 days" to "for how long?" as a borrow
_ANSWER_FRAMES = {"count": "consume {}", "duration": "borrow a seat for {}"}
#: acts that are small talk: answered briefly, and whatever was pending stays pending
_SMALL_TALK = frozenset({intents.GREET, intents.THANK})


class Dialogue:
    """Reads each line against the state and hands it to the handler it calls for."""

    def __init__(self, handlers: Handlers, state: DialogueState) -> None:
        self.handlers = handlers
        self.state = state

    def answer(self, line: str) -> Reply:
        state = self.state
        state.line = line
        problem = state.problem
        reply = self._answer(line)
        if state.problem is problem and reply.intent not in _KEEPS_PROBLEM and "awaiting" not in reply.data:
            state.problem = None  # something else happened since: "why?" has nothing left to explain
        return reply

    # -- understanding -------------------------------------------------------------------------

    def understand(self, line: str) -> Turn:
        """The line as a turn: the parse, with a long word-count text whole and paths expanded."""
        head = line[:PARSE_LIMIT]
        parsed = intents.parse(head)
        slots: dict[str, Any] = dict(parsed.slots)
        if parsed.name == intents.SKILL_WORDCOUNT and "text" in slots and len(line) > PARSE_LIMIT:
            slots["text"] = line[head.rfind(str(slots["text"])):]  # the text runs on past the parsed part
        if isinstance(slots.get("path"), str):
            slots["path"] = _expand(slots["path"])
        if parsed.credentials is not None:
            slots["credentials"] = parsed.credentials
        return Turn(parsed.name, slots, line, parsed.candidates, parsed)

    def _answer(self, line: str) -> Reply:
        state = self.state
        pending, state.pending = state.pending, None
        offered_one, state.offered_one = state.offered_one, False
        if pending is not None and pending.kind != "step":
            answered = self._resume(pending, line)
            if answered is not None:
                return answered
        turn = self.understand(line)
        act = turn.parsed.act if turn.parsed is not None else None
        if act is not None:
            reply = self._act(act, turn, pending, offered_one)
            if reply is not None:
                return reply
        reply = self.run(turn)
        keeps = turn.name == intents.HELP or (turn.name == intents.LICENSE_STATUS and "fact" in turn.slots)
        if pending is not None and keeps and state.pending is None:
            state.pending = pending  # a question meanwhile ("which keys can I use?"): still waiting for it
        return reply

    def run(self, turn: Turn, confirmed: bool = False) -> Reply:
        """Run ``turn`` with its handler (``confirmed``: the action a "yes" confirmed)."""
        reply = self.handlers.run(turn, confirmed=confirmed)
        if turn.name not in (intents.UNKNOWN, intents.CLARIFY):
            self.state.last = turn
        return reply

    # -- dialogue acts -------------------------------------------------------------------------

    def _act(self, act: str, turn: Turn, pending: Pending | None, offered_one: bool = False) -> Reply | None:
        """The act resolved against the state; None to run the turn as parsed (``offered_one``: the last reply asked
        "do you mean …?" of one entry)."""
        state, handlers = self.state, self.handlers
        if act in _SMALL_TALK:
            state.pending = pending
            return handlers.small_talk(act, pending)
        if act == intents.WHY:
            return handlers.why()
        if act == intents.DONE:
            if pending is not None and (pending.kind == "step" or pending.turn.name in _STEPS):
                return self.run(replace(pending.turn, line=turn.line))
            return handlers.nothing_pending()
        if act == intents.AFFIRM and offered_one and pending is None:
            picked = self._pick(1)
            if picked is not None:
                return picked
        if act in (intents.AFFIRM, intents.DENY):
            state.pending = pending  # kept: "yes" with nothing asked may come before the real answer
            return handlers.nothing_to_confirm(act)
        if act in (intents.SELECT, intents.FOLLOW_UP) and "choice" in turn.slots:
            picked = self._pick(turn.slots["choice"])
            if picked is not None:
                if pending is not None and pending.kind == "step":
                    state.pending = pending
                return picked
            return handlers.nothing_to_pick(turn.slots["choice"], state.shown)
        if act == intents.FOLLOW_UP and turn.name == intents.SKILL_CONVERT:
            last = state.last
            if last is not None and last.name == intents.SKILL_CONVERT:
                return self.run(replace(turn, slots={**last.slots, **turn.slots}))
        return None

    def _pick(self, choice: object) -> Reply | None:
        """Run the item ``choice`` names in the list shown last (an ordinal or a word); None if none."""
        shown = self.state.shown
        item = None if shown is None else shown.pick(choice)
        if shown is None or item is None:
            return None
        name, payload = item
        if shown.kind == "topics":
            return self.run(Turn(intents.HELP, {"topic": payload}, self.state.line))
        if shown.kind == "keys":
            return self.handlers.demo_key(name)
        return self.run(self.understand(payload))

    # -- answers to a pending question ----------------------------------------------------------

    def _resume(self, pending: Pending, line: str) -> Reply | None:
        """The line read as the answer to the pending question; None when it is not an answer."""
        words = _WORDS.findall(line.lower())
        turn = pending.turn
        parsed = intents.parse(line[:PARSE_LIMIT])
        if pending.kind == "confirm":
            if parsed.act == intents.AFFIRM:
                return replace(self.run(turn, confirmed=True), intent=CONFIRM)
            if not words or parsed.act == intents.DENY:
                return Reply("OK, cancelled — nothing was changed.", CANCEL, True, status=self.handlers.status())
            reply = self.run(self.understand(line))
            return replace(reply, text=f"_(I cancelled the {self.handlers.command(turn.name)}.)_\n\n{reply.text}")
        if pending.kind == "clarify":
            if words[:1] == ["help"]:
                return None  # "help offline" asks about the topic; it does not pick "deactivate offline"
            choice = _choose(turn.candidates, parsed, words)
            if choice is None and parsed.act == intents.AFFIRM:  # "yes" to "did you mean A or B?"
                return self.handlers.clarify(turn, again=True)
            if choice is None and parsed.act == intents.DENY:
                return Reply("OK, never mind.", CANCEL, True)
            if choice is None:
                return None
            return self.run(Turn(choice, {**turn.slots, **self.understand(line).slots}, line))
        fresh = self.understand(_ANSWER_FRAMES.get(pending.kind, "{}").format(line))
        answer: dict[str, Any] = {}
        if pending.kind in ("count", "duration") and pending.kind in fresh.slots:
            answer[pending.kind] = fresh.slots[pending.kind]
        if pending.kind == "license_id":
            if fresh.parsed is not None and fresh.parsed.credentials is not None:
                answer["credentials"] = fresh.parsed.credentials
            elif "key" in fresh.slots:
                answer["key"] = fresh.slots["key"]
            elif parsed.act in (intents.SELECT, intents.FOLLOW_UP) and self.state.shown is not None \
                    and self.state.shown.kind == "keys":
                item = self.state.shown.pick(parsed.slots.get("choice"))
                if item is not None:
                    answer["key"] = item[1]
        if answer:
            return self.run(replace(turn, slots={**turn.slots, **answer}))
        if parsed.act == intents.DENY:
            return Reply("OK, I'll leave it there.", CANCEL, True)
        self.state.pending = pending if parsed.act in (intents.GREET, intents.THANK) else None
        return None

def _choose(candidates: tuple[str, ...], parsed: intents.Intent, words: list[str]) -> str | None:
    """Which of the offered intents the answer picks: a number, "yes" to a single offer, or its words."""
    choice = parsed.slots.get("choice")
    if parsed.act == intents.SELECT and isinstance(choice, int):
        index = choice - 1 if choice > 0 else len(candidates) + choice
        return candidates[index] if 0 <= index < len(candidates) else None
    if parsed.act == intents.AFFIRM and len(candidates) == 1:
        return candidates[0]
    if parsed.name in candidates:
        return parsed.name
    if len(words) > _ANSWER_WORDS:
        return None  # "does offline work with subscriptions?" asks something else; it does not pick "… offline"
    shared = set.intersection(*(set(c.split("_")) for c in candidates)) if candidates else set()
    matching = [c for c in candidates if (set(c.split("_")) - shared) & set(words)]
    return matching[0] if len(matching) == 1 else None


def _expand(path: str) -> str:
    """``~`` expanded here, where it cannot fail: for an unknown ``~user`` the engine's
    ``Path.expanduser()`` raises a bare RuntimeError, so such a path is made absolute instead
    (it then names a folder that does not exist, which the engine reports as a missing file)."""
    expanded = os.path.expanduser(path)
    return os.path.abspath(expanded) if expanded.startswith("~") else expanded
