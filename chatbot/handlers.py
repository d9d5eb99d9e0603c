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

import re
from collections.abc import Callable, Mapping
from dataclasses import replace

from licensing import (
    ConsumptionLimitError,
    Feature,
    Lease,
    License,
    LicenseError,
    NoLicenseError,
)
from licensing.wire import (
    ACTIVATION_REQUEST_FILE_NAME,
    ACTIVATION_RESPONSE_FILE_NAME,
    DEACTIVATION_FILE_NAME,
    REFRESH_FILE_NAME,
)

from . import intents, knowledge, wording
from .dialogue import Pending, Shown, Turn
from .explain import (
    REQUEST_REFUSAL_CODES,
    explain_code,
    md_code,
    skill_refusal,
)
from .handlers_base import COMMANDS, DemoContext, detect_portal_program, detect_program
from .handlers_license import LicenseHandlers
from .handlers_seats import SeatHandlers
from .help_topics import HELP_TOPICS, help_topic
from .replies import Reply
from .skills import SKILLS, Skill, SkillContext, SkillInputError

__all__ = ["Handlers", "DemoContext", "detect_portal_program", "detect_program", "COMMANDS"]

#: "which keys can I use?": the demo keys (a help page, not a knowledge entry)
_KEYS_QUESTION = re.compile(r"\b(?:keys|demo\s+keys?|(?:which|what)\s+(?:license\s+|licence\s+)?keys?\s+(?:can|could|"
                            r"should|may|do|are|to))\b", re.IGNORECASE)
PORTAL_URL = "http://127.0.0.1:8000"


class Handlers(LicenseHandlers, SeatHandlers):
    """One method per intent (the groups of them in :class:`LicenseHandlers` and :class:`SeatHandlers`, what they
    share in :class:`HandlerBase`). Not thread-safe: one conversation, one caller at a time."""

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
#: intents after which the status bar may be stale
_CHANGES_STATE = frozenset(intents.INTENT_NAMES) - {intents.HELP, intents.QUIT, intents.UNKNOWN, intents.CLARIFY,
                                                    *SKILLS}


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
