"""The bot's help pages: everything it can do, the offline flow, the demo keys, the problems, the units.

Each topic is a function of the bot (for the demo vendor, the folders and the license it holds)
returning Markdown and the commands to suggest next; :func:`help_topic` picks the topic a
"help …" line asks for.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from . import wording
from .explain import (
    MEMORY_VS_DISK,
    REQUEST_REFUSAL_CODES,
    VENDOR_CHANGES_OFFLINE,
    explain_code,
    md_code,
    md_escape,
)
from .skills import SKILLS, unit_help

if TYPE_CHECKING:
    from .handlers import Handlers

__all__ = ["HELP_TOPICS", "help_topic"]

Page = tuple[str, tuple[str, ...]]
_WORDS = re.compile(r"[a-z0-9']+")


def _help_general(bot: Handlers) -> Page:
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
            "- `reload` — read the license from disk again\n"
            "- `why?` — after a refusal: what went wrong, and how to fix it\n\n"
            f"**Skills** (each needs its feature on the license)\n{skills}\n\n"
            "More: `help offline`, `help keys`, `help problems`, `help convert`; `quit` to leave.")
    return text, ("help offline", "status", "which keys can I use?" if bot.demo else "help problems")


def _help_offline(bot: Handlers) -> Page:
    folder = wording.path_md(bot.manager.config.requests_dir)
    portal = (f"\n   Here, the demo vendor plays the portal: {md_code(bot.demo.portal_command(), limit=4096)}."
              if bot.demo else "")
    held = bot.held_license()
    device = (f"this device's activation id, {wording.device_id_md(held)}" if held is not None else
              "this device's activation id (say **status** to see it once a license is activated)")
    text = ("**Offline activation, step by step** (for computers without internet):\n\n"
            f"1. Say **activate offline** and give your key: I write `ls_activation.req` in {folder}.\n"
            "2. Carry it (a USB stick works) to a computer with internet and upload it at the Offline Licensing "
            f"Portal, page \"Offline activation\". It gives back `ls_activation.lic`.{portal}\n"
            f"3. Bring that file back into {folder} and say **activate offline** (or give its path).\n\n"
            "Later: **refresh** applies `license_refresh.lic` when the vendor changed your license (they download it "
            f"from the portal's Devices tab for {device}), and **deactivate offline** writes `ls_deactivation.req` — "
            "upload it to free the activation. **check online** and **am I online?** use the license server when "
            "there is one.")
    return text, ("activate offline", "help problems")


def _help_keys(bot: Handlers) -> Page:
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


def _help_problems(bot: Handlers) -> Page:
    reasons = "\n".join(f"- **{explain_code(code, at_vendor=True).title}** (`{code}`)"
                        for code in REQUEST_REFUSAL_CODES)
    mismatch = explain_code("device_mismatch")
    text = ("**Why the portal may not give a license file for a request:**\n"
            f"{reasons}\n\n"
            "**Common problems:**\n"
            f"- *Still licensed after the license file was deleted?* {MEMORY_VS_DISK}\n"
            f"- *{mismatch.title}* (`device_mismatch`; the tutorial's `SignatureMismatchException`) — "
            f"{mismatch.what_happened} {mismatch.how_to_fix}\n"
            f"- *Vendor changes not showing?* {VENDOR_CHANGES_OFFLINE}\n\n"
            "Paste an error code (like `max_activations_reached`) and I explain it; **status** diagnoses this device.")
    return text, ("status",)


def _help_convert(bot: Handlers) -> Page:
    text = f"I convert between these units (say e.g. `convert 5 km to miles`, `convert 100 F to C`):\n\n{unit_help()}"
    return text, ("convert 5 km to miles",)


HELP_TOPICS: Mapping[str, Callable[[Handlers], Page]] = {
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


def help_topic(line: str) -> str:
    """The topic a help line asks for ("help refresh" → offline); "general" when it names none."""
    words = set(_WORDS.findall(line.lower()))
    return next((topic for topic, keywords in _HELP_KEYWORDS if words & keywords), "general")
