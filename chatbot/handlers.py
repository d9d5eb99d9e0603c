"""The handlers: each intent, run against the licensing engine, and answered.

A table (:data:`HANDLERS`) maps each intent of :mod:`chatbot.intents` to one method of
:class:`Handlers`; the confirmed actions (what a "yes" runs) have their own table. A
:class:`~licensing.LicenseError` from the engine becomes an explained reply
(:mod:`chatbot.explain`). Handlers act and choose what to say; dates, counts and the sentences
about facts are worded by :mod:`chatbot.wording`, concepts by the knowledge base
(:mod:`chatbot.knowledge`), help pages by :mod:`chatbot.help_topics`.

The handlers hold the license in memory (``manager.get_current_license()``) instead of reading
the disk on every line — the tutorial's "memory first" — which keeps local replies well under a
millisecond and is why **reload** exists. Where both an online and an offline path exist the
engine's hybrid calls decide (``activate_hybrid``, ``deactivate_hybrid``, ``check_hybrid``:
online when the server answers) and the reply says which route was taken and why.

Questions are answered, never executed: the parser never gives a question an action intent, and
no handler proposes a destructive action except the one the user asked for (and that one is
confirmed first).
"""

from __future__ import annotations

import os
import random
import re
import shlex
import shutil
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from licensing import (
    ConsumptionLimitError,
    Feature,
    FloatingServerUnreachableError,
    Lease,
    License,
    LicenseError,
    LicenseID,
    LicenseManager,
    LocalCheckResult,
    NoLicenseError,
    VendorRefusal,
)
from licensing.wire import (
    ACTIVATION_REQUEST_FILE_NAME,
    ACTIVATION_RESPONSE_FILE_NAME,
    DEACTIVATION_FILE_NAME,
    REFRESH_FILE_NAME,
    format_span,
)

from . import intents, knowledge, wording
from .dialogue import DialogueState, Pending, Problem, Shown, Turn
from .explain import (
    MEMORY_VS_DISK,
    REQUEST_REFUSAL_CODES,
    Explanation,
    explain,
    explain_code,
    md_code,
    md_escape,
    skill_refusal,
)
from .help_topics import HELP_TOPICS, help_topic
from .replies import LicenseStatus, Reply
from .seats import FLOATING_SERVER_ENV, FloatingSetup, SeatKeeper
from .skills import SKILLS, Skill, SkillContext, SkillInputError

__all__ = ["Handlers", "DemoContext", "detect_portal_program", "detect_program", "COMMANDS"]

PORTAL_SCRIPT = "licensing-portal"


def detect_program(name: str, module: str) -> str:
    """How to start the console script ``name`` from a shell here, as the demo commands the bot prints say it.

    Just ``name`` when the shell finds the script installed beside this Python (an activated
    virtual environment); otherwise that script's absolute path (the chatbot started as
    ``.venv/bin/chatbot`` without activating it). With no script beside this Python: the name if
    the shell finds one, else ``python -m MODULE`` with this Python.
    """
    script = Path(sys.executable).with_name(name)
    found = shutil.which(name)
    if not script.is_file():
        return name if found else f"{shlex.quote(sys.executable)} -m {module}"
    try:
        same = found is not None and os.path.samefile(found, script)
    except OSError:
        same = False
    return name if same else shlex.quote(str(script))


def detect_portal_program() -> str:
    """How to start ``licensing-portal`` from a shell here (see :func:`detect_program`)."""
    return detect_program(PORTAL_SCRIPT, "licensing.issuing.cli")


@dataclass(frozen=True)
class DemoContext:
    """The built-in demo vendor on this machine: it can answer this device's requests right away."""

    vendor_dir: Path
    licenses: tuple[tuple[str, str, str], ...]  # (label, key or user name, what it shows)
    #: how the printed commands start ``licensing-portal``; pass ``"licensing-portal"`` for output that
    #: does not depend on this machine (the transcripts)
    portal_program: str = field(default_factory=detect_portal_program)

    def portal_command(self, request: Path | None = None) -> str:
        """The shell command that answers ``request`` (a placeholder when None) as the portal would."""
        target = "<path to ls_activation.req>" if request is None else shlex.quote(str(request))
        return f"{self.portal_program} --data {shlex.quote(str(self.vendor_dir))} respond {target}"

    def serve_command(self) -> str:
        return f"{self.portal_program} --data {shlex.quote(str(self.vendor_dir))} serve"


_SINGLE_USE = re.compile(r"\b(?:a|an|one|single)\s+(?:credit|use|consumption|unit)\b", re.IGNORECASE)
#: "which keys can I use?": the demo keys (a help page, not a knowledge entry)
_KEYS_QUESTION = re.compile(r"\b(?:keys|demo\s+keys?|(?:which|what)\s+(?:license\s+|licence\s+)?keys?\s+(?:can|could|"
                            r"should|may|do|are|to))\b", re.IGNORECASE)
PORTAL_URL = "http://127.0.0.1:8000"

#: what to type for each intent (suggestions, "did you mean…?"); each parses back to its intent
COMMANDS: Mapping[str, str] = {
    intents.ACTIVATE_ONLINE: "activate online", intents.ACTIVATE_OFFLINE: "activate offline",
    intents.CREATE_ACTIVATION_REQUEST: "create activation request", intents.DEACTIVATE_ONLINE: "deactivate online",
    intents.DEACTIVATE_OFFLINE: "deactivate offline", intents.REFRESH_OFFLINE: "refresh",
    intents.CHECK_ONLINE: "check online", intents.LOCAL_CHECK: "local check", intents.LICENSE_STATUS: "status",
    intents.LIST_FEATURES: "features", intents.CONSUME: "use a credit", intents.IS_ONLINE: "am I online?",
    intents.CLEAR_STORAGE: "clear storage", intents.RELOAD_LICENSE: "reload", intents.HELP: "help",
    intents.QUIT: "quit", **{name: skill.example for name, skill in SKILLS.items()},
    intents.REQUEST_SEAT: "get a seat", intents.RELEASE_SEAT: "release my seat",
    intents.BORROW_SEAT: "borrow a seat for 3 days", intents.RETURN_BORROWED_SEAT: "return the borrowed seat",
    intents.LIST_SEATS: "how many seats are free?", intents.START_FLOATING_SERVER: "start the floating server",
    intents.STOP_FLOATING_SERVER: "stop the floating server",
}


