"""The conversation engine: one line of text in, one :class:`Reply` out, no UI.

Every line goes through three stages:

1. **Dialogue.** If the previous reply asked something (a confirmation, "did you mean…?",
   which license key, how many uses), the line is first read as the answer. An answer that
   does not fit drops the question and the line is handled as if nothing had been asked, so
   the user can never get stuck in a prompt.
2. **Understanding.** :func:`chatbot.intents.parse` names the intent; a few things the parser
   deliberately leaves alone are recognised here because only a conversation gives them a
   meaning: user-name/password credentials, an error code pasted from the portal, and "which
   keys can I use?" in demo mode.
3. **Handling.** A table maps each intent to one handler that runs it against the licensing
   engine. A :class:`~licensing.errors.LicenseError` from the engine becomes an explained
   reply (:mod:`chatbot.explain`); nothing a user types makes :meth:`Bot.handle` raise.

The bot holds the license in memory (``manager.get_current_license()``) instead of reading the
disk on every line — the tutorial's "memory first" — which keeps local replies well under a
millisecond and is why **reload** exists. Where both an online and an offline path exist the
engine's hybrid calls decide (``activate_hybrid``, ``deactivate_hybrid``, ``check_hybrid``:
online when the server answers) and the reply says which route was taken and why.
"""

from __future__ import annotations

import logging
import os
import random
import re
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from licensing import (
    Feature,
    License,
    LicenseError,
    LicenseID,
    LicenseManager,
    LicenseTerms,
    NoLicenseError,
)
from licensing.clock import utc_now
from licensing.errors import ConsumptionLimitError
from licensing.license import REFRESH_FILE_NAME
from licensing.manager import ACTIVATION_RESPONSE_FILE_NAME

from . import intents as I
from .explain import (
    EXPLAINED_CODES,
    MEMORY_VS_DISK,
    REQUEST_REFUSAL_CODES,
    VENDOR_CHANGES_OFFLINE,
    explain,
    explain_code,
    md_code,
    md_escape,
    skill_refusal,
)
from .skills import SKILLS, Skill, SkillContext, SkillInputError, unit_help

__all__ = ["Bot", "Reply", "LicenseStatus", "DemoContext", "CONFIRM", "CANCEL"]

_log = logging.getLogger(__name__)

#: dialogue-turn intents, besides the names of chatbot.intents
CONFIRM = "confirm"
CANCEL = "cancel"

#: Only this much of a line is parsed (the parser is quadratic on very long tokens); a longer
#: word-count text is still counted whole.
_PARSE_LIMIT = 1000


# -- what the UI gets --------------------------------------------------------------------------


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
    text: str  # Markdown for people
    intent: str  # a chatbot.intents name, or "confirm" / "cancel" for dialogue turns
    ok: bool  # False when the line failed: a refusal, an error, unknown input
    suggestions: tuple[str, ...] = ()
    status: LicenseStatus | None = None  # set when the licence state may have changed
    data: Mapping[str, Any] = field(default_factory=dict)
    quit: bool = False


@dataclass(frozen=True)
class DemoContext:
    """The built-in demo vendor on this machine: it can answer this device's requests right away."""

    vendor_dir: Path
    licenses: tuple[tuple[str, str, str], ...]  # (label, key or user name, what it shows)

    def portal_command(self, request: Path | None = None) -> str:
        """The shell command that answers ``request`` (a placeholder when None) as the portal would."""
        target = "<path to ls_activation.req>" if request is None else shlex.quote(str(request))
        return f"licensing-portal --data {shlex.quote(str(self.vendor_dir))} respond {target}"


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

#: what to type for each intent (suggestions, "did you mean…?"); each parses back to its intent
_COMMANDS: Mapping[str, str] = {
    I.ACTIVATE_ONLINE: "activate online", I.ACTIVATE_OFFLINE: "activate offline",
    I.CREATE_ACTIVATION_REQUEST: "create activation request", I.DEACTIVATE_ONLINE: "deactivate online",
    I.DEACTIVATE_OFFLINE: "deactivate offline", I.REFRESH_OFFLINE: "refresh", I.CHECK_ONLINE: "check online",
    I.LOCAL_CHECK: "local check", I.LICENSE_STATUS: "status", I.LIST_FEATURES: "features",
    I.CONSUME: "use a credit", I.IS_ONLINE: "am I online?", I.CLEAR_STORAGE: "clear storage",
    I.RELOAD_LICENSE: "reload", I.HELP: "help", I.QUIT: "quit",
    **{name: skill.example for name, skill in SKILLS.items()},
}

