"""The conversation engine: one line of text in, one :class:`Reply` out, no UI.

Every line goes through three stages:

1. **Dialogue.** If the previous reply asked something (a confirmation, "did you mean…?",
   which license key, how many uses), the line is first read as the answer. An answer that
   does not fit drops the question and the line is handled as if nothing had been asked, so
   the user can never get stuck in a prompt.
2. **Understanding.** :func:`chatbot.intents.parse` names the intent; a few things the parser
   deliberately leaves alone are recognised here because only a conversation gives them a
   meaning: user-name/password credentials, an error code pasted from the portal, "which
   keys can I use?" in demo mode, and "why?" about the last refusal (explained again, in full).
3. **Handling.** A table maps each intent to one handler that runs it against the licensing
   engine. A :class:`~licensing._errors.LicenseError` from the engine becomes an explained
   reply (:mod:`chatbot.explain`); nothing a user types makes :meth:`Bot.handle` raise.

The bot holds the license in memory (``manager.get_current_license()``) instead of reading the
disk on every line — the tutorial's "memory first" — which keeps local replies well under a
millisecond and is why **reload** exists. Where both an online and an offline path exist the
engine's hybrid calls decide (``activate_hybrid``, ``deactivate_hybrid``, ``check_hybrid``:
online when the server answers) and the reply says which route was taken and why.

How facts are worded (expiry dates, counts, what a refresh changed) lives in
:mod:`chatbot.wording`, the help pages in :mod:`chatbot.help_topics`.
"""

from __future__ import annotations

import logging
import os
import random
import re
import shlex
import shutil
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import tzinfo
from pathlib import Path
from typing import Any

from licensing import (
    ConsumptionLimitError,
    Feature,
    License,
    LicenseError,
    LicenseID,
    LicenseManager,
    NoLicenseError,
    VendorRefusal,
)
from licensing.wire import ACTIVATION_RESPONSE_FILE_NAME, REFRESH_FILE_NAME

from . import intents, wording
from .explain import (
    EXPLAINED_CODES,
    MEMORY_VS_DISK,
    REQUEST_REFUSAL_CODES,
    Explanation,
    explain,
    explain_code,
    md_code,
    skill_refusal,
)
from .help_topics import HELP_TOPICS, help_topic
from .replies import CANCEL, CONFIRM, LicenseStatus, Reply
from .skills import SKILLS, Skill, SkillContext, SkillInputError

__all__ = ["Bot", "Reply", "LicenseStatus", "DemoContext", "CONFIRM", "CANCEL", "detect_portal_program"]

_log = logging.getLogger(__name__)

#: Only this much of a line is parsed (the parser is quadratic on very long tokens); a longer
#: word-count text is still counted whole.
_PARSE_LIMIT = 1000


# -- what the UI gets --------------------------------------------------------------------------


PORTAL_SCRIPT = "licensing-portal"


def detect_portal_program() -> str:
    """How to start ``licensing-portal`` from a shell here, as the demo commands the bot prints say it.

    Just ``licensing-portal`` when the shell finds the script installed beside this Python (an
    activated virtual environment); otherwise that script's absolute path (the chatbot started as
    ``.venv/bin/chatbot`` without activating it). With no script beside this Python: the name if
    the shell finds one, else ``python -m licensing.issuing.cli`` with this Python.
    """
    script = Path(sys.executable).with_name(PORTAL_SCRIPT)
    found = shutil.which(PORTAL_SCRIPT)
    if not script.is_file():
        return PORTAL_SCRIPT if found else f"{shlex.quote(sys.executable)} -m licensing.issuing.cli"
    try:
        same = found is not None and os.path.samefile(found, script)
    except OSError:
        same = False
    return PORTAL_SCRIPT if same else shlex.quote(str(script))


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


# -- the dialogue state --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Turn:
    """One intent to run: its name, slots (parser slots plus the bot's own), and the line typed."""

    name: str
    slots: Mapping[str, Any]
    line: str = ""
    candidates: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Pending:
    """A question the last reply asked. ``kind``: confirm, clarify, license_id or count."""

    kind: str
    turn: _Turn


