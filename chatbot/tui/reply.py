"""A bot reply in the transcript, rendered as Markdown.

Kept apart from :mod:`chatbot.tui.widgets` so that the Markdown parser is not imported before the
first screen: the app imports this module in the worker that makes the bot.
"""

from __future__ import annotations

from textual.widgets import Markdown

__all__ = ["BotMessage"]


class BotMessage(Markdown):
    """A reply from the bot (Markdown: the bot escapes any user echo itself); ``ok=False`` adds ``failed``."""

    def __init__(self, text: str, *, ok: bool = True) -> None:
        self.text = text
        super().__init__(text, classes="message bot" + ("" if ok else " failed"), open_links=False)
