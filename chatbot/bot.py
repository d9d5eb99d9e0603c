"""The conversation engine: one line of text in, one :class:`~chatbot.replies.Reply` out, no UI.

:class:`Bot` is what the shells (the Textual app, the plain REPL, pipe mode, the transcript
replayer) talk to. Behind it, each line goes through

1. **understanding** — :func:`chatbot.intents.parse`: intent, slots, dialogue act;
2. **the dialogue** — :mod:`chatbot.dialogue`: the line read against the conversation so far
   (an answer to the last question, "done" for the pending step, "why?" about the last refusal,
   "the second one" from the last list, "and in meters?" after a conversion);
3. **the handlers** — :mod:`chatbot.handlers`: the intent run against the licensing engine and
   answered (worded by :mod:`chatbot.wording` and the knowledge base).

Nothing a user types makes :meth:`Bot.handle` raise: engine errors are explained, anything else
is apologised for.
"""

from __future__ import annotations

import logging
import random
import re
from datetime import tzinfo

from licensing import License, LicenseManager

from . import intents, wording
from .dialogue import Dialogue, DialogueState
from .explain import md_code
from .handlers import DemoContext, Handlers, detect_portal_program
from .replies import CANCEL, CONFIRM, LicenseStatus, Reply

__all__ = ["Bot", "Reply", "LicenseStatus", "DemoContext", "CONFIRM", "CANCEL", "detect_portal_program"]

_log = logging.getLogger(__name__)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


class Bot:
    """The chatbot's brain. Not thread-safe: one conversation, one caller at a time."""

    def __init__(self, manager: LicenseManager, *, demo: DemoContext | None = None,
                 rng: random.Random | None = None, local_tz: tzinfo | None = None, debug: bool = False) -> None:
        """``local_tz`` fixes the time skill's "local time" (default: this computer's zone);
        ``debug`` lets unexpected exceptions propagate instead of apologising (tests, development)."""
        self.manager = manager
        self.demo = demo
        self._debug = debug
        self.state = DialogueState()
        self.handlers = Handlers(manager, self.state, demo=demo, rng=rng, local_tz=local_tz)
        self.dialogue = Dialogue(self.handlers, self.state)

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
            return self.dialogue.answer(_clean(text))
        except Exception:
            if self._debug:
                raise
            _log.exception("the chatbot failed on a line")
            return Reply("Sorry — something went wrong on my side and I could not answer that. Nothing about your "
                         "license was changed by it; please try again, or say **help**.", intents.UNKNOWN, False,
                         ("help",), data={"code": "internal_error"})

    def held_license(self) -> License | None:
        """The license held in memory (memory first, as ``get_current_license()``); None when there is none."""
        return self.handlers.held_license()

    def status(self) -> LicenseStatus:
        """The license state right now, from the license held in memory (no network)."""
        return self.handlers.status()

    def warm(self) -> None:
        """Build what the first question would otherwise build (the knowledge index); shells call it after
        the first screen."""
        intents.warm()


def _clean(text: str) -> str:
    """Newlines normalised, other control characters dropped (they can only confuse a terminal)."""
    return _CONTROL.sub("", str(text).replace("\r\n", "\n").replace("\r", "\n")).strip()