@dataclass(frozen=True)
class _Problem:
    """The last thing that went wrong, for "why?": the line that failed and its explanation."""

    line: str
    explanation: Explanation


_YES = frozenset("yes y yeah yep yup sure ok okay confirm confirmed proceed go ahead do it please".split())
_NO = frozenset("no n nope nah cancel stop abort never mind nevermind keep dont don't not".split())
_WORDS = re.compile(r"[a-z0-9']+")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
#: "user NAME password PASSWORD" (also "username: …", "e-mail … and pw …"); never a sentence about them
_CREDENTIALS = re.compile(
    r"\b(?:user(?:\s*name)?|login|e-?mail)\s*[:=]?\s*(?!(?:name|and|or)\b)(?P<user>\S+)\s+(?:and\s+)?"
    r"(?:pass(?:word)?|pw|pwd)\s*[:=]?\s*(?P<password>\S+)", re.IGNORECASE)
_KEYS_QUESTION = re.compile(r"\b(?:keys|demo\s+keys?|(?:which|what)\s+(?:license\s+|licence\s+)?keys?)\b",
                            re.IGNORECASE)
_SINGLE_USE = re.compile(r"\b(?:a|an|one|single)\s+(?:credit|use|consumption|unit)\b", re.IGNORECASE)
_CODE_MENTION = re.compile(r"\b(" + "|".join(sorted(EXPLAINED_CODES, key=len, reverse=True)) + r")\b")
#: "why?" after a refusal: the whole line asks about the last answer
_WHY = re.compile(r"(?:(?:but|so|and|ok|okay|hm+|huh)\W+)*(?:why(?: not| so| is that| was that| did (?:that|it) "
                  r"(?:fail|happen)| (?:was|is) (?:that|it) refused)?|how come|what happened|what went wrong|"
                  r"explain(?: that| it)?(?: please)?|what does that mean|tell me more)[\s?!.]*", re.IGNORECASE)
#: replies after which "why?" still means the problem before them (talk, not an action)
_KEEPS_PROBLEM = frozenset({intents.HELP, intents.UNKNOWN, intents.CLARIFY, intents.QUIT, CANCEL})

#: what to type for each intent (suggestions, "did you mean…?"); each parses back to its intent
_COMMANDS: Mapping[str, str] = {
    intents.ACTIVATE_ONLINE: "activate online", intents.ACTIVATE_OFFLINE: "activate offline",
    intents.CREATE_ACTIVATION_REQUEST: "create activation request", intents.DEACTIVATE_ONLINE: "deactivate online",
    intents.DEACTIVATE_OFFLINE: "deactivate offline", intents.REFRESH_OFFLINE: "refresh", intents.CHECK_ONLINE: "check online",
    intents.LOCAL_CHECK: "local check", intents.LICENSE_STATUS: "status", intents.LIST_FEATURES: "features",
    intents.CONSUME: "use a credit", intents.IS_ONLINE: "am I online?", intents.CLEAR_STORAGE: "clear storage",
    intents.RELOAD_LICENSE: "reload", intents.HELP: "help", intents.QUIT: "quit",
    **{name: skill.example for name, skill in SKILLS.items()},
}


