"""What every handler stands on: the conversation's engine, state and demo, the status, the facts, the error replies.

:class:`HandlerBase` holds what :class:`chatbot.handlers.Handlers` and its groups of handlers
(:mod:`chatbot.handlers_license`, :mod:`chatbot.handlers_seats`) share: the license manager and the
license held in memory, the dialogue state, the floating seat keeper, the status line, the facts of
the license held, and how a :class:`~licensing.LicenseError` becomes an explained reply. The module
docstring of :mod:`chatbot.handlers` describes the handlers as a whole.
"""

from __future__ import annotations

import os
import random
import shlex
import shutil
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from licensing import (
    Lease,
    License,
    LicenseError,
    LicenseManager,
    NoLicenseError,
    VendorRefusal,
)

from . import intents, wording
from .dialogue import DialogueState, Pending, Problem, Turn
from .explain import (
    Explanation,
    explain,
    md_code,
)
from .replies import LicenseStatus, Reply
from .seats import FloatingSetup, SeatKeeper
from .skills import SKILLS

__all__ = ["COMMANDS", "DemoContext", "HandlerBase", "detect_portal_program", "detect_program"]

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
#: refusals that mean the floating server is not answering
_SERVER_GONE = frozenset({"floating_server_unreachable", "lease_expired"})


class HandlerBase:
    """The state and the shared replies of the handlers (see the module docstring)."""

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

    # -- asking and the status ---------------------------------------------------------------------

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

    def _seat_report(self, lease: Lease) -> str:
        """A floating seat in a few lines: which seat and until when, the license behind it, its features."""
        renewed = "" if lease.borrowed else " (the heartbeat renews it)"
        features = ", ".join(md_code(f.code) for f in lease.features()) or "none"
        return "\n".join((f"- Seat {lease.slot + 1} of {lease.seats}, from the floating server at "
                           f"{md_code(lease.server_url)}, {wording.seat_ends(lease)}{renewed}",
                           f"- License: {wording.seat_terms(lease)}",
                           f"- Features: {features}"))
