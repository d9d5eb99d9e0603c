"""Command palette (ctrl+p) entries: the main licensing actions plus a few UI actions.

A licensing entry does exactly what typing its phrase does: the phrase is sent to the bot.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

from .common import PALETTE_ACTIONS

if TYPE_CHECKING:
    from .app import ChatApp

__all__ = ["ChatCommands"]


class ChatCommands(Provider):
    """The chatbot's actions, for the command palette."""

    def _entries(self) -> list[tuple[str, Callable[[], object], str]]:
        app = cast("ChatApp", self.app)
        entries: list[tuple[str, Callable[[], object], str]] = [
            (action.title, partial(app.send_phrase, action.phrase), f"{action.help} — sends “{action.phrase}”")
            for action in PALETTE_ACTIONS
        ]
        entries += [
            ("Choose a license file…", app.action_pick_file, "Pick a .lic / .req file and insert its path (ctrl+o)"),
            ("Copy last reply", app.action_copy_reply, "Copy the bot's last answer to the clipboard (ctrl+y)"),
            ("Toggle dark theme", app.action_toggle_theme, "Switch between the light and the dark theme (ctrl+t)"),
            ("Show key bindings", app.action_help, "The help screen (F1)"),
        ]
        return entries

    async def discover(self) -> Hits:
        for title, callback, help_text in self._entries():
            yield DiscoveryHit(title, callback, text=title, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, callback, help_text in self._entries():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, text=title, help=help_text)