class Bot:
    """The chatbot's brain. Not thread-safe: one conversation, one caller at a time."""

    def __init__(self, manager: LicenseManager, *, demo: DemoContext | None = None,
                 rng: random.Random | None = None, local_tz: tzinfo | None = None, debug: bool = False) -> None:
        """``local_tz`` fixes the time skill's "local time" (default: this computer's zone);
        ``debug`` lets unexpected exceptions propagate instead of apologising (tests, development)."""
        self.manager = manager
        self.demo = demo
        self._rng = rng or random.Random()
        self._local_tz = local_tz
        self._debug = debug
        self._pending: _Pending | None = None
        self._request: Path | None = None  # the activation request written in this conversation
        self._online: bool | None = False if not manager.config.server_url else None
        self._seen: License | None = None  # the license last taken from the manager
        self._line = ""  # the line being answered
        self._problem: _Problem | None = None  # what "why?" explains

    # -- public API --------------------------------------------------------------------------

    def greeting(self) -> Reply:
        """The first message: what the bot is, the license state, how to start."""
        status = self.status()
        lines = [("Hi! I'm the licensing chatbot. I answer questions about this app's license in plain words, and "
                  "run a few skills it unlocks: jokes, word count, unit conversion, dice and the time."),
                 f"**License:** {status.summary}."]
        used_up = status.licensed and status.consumption_left == 0
        if used_up:
            lines.append("Say **status** to see what to do, or **help** for everything I can do.")
        elif status.licensed:
            lines.append("Try **tell me a joke**, or say **help** for everything I can do.")
        elif status.license_type is not None:
            lines.append("Say **status** to see what is wrong and how to fix it; **help** lists everything.")
        else:
            lines.append("To start, say **activate offline** (two steps with a request file) or "
                         "`activate ABCD-1234-EFGH-5678` with your key; **help** lists everything.")
        if self.demo is not None:
            command = md_code(self.demo.portal_command(), limit=4096)
            lines.append(f"You are on the built-in **demo vendor** ({wording.path_md(self.demo.vendor_dir)}): say "
                         f"**which keys can I use?** to see its license keys. It answers requests on this machine: "
                         f"{command}.")
        if used_up or (not status.licensed and status.license_type is not None):
            suggestions: tuple[str, ...] = ("status", "refresh", "help")
        elif status.licensed:
            suggestions = ("tell me a joke", "status", "help")
        else:
            suggestions = ("activate offline", "which keys can I use?" if self.demo else "help offline", "help")
        return Reply("\n\n".join(lines), intents.HELP, True, suggestions, status)

    def handle(self, text: str) -> Reply:
        """Answer one line. Never raises: engine errors are explained, anything else is apologised for."""
        try:
            line = self._line = _clean(text)
            problem = self._problem
            reply = self._answer(line)
            if self._problem is problem and reply.intent not in _KEEPS_PROBLEM and "awaiting" not in reply.data:
                self._problem = None  # something else happened since: "why?" has nothing left to explain
            return reply
        except Exception:
            if self._debug:
                raise
            _log.exception("the chatbot failed on a line")
            return Reply("Sorry — something went wrong on my side and I could not answer that. Nothing about your "
                         "license was changed by it; please try again, or say **help**.", intents.UNKNOWN, False,
                         ("help",), data={"code": "internal_error"})

    def held_license(self) -> License | None:
        """The license held in memory (memory first, as ``get_current_license()``); None when there is none
        or it cannot be read."""
        try:
            return self._current()
        except LicenseError:
            return None

    def status(self) -> LicenseStatus:
        """The license state right now, from the license held in memory (no network)."""
        try:
            license_ = self._current()
        except LicenseError as error:
            return self._status_line(None, error)
        if license_ is None:
            return self._status_line(None, NoLicenseError())
        return self._status_line(license_, license_.check_status().first_error)

    # -- understanding -----------------------------------------------------------------------

    def _answer(self, line: str) -> Reply:
        pending, self._pending = self._pending, None
        if pending is not None:
            answered = self._resume(pending, line)
            if answered is not None:
                return answered
        turn = self._understand(line)
        reply = self._run(turn)
        if pending is not None and turn.name == intents.HELP and self._pending is None:
            self._pending = pending  # "which keys can I use?" while asked for a key: still waiting for it
        return reply

    def _understand(self, line: str) -> _Turn:
        head = line[:_PARSE_LIMIT]
        parsed = intents.parse(head)
        slots: dict[str, Any] = dict(parsed.slots)
        if parsed.name == intents.SKILL_WORDCOUNT and "text" in slots and len(line) > _PARSE_LIMIT:
            slots["text"] = line[head.rfind(str(slots["text"])):]  # the text runs on past the parsed part
        if parsed.name != intents.HELP and not slots and _WORDS.findall(line.lower())[:1] == ["help"]:
            return _Turn(intents.HELP, {}, line)  # "help convert", "help refresh": the topic, not the command
        if isinstance(slots.get("path"), str):
            slots["path"] = _expand(slots["path"])
        if _WHY.fullmatch(head) and (self._problem is not None or parsed.name != intents.HELP):
            return _Turn(intents.HELP, {"why": True}, line)  # "why?" about the last answer ("explain" alone: help)
        if parsed.name in SKILLS:
            return _Turn(parsed.name, slots, line)
        code = _CODE_MENTION.search(line)
        if code is not None:  # pasted from the portal: "… (invalid_credentials). Hint: …"
            return _Turn(intents.HELP, {"code": code.group(1)}, line)
        credentials = _CREDENTIALS.search(line)
        if credentials is not None:
            slots["license_id"] = LicenseID.from_user(credentials["user"], credentials["password"])
            name = parsed.name if parsed.name in (intents.ACTIVATE_OFFLINE, intents.CREATE_ACTIVATION_REQUEST) else (
                intents.ACTIVATE_OFFLINE if "offline" in line.lower() else intents.ACTIVATE_ONLINE)
            return _Turn(name, slots, line)
        if _KEYS_QUESTION.search(line) and "key" not in slots:
            return _Turn(intents.HELP, {"topic": "keys"}, line)
        return _Turn(parsed.name, slots, line, parsed.candidates)

    def _run(self, turn: _Turn, handlers: Mapping[str, Callable[[Bot, _Turn], Reply]] | None = None) -> Reply:
        """Run ``turn`` with its handler (``handlers``: the confirmed actions, for a "yes")."""
        try:
            reply = (handlers or _HANDLERS)[turn.name](self, turn)
        except LicenseError as error:
            reply = self._failure(turn.name, error)
        if reply.status is None and (turn.name in _CHANGES_STATE or handlers is not None):
            reply = replace(reply, status=self.status())
        return reply

    # -- dialogue ----------------------------------------------------------------------------

    def _ask(self, kind: str, turn: _Turn, text: str, suggestions: tuple[str, ...] = (),
             data: Mapping[str, Any] | None = None) -> Reply:
        self._pending = _Pending(kind, turn)
        return Reply(text, turn.name, True, suggestions, data={"awaiting": kind, **(data or {})})

    def _resume(self, pending: _Pending, line: str) -> Reply | None:
        """The line read as the answer to the pending question; None when it is not an answer."""
        words = _WORDS.findall(line.lower())
        turn = pending.turn
        if pending.kind == "confirm":
            if words and set(words) <= _YES:
                return replace(self._run(turn, _ON_CONFIRM), intent=CONFIRM)
            if not words or set(words) & _NO:
                return Reply("OK, cancelled — nothing was changed.", CANCEL, True, status=self.status())
            reply = self._run(self._understand(line))
            return replace(reply, text=f"_(I cancelled the {_COMMANDS[turn.name]}.)_\n\n{reply.text}")
        if pending.kind == "clarify":
            if words[:1] == ["help"]:
                return None  # "help offline" asks about the topic; it does not pick "deactivate offline"
            choice = _choose(turn.candidates, line, words)
            if choice is None and words and set(words) <= _YES:  # "yes" to "did you mean A or B?"
                return self._clarify(turn, again=True)
            if choice is None and words and set(words) <= _NO:
                return Reply("OK, never mind.", CANCEL, True)
            if choice is None:
                return None
            return self._run(_Turn(choice, {**turn.slots, **self._understand(line).slots}, line))
        fresh = self._understand(f"consume {line}" if pending.kind == "count" else line).slots
        wanted = ("count",) if pending.kind == "count" else ("license_id", "key")
        answer = {slot: fresh[slot] for slot in wanted if slot in fresh}
        if answer:
            return self._run(replace(turn, slots={**turn.slots, **answer}))
        if words and set(words) <= _NO:
            return Reply("OK, I'll leave it there.", CANCEL, True)
        return None

    # -- activation ----------------------------------------------------------------------------

    def _activate_online(self, turn: _Turn) -> Reply:
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

    def _activate_offline(self, turn: _Turn) -> Reply:
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

    def _create_activation_request(self, turn: _Turn) -> Reply:
        license_id = _license_id(turn.slots)
        if license_id is None:
            return self._ask_license_id(turn)
        return self._create_request(turn, license_id)

    def _create_request(self, turn: _Turn, license_id: LicenseID) -> Reply:
        target = self.manager.create_offline_activation_file(license_id, _request_target(turn.slots.get("path")))
        return self._request_written(turn, target, "**Step 1 of 2 done:** I created the activation request.")

    def _request_written(self, turn: _Turn, request: Path, lead: str) -> Reply:
        self._request = request
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

    def _accept_response(self, turn: _Turn, response: Path, *, typed: bool) -> Reply:
        try:
            license_ = self.manager.activate_license_offline(response)
        except LicenseError as error:
            if typed or error.code not in ("response_already_used", "guard_missing", "request_mismatch",
                                           "license_deactivated"):
                raise
            # A response left over from an earlier activation: offer to start a new one.
            reply = self._failure(turn.name, error, f"I tried the {md_code(response.name)} I found in "
                                                    f"{wording.path_md(response.parent)}.")
            self._pending = _Pending("license_id", replace(turn, slots={}))
            return replace(reply, text=reply.text + "\n\nTo start a new activation, tell me the license key "
                                                    "(or `user NAME password PASSWORD`).")
        self._request = None
        return self._activated(turn, license_, "offline", "**Step 2 of 2 done — activated offline.**", response)

    def _activated(self, turn: _Turn, license_: License, route: str, lead: str, path: Path | None = None) -> Reply:
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

    def _response_missing(self, turn: _Turn) -> Reply:
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
        self._pending = _Pending("license_id", replace(turn, slots={}))
        return Reply(text, turn.name, False, ("activate offline", "help offline"),
                     data={"code": "file_not_found", "looked_in": [str(p) for p in places]})

    def _ask_license_id(self, turn: _Turn) -> Reply:
        current = self._current()
        note = (f"You already have a license here ({wording.who(current)}); activating another one replaces it.\n\n"
                if current is not None and current.status == "active" else "")
        demo = " Say **which keys can I use?** to see the demo keys." if self.demo is not None else ""
        return self._ask("license_id", turn,
                         f"{note}Which license? Type its key (like `ABCD-1234-EFGH-5678`), or for a user-based "
                         f"license `user NAME password PASSWORD`.{demo}",
                         ("which keys can I use?",) if self.demo is not None else ())

    # -- deactivation and clearing -------------------------------------------------------------

    def _deactivate(self, turn: _Turn) -> Reply:
        license_ = self._require_license()
        how = ("I will write `ls_deactivation.req` and remove the license from this device; uploading that file "
               "at the portal then frees the activation" if turn.name == intents.DEACTIVATE_OFFLINE else
               "I will deactivate online if the license server answers (that frees the activation at once), "
               "otherwise write `ls_deactivation.req` for you to upload at the portal")
        return self._ask("confirm", turn, f"Deactivate {wording.who(license_)} on this device? {how}. The skills stop "
                                          "working here.\n\nSay **yes** to deactivate, or **no** to keep it.",
                         ("yes", "no"))

    def _deactivate_now(self, turn: _Turn) -> Reply:
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

    def _clear_storage(self, turn: _Turn) -> Reply:
        return self._ask("confirm", turn,
                         "Clear the local license storage? That removes the license and any pending request from "
                         "this device. It does **not** free the activation at the vendor — that seat stays taken; "
                         "to free it, say **deactivate offline** instead.\n\nSay **yes** to clear, or **no** to "
                         "keep everything.", ("yes", "no"))

    def _clear_now(self, turn: _Turn) -> Reply:
        self.manager.clear_local_storage()
        self._request = None
        return Reply("**Local storage cleared**: there is no license on this device now. The activation still "
                     "counts at the vendor; if you need the seat back, ask your vendor to reset this device.",
                     turn.name, True, ("activate offline",))

    # -- refresh and checks ----------------------------------------------------------------------

    def _refresh(self, turn: _Turn) -> Reply:
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

    def _check_online(self, turn: _Turn) -> Reply:
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

    def _local_check(self, turn: _Turn) -> Reply:
        license_ = self._require_license()
        result = license_.local_check()
        # A license that never went online never needs the server: its "server contact" check is moot.
        checked = ", ".join(wording.CHECK_WORDS.get(item.name, item.name) for item in result.items
                            if item.name != "server_contact" or license_.last_server_contact is not None)
        expired = wording.expired_features_note(result.expired_features)
        return Reply(f"**Local check passed** — no network needed. Checked: {checked}.{expired}", turn.name, True,
                     ("features", "status"))

    def _is_online(self, turn: _Turn) -> Reply:
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

    def _reload(self, turn: _Turn) -> Reply:
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

    def _license_status(self, turn: _Turn) -> Reply:
        """Diagnose: every local check, and the first failure explained with its fix."""
        license_ = self._current()
        if license_ is None:
            fix = explain(NoLicenseError()).how_to_fix
            return Reply(f"**You are not licensed: no license is activated on this device.**\n\n{fix}", turn.name,
                         True, ("activate offline", "help offline"), data={"licensed": False, "code": "no_license"})
        result = license_.check_status()
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
        failed = [item for item in result.items if not item.ok]
        first = failed[0]
        assert first.error is not None
        explanation = self._explain(first.error)
        self._note_problem(explanation)
        others = (f"\n\nAlso failing: {', '.join(wording.CHECK_WORDS.get(i.name, i.name) for i in failed[1:])}."
                  if len(failed) > 1 else "")
        return Reply(f"**You are not licensed right now** — the {wording.CHECK_WORDS.get(first.name, first.name)} check "
                     f"failed.\n\n{explanation.markdown()}{others}", turn.name, True, explanation.suggestions,
                     data={"licensed": False, "code": first.error.code, "check": first.name})

    def _features(self, turn: _Turn) -> Reply:
        license_ = self._require_license()
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
            if feature.max_consumptions is not None:
                used = feature.total_consumptions + license_.feature_consumptions(feature.code)
                notes.append(f"{used} of {feature.max_consumptions} uses")
            lines.append(f"- {md_code(feature.code)}" + (f" — {', '.join(notes)}" if notes else ""))
        codes = {feature.code for feature in license_.features()}
        missing = [f"{md_code(code)} ({skill.title})" for code, skill in skills_by_feature.items() if code not in codes]
        text = "**Features on your license:**\n" + ("\n".join(lines) or "- none")
        if missing:
            text += (f"\n\nNot on your license: {', '.join(missing)}. A refresh file from your vendor can add "
                     f"{'it' if len(missing) == 1 else 'them'}.")
        text += f"\n\nThis device's activation id: {wording.device_id_md(license_)} (your vendor needs it for a refresh file)."
        return Reply(text, turn.name, True, ("status",), data={"features": sorted(codes)})

    def _consume(self, turn: _Turn) -> Reply:
        license_ = self._require_license()
        if not wording.counts_uses(license_):
            return Reply(f"Your license is **{license_.license_type}**: it does not count uses, so there is nothing "
                         "to record.", turn.name, False, ("status",))
        count = turn.slots.get("count")
        if count is None and _SINGLE_USE.search(turn.line):
            count = 1
        if count is None:
            return self._ask("count", turn, "How many uses should I record? (for example **1**)", ("1",))
        license_.add_local_consumption(count)
        return Reply(f"Recorded {count} {'use' if count == 1 else 'uses'}. {wording.uses(license_)}", turn.name, True,
                     ("status",), data={"remaining": license_.remaining_consumptions})

    # -- skills ----------------------------------------------------------------------------------

    def _skill(self, turn: _Turn) -> Reply:
        """Gate (license, feature), run, then record the use — a failed run costs nothing."""
        skill = SKILLS[turn.name]
        try:
            license_ = self._current()
            if license_ is None:
                raise NoLicenseError()
            license_.local_check()
            feature = license_.feature(skill.feature)
        except LicenseError as error:
            return self._refusal(turn, skill, error)
        context = SkillContext(self._rng, self.manager.now(), self._local_tz)
        try:
            text = skill.run(turn.slots, context)
        except SkillInputError as error:
            return Reply(error.message, turn.name, False, (skill.example,))
        try:
            recorded = _record_use(license_, feature)
        except LicenseError as error:
            return self._refusal(turn, skill, error)
        if not recorded:
            return Reply(text, turn.name, True)
        note = wording.uses(license_) if wording.counts_uses(license_) else "One use of this feature recorded."
        return Reply(f"{text}\n\n_({note})_", turn.name, True, status=self.status(),
                     data={"remaining": license_.remaining_consumptions})

    def _refusal(self, turn: _Turn, skill: Skill, error: LicenseError) -> Reply:
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

    def _clarify(self, turn: _Turn, again: bool = False) -> Reply:
        """ "Did you mean A or B?"; ``again`` after an answer that picked none ("yes"): the options, numbered."""
        options = [c for c in turn.candidates if c in _COMMANDS]
        if not options:
            return self._unknown(turn)
        if again:
            listed = "\n".join(f"{number}. **{_COMMANDS[c]}**" for number, c in enumerate(options, 1))
            text = f"Which one? Say one of these (or its number):\n{listed}"
        else:
            text = "Did you mean " + " or ".join(f"**{_COMMANDS[c]}**" for c in options) + "?"
        return self._ask("clarify", turn, text, tuple(_COMMANDS[c] for c in options),
                         {"candidates": options})

    def _help(self, turn: _Turn) -> Reply:
        if turn.slots.get("why"):
            return self._why()
        if "code" in turn.slots:
            code = str(turn.slots["code"])
            explanation = explain_code(code, at_vendor=code in REQUEST_REFUSAL_CODES)
            return Reply(explanation.markdown(), intents.HELP, True, explanation.suggestions, data={"code": code})
        topic = turn.slots.get("topic") or help_topic(turn.line)
        text, suggestions = HELP_TOPICS[topic](self)
        return Reply(text, intents.HELP, True, suggestions, data={"topic": topic})

    def _why(self) -> Reply:
        """ "why?": the last problem again, in full — what was asked, what happened, how to fix it."""
        if self._problem is None:
            return Reply("There is nothing to explain: my last answer was not a refusal or an error. Say **status** "
                         "to run every check on this device's license.", intents.HELP, True, ("status", "help"),
                         data={"topic": "why"})
        line, explanation = self._problem.line, self._problem.explanation
        asked = f"You said {md_code(line)}" if line else "Your last request"
        text = (f"{asked}, and it did not work: **{explanation.title}** (error code `{explanation.code}`).\n\n"
                f"**What happened:** {explanation.what_happened}\n\n"
                f"**How to fix it:** {explanation.how_to_fix}")
        return Reply(text, intents.HELP, True, explanation.suggestions, data={"topic": "why", "code": explanation.code})

    def _quit(self, turn: _Turn) -> Reply:
        return Reply("Goodbye! Your license stays on this device for next time.", intents.QUIT, True, quit=True)

    def _unknown(self, turn: _Turn) -> Reply:
        if not turn.line:
            return Reply("Say something — for example **help**.", intents.UNKNOWN, False, ("help",))
        return Reply(f"I didn't understand {md_code(turn.line)}.\n\nI can activate, check, refresh and deactivate "
                     "this app's license (online or offline with files), explain why it is not working, and run "
                     "a few skills: jokes, word count, unit conversion, dice and the time. For buying, prices or "
                     "moving a license, please contact your vendor. Say **help** for the list.",
                     intents.UNKNOWN, False, ("help", "status", "activate offline", "tell me a joke"))

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
        """:func:`explain`, with the license held here: its expiry dated, this device's id where a refresh helps."""
        return self._with_device_id(explain(error, message=self._specific_message(error)))

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
        self._problem = _Problem(self._line, explanation)

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


