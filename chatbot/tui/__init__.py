"""The chatbot's Textual UI (``ChatApp``).

Importing this package is cheap: Textual is only imported when ``ChatApp`` is used, so the REPL
and pipe mode can share :mod:`chatbot.tui.common` without loading a UI toolkit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import ChatApp

__all__ = ["ChatApp"]


def __getattr__(name: str) -> Any:
    if name == "ChatApp":
        from .app import ChatApp

        return ChatApp
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