class Handlers:
    """One method per intent. Not thread-safe: one conversation, one caller at a time."""

    def __init__(self, manager: LicenseManager, state: DialogueState, *, demo: DemoContext | None = None,
                 rng: random.Random | None = None, local_tz: tzinfo | None = None,
                 floating: FloatingSetup | None = None) -> None:
        self.manager = manager
        self.state = state
        self.demo = demo
        self.seats = SeatKeeper(manager, floating or FloatingSetup())  # the floating seat held, if any
        self._rng = rng or random.Random()
        self._local_tz = local_tz
        self._request: Path | None = None  # the activation request written in this conversation
        self._online: bool | None = False if not manager.config.server_url else None
        self._seen: License | None = None  # the license last taken from the manager
        self._last_check: tuple[datetime, bool, str] | None = None  # when, passed, what ran it

    # -- running a turn --------------------------------------------------------------------------

    def run(self, turn: Turn, *, confirmed: bool = False) -> Reply:
        """Run ``turn`` with its handler (``confirmed``: the action a "yes" confirmed)."""
        try:
            reply = (_ON_CONFIRM if confirmed else HANDLERS)[turn.name](self, turn)
        except LicenseError as error:
            reply = self._failure(turn.name, error)
        if reply.status is None and (turn.name in _CHANGES_STATE or confirmed):
            reply = replace(reply, status=self.status())
        return reply

    def ask(self, kind: str, turn: Turn, text: str, suggestions: tuple[str, ...] = (),
            data: Mapping[str, Any] | None = None) -> Reply:
        """A reply that asks something: the next line is read as its answer first."""
        self.state.pending = Pending(kind, turn)
        return Reply(text, turn.name, True, suggestions, data={"awaiting": kind, **(data or {})})

    def command(self, name: str) -> str:
        return COMMANDS.get(name, name)

    def held_license(self) -> License | None:
        """The license held in memory (memory first, as ``get_current_license()``); None when there is none
        or it cannot be read."""
        try:
            return self._current()
        except LicenseError:
            return None

    def status(self) -> LicenseStatus:
        """The license state right now, from the license held in memory (no network); a floating seat held is
        the license while it is held."""
        seat = self.seat_status()
        if seat is not None:
            return seat
        try:
            license_ = self._current()
        except LicenseError as error:
            return self._status_line(None, error)
        if license_ is None:
            return self._status_line(None, NoLicenseError())
        return self._status_line(license_, license_.check_status().first_error)

    def seat_status(self) -> LicenseStatus | None:
        """The status of the floating seat held, or None when none is held: memory only, cheap enough for a
        status bar that shows the seat's time left every second."""
        lease, seat = self.seats.lease, self.seats.seat_status()
        if lease is None or seat is None:
            return None
        error = lease.check_status().first_error
        problem = "" if error is None else f", not usable right now ({error.code.replace('_', ' ')})"
        summary = f"floating {wording.seat(lease)} from {lease.server_url}, {wording.seat_ends(lease)}{problem}"
        return LicenseStatus(licensed=error is None, license_type=lease.license_type, expires=lease.expires,
                             days_left=None, consumption_left=None, online=self._online, summary=summary,
                             problem_code=None if error is None else error.code, seat=seat)

    # -- talk --------------------------------------------------------------------------------------

    def small_talk(self, act: str, pending: Pending | None) -> Reply:
        """ "hi", "thanks": a short answer that keeps whatever was pending, and says so."""
        text = wording.small_talk(act)
        reminder = self._reminder(pending)
        return Reply(f"{text} {reminder}".strip(), intents.HELP if act == intents.GREET else intents.UNKNOWN, True,
                     ("help",) if reminder == "" else (self.command(pending.turn.name),) if pending else ())

    def _reminder(self, pending: Pending | None) -> str:
        if pending is None:
            return ""
        if pending.kind == "step" or pending.turn.name == intents.ACTIVATE_OFFLINE:
            return wording.step_reminder(pending.turn.name)
        return "I'm still waiting for your answer to my last question."

    def nothing_pending(self) -> Reply:
        """ "done" / "next" with no step left to do."""
        return Reply("Nothing is waiting for a next step right now. Say **status** to see where your license "
                     "stands, or **help** for what I can do.", intents.UNKNOWN, True, ("status", "help"))

    def nothing_to_confirm(self, act: str) -> Reply:
        """ "yes" / "no" when nothing was asked."""
        if act == intents.AFFIRM:
            return Reply("There is nothing to say yes to right now: I did not ask anything. What would you like to "
                         "do? For example **status** or **help**.", intents.UNKNOWN, True, ("status", "help"))
        return Reply("OK — nothing was waiting, so nothing changes.", intents.UNKNOWN, True, ("help",))

    def nothing_to_pick(self, choice: object, shown: Shown | None) -> Reply:
        what = f"number {choice}" if isinstance(choice, int) else f"the {choice} one"
        if shown is None:
            return Reply(f"I have not shown a list to pick {what} from. Say **which keys can I use?** to see the demo "
                         "keys, or **help**.", intents.UNKNOWN, False, ("which keys can I use?", "help"))
        names = ", ".join(f"**{name}**" for name, _ in shown.items)
        return Reply(f"There is no {what} in the list I showed ({names}). Say one of those, or its number.",
                     intents.UNKNOWN, False, tuple(name for name, _ in shown.items[:3]))

    def clarify(self, turn: Turn, again: bool = False) -> Reply:
        """ "Did you mean A or B?"; ``again`` after an answer that picked none ("yes"): the options, numbered."""
        options = [c for c in turn.candidates if c in COMMANDS]
        if not options:
            return self._unknown(turn)
        self.state.shown = Shown("options", tuple((COMMANDS[c], COMMANDS[c]) for c in options))
        if again:
            listed = "\n".join(f"{number}. **{COMMANDS[c]}**" for number, c in enumerate(options, 1))
            text = f"Which one? Say one of these (or its number):\n{listed}"
        else:
            text = "Did you mean " + " or ".join(f"**{COMMANDS[c]}**" for c in options) + "?"
        return self.ask("clarify", turn, text, tuple(COMMANDS[c] for c in options), {"candidates": options})

    def _clarify(self, turn: Turn) -> Reply:
        return self.clarify(turn)

    def _help(self, turn: Turn) -> Reply:
        parsed = turn.parsed
        code = parsed.code if parsed is not None else None
        topic = turn.slots.get("topic")
        if code is not None:  # pasted from the portal: "… (invalid_credentials). Hint: …"
            explanation = explain_code(code, at_vendor=code in REQUEST_REFUSAL_CODES)
            data = {"code": code, **({"topic": topic} if isinstance(topic, str) else {})}
            return Reply(explanation.markdown(), intents.HELP, True, explanation.suggestions, data=data)
        if _KEYS_QUESTION.search(turn.line) and "key" not in turn.slots:
            return self._page(turn, "keys")
        if isinstance(topic, str):
            return self._knowledge(topic)
        closest = parsed.closest if parsed is not None else ()
        if closest and not turn.line.lower().startswith("help"):
            return self._offer_topics(closest)
        return self._page(turn, help_topic(turn.line))

    def _page(self, turn: Turn, page: str) -> Reply:
        text, suggestions = HELP_TOPICS[page](self)
        if page == "keys" and self.demo is not None:
            self.state.shown = Shown("keys", tuple((label, key) for label, key, _ in self.demo.licenses))
        return Reply(text, intents.HELP, True, suggestions, data={"topic": page})

    def _knowledge(self, topic: str) -> Reply:
        """A knowledge entry's answer, with this device's facts filled in, and where to read on."""
        entry = knowledge.entry(topic)
        text = knowledge.render(topic, self._knowledge_facts())
        related = [knowledge.entry(other) for other in entry.see_also]
        if related:
            self.state.shown = Shown("topics", tuple((e.title, e.id) for e in related))
            text += "\n\n_Related:_ " + " · ".join(f"{number}. {e.title}" for number, e in enumerate(related, 1)) \
                + " — say a number to read on."
        return Reply(text, intents.HELP, True, tuple(str(n) for n in range(1, len(related) + 1)),
                     data={"topic": topic})

    def _offer_topics(self, closest: tuple[str, ...]) -> Reply:
        """Not sure which entry a question is about: offer the closest ones instead of guessing."""
        entries = [knowledge.entry(topic) for topic in closest]
        self.state.shown = Shown("topics", tuple((e.title, e.id) for e in entries))
        if len(entries) == 1:
            self.state.offered_one = True
            return Reply(f"Do you mean **{entries[0].title}**? Say yes and I'll explain it, or ask in other words.",
                         intents.HELP, True, ("yes",), data={"topics": list(closest)})
        listed = "\n".join(f"{number}. {e.title}" for number, e in enumerate(entries, 1))
        return Reply(f"I'm not sure which of these you mean:\n{listed}\n\nSay its number (or ask in other words).",
                     intents.HELP, True, tuple(str(n) for n in range(1, len(entries) + 1)),
                     data={"topics": list(closest)})

    def _knowledge_facts(self) -> dict[str, str]:
        """The live values the knowledge answers name (paths, ids, commands, settings)."""
        config = self.manager.config
        folder = config.requests_dir
        demo = self.demo
        request = folder / ACTIVATION_REQUEST_FILE_NAME
        respond = demo.portal_command(request) if demo is not None else "licensing-portal respond ls_activation.req"
        serve = demo.serve_command() if demo is not None else "licensing-portal serve"
        grace = config.grace_period
        return {  # plain text: the answers put paths and commands in code spans themselves
            "request_dir": str(folder), "request_file": str(request),
            "response_file": str(folder / ACTIVATION_RESPONSE_FILE_NAME),
            "deactivation_file": str(folder / DEACTIVATION_FILE_NAME),
            "refresh_file": str(folder / REFRESH_FILE_NAME),
            "data_dir": str(config.product_dir), "hardware_id": self.manager.hardware_id,
            "respond_command": respond, "serve_command": serve, "portal_url": PORTAL_URL,
            "grace_days": "no" if grace is None else str(grace.days),
            "clock_tolerance_minutes": str(int(config.clock_tolerance.total_seconds() // 60)),
            "floating_server": self.seats.url or "http://HOST:8470",
            "floating_command": self.seats.server.command if self.seats.server is not None else
            "licensing-floating --data FOLDER serve --port 8470",
        }

    def demo_key(self, label: str) -> Reply:
        """One demo license, picked from the key list ("the perpetual one")."""
        found = next(((key, about) for name, key, about in self.demo.licenses if name == label), None) \
            if self.demo is not None else None
        if found is None:
            return Reply(f"There is no {label} demo license.", intents.HELP, False, ("which keys can I use?",))
        key, about = found
        if label == "floating":  # never activated on a computer: its seats come from the floating server
            return Reply(f"The **floating** demo license is {md_code(key)}: {about}.\n\nComputers do not activate it: "
                         "they take a seat from the demo's floating server. Say **start the floating server**, then "
                         "**get a seat**.", intents.HELP, True, ("start the floating server", "get a seat"),
                         data={"topic": "keys", "label": label})
        is_user = "@" in key
        start = f"activate offline user {key} password demo-password" if is_user else f"activate offline {key}"
        what = f"the user {md_code(key)} (password `demo-password`)" if is_user else md_code(key)
        return Reply(f"The **{label}** demo license is {what}: {about}.\n\nSay {md_code(start)} to try it.",
                     intents.HELP, True, (start,), data={"topic": "keys", "label": label})

    def why(self) -> Reply:
        """ "why?": the last problem again, in full — what was asked, what happened, how to fix it."""
        problem = self.state.problem
        if problem is None:
            return Reply("There is nothing to explain: my last answer was not a refusal or an error. Say **status** "
                         "to run every check on this device's license.", intents.HELP, True, ("status", "help"),
                         data={"topic": "why"})
        line, explanation = problem.line, problem.explanation
        asked = f"You said {md_code(line)}" if line else "Your last request"
        text = (f"{asked}, and it did not work: **{explanation.title}** (error code `{explanation.code}`).\n\n"
                f"**What happened:** {explanation.what_happened}\n\n"
                f"**How to fix it:** {explanation.how_to_fix}")
        return Reply(text, intents.HELP, True, explanation.suggestions, data={"topic": "why", "code": explanation.code})

    def _quit(self, turn: Turn) -> Reply:
        lease = self.seats.lease
        if lease is None:
            text = "Goodbye! Your license stays on this device for next time."
        elif lease.borrowed:
            text = f"Goodbye! Your borrowed seat stays on this computer, {wording.seat_ends(lease)}."
        else:
            text = "Goodbye! I give your floating seat back as I close."
        return Reply(text, intents.QUIT, True, quit=True)

    def _unknown(self, turn: Turn) -> Reply:
        if not turn.line:
            return Reply("Say something — for example **help**.", intents.UNKNOWN, False, ("help",))
        return Reply(f"I didn't understand {md_code(turn.line)}.\n\nI can activate, check, refresh and deactivate "
                     "this app's license (online or offline with files), explain how offline licensing works and "
                     "why it is not working, and run a few skills: jokes, word count, unit conversion, dice and the "
                     "time. For buying, prices or accounts, please contact your vendor. Say **help** for the list.",
                     intents.UNKNOWN, False, ("help", "status", "activate offline", "tell me a joke"))

    # -- facts of the license held -----------------------------------------------------------------

    def _fact(self, turn: Turn) -> Reply:
        """One fact of the license held here, in a line or two ("how many activations are left?")."""
        fact = str(turn.slots["fact"])
        if fact == "seat":
            return self._fact_reply(fact, wording.seat_fact(self.seats.lease, self.seats.url))
        if fact == "device_id":
            return self._fact_reply(fact, wording.device_ids(self.held_license(), self.manager.hardware_id))
        license_ = self._current()
        if license_ is None:
            return Reply(wording.no_license_for(fact), intents.LICENSE_STATUS, True,
                         ("activate offline", "which keys can I use?" if self.demo else "help"),
                         data={"fact": fact, "licensed": False})
        now = self.manager.now()
        if fact == "feature":
            code = str(turn.slots.get("feature", ""))
            return replace(self._fact_reply(fact, wording.feature_answer(license_, code, now)),
                           data={"fact": fact, "feature": code})
        if fact == "last_check":
            return self._fact_reply(fact, wording.last_check(self._last_check))
        if fact == "server_contact":
            return self._fact_reply(fact, wording.server_contact(license_, self.manager.config.grace_period, now))
        sentence = {
            "activations": wording.activations, "license_key": wording.license_key,
            "license_type": wording.license_type_sentence, "expiry": wording.expiry_answer,
            "consumption": wording.consumption_answer,
        }[fact](license_)
        return self._fact_reply(fact, sentence)

    def _fact_reply(self, fact: str, text: str) -> Reply:
        return Reply(text, intents.LICENSE_STATUS, True, ("status",), data={"fact": fact})

    def _noted_check(self, passed: bool, what: str) -> None:
        self._last_check = (self.manager.now(), passed, what)

    # -- activation ----------------------------------------------------------------------------

    def _activate_online(self, turn: Turn) -> Reply:
        license_id = _license_id(turn.slots)
        if license_id is None:
            return self._ask_license_id(turn)
        result = self.manager.activate_hybrid(license_id, _request_target(turn.slots.get("path")))
        self._online = result.route == "online"
        if result.license is not None:
            return self._activated(turn, result.license, "online", "**Activated online** — the license server "
                                                                   "answered, so no files were needed.")
        assert result.path is not None
        return self._request_written(turn, result.path, f"I took the **offline** route, because {result.reason}. "
                                                         "**Step 1 of 2 done:** I created the activation request.")

    def _activate_offline(self, turn: Turn) -> Reply:
        """Step 1 (a key: write the request) or step 2 (a response file: activate), as the slots say."""
        path, license_id = turn.slots.get("path"), _license_id(turn.slots)
        if isinstance(path, str) and (_is_response(path) or (license_id is None and os.path.isfile(path))):
            return self._accept_response(turn, Path(path), typed=True)
        if license_id is not None:
            return self._create_request(turn, license_id)
        found = next((p for p in self._response_places(path) if os.path.isfile(p)), None)
        if found is not None:
            return self._accept_response(turn, found, typed=False)
        if self._request is not None or self.manager.has_pending_request():
            return self._response_missing(turn)
        return self._ask_license_id(turn)

    def _create_activation_request(self, turn: Turn) -> Reply:
        license_id = _license_id(turn.slots)
        if license_id is None:
            return self._ask_license_id(turn)
        return self._create_request(turn, license_id)

    def _create_request(self, turn: Turn, license_id: LicenseID) -> Reply:
        target = self.manager.create_offline_activation_file(license_id, _request_target(turn.slots.get("path")))
        return self._request_written(turn, target, "**Step 1 of 2 done:** I created the activation request.")

    def _request_written(self, turn: Turn, request: Path, lead: str) -> Reply:
        self._request = request
        self.state.pending = Pending("step", Turn(intents.ACTIVATE_OFFLINE, {}, "activate offline"))
        demo = (f"\n   On this machine the demo vendor can answer it right away: "
                f"{md_code(self.demo.portal_command(request), limit=4096)} (it writes `ls_activation.lic` next to "
                "the request).") if self.demo is not None else ""
        text = (f"{lead}\n\nThe request file is here: {wording.path_md(request)}\n\n"
                "1. Carry this file to a computer with internet and upload it at the Offline Licensing Portal "
                f"(page \"Offline activation\").{demo}\n"
                f"2. Then bring back `ls_activation.lic`, put it in {wording.path_md(request.parent)}, and say "
                "**activate offline** (or give its path: `activate offline <path to ls_activation.lic>`).")
        return Reply(text, turn.name, True, ("activate offline", "help offline"),
                     data={"path": str(request), "route": "offline", "step": 1})

    def _accept_response(self, turn: Turn, response: Path, *, typed: bool) -> Reply:
        try:
            license_ = self.manager.activate_license_offline(response)
        except LicenseError as error:
            if typed or error.code not in ("response_already_used", "guard_missing", "request_mismatch",
                                           "license_deactivated"):
                raise
            # A response left over from an earlier activation: offer to start a new one.
            reply = self._failure(turn.name, error, f"I tried the {md_code(response.name)} I found in "
                                                    f"{wording.path_md(response.parent)}.")
            self.state.pending = Pending("license_id", replace(turn, slots={}))
            return replace(reply, text=reply.text + "\n\nTo start a new activation, tell me the license key "
                                                    "(or `user NAME password PASSWORD`).")
        self._request = None
        return self._activated(turn, license_, "offline", "**Step 2 of 2 done — activated offline.**", response)

    def _activated(self, turn: Turn, license_: License, route: str, lead: str, path: Path | None = None) -> Reply:
        data: dict[str, Any] = {"route": route}
        if path is not None:  # the offline route's second step
            data.update(path=str(path), step=2)
        return Reply(f"{lead}\n\n{self._report(license_)}", turn.name, True,
                     ("tell me a joke", "features", "status"), data=data)

    def _response_places(self, typed: object = None) -> list[Path]:
        """Where step 2 looks for ls_activation.lic: a folder typed, the default place, beside the request."""
        places = [self.manager.config.requests_dir / ACTIVATION_RESPONSE_FILE_NAME]
        if isinstance(typed, str) and os.path.isdir(typed):
            places.insert(0, Path(typed) / ACTIVATION_RESPONSE_FILE_NAME)
        if self._request is not None:
            places.append(self._request.parent / ACTIVATION_RESPONSE_FILE_NAME)
        return list(dict.fromkeys(places))

    def _response_missing(self, turn: Turn) -> Reply:
        places = self._response_places(turn.slots.get("path"))
        looked = " and ".join(wording.path_md(p.parent) for p in places)
        request = wording.path_md(self._request) if self._request is not None else "`ls_activation.req`"
        demo = (f" (the demo vendor here: {md_code(self.demo.portal_command(self._request), limit=4096)})"
                if self.demo is not None and self._request is not None else "")
        text = (f"**`ls_activation.lic` is not there yet.** I looked in {looked}.\n\n"
                f"Upload the request {request} at the Offline Licensing Portal on a computer with internet{demo}, "
                f"put the `ls_activation.lic` it gives you in {wording.path_md(places[-1].parent)}, and say "
                "**activate offline** again — or tell me where it is: `activate offline <path>`. "
                "To start over with another license, give me its key.")
        self.state.pending = Pending("license_id", replace(turn, slots={}))
        return Reply(text, turn.name, False, ("activate offline", "help offline"),
                     data={"code": "file_not_found", "looked_in": [str(p) for p in places]})

    def _ask_license_id(self, turn: Turn) -> Reply:
        current = self._current()
        note = (f"You already have a license here ({wording.who(current)}); activating another one replaces it.\n\n"
                if current is not None and current.status == "active" else "")
        demo = " Say **which keys can I use?** to see the demo keys." if self.demo is not None else ""
        return self.ask("license_id", turn,
                         f"{note}Which license? Type its key (like `ABCD-1234-EFGH-5678`), or for a user-based "
                         f"license `user NAME password PASSWORD`.{demo}",
                         ("which keys can I use?",) if self.demo is not None else ())

    # -- deactivation and clearing -------------------------------------------------------------

    def _deactivate(self, turn: Turn) -> Reply:
        license_ = self._require_license()
        how = ("I will write `ls_deactivation.req` and remove the license from this device; uploading that file "
               "at the portal then frees the activation" if turn.name == intents.DEACTIVATE_OFFLINE else
               "I will deactivate online if the license server answers (that frees the activation at once), "
               "otherwise write `ls_deactivation.req` for you to upload at the portal")
        return self.ask("confirm", turn, f"Deactivate {wording.who(license_)} on this device? {how}. The skills stop "
                                          "working here.\n\nSay **yes** to deactivate, or **no** to keep it.",
                         ("yes", "no"))

    def _deactivate_now(self, turn: Turn) -> Reply:
        license_ = self._require_license()
        path = turn.slots.get("path")
        if turn.name == intents.DEACTIVATE_OFFLINE:
            request, lead = license_.deactivate_offline(path), "**Deactivated on this device.**"
        else:
            result = license_.deactivate_hybrid(path)
            self._online = result.route == "online"
            if result.path is None:
                return Reply("**Deactivated online** — the license server freed the activation, and the license is "
                             "removed from this device.", turn.name, True, ("status",), data={"route": "online"})
            request = result.path
            lead = f"I took the **offline** route, because {result.reason}. **Deactivated on this device.**"
        self._request = None
        demo = (f" On this machine the demo vendor can take it right away: "
                f"{md_code(self.demo.portal_command(request), limit=4096)}.") if self.demo is not None else ""
        return Reply(f"{lead} The license is removed here, and the deactivation request is at {wording.path_md(request)}."
                     "\n\nCarry this file to a computer with internet and upload it at the Offline Licensing Portal "
                     f"(page \"Offline deactivation\"): that frees the activation at the vendor.{demo}",
                     turn.name, True, ("status",), data={"path": str(request), "route": "offline"})

    def _clear_storage(self, turn: Turn) -> Reply:
        return self.ask("confirm", turn,
                         "Clear the local license storage? That removes the license and any pending request from "
                         "this device. It does **not** free the activation at the vendor — that seat stays taken; "
                         "to free it, say **deactivate offline** instead.\n\nSay **yes** to clear, or **no** to "
                         "keep everything.", ("yes", "no"))

    def _clear_now(self, turn: Turn) -> Reply:
        self.manager.clear_local_storage()
        self._request = None
        return Reply("**Local storage cleared**: there is no license on this device now. The activation still "
                     "counts at the vendor; if you need the seat back, ask your vendor to reset this device.",
                     turn.name, True, ("activate offline",))

    # -- refresh and checks ----------------------------------------------------------------------

    def _refresh(self, turn: Turn) -> Reply:
        license_ = self._require_license()
        path = turn.slots.get("path")
        default = self.manager.config.requests_dir / REFRESH_FILE_NAME
        if path is None and not os.path.isfile(default):
            missing = Explanation(
                "file_not_found", f"`{REFRESH_FILE_NAME}` is not there", f"I looked in {wording.path_md(default.parent)}.",
                "Ask your vendor for a refresh file (they download it from the portal's Devices tab after changing "
                f"your license, for this device's activation id: {wording.device_id_md(license_)}), put it there and say "
                "**refresh** again — or tell me its path: `refresh <path>`.", ("help refresh",))
            self._note_problem(missing)
            self.state.pending = Pending("step", Turn(intents.REFRESH_OFFLINE, {}, "refresh"))
            return Reply(f"**{missing.title}.** {missing.what_happened}\n\n{missing.how_to_fix}", turn.name, False,
                         missing.suggestions, data={"code": "file_not_found", "looked_in": [str(default)]})
        before, used_before, contact = license_.terms, license_.local_consumptions, license_.last_server_contact
        license_.update_offline(path)
        changes = wording.changes(before, license_.terms, used_before, license_.local_consumptions)
        grace = self.manager.config.grace_period
        renewed = license_.last_server_contact
        if renewed is not None and renewed != contact and grace is not None:
            changes.append("it counts as contact with the license server, so the grace period starts again: without "
                           f"the server, the license is now {wording.until(renewed + grace)}")
        listed = "\n".join(f"- {change}" for change in changes) or "- nothing you would notice (a new revision only)"
        revision = (f"revision {before.revision} → {license_.revision}" if license_.revision != before.revision
                    else f"still revision {license_.revision}: no new terms")
        return Reply(f"**License refreshed** ({revision}). What changed:\n{listed}", turn.name, True,
                     ("features", "status"),
                     data={"path": str(path or default), "revision": license_.revision, "route": "offline"})

    def _check_online(self, turn: Turn) -> Reply:
        license_ = self._require_license()
        online = self.manager.is_online()
        self._online = online
        fallback = None if online else f"I could not check online, because {self._offline_reason()}, so I ran " \
                                        "a local check instead"
        try:
            result = license_.check_hybrid()
        except LicenseError as error:
            return self._failure(turn.name, error, f"{fallback}, and it failed:" if fallback else "")
        self._online = result.route == "online"
        lead = ("**Checked online**: the license server confirmed your license." if result.route == "online" else
                f"I could not check online, because {result.reason}, so I ran a local check instead: "
                "**it passed**.")
        return Reply(f"{lead}\n\n{self._report(license_)}", turn.name, True, ("status",),
                     data={"route": result.route})

    def _local_check(self, turn: Turn) -> Reply:
        license_ = self._require_license()
        result = license_.local_check()
        self._noted_check(True, "local check")
        # A license that never went online never needs the server: its "server contact" check is moot.
        checked = ", ".join(wording.CHECK_WORDS.get(item.name, item.name) for item in result.items
                            if item.name != "server_contact" or license_.last_server_contact is not None)
        expired = wording.expired_features_note(result.expired_features)
        return Reply(f"**Local check passed** — no network needed. Checked: {checked}.{expired}", turn.name, True,
                     ("features", "status"))

    def _is_online(self, turn: Turn) -> Reply:
        self._online = self.manager.is_online()
        text = ("**Online**: the license server answers. Activation, checks and deactivation can go through it."
                if self._online else
                f"**Offline**: {self._offline_reason()}. Everything still works with files: **activate offline**, "
                "**refresh** and **deactivate offline**.")
        return Reply(text, turn.name, True, ("status",), data={"online": self._online})

    def _offline_reason(self) -> str:
        if not self.manager.config.server_url:
            return "no license server is configured"
        return "the license server cannot be reached"

    def _reload(self, turn: Turn) -> Reply:
        before = self._seen
        after = self._seen = self.manager.reload_license()
        if before is None and after is None:
            found = "I read the disk again: there is no license on this device."
        elif after is None:
            found = ("I read the disk again: **the license file is gone** (another program removed it, or it was "
                     "deactivated elsewhere). I had still been using the copy in memory — that is why I said you "
                     "were licensed. Now I hold no license.")
        elif before is None or before.device_id != after.device_id:
            found = f"I read the disk again and loaded the license there:\n\n{self._report(after)}"
        elif before.revision != after.revision:
            found = (f"I read the disk again: it holds revision {after.revision} of the license (I had revision "
                     f"{before.revision} in memory), so I now use the newer one.\n\n{self._report(after)}")
        else:
            found = f"I read the disk again: it matches what I had in memory.\n\n{self._report(after)}"
        return Reply(f"{found}\n\n_Why this exists:_ {MEMORY_VS_DISK}", turn.name, True, ("status",))

    def _license_status(self, turn: Turn) -> Reply:
        """Diagnose: every local check, and the first failure explained with its fix (or one fact, asked for)."""
        if "fact" in turn.slots:
            return self._fact(turn)
        if self.seats.lease is not None:
            return self._seat_checked(turn, self.seats.lease)
        license_ = self._current()
        if license_ is None:
            fix = explain(NoLicenseError()).how_to_fix
            return Reply(f"**You are not licensed: no license is activated on this device.**\n\n{fix}", turn.name,
                         True, ("activate offline", "help offline"), data={"licensed": False, "code": "no_license"})
        result = license_.check_status()
        self._noted_check(result.ok, "status")
        if result.ok and wording.counts_uses(license_) and license_.remaining_consumptions == 0:
            used_up = self._explain(ConsumptionLimitError())
            self._note_problem(used_up)
            return Reply("**You are licensed, but no uses are left.** The license is valid, and every use it allows "
                         "has been recorded, so each skill is refused until the count is reset or the limit raised."
                         f"\n\n{self._report(license_)}\n\n**What to do:** {used_up.how_to_fix}", turn.name, True,
                         ("refresh", "features"), data={"licensed": True, "uses_left": 0})
        if result.ok:
            expired = wording.expired_features_note(result.expired_features)
            return Reply(f"**You are licensed.**\n\n{self._report(license_)}{expired}", turn.name, True,
                         ("features", "tell me a joke"), data={"licensed": True})
        return self._not_licensed(turn, result)

    def _seat_checked(self, turn: Turn, lease: Lease) -> Reply:
        """ "am I licensed?" while a floating seat is held: the seat is the license."""
        result = lease.check_status()
        self._noted_check(result.ok, "status")
        if not result.ok:
            return self._not_licensed(turn, result, "your floating seat's ")
        return Reply(f"**You are licensed** by a floating seat.\n\n{self._seat_report(lease)}", turn.name, True,
                     ("tell me a joke", "how many seats are free?"), data={"licensed": True, "seat": lease.slot + 1})

    def _not_licensed(self, turn: Turn, result: LocalCheckResult, whose: str = "the ") -> Reply:
        """The first failing check explained with its fix, and the others named."""
        failed = [item for item in result.items if not item.ok]
        first = failed[0]
        assert first.error is not None
        explanation = self._explain(first.error)
        self._note_problem(explanation)
        others = (f"\n\nAlso failing: {', '.join(wording.CHECK_WORDS.get(i.name, i.name) for i in failed[1:])}."
                  if len(failed) > 1 else "")
        return Reply(f"**You are not licensed right now** — {whose}{wording.CHECK_WORDS.get(first.name, first.name)} "
                     f"check failed.\n\n{explanation.markdown()}{others}", turn.name, True, explanation.suggestions,
                     data={"licensed": False, "code": first.error.code, "check": first.name})

    def _features(self, turn: Turn) -> Reply:
        license_ = self.seats.lease or self._require_license()
        now = self.manager.now()
        skills_by_feature = {skill.feature: skill for skill in SKILLS.values()}
        lines = []
        for feature in license_.features():
            notes = []
            skill = skills_by_feature.get(feature.code)
            if skill is not None:
                notes.append(f"unlocks *{skill.title}*")
            if feature.expires is not None:
                notes.append(wording.feature_expiry(feature.expires, now))
            if feature.max_consumptions is not None and isinstance(license_, License):
                used = feature.total_consumptions + license_.feature_consumptions(feature.code)
                notes.append(f"{used} of {feature.max_consumptions} uses")
            lines.append(f"- {md_code(feature.code)}" + (f" — {', '.join(notes)}" if notes else ""))
        codes = {feature.code for feature in license_.features()}
        missing = [f"{md_code(code)} ({skill.title})" for code, skill in skills_by_feature.items() if code not in codes]
        whose = "floating seat" if isinstance(license_, Lease) else "license"
        text = f"**Features on your {whose}:**\n" + ("\n".join(lines) or "- none")
        them = "it" if len(missing) == 1 else "them"
        if isinstance(license_, Lease):
            if missing:
                text += (f"\n\nNot on it: {', '.join(missing)}. The vendor's refresh, applied at the floating server, "
                         f"can add {them}.")
            return Reply(text, turn.name, True, ("status",), data={"features": sorted(codes)})
        if missing:
            text += (f"\n\nNot on your license: {', '.join(missing)}. A refresh file from your vendor can add "
                     f"{them}.")
        text += f"\n\nThis device's activation id: {wording.device_id_md(license_)} (your vendor needs it for a refresh file)."
        return Reply(text, turn.name, True, ("status",), data={"features": sorted(codes)})

    def _consume(self, turn: Turn) -> Reply:
        license_ = self._require_license()
        if not wording.counts_uses(license_):
            return Reply(f"Your license is **{license_.license_type}**: it does not count uses, so there is nothing "
                         "to record.", turn.name, False, ("status",))
        count = turn.slots.get("count")
        if count is None and _SINGLE_USE.search(turn.line):
            count = 1
        if count is None:
            return self.ask("count", turn, "How many uses should I record? (for example **1**)", ("1",))
        license_.add_local_consumption(count)
        return Reply(f"Recorded {count} {'use' if count == 1 else 'uses'}. {wording.uses(license_)}", turn.name, True,
                     ("status",), data={"remaining": license_.remaining_consumptions})

    # -- floating seats ----------------------------------------------------------------------------

    def _without_floating_server(self, turn: Turn) -> Reply | None:
        """The reply when no floating server is set up for this app (None when one is)."""
        if self.seats.url is not None:
            return None
        return Reply("No floating server is set up for this app, so there are no seats to take. A floating "
                     "license's seats come from a license server on your site's network (`licensing-floating`): ask "
                     "your administrator for its address, then start me with `chatbot --floating-server "
                     f"http://HOST:8470` (or set `{FLOATING_SERVER_ENV}`).", turn.name, False, ("help",),
                     data={"code": "no_floating_server"})

    def _request_seat(self, turn: Turn) -> Reply:
        missing = self._without_floating_server(turn)
        if missing is not None:
            return missing
        before = self.seats.lease
        holding = before is not None and before.check_status().first_error is None
        try:
            lease = self.seats.take()
        except FloatingServerUnreachableError as error:
            if before is None or not holding:
                raise
            self._note_problem(self._explain(error))
            return Reply(f"You already hold a seat: {wording.seat(before)}, {wording.seat_ends(before)}. The floating "
                         f"server at {md_code(before.server_url)} does not answer, so I could not renew it: it keeps "
                         "working until then, and the heartbeat renews it as soon as the server is back.", turn.name,
                         True, ("why?", "am I licensed?"), data={"seat": before.slot + 1, "code": error.code})
        if lease.borrowed:
            return Reply(f"You already have a seat: {wording.seat(lease)}, **{wording.seat_ends(lease)}**, so it works "
                         "on this computer without the floating server until then. Say **return the borrowed seat** "
                         "to give it back early.", turn.name, True, ("return the borrowed seat", "tell me a joke"),
                         data={"seat": lease.slot + 1, "borrowed": True})
        lead = ("You already hold a seat, so I renewed it" if holding else
                "**You have a seat again**" if before is not None else "**You have a seat**")
        text = (f"{lead}: {wording.seat(lease)} from the floating server at {md_code(lease.server_url)}, "
                f"{wording.seat_ends(lease)}. I renew it in the background (the heartbeat) while this chat holds "
                "it, and give it back when you quit or say **release my seat**; if the server stops answering, it "
                "keeps working until its lease runs out.\n\n" + self._seat_report(lease))
        return Reply(text, turn.name, True, ("tell me a joke", "how many seats are free?", "release my seat"),
                     data={"seat": lease.slot + 1, "borrowed": False})

    def _release_seat(self, turn: Turn) -> Reply:
        lease = self.seats.lease
        if lease is None:
            activation = (" To free this device's activation instead, say **deactivate offline**."
                          if self.held_license() is not None else "")
            return Reply(f"You hold no floating seat, so there is none to give back.{activation}", turn.name, True,
                         ("how many seats are free?",))
        if lease.borrowed:
            return self._return_borrowed_seat(turn)
        where, slot = md_code(lease.server_url), wording.seat(lease)
        if self.seats.release():
            text = (f"**Seat given back.** The floating server at {where} has {slot} free for someone else now. The "
                    "skills stop here until you take a seat again.")
        else:
            text = (f"**Seat given back here**, but the floating server at {where} did not answer, so it frees the "
                    f"seat itself when the lease runs out (within {format_span(_lease_seconds(lease))}).")
        return Reply(text, turn.name, True, ("get a seat",))

    def _borrow_seat(self, turn: Turn) -> Reply:
        missing = self._without_floating_server(turn)
        if missing is not None:
            return missing
        seconds = turn.slots.get("duration")
        if not isinstance(seconds, int):
            return self.ask("duration", turn, "For how long should I borrow the seat? Say for example **3 days**.",
                            ("3 days", "1 week"))
        lease = self.seats.borrow(timedelta(seconds=seconds))
        return Reply(f"**Seat borrowed until {wording.at_time(lease.expires)}** ({wording.seat(lease)} of the floating "
                     f"server at {md_code(lease.server_url)}). It works on this computer without the floating server "
                     "until then, also after the app restarts, and counts as taken at the server. Say **return the "
                     "borrowed seat** to give it back early (the server must answer then).", turn.name, True,
                     ("tell me a joke", "return the borrowed seat"), data={"seat": lease.slot + 1, "borrowed": True})

    def _return_borrowed_seat(self, turn: Turn) -> Reply:
        missing = self._without_floating_server(turn)
        if missing is not None:
            return missing
        lease = self.seats.borrowed()
        if lease is None:
            live = " Your seat is a live one: say **release my seat** to give it back." if self.seats.lease else ""
            return Reply(f"This computer has no borrowed seat to give back.{live}", turn.name, True,
                         ("how many seats are free?",))
        return self.ask("confirm", turn, f"Give back {wording.seat(lease)}, borrowed until "
                                          f"{wording.at_time(lease.expires)}, now? It stops working on this computer "
                                          "at once, and the floating server can hand it to someone else.\n\n"
                                          "Say **yes** to give it back, or **no** to keep it.", ("yes", "no"))

    def _return_now(self, turn: Turn) -> Reply:
        where = md_code(self.seats.url or "")
        if self.seats.return_borrowed():
            return Reply(f"**Borrowed seat given back.** The floating server at {where} has it free for someone "
                         "else, and it no longer works here: say **get a seat** to take one.", turn.name, True,
                         ("get a seat",))
        return Reply(f"**Borrowed seat given back here.** The floating server at {where} did not confirm it, so I tell "
                     "it with the next request; the seat no longer works here either way.", turn.name, True,
                     ("get a seat",))

    def _list_seats(self, turn: Turn) -> Reply:
        missing = self._without_floating_server(turn)
        if missing is not None:
            return missing
        report = self.seats.seats()
        rows = "".join(f"\n| {holder.slot + 1} | {md_escape(holder.client)}{' (you)' if holder.yours else ''} | "
                       f"{'borrowed' if holder.borrowed else 'lease'} until {wording.at_time(holder.expires)} |"
                       for holder in sorted(report.holders, key=lambda h: h.slot))
        table = f"\n\n| seat | held by | until |\n|---|---|---|{rows}" if rows else ""
        mine = any(holder.yours for holder in report.holders)
        next_step = "" if mine else " Say **get a seat** to take one." if report.free else \
            " Every seat is taken: one frees up when its holder gives it back or its lease runs out."
        return Reply(f"**{report.free} of {wording.plural(report.total, 'seat')} free** on the floating server at "
                     f"{md_code(report.server_url)}.{table}{next_step}", turn.name, True,
                     ("release my seat",) if mine else ("get a seat",),
                     data={"free": report.free, "total": report.total})

    def _start_floating_server(self, turn: Turn) -> Reply:
        server = self.seats.server
        if server is None:
            where = f"at {md_code(self.seats.url)} " if self.seats.url else ""
            return Reply(f"I can start only the demo vendor's own floating server. The floating server {where}runs on "
                         "your site's network: your administrator starts it (`licensing-floating --data FOLDER "
                         "serve`).", turn.name, False, ("how many seats are free?",))
        try:
            started = self.seats.start_server()
        except LicenseError as error:  # the launcher's ConfigurationError carries the server's log
            log = [line for line in error.message.splitlines() if line.strip()]
            return Reply(f"**The floating server did not start.** {md_escape(log[0])}\n\nIts last words: "
                         f"{md_code(log[-1], limit=4096)}\n\nStart it by hand to see more: "
                         f"{md_code(server.command, limit=4096)}.", turn.name, False, ("help",),
                         data={"code": error.code})
        if not started:
            return Reply(f"The floating server at {md_code(server.url)} is already running. Say **get a seat**.",
                         turn.name, True, ("get a seat", "how many seats are free?"))
        return Reply(f"**The demo's floating server is running** at {md_code(server.url)}, in its own process — as an "
                     f"administrator would run it: {md_code(server.command, limit=4096)}. It serves the seats of the "
                     "demo's floating license until you stop it or quit this chat. Say **get a seat**.", turn.name,
                     True, ("get a seat", "how many seats are free?"))

    def _stop_floating_server(self, turn: Turn) -> Reply:
        server = self.seats.server
        if server is None or not self.seats.stop_server():
            where = md_code(self.seats.url) if self.seats.url else "your site"
            return Reply(f"I did not start the floating server at {where}, so I leave it running: it is stopped where "
                         "it runs (ctrl+c in its terminal).", turn.name, False, ("how many seats are free?",))
        lease = self.seats.lease
        if lease is None:
            after = ""
        elif lease.borrowed:
            after = f" Your borrowed seat needs no server: it keeps working until {wording.at_time(lease.expires)}."
        else:
            after = (f" Your seat keeps working until its lease runs out, {wording.seat_ends(lease)} at the latest; "
                     "then the skills stop until the server answers again and you take a seat.")
        return Reply(f"**The floating server is stopped.**{after}", turn.name, True,
                     ("am I licensed?", "start the floating server"))

    def _seat_report(self, lease: Lease) -> str:
        """A floating seat in a few lines: which seat and until when, the license behind it, its features."""
        renewed = "" if lease.borrowed else " (the heartbeat renews it)"
        features = ", ".join(md_code(f.code) for f in lease.features()) or "none"
        return "\n".join((f"- Seat {lease.slot + 1} of {lease.seats}, from the floating server at "
                           f"{md_code(lease.server_url)}, {wording.seat_ends(lease)}{renewed}",
                           f"- License: {wording.seat_terms(lease)}",
                           f"- Features: {features}"))

    # -- skills ----------------------------------------------------------------------------------

    def _skill(self, turn: Turn) -> Reply:
        """Gate (license, feature), run, then record the use — a failed run costs nothing.

        A floating seat held is the license while it is held: its lease is checked and its features
        unlock the skills (a seat records no uses)."""
        skill = SKILLS[turn.name]
        try:
            license_ = self.seats.lease or self._current()
            if license_ is None:
                raise NoLicenseError()
            self._noted_check(False, skill.title)
            license_.local_check()
            self._noted_check(True, skill.title)
            feature = license_.feature(skill.feature)
        except LicenseError as error:
            return self._refusal(turn, skill, error)
        context = SkillContext(self._rng, self.manager.now(), self._local_tz)
        try:
            text = skill.run(turn.slots, context)
        except SkillInputError as error:
            return Reply(error.message, turn.name, False, (skill.example,))
        if isinstance(license_, Lease):
            return Reply(text, turn.name, True)
        try:
            recorded = _record_use(license_, feature)
        except LicenseError as error:
            return self._refusal(turn, skill, error)
        if not recorded:
            return Reply(text, turn.name, True)
        note = wording.uses(license_) if wording.counts_uses(license_) else "One use of this feature recorded."
        return Reply(f"{text}\n\n_({note})_", turn.name, True, status=self.status(),
                     data={"remaining": license_.remaining_consumptions})

    def _refusal(self, turn: Turn, skill: Skill, error: LicenseError) -> Reply:
        license_, message = self._seen, self._specific_message(error)
        if error.code == "feature_expired" and license_ is not None:
            feature = next((f for f in license_.features() if f.code == skill.feature), None)
            if feature is not None and feature.expires is not None:
                message = wording.feature_expiry_sentence(feature.code, feature.expires)
        explanation = self._with_device_id(skill_refusal(skill.title, skill.feature, error, message=message))
        self._note_problem(explanation)
        return Reply(explanation.markdown(), turn.name, False, explanation.suggestions, self.status(),
                     {"code": error.code, "feature": skill.feature})

    # -- talk --------------------------------------------------------------------------------------

    # -- helpers ---------------------------------------------------------------------------------

    def _current(self) -> License | None:
        """The manager's license, memory first (as the tutorial's ``get_current_license()``).

        The bot remembers what it last got, so **reload** can tell what was in memory from what
        is on disk (asking the manager would load the disk when its memory is empty).
        """
        self._seen = self.manager.get_current_license()
        return self._seen

    def _require_license(self) -> License:
        license_ = self._current()
        if license_ is None:
            raise NoLicenseError()
        return license_

    def _failure(self, intent: str, error: LicenseError, preface: str = "") -> Reply:
        explanation = self._explain(error)
        self._note_problem(explanation)
        text = f"{preface}\n\n{explanation.markdown()}" if preface else explanation.markdown()
        return Reply(text, intent, False, explanation.suggestions, self.status(), {"code": error.code})

    def _explain(self, error: LicenseError) -> Explanation:
        """:func:`explain`, with the license held here: its expiry dated, this device's id where a refresh helps;
        on the demo, a floating server that does not answer is one the bot can start."""
        explanation = self._with_device_id(explain(error, message=self._specific_message(error)))
        if error.code in _SERVER_GONE and self.seats.server is not None and not self.seats.started_server:
            explanation = replace(explanation, how_to_fix=f"{explanation.how_to_fix} Here, the demo's floating server "
                                                          "runs when you say **start the floating server**.",
                                  suggestions=("start the floating server", *explanation.suggestions))
        return explanation

    def _specific_message(self, error: LicenseError) -> str | None:
        """The license's expiry in the vendor's words ("valid through …"), instead of the engine's date."""
        license_ = self._seen
        if error.code == "license_expired" and not isinstance(error, VendorRefusal) and license_ is not None \
                and license_.expires is not None:
            return wording.expiry_sentence(license_.expires)
        return None

    def _with_device_id(self, explanation: Explanation) -> Explanation:
        """A fix that needs a refresh file names this device's activation id: the vendor makes the file for it."""
        license_ = self._seen
        if license_ is None or "refresh file" not in explanation.how_to_fix:
            return explanation
        return replace(explanation, how_to_fix=f"{explanation.how_to_fix} The vendor makes the refresh file for "
                                               f"this device's activation id: {wording.device_id_md(license_)}.")

    def _note_problem(self, explanation: Explanation) -> None:
        self.state.problem = Problem(self.state.line, explanation)

    def _report(self, license_: License) -> str:
        """The license in a few lines: who, type, expiry, features, activations, uses, this device's id."""
        expiry = wording.license_expiry(license_.expires, license_.days_remaining())
        features = ", ".join(md_code(f.code) for f in license_.features()) or "none"
        lines = [f"- License: {wording.who(license_)}, **{license_.license_type}**, {expiry}",
                 f"- Features: {features}",
                 f"- Activations: {license_.total_activations} of {wording.plural(license_.max_activations, 'device')}"]
        if wording.counts_uses(license_):
            lines.append(f"- Uses: {wording.uses(license_)}")
        lines.append(f"- This device's activation id: {wording.device_id_md(license_)}")
        return "\n".join(lines)

    def _status_line(self, license_: License | None, error: LicenseError | None) -> LicenseStatus:
        counts = license_ is not None and wording.counts_uses(license_)
        left = license_.remaining_consumptions if license_ is not None and counts else None
        days = license_.days_remaining() if license_ is not None else None
        problem = None if error is None else error.code.replace("_", " ")
        if license_ is None:
            parts = ["none yet" if error is None or error.code == "no_license" else f"none usable here ({problem})"]
        elif error is not None:
            parts = [f"{license_.license_type}, not usable right now ({problem})"]
        else:
            parts = ["licensed, but no uses left" if left == 0 else "licensed", license_.license_type]
            if days is not None:
                parts.append(wording.days_left(days))
            if left:
                parts.append(f"{wording.plural(left, 'use')} left")
        if not self.manager.config.server_url:
            parts.append("no license server configured (offline mode)")
        elif self._online is not None:
            parts.append("license server online" if self._online else "license server not reachable")
        return LicenseStatus(
            licensed=error is None, license_type=None if license_ is None else license_.license_type,
            expires=None if license_ is None else license_.expires, days_left=days, consumption_left=left,
            online=self._online, summary=" · ".join(parts), problem_code=None if error is None else error.code)


# -- the dispatch table ----------------------------------------------------------------------------


# -- the dispatch tables ---------------------------------------------------------------------------


HANDLERS: Mapping[str, Callable[[Handlers, Turn], Reply]] = {
    intents.ACTIVATE_ONLINE: Handlers._activate_online,
    intents.ACTIVATE_OFFLINE: Handlers._activate_offline,
    intents.CREATE_ACTIVATION_REQUEST: Handlers._create_activation_request,
    intents.DEACTIVATE_ONLINE: Handlers._deactivate,
    intents.DEACTIVATE_OFFLINE: Handlers._deactivate,
    intents.CLEAR_STORAGE: Handlers._clear_storage,
    intents.REFRESH_OFFLINE: Handlers._refresh,
    intents.CHECK_ONLINE: Handlers._check_online,
    intents.LOCAL_CHECK: Handlers._local_check,
    intents.LICENSE_STATUS: Handlers._license_status,
    intents.LIST_FEATURES: Handlers._features,
    intents.CONSUME: Handlers._consume,
    intents.IS_ONLINE: Handlers._is_online,
    intents.RELOAD_LICENSE: Handlers._reload,
    intents.HELP: Handlers._help,
    intents.QUIT: Handlers._quit,
    intents.UNKNOWN: Handlers._unknown,
    intents.CLARIFY: Handlers._clarify,
    **{name: Handlers._skill for name in SKILLS},
    intents.REQUEST_SEAT: Handlers._request_seat,
    intents.RELEASE_SEAT: Handlers._release_seat,
    intents.BORROW_SEAT: Handlers._borrow_seat,
    intents.RETURN_BORROWED_SEAT: Handlers._return_borrowed_seat,
    intents.LIST_SEATS: Handlers._list_seats,
    intents.START_FLOATING_SERVER: Handlers._start_floating_server,
    intents.STOP_FLOATING_SERVER: Handlers._stop_floating_server,
}
#: what a "yes" to a confirmation question runs (the handlers above only ask)
_ON_CONFIRM: Mapping[str, Callable[[Handlers, Turn], Reply]] = {
    intents.DEACTIVATE_ONLINE: Handlers._deactivate_now,
    intents.DEACTIVATE_OFFLINE: Handlers._deactivate_now,
    intents.CLEAR_STORAGE: Handlers._clear_now,
    intents.RETURN_BORROWED_SEAT: Handlers._return_now,
    intents.RELEASE_SEAT: Handlers._return_now,  # "release my seat" asks first only when the seat is borrowed
}
assert set(HANDLERS) == set(intents.INTENT_NAMES), "every intent needs a handler"

#: refusals that mean the floating server is not answering
_SERVER_GONE = frozenset({"floating_server_unreachable", "lease_expired"})
#: intents after which the status bar may be stale
_CHANGES_STATE = frozenset(intents.INTENT_NAMES) - {intents.HELP, intents.QUIT, intents.UNKNOWN, intents.CLARIFY,
                                                    *SKILLS}


# -- small helpers -----------------------------------------------------------------------------------

def _license_id(slots: Mapping[str, Any]) -> LicenseID | None:
    credentials = slots.get("credentials")
    if isinstance(credentials, intents.Credentials):
        return LicenseID.from_user(credentials.user, credentials.password)
    key = slots.get("key")
    return LicenseID.from_key(key) if isinstance(key, str) else None


def _lease_seconds(lease: Lease) -> int:
    terms = lease.terms.floating
    return terms.lease_seconds if terms is not None else 0


def _is_response(path: str) -> bool:
    return path.lower().endswith(".lic")


def _request_target(path: object) -> str | None:
    """A typed path names where the request goes, unless it is a response (.lic) file."""
    return path if isinstance(path, str) and not _is_response(path) else None


def _record_use(license_: License, feature: Feature) -> bool:
    """Record one use where the license or the feature counts uses; False when nothing counts.

    A feature's own limit is checked first, so a use it refuses never costs a license-wide one.
    """
    counts, limited = wording.counts_uses(license_), feature.max_consumptions is not None
    used = feature.total_consumptions + license_.feature_consumptions(feature.code)
    if feature.max_consumptions is not None and used >= feature.max_consumptions:
        raise ConsumptionLimitError(f"The feature '{feature.code}' has used all its {feature.max_consumptions} uses.")
    if counts:
        license_.add_local_consumption(1)
    if limited:
        license_.add_local_feature_consumption(feature.code, 1)
    return counts or limited