_HANDLERS: Mapping[str, Callable[[Bot, _Turn], Reply]] = {
    intents.ACTIVATE_ONLINE: Bot._activate_online,
    intents.ACTIVATE_OFFLINE: Bot._activate_offline,
    intents.CREATE_ACTIVATION_REQUEST: Bot._create_activation_request,
    intents.DEACTIVATE_ONLINE: Bot._deactivate,
    intents.DEACTIVATE_OFFLINE: Bot._deactivate,
    intents.CLEAR_STORAGE: Bot._clear_storage,
    intents.REFRESH_OFFLINE: Bot._refresh,
    intents.CHECK_ONLINE: Bot._check_online,
    intents.LOCAL_CHECK: Bot._local_check,
    intents.LICENSE_STATUS: Bot._license_status,
    intents.LIST_FEATURES: Bot._features,
    intents.CONSUME: Bot._consume,
    intents.IS_ONLINE: Bot._is_online,
    intents.RELOAD_LICENSE: Bot._reload,
    intents.HELP: Bot._help,
    intents.QUIT: Bot._quit,
    intents.UNKNOWN: Bot._unknown,
    intents.CLARIFY: Bot._clarify,
    **{name: Bot._skill for name in SKILLS},
}
#: what a "yes" to a confirmation question runs (the handlers above only ask)
_ON_CONFIRM: Mapping[str, Callable[[Bot, _Turn], Reply]] = {
    intents.DEACTIVATE_ONLINE: Bot._deactivate_now,
    intents.DEACTIVATE_OFFLINE: Bot._deactivate_now,
    intents.CLEAR_STORAGE: Bot._clear_now,
}
assert set(_HANDLERS) == set(intents.INTENT_NAMES), "every intent needs a handler"

