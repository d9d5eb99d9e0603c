"""The chat window's widgets. Thin: they render what they are given and hold no licensing logic.

* :class:`Transcript` — the scrolling conversation, anchored to the bottom;
* :class:`UserMessage` — a line the user typed, shown literally (never parsed as markup);
* :class:`~chatbot.tui.reply.BotMessage` — a reply, rendered as Markdown (in its own module: the
  Markdown machinery is imported off the UI thread, after the first screen);
* :class:`ChatInput` — the input line with history (up/down) and inline suggestions;
* :class:`StatusBar` — the license status line and the "working…" indicator.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.suggester import SuggestFromList
from textual.widget import Widget
from textual.widgets import Input, Static

from ..replies import LicenseStatus
from .common import format_status, suggestion_list

__all__ = ["Transcript", "UserMessage", "ChatInput", "StatusBar"]

#: the transcript keeps this many messages; older ones are dropped (memory stays bounded)
MAX_MESSAGES = 400


class UserMessage(Static):
    """What the user typed, shown verbatim: ``[bold]x[/]`` and ``**x**`` stay as typed."""

    def __init__(self, text: str, *, masked: bool = False) -> None:
        self.text = "•" * 8 if masked else text
        content = Text.assemble(("you › ", "bold"), self.text)
        super().__init__(content, markup=False, classes="message user")


class Transcript(VerticalScroll):
    """The conversation. Anchored: it follows new messages until the user scrolls up.

    Focusable (shift+tab from the input): then arrows, PageUp/PageDown, Home and End scroll it.
    """

    def on_mount(self) -> None:
        self.anchor()

    def add(self, widget: Widget) -> None:
        """Append a message (mounted in call order); drop the oldest beyond ``MAX_MESSAGES``."""
        self.mount(widget)
        messages = list(self.query(".message"))
        for old in messages[: max(0, len(messages) - MAX_MESSAGES)]:
            old.remove()

    def messages(self) -> list[Widget]:
        return list(self.query(".message"))


class ChatInput(Input):
    """The input line. Up/down walk the history; right arrow (or tab) accepts the grey suggestion."""

    BINDINGS = [
        Binding("up", "history_previous", "Previous line", show=False),
        Binding("down", "history_next", "Next line", show=False),
        Binding("tab", "accept_suggestion", "Accept suggestion", show=False),
    ]

    def __init__(self, history: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(suggester=SuggestFromList(suggestion_list(), case_sensitive=False), **kwargs)
        self.history: list[str] = list(history)
        self._history_index: int | None = None
        self._draft = ""

    # -- history ----------------------------------------------------------------------------

    def remember(self, line: str) -> None:
        """Add a submitted line to the in-memory history (the caller decides what is kept on disk)."""
        if line.strip() and (not self.history or self.history[-1] != line):
            self.history.append(line)
        self.reset_history_cursor()

    def reset_history_cursor(self) -> None:
        self._history_index = None
        self._draft = ""

    def _show(self, value: str) -> None:
        self.value = value
        self.cursor_position = len(value)

    def action_history_previous(self) -> None:
        if self.password or not self.history:
            return
        if self._history_index is None:
            self._draft = self.value
            self._history_index = len(self.history) - 1
        elif self._history_index > 0:
            self._history_index -= 1
        self._show(self.history[self._history_index])

    def action_history_next(self) -> None:
        if self.password or self._history_index is None:
            return
        if self._history_index < len(self.history) - 1:
            self._history_index += 1
            self._show(self.history[self._history_index])
        else:
            self._history_index = None
            self._show(self._draft)

    # -- suggestions ------------------------------------------------------------------------

    def set_suggestions(self, suggestions: Sequence[str]) -> None:
        """The bot's latest suggestions first, then the standard phrases."""
        self.suggester = SuggestFromList(suggestion_list(suggestions), case_sensitive=False)

    def action_accept_suggestion(self) -> None:
        if self._suggestion and self.cursor_at_end and len(self._suggestion) > len(self.value):
            self.action_cursor_right()
        else:
            self.app.action_focus_next()

    def insert_path(self, text: str) -> None:
        """Insert ``text`` at the cursor, with a separating space when the word before needs one."""
        before = self.value[: self.cursor_position]
        if before and not before[-1].isspace():
            text = " " + text
        self.insert_text_at_cursor(text)


class StatusBar(Horizontal):
    """The license at a glance, always visible; plus a "working…" mark while the bot is busy."""

    DEFAULT_CSS = """
    StatusBar {
        height: 1;
    }
    StatusBar #status-text { width: 1fr; height: 1; text-wrap: nowrap; text-overflow: ellipsis; }
    StatusBar #working { width: auto; height: 1; display: none; padding: 0 1; }
    StatusBar.busy #working { display: block; }
    """

    def compose(self) -> ComposeResult:
        yield Static(format_status(None), id="status-text", markup=False)
        yield Static("⋯ working…", id="working", markup=False)

    @property
    def text(self) -> str:
        return str(self.query_one("#status-text", Static).content)

    def show(self, status: LicenseStatus) -> None:
        self.query_one("#status-text", Static).update(format_status(status))
        licensed = status.licensed
        self.set_class(licensed, "licensed")
        self.set_class(status is not None and not licensed, "unlicensed")

    def set_busy(self, busy: bool) -> None:
        self.set_class(busy, "busy")