_CHECK_WORDS = {"signature": "vendor signature", "product": "product", "hardware_id": "device",
                "enabled": "enabled", "validity": "dates", "consumption": "consumption",
                "tombstone": "not deactivated", "clock": "clock", "server_contact": "server contact"}


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

    # -- public API --------------------------------------------------------------------------

    def greeting(self) -> Reply:
        """The first message: what the bot is, the license state, how to start."""
        status = self.status()
        lines = [("Hi! I'm the licensing chatbot. I answer questions about this app's license in plain words, and "
                  "run a few skills it unlocks: jokes, word count, unit conversion, dice and the time."),
                 f"**License:** {status.summary}."]
        if status.licensed:
            lines.append("Try **tell me a joke**, or say **help** for everything I can do.")
        else:
            lines.append("To start, say **activate offline** (two steps with a request file) or "
                         "`activate ABCD-1234-EFGH-5678` with your key; **help** lists everything.")
        if self.demo is not None:
            command = md_code(self.demo.portal_command(), limit=4096)
            lines.append(f"You are on the built-in **demo vendor** ({_path_md(self.demo.vendor_dir)}): say "
                         f"**which keys can I use?** to see its license keys. It answers requests on this machine: "
                         f"{command}.")
        suggestions = ("tell me a joke", "status", "help") if status.licensed else \
            ("activate offline", "which keys can I use?" if self.demo else "help offline", "help")
        return Reply("\n\n".join(lines), I.HELP, True, suggestions, status)

    def handle(self, text: str) -> Reply:
        """Answer one line. Never raises: engine errors are explained, anything else is apologised for."""
        try:
            line = _clean(text)
            pending, self._pending = self._pending, None
            if pending is not None:
                answered = self._resume(pending, line)
                if answered is not None:
                    return answered
            turn = self._understand(line)
            reply = self._run(turn)
            if pending is not None and turn.name == I.HELP and self._pending is None:
                self._pending = pending  # "which keys can I use?" while asked for a key: still waiting for it
            return reply
        except Exception:
            if self._debug:
                raise
            _log.exception("the chatbot failed on a line")
            return Reply("Sorry — something went wrong on my side and I could not answer that. Nothing about your "
                         "license was changed by it; please try again, or say **help**.", I.UNKNOWN, False,
                         ("help",), data={"code": "internal_error"})

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

    def _understand(self, line: str) -> _Turn:
        head = line[:_PARSE_LIMIT]
        parsed = I.parse(head)
        slots: dict[str, Any] = dict(parsed.slots)
        if parsed.name == I.SKILL_WORDCOUNT and "text" in slots and len(line) > _PARSE_LIMIT:
            slots["text"] = line[head.rfind(str(slots["text"])):]  # the text runs on past the parsed part
        if parsed.name != I.HELP and not slots and _WORDS.findall(line.lower())[:1] == ["help"]:
            return _Turn(I.HELP, {}, line)  # "help convert", "help refresh": the topic, not the command
        if isinstance(slots.get("path"), str):
            slots["path"] = _expand(slots["path"])
        if parsed.name in SKILLS:
            return _Turn(parsed.name, slots, line)
        code = _CODE_MENTION.search(line)
        if code is not None:  # pasted from the portal: "… (invalid_credentials). Hint: …"
            return _Turn(I.HELP, {"code": code.group(1)}, line)
        credentials = _CREDENTIALS.search(line)
        if credentials is not None:
            slots["license_id"] = LicenseID.from_user(credentials["user"], credentials["password"])
            name = parsed.name if parsed.name in (I.ACTIVATE_OFFLINE, I.CREATE_ACTIVATION_REQUEST) else (
                I.ACTIVATE_OFFLINE if "offline" in line.lower() else I.ACTIVATE_ONLINE)
            return _Turn(name, slots, line)
        if _KEYS_QUESTION.search(line) and "key" not in slots:
            return _Turn(I.HELP, {"topic": "keys"}, line)
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
            choice = _choose(turn.candidates, line, words)
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
        if self._request is not None or self.manager.store.guard_exists():
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
        text = (f"{lead}\n\nThe request file is here: {_path_md(request)}\n\n"
                "1. Carry this file to a computer with internet and upload it at the Offline Licensing Portal "
                f"(page \"Offline activation\").{demo}\n"
                f"2. Then bring back `ls_activation.lic`, put it in {_path_md(request.parent)}, and say "
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
                                                    f"{_path_md(response.parent)}.")
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
        looked = " and ".join(_path_md(p.parent) for p in places)
        request = _path_md(self._request) if self._request is not None else "`ls_activation.req`"
        demo = (f" (the demo vendor here: {md_code(self.demo.portal_command(self._request), limit=4096)})"
                if self.demo is not None and self._request is not None else "")
        text = (f"**`ls_activation.lic` is not there yet.** I looked in {looked}.\n\n"
                f"Upload the request {request} at the Offline Licensing Portal on a computer with internet{demo}, "
                f"put the `ls_activation.lic` it gives you in {_path_md(places[-1].parent)}, and say "
                "**activate offline** again — or tell me where it is: `activate offline <path>`. "
                "To start over with another license, give me its key.")
        self._pending = _Pending("license_id", replace(turn, slots={}))
        return Reply(text, turn.name, False, ("activate offline", "help offline"),
                     data={"code": "file_not_found", "looked_in": [str(p) for p in places]})

    def _ask_license_id(self, turn: _Turn) -> Reply:
        current = self._current()
        note = (f"You already have a license here ({_who(current)}); activating another one replaces it.\n\n"
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
               "at the portal then frees the activation" if turn.name == I.DEACTIVATE_OFFLINE else
               "I will deactivate online if the license server answers (that frees the activation at once), "
               "otherwise write `ls_deactivation.req` for you to upload at the portal")
        return self._ask("confirm", turn, f"Deactivate {_who(license_)} on this device? {how}. The skills stop "
                                          "working here.\n\nSay **yes** to deactivate, or **no** to keep it.",
                         ("yes", "no"))

    def _deactivate_now(self, turn: _Turn) -> Reply:
        license_ = self._require_license()
        path = turn.slots.get("path")
        if turn.name == I.DEACTIVATE_OFFLINE:
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
        return Reply(f"{lead} The license is removed here, and the deactivation request is at {_path_md(request)}."
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
            return Reply(f"**`{REFRESH_FILE_NAME}` is not there.** I looked in {_path_md(default.parent)}.\n\n"
                         "Ask your vendor for a refresh file (they download it from the portal's Devices tab after "
                         f"changing your license), put it there and say **refresh** again — or tell me its path: "
                         "`refresh <path>`.", turn.name, False, ("help refresh",),
                         data={"code": "file_not_found", "looked_in": [str(default)]})
        before, used_before = license_.terms, license_.local_consumptions
        license_.update_offline(path)
        changes = _changes(before, license_.terms, used_before, license_.local_consumptions)
        listed = "\n".join(f"- {change}" for change in changes) or "- nothing you would notice (a new revision only)"
        return Reply(f"**License refreshed** (revision {before.revision} → {license_.revision}). What changed:\n"
                     f"{listed}", turn.name, True, ("features", "status"),
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
        checked = ", ".join(_CHECK_WORDS.get(item.name, item.name) for item in result.items)
        expired = _expired_features_note(result.expired_features)
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
        if result.ok:
            expired = _expired_features_note(result.expired_features)
            return Reply(f"**You are licensed.**\n\n{self._report(license_)}{expired}", turn.name, True,
                         ("features", "tell me a joke"), data={"licensed": True})
        failed = [item for item in result.items if not item.ok]
        first = failed[0]
        assert first.error is not None
        explanation = explain(first.error)
        others = (f"\n\nAlso failing: {', '.join(_CHECK_WORDS.get(i.name, i.name) for i in failed[1:])}."
                  if len(failed) > 1 else "")
        return Reply(f"**You are not licensed right now** — the {_CHECK_WORDS.get(first.name, first.name)} check "
                     f"failed.\n\n{explanation.markdown()}{others}", turn.name, True, explanation.suggestions,
                     data={"licensed": False, "code": first.error.code, "check": first.name})

    def _features(self, turn: _Turn) -> Reply:
        license_ = self._require_license()
        now = utc_now(self.manager.config.clock)
        skills_by_feature = {skill.feature: skill for skill in SKILLS.values()}
        lines = []
        for feature in license_.features():
            notes = []
            skill = skills_by_feature.get(feature.code)
            if skill is not None:
                notes.append(f"unlocks *{skill.title}*")
            if feature.expires is not None:
                notes.append(f"expired {feature.expires:%Y-%m-%d}" if now >= feature.expires
                             else f"until {feature.expires:%Y-%m-%d}")
            if feature.max_consumptions is not None:
                used = feature.total_consumptions + license_.feature_consumptions(feature.code)
                notes.append(f"{used} of {feature.max_consumptions} uses")
            lines.append(f"- {md_code(feature.code)}" + (f" — {', '.join(notes)}" if notes else ""))
        codes = {feature.code for feature in license_.features()}
        missing = [f"{md_code(code)} ({skill.title})" for code, skill in skills_by_feature.items() if code not in codes]
        text = "**Features on your license:**\n" + ("\n".join(lines) or "- none")
        if missing:
            text += f"\n\nNot on your license: {', '.join(missing)}. A refresh file from your vendor can add them."
        return Reply(text, turn.name, True, ("status",), data={"features": sorted(codes)})

    def _consume(self, turn: _Turn) -> Reply:
        license_ = self._require_license()
        if not _counts_uses(license_):
            return Reply(f"Your license is **{license_.license_type}**: it does not count uses, so there is nothing "
                         "to record.", turn.name, False, ("status",))
        count = turn.slots.get("count")
        if count is None and _SINGLE_USE.search(turn.line):
            count = 1
        if count is None:
            return self._ask("count", turn, "How many uses should I record? (for example **1**)", ("1",))
        license_.add_local_consumption(count)
        return Reply(f"Recorded {count} {'use' if count == 1 else 'uses'}. {_uses(license_)}", turn.name, True,
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
        context = SkillContext(self._rng, utc_now(self.manager.config.clock), self._local_tz)
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
        note = _uses(license_) if _counts_uses(license_) else "One use of this feature recorded."
        return Reply(f"{text}\n\n_({note})_", turn.name, True, status=self.status(),
                     data={"remaining": license_.remaining_consumptions})

    def _refusal(self, turn: _Turn, skill: Skill, error: LicenseError) -> Reply:
        explanation = skill_refusal(skill.title, skill.feature, error)
        return Reply(explanation.markdown(), turn.name, False, explanation.suggestions, self.status(),
                     {"code": error.code, "feature": skill.feature})

    # -- talk --------------------------------------------------------------------------------------

    def _clarify(self, turn: _Turn) -> Reply:
        options = [c for c in turn.candidates if c in _COMMANDS]
        if not options:
            return self._unknown(turn)
        listed = " or ".join(f"**{_COMMANDS[c]}**" for c in options)
        return self._ask("clarify", turn, f"Did you mean {listed}?", tuple(_COMMANDS[c] for c in options),
                         {"candidates": options})

    def _help(self, turn: _Turn) -> Reply:
        if "code" in turn.slots:
            code = str(turn.slots["code"])
            explanation = explain_code(code, at_vendor=code in REQUEST_REFUSAL_CODES)
            return Reply(explanation.markdown(), I.HELP, True, explanation.suggestions, data={"code": code})
        topic = turn.slots.get("topic") or _help_topic(turn.line)
        text, suggestions = _HELP_TOPICS[topic](self)
        return Reply(text, I.HELP, True, suggestions, data={"topic": topic})

    def _quit(self, turn: _Turn) -> Reply:
        return Reply("Goodbye! Your license stays on this device for next time.", I.QUIT, True, quit=True)

    def _unknown(self, turn: _Turn) -> Reply:
        if not turn.line:
            return Reply("Say something — for example **help**.", I.UNKNOWN, False, ("help",))
        return Reply(f"I didn't understand {md_code(turn.line)}.\n\nI can activate, check, refresh and deactivate "
                     "this app's license (online or offline with files), explain why it is not working, and run "
                     "a few skills: jokes, word count, unit conversion, dice and the time. For buying, prices or "
                     "moving a license, please contact your vendor. Say **help** for the list.",
                     I.UNKNOWN, False, ("help", "status", "activate offline", "tell me a joke"))

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
        explanation = explain(error)
        text = f"{preface}\n\n{explanation.markdown()}" if preface else explanation.markdown()
        return Reply(text, intent, False, explanation.suggestions, self.status(), {"code": error.code})

    def _report(self, license_: License) -> str:
        """The license in a few lines: who, type, expiry, features, activations, uses."""
        days = license_.days_remaining()
        expiry = "never expires" if license_.expires is None else \
            f"expires {license_.expires:%Y-%m-%d} ({_days(days)})"
        features = ", ".join(md_code(f.code) for f in license_.features()) or "none"
        lines = [f"- License: {_who(license_)}, **{license_.license_type}**, {expiry}",
                 f"- Features: {features}",
                 (f"- Activations: {license_.total_activations} of {license_.max_activations} "
                  f"{'device' if license_.max_activations == 1 else 'devices'}")]
        if _counts_uses(license_):
            lines.append(f"- Uses: {_uses(license_)}")
        return "\n".join(lines)

    def _status_line(self, license_: License | None, error: LicenseError | None) -> LicenseStatus:
        counts = license_ is not None and _counts_uses(license_)
        left = license_.remaining_consumptions if license_ is not None and counts else None
        days = license_.days_remaining() if license_ is not None else None
        parts = ["Licensed" if error is None else "Not licensed"]
        if license_ is not None:
            parts.append(license_.license_type)
        if error is not None:
            parts.append(error.code.replace("_", " "))
        elif days is not None:
            parts.append(_days(days))
        if left is not None and error is None:
            parts.append(f"{left} {'use' if left == 1 else 'uses'} left")
        if self._online is not None:
            parts.append("online" if self._online else "offline")
        return LicenseStatus(
            licensed=error is None, license_type=None if license_ is None else license_.license_type,
            expires=None if license_ is None else license_.expires, days_left=days, consumption_left=left,
            online=self._online, summary=" · ".join(parts), problem_code=None if error is None else error.code)


# -- the dispatch table ----------------------------------------------------------------------------


_HANDLERS: Mapping[str, Callable[[Bot, _Turn], Reply]] = {
    I.ACTIVATE_ONLINE: Bot._activate_online,
    I.ACTIVATE_OFFLINE: Bot._activate_offline,
    I.CREATE_ACTIVATION_REQUEST: Bot._create_activation_request,
    I.DEACTIVATE_ONLINE: Bot._deactivate,
    I.DEACTIVATE_OFFLINE: Bot._deactivate,
    I.CLEAR_STORAGE: Bot._clear_storage,
    I.REFRESH_OFFLINE: Bot._refresh,
    I.CHECK_ONLINE: Bot._check_online,
    I.LOCAL_CHECK: Bot._local_check,
    I.LICENSE_STATUS: Bot._license_status,
    I.LIST_FEATURES: Bot._features,
    I.CONSUME: Bot._consume,
    I.IS_ONLINE: Bot._is_online,
    I.RELOAD_LICENSE: Bot._reload,
    I.HELP: Bot._help,
    I.QUIT: Bot._quit,
    I.UNKNOWN: Bot._unknown,
    I.CLARIFY: Bot._clarify,
    **{name: Bot._skill for name in SKILLS},
}
#: what a "yes" to a confirmation question runs (the handlers above only ask)
_ON_CONFIRM: Mapping[str, Callable[[Bot, _Turn], Reply]] = {
    I.DEACTIVATE_ONLINE: Bot._deactivate_now,
    I.DEACTIVATE_OFFLINE: Bot._deactivate_now,
    I.CLEAR_STORAGE: Bot._clear_now,
}
assert set(_HANDLERS) == set(I.INTENT_NAMES), "every intent needs a handler"

#: intents after which the status bar may be stale
_CHANGES_STATE = frozenset(I.INTENT_NAMES) - {I.HELP, I.QUIT, I.UNKNOWN, I.CLARIFY, *SKILLS}


# -- help topics -------------------------------------------------------------------------------------


def _help_general(bot: Bot) -> tuple[str, tuple[str, ...]]:
    skills = "\n".join(f"- `{skill.example}` — needs the `{skill.feature}` feature" for skill in SKILLS.values())
    text = ("I'm the licensing chatbot. Things to say:\n\n"
            "**Licensing**\n"
            "- `activate ABCD-1234-EFGH-5678` — activate (online when the license server answers, else offline)\n"
            "- `activate offline` — offline activation in two steps: a request file, the portal, `ls_activation.lic`\n"
            "- `status` or `why am I not licensed?` — run the checks and explain the first problem\n"
            "- `features`, `local check`, `check online`, `am I online?`\n"
            "- `refresh` — apply `license_refresh.lic` from your vendor\n"
            "- `use a credit` or `consume 3` — record uses of a consumption license\n"
            "- `deactivate offline` — free this device's activation; `clear storage` — wipe the local data\n"
            "- `reload` — read the license from disk again\n\n"
            f"**Skills** (each needs its feature on the license)\n{skills}\n\n"
            "More: `help offline`, `help keys`, `help problems`, `help convert`; `quit` to leave.")
    return text, ("help offline", "status", "which keys can I use?" if bot.demo else "help problems")


def _help_offline(bot: Bot) -> tuple[str, tuple[str, ...]]:
    folder = _path_md(bot.manager.config.requests_dir)
    portal = (f"\n   Here, the demo vendor plays the portal: {md_code(bot.demo.portal_command(), limit=4096)}."
              if bot.demo else "")
    text = ("**Offline activation, step by step** (for computers without internet):\n\n"
            f"1. Say **activate offline** and give your key: I write `ls_activation.req` in {folder}.\n"
            "2. Carry it (a USB stick works) to a computer with internet and upload it at the Offline Licensing "
            f"Portal, page \"Offline activation\". It gives back `ls_activation.lic`.{portal}\n"
            f"3. Bring that file back into {folder} and say **activate offline** (or give its path).\n\n"
            "Later: **refresh** applies `license_refresh.lic` when the vendor changed your license (from the "
            "portal's Devices tab), and **deactivate offline** writes `ls_deactivation.req` — upload it to free the "
            "activation. **check online** and **am I online?** use the license server when there is one.")
    return text, ("activate offline", "help problems")


def _help_keys(bot: Bot) -> tuple[str, tuple[str, ...]]:
    if bot.demo is None:
        return (("Your vendor gives you a license key (like `ABCD-1234-EFGH-5678`) or, for a user-based license, "
                 "a user name and password. Say **activate offline** and I will ask for it."), ("activate offline",))
    rows = "\n".join(f"| {md_escape(label)} | {md_code(key)} | {md_escape(description)} |"
                     for label, key, description in bot.demo.licenses)
    first = next((key for label, key, _ in bot.demo.licenses if label == "perpetual"), "KEY")
    text = ("The demo vendor issued one license of every kind; each shows a different behaviour:\n\n"
            f"| license | key | what happens |\n|---|---|---|\n{rows}\n\n"
            "For the user-based one type `user demo@example.com password demo-password`. Start with "
            f"`activate offline {first}`.")
    return text, (f"activate offline {first}",)


def _help_problems(bot: Bot) -> tuple[str, tuple[str, ...]]:
    reasons = "\n".join(f"- **{explain_code(code, at_vendor=True).title}** (`{code}`)"
                        for code in REQUEST_REFUSAL_CODES)
    mismatch = explain_code("device_mismatch")
    text = ("**Why the portal may not give a license file for a request:**\n"
            f"{reasons}\n\n"
            "**Common problems:**\n"
            f"- *Still licensed after the license file was deleted?* {MEMORY_VS_DISK}\n"
            f"- *{mismatch.title}* — {mismatch.what_happened} {mismatch.how_to_fix}\n"
            f"- *Vendor changes not showing?* {VENDOR_CHANGES_OFFLINE}\n\n"
            "Paste an error code (like `max_activations_reached`) and I explain it; **status** diagnoses this device.")
    return text, ("status",)


def _help_convert(bot: Bot) -> tuple[str, tuple[str, ...]]:
    text = f"I convert between these units (say e.g. `convert 5 km to miles`, `convert 100 F to C`):\n\n{unit_help()}"
    return text, ("convert 5 km to miles",)


_HELP_TOPICS: Mapping[str, Callable[[Bot], tuple[str, tuple[str, ...]]]] = {
    "general": _help_general, "offline": _help_offline, "keys": _help_keys, "problems": _help_problems,
    "convert": _help_convert,
}
_HELP_KEYWORDS: tuple[tuple[str, frozenset[str]], ...] = (
    ("keys", frozenset({"key", "keys", "demo"})),
    ("problems", frozenset({"problem", "problems", "refused", "refuse", "fail", "fails", "failed", "error", "errors",
                            "wrong", "why"})),
    ("convert", frozenset({"convert", "conversion", "unit", "units"})),
    ("offline", frozenset({"offline", "activate", "activation", "request", "portal", "refresh", "deactivate",
                           "deactivation", "file", "files"})),
)


def _help_topic(line: str) -> str:
    words = set(_WORDS.findall(line.lower()))
    return next((topic for topic, keywords in _HELP_KEYWORDS if words & keywords), "general")


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
    parsed = I.parse(line[:_PARSE_LIMIT]).name
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
    counts, limited = _counts_uses(license_), feature.max_consumptions is not None
    used = feature.total_consumptions + license_.feature_consumptions(feature.code)
    if feature.max_consumptions is not None and used >= feature.max_consumptions:
        raise ConsumptionLimitError(f"The feature '{feature.code}' has used all its {feature.max_consumptions} uses.")
    if counts:
        license_.add_local_consumption(1)
    if limited:
        license_.add_local_feature_consumption(feature.code, 1)
    return counts or limited


def _counts_uses(license_: License) -> bool:
    return license_.license_type == "consumption" and license_.max_consumptions is not None


def _uses(license_: License) -> str:
    used = license_.total_consumptions + license_.local_consumptions
    return f"{used} of {license_.consumption_allowance()} uses used, {license_.remaining_consumptions} left."


def _who(license_: License) -> str:
    if license_.key:
        return f"license {md_code(license_.key)}"
    return f"the license of user {md_code(license_.user or '?')}"


def _days(days: int | None) -> str:
    if days is None:
        return "never expires"
    if days < 0:
        return "expired"
    return "last day" if days == 0 else f"{days} {'day' if days == 1 else 'days'} left"


def _path_md(path: Path | str) -> str:
    return md_code(str(path), limit=4096)


def _expired_features_note(codes: Sequence[str]) -> str:
    if not codes:
        return ""
    return (f"\n\nNote: {', '.join(md_code(c) for c in codes)} expired — the skills that need "
            f"{'it' if len(codes) == 1 else 'them'} are locked until a refresh file extends them.")


def _changes(before: LicenseTerms, after: LicenseTerms, used_before: int, used_after: int) -> list[str]:
    """What a refresh changed, in words."""
    changes = []
    old = {f.code: f for f in before.features}
    new = {f.code: f for f in after.features}
    if added := [c for c in new if c not in old]:
        changes.append("new " + ("feature" if len(added) == 1 else "features") + ": "
                       + ", ".join(md_code(c) for c in added))
    if removed := [c for c in old if c not in new]:
        changes.append("removed: " + ", ".join(md_code(c) for c in removed))
    for code in (c for c in new if c in old and old[c].expires != new[c].expires):
        changes.append(f"{md_code(code)} now {_until(new[code].expires)}")
    if before.expires != after.expires:
        changes.append(f"the license now {_until(after.expires)}")
    if before.enabled != after.enabled:
        changes.append("the license is " + ("enabled again" if after.enabled else "**disabled** by the vendor"))
    if before.max_activations != after.max_activations:
        changes.append(f"activations allowed: {before.max_activations} → {after.max_activations}")
    if before.max_consumptions != after.max_consumptions:
        changes.append(f"uses allowed: {before.max_consumptions} → {after.max_consumptions}")
    if used_after < used_before or after.total_consumptions < before.total_consumptions:
        changes.append("the use count was reset")
    return changes


def _until(moment: datetime | None) -> str:
    return "never expires" if moment is None else f"runs until {moment:%Y-%m-%d}"