#: intents after which the status bar may be stale
_CHANGES_STATE = frozenset(intents.INTENT_NAMES) - {intents.HELP, intents.QUIT, intents.UNKNOWN, intents.CLARIFY, *SKILLS}


# -- small helpers -----------------------------------------------------------------------------------


def _clean(text: str) -> str:
    """Newlines normalised, other control characters dropped (they can only confuse a terminal)."""
    return _CONTROL.sub("", str(text).replace("\r\n", "\n").replace("\r", "\n")).strip()


def _choose(candidates: Sequence[str], line: str, words: list[str]) -> str | None:
    """Which of the offered intents the answer picks: a number, "yes" to a single offer, or its words."""
    if len(words) == 1 and words[0].isdigit() and 1 <= int(words[0]) <= len(candidates):
        return candidates[int(words[0]) - 1]
    if words and set(words) <= _YES and len(candidates) == 1:
        return candidates[0]
    parsed = intents.parse(line[:_PARSE_LIMIT]).name
    if parsed in candidates:
        return parsed
    shared = set.intersection(*(set(c.split("_")) for c in candidates)) if candidates else set()
    matching = [c for c in candidates if (set(c.split("_")) - shared) & set(words)]
    return matching[0] if len(matching) == 1 else None


def _license_id(slots: Mapping[str, Any]) -> LicenseID | None:
    if isinstance(slots.get("license_id"), LicenseID):
        return slots["license_id"]
    key = slots.get("key")
    return LicenseID.from_key(key) if isinstance(key, str) else None


def _expand(path: str) -> str:
    """``~`` expanded here, where it cannot fail: for an unknown ``~user`` the engine's
    ``Path.expanduser()`` raises a bare RuntimeError, so such a path is made absolute instead
    (it then names a folder that does not exist, which the engine reports as a missing file)."""
    expanded = os.path.expanduser(path)
    return os.path.abspath(expanded) if expanded.startswith("~") else expanded


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
