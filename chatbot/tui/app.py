"""The Textual chat application: a thin shell over ``chatbot.bot.Bot``.

What it does, and what it leaves to the bot:

* It mounts the window first, then creates the bot in a thread worker (``create_bot`` may build the
  demo vendor on a first run), then shows the bot's greeting and status: the first screen never
  waits for licensing work.
* Each line the user sends goes to ``Bot.handle`` in a thread worker, one at a time (lines typed
  meanwhile wait their turn); the reply comes back with ``call_from_thread``. The input stays
  live and a "working…" mark shows in the status bar.
* Replies are rendered as Markdown; what the user typed is shown literally. The status bar shows
  ``Bot.status()`` at start and ``Reply.status`` after each reply that carries one.
* After a reply that asks for a password (``reply.data["expects"] == "password"``) the input masks
  the next line, and that line is shown as bullets and never written to the history.
* No licensing logic lives here: the UI never imports the engine (only ``LicenseError``, to tell a
  start-up refusal from a bug, and ``chatbot.bootstrap.create_bot``, both lazily in the worker).
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.widget import Widget
from textual.widgets import Footer, Header, Input

from ..replies import LicenseStatus, Reply
from .commands import ChatCommands
from .common import HistoryStore, expects_secret, quote_path
from .widgets import ChatInput, StatusBar, Transcript, UserMessage

if TYPE_CHECKING:
    from ..bot import Bot

__all__ = ["ChatApp", "LIGHT_THEME", "DARK_THEME"]

LIGHT_THEME = "textual-light"
DARK_THEME = "textual-dark"
INPUT_PLACEHOLDER = "Type here, e.g. am I licensed?   (F1 help · ctrl+p actions)"
PASSWORD_PLACEHOLDER = "Password (hidden, never saved)"


def _default_start_dir() -> Path:
    """Where the file picker opens: the desktop (where request/response files go), else home."""
    try:
        import platformdirs

        desktop = Path(platformdirs.user_desktop_dir())
        if desktop.is_dir():
            return desktop
    except Exception:  # pragma: no cover - platformdirs never fails in practice
        pass
    return Path.home()


class ChatApp(App[object]):
    """The chatbot's terminal UI.

    ``bot`` — a ready ``Bot``; or ``bot_factory`` — a callable that makes one (run in a worker);
    by default ``chatbot.bootstrap.create_bot(config_path)``. On a start-up failure the app exits with
    return code 2 and the exception as its result (``__main__`` prints it).
    """

    TITLE = "Licensing chatbot"
    SUB_TITLE = "offline-first licensing, in plain words"
    COMMANDS = App.COMMANDS | {ChatCommands}

    BINDINGS = [
        Binding("f1", "help", "Help"),
        Binding("ctrl+o", "pick_file", "File"),
        Binding("ctrl+y", "copy_reply", "Copy reply"),
        Binding("ctrl+t", "toggle_theme", "Theme", show=False),
        Binding("pageup", "scroll_transcript('page_up')", "Scroll up", show=False),
        Binding("pagedown", "scroll_transcript('page_down')", "Scroll down", show=False),
        Binding("ctrl+home", "scroll_transcript('home')", "Top", show=False),
        Binding("ctrl+end", "scroll_transcript('end')", "Bottom", show=False),
        Binding("ctrl+q", "quit", "Quit", priority=True),
    ]

    CSS_PATH = "app.tcss"

    def __init__(
        self,
        bot: Bot | None = None,
        *,
        bot_factory: Callable[[], Bot] | None = None,
        config_path: Path | None = None,
        history_path: Path | None = None,
        start_dir: Path | None = None,
        theme: str = LIGHT_THEME,
        cursor_blink: bool = True,
    ) -> None:
        super().__init__()
        self.bot: Bot | None = None
        self._given_bot = bot
        self._bot_factory = bot_factory
        self._config_path = config_path
        self.history = HistoryStore(history_path)
        self._start_dir = start_dir
        self._cursor_blink = cursor_blink
        self._pending: deque[str] = deque()
        self._busy = False
        self._expect_secret = False
        self.last_reply: str | None = None
        self.theme = theme

    # -- layout ---------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header(icon="§")
        yield Transcript(id="transcript")
        yield ChatInput(self.history.entries, id="chat-input", placeholder=INPUT_PLACEHOLDER)
        yield StatusBar(id="status")
        yield Footer()

    @property
    def transcript(self) -> Transcript:
        return self.query_one("#transcript", Transcript)

    @property
    def chat_input(self) -> ChatInput:
        return self.query_one("#chat-input", ChatInput)

    @property
    def status_bar(self) -> StatusBar:
        return self.query_one("#status", StatusBar)

    @property
    def busy(self) -> bool:
        """True while the bot is being created or is answering (or lines wait their turn)."""
        return self.bot is None or self._busy or bool(self._pending)

    def on_mount(self) -> None:
        self.chat_input.cursor_blink = self._cursor_blink
        self.chat_input.focus()
        self.status_bar.set_busy(True)
        # The first frame goes out before anything slow: the bot is made after this refresh.
        self.call_after_refresh(self._start_bot)

    # -- the bot, in thread workers -------------------------------------------------------------

    def _call(self, callback: Callable[..., Any], *args: Any) -> None:
        """``call_from_thread`` that tolerates an app that is shutting down (ctrl+q while the bot works)."""
        try:
            self.call_from_thread(callback, *args)
        except Exception:  # noqa: BLE001 - the app is gone, or its widgets are: nothing left to show
            if self.is_running and not self._exit:
                raise

    def _start_bot(self) -> None:
        self.run_worker(self._create_bot, thread=True, group="bot", name="create bot", exit_on_error=False)

    def _create_bot(self) -> None:
        try:
            from . import reply as _reply  # noqa: F401 - the Markdown machinery, off the UI thread

            if self._given_bot is not None:
                bot = self._given_bot
            elif self._bot_factory is not None:
                bot = self._bot_factory()
            else:
                from chatbot.bootstrap import create_bot

                bot = create_bot(self._config_path)
            greeting = bot.greeting()
            status = bot.status()
        except BaseException as error:  # noqa: BLE001 - reported on the UI thread
            self._call(self._start_failed, error)
            return
        self._call(self._bot_ready, bot, greeting, status)
        bot.warm()  # the knowledge index, after the greeting is on its way: the first question does not wait

    def _bot_ready(self, bot: Bot, greeting: Reply, status: LicenseStatus) -> None:
        self.bot = bot
        self.status_bar.set_busy(False)
        self.status_bar.show(status)
        self._show_reply(greeting)
        self._pump()

    def _start_failed(self, error: BaseException) -> None:
        self.exit(result=error, return_code=2 if _is_license_error(error) else 1)

    def _pump(self) -> None:
        """Send the next waiting line to the bot, unless it is busy (lines are handled in order)."""
        if self._busy or self.bot is None or not self._pending:
            return
        text = self._pending.popleft()
        self._busy = True
        self.status_bar.set_busy(True)
        self.run_worker(partial(self._handle, text), thread=True, group="bot", name="handle",
                        exit_on_error=False)

    def _handle(self, text: str) -> None:
        assert self.bot is not None
        try:
            reply: Reply | Exception = self.bot.handle(text)
        except Exception as error:  # noqa: BLE001 - Bot.handle never raises; the UI survives if it does
            reply = error
        self._call(self._replied, reply)

    def _replied(self, reply: Reply | Exception) -> None:
        self._busy = False
        self.status_bar.set_busy(bool(self._pending))
        if isinstance(reply, BaseException):
            from .reply import BotMessage

            self._add(BotMessage(f"Something went wrong inside the bot: `{type(reply).__name__}`.", ok=False))
        else:
            self._show_reply(reply)
            if reply.quit:
                self.exit(return_code=0)
                return
        self._pump()

    # -- rendering ------------------------------------------------------------------------------

    def _add(self, widget: Widget) -> None:
        self.transcript.add(widget)

    def _show_reply(self, reply: Reply) -> None:
        from .reply import BotMessage

        text = reply.text
        self.last_reply = text
        self._add(BotMessage(text, ok=reply.ok))
        status = reply.status
        if status is not None:
            self.status_bar.show(status)
        self.chat_input.set_suggestions(reply.suggestions)
        self._expect_secret = expects_secret(reply)
        self.chat_input.password = self._expect_secret
        self.chat_input.placeholder = PASSWORD_PLACEHOLDER if self._expect_secret else INPUT_PLACEHOLDER

    # -- input ----------------------------------------------------------------------------------

    @on(Input.Submitted, "#chat-input")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value
        self.chat_input.value = ""
        if not text.strip():
            return
        secret = self._expect_secret
        if self.history.append(text, secret=secret):
            self.chat_input.remember(text)
        else:
            self.chat_input.reset_history_cursor()
        self.send(text, masked=secret)

    def send(self, text: str, *, masked: bool = False) -> None:
        """Show ``text`` as the user's line and queue it for the bot."""
        if self._expect_secret or masked:
            self._expect_secret = False
            self.chat_input.password = False
            self.chat_input.placeholder = INPUT_PLACEHOLDER
        self._add(UserMessage(text, masked=masked))
        self._pending.append(text)
        if self.bot is not None and not self._busy:
            self._pump()
        else:
            self.status_bar.set_busy(True)

    def send_phrase(self, phrase: str) -> None:
        """A palette entry: exactly as if the phrase had been typed (not recorded in the history)."""
        self.send(phrase)

    # -- actions --------------------------------------------------------------------------------

    def action_help(self) -> None:
        from .screens import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_pick_file(self) -> None:
        from .screens import FilePickerScreen

        if isinstance(self.screen, FilePickerScreen):
            return
        start = self._start_dir or _default_start_dir()
        self.push_screen(FilePickerScreen(Path(start)), callback=self._file_picked)

    def _file_picked(self, path: Path | None) -> None:
        chat_input = self.chat_input
        if path is not None:
            chat_input.insert_path(quote_path(_display_path(path)))
        chat_input.focus()

    def action_copy_reply(self) -> None:
        if not self.last_reply:
            self.notify("There is no reply to copy yet.", severity="warning")
            return
        self.copy_to_clipboard(self.last_reply)
        self.notify("Copied the last reply.", title="Copied")

    def action_toggle_theme(self) -> None:
        self.theme = DARK_THEME if self.theme == LIGHT_THEME else LIGHT_THEME

    def action_scroll_transcript(self, where: str) -> None:
        transcript = self.transcript
        if where == "page_up":
            transcript.scroll_page_up()
        elif where == "page_down":
            transcript.scroll_page_down()
        elif where == "home":
            transcript.scroll_home()
        else:
            transcript.scroll_end()


def _display_path(path: Path) -> str:
    """The path as inserted into the input: absolute, with the home folder as ``~`` left as is."""
    return os.fspath(Path(path).expanduser().absolute())


def _is_license_error(error: BaseException) -> bool:
    try:
        from licensing import LicenseError
    except Exception:  # pragma: no cover
        return False
    return isinstance(error, LicenseError)
