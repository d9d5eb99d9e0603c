"""Plain shells over ``chatbot.bot.Bot``: the prompt_toolkit REPL and pipe mode.

* :func:`run_repl` — ``chatbot --plain`` (and ``TERM=dumb``): a prompt with the shared history file,
  tab completion over the command phrases (plus the bot's latest suggestions), ctrl+c clears the
  line, ctrl+d exits. Replies are printed as they are (Markdown reads fine as plain text); the
  status line is printed at start and whenever it changes. Good for dumb terminals, screen
  readers and SSH.
* :func:`run_pipe` — standard input is not a terminal: each line goes to the bot, each reply's
  text is printed (flushed per line). Exit status 1 when any reply failed (``ok=False``), else 0;
  a quit reply ends the run.

prompt_toolkit is imported only by :func:`run_repl`, so pipe mode stays light.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from .replies import LicenseStatus, Reply
from .tui.common import (
    HistoryStore,
    expects_secret,
    format_status,
    suggestion_list,
)

if TYPE_CHECKING:
    from .bot import Bot

__all__ = ["run_repl", "run_pipe", "phrase_completer", "PROMPT", "PASSWORD_PROMPT"]

PROMPT = "you> "
PASSWORD_PROMPT = "password (hidden, not saved)> "


def _write_reply(out: TextIO, reply: Reply) -> None:
    text = reply.text.rstrip("\n")
    out.write(text + "\n")
    out.flush()


def _failure_text(error: BaseException) -> str:
    return f"Something went wrong inside the bot ({type(error).__name__})."


# -- pipe mode -----------------------------------------------------------------------------------


def run_pipe(bot: Bot, lines: Iterable[str], out: TextIO | None = None) -> int:
    """Answer each non-blank line of ``lines``; 1 if any reply had ``ok=False``, else 0."""
    out = out if out is not None else sys.stdout
    failed = False
    first = True
    for raw in lines:
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        if not first:
            out.write("\n")
        first = False
        try:
            reply = bot.handle(line)
        except Exception as error:  # noqa: BLE001 - Bot.handle never raises; a pipe still gets an answer
            out.write(_failure_text(error) + "\n")
            out.flush()
            failed = True
            continue
        _write_reply(out, reply)
        if not reply.ok:
            failed = True
        if reply.quit:
            break
    return 1 if failed else 0


# -- the REPL ------------------------------------------------------------------------------------


def _history_class() -> type:
    from prompt_toolkit.history import FileHistory

    class SharedFileHistory(FileHistory):
        """prompt_toolkit's ``FileHistory`` format, shared with the TUI, bounded, secrets kept out.

        Set ``secret = True`` before reading a password: that line is neither kept in memory nor
        written to the file.
        """

        def __init__(self, store: HistoryStore) -> None:
            self.store = store
            self.secret = False
            super().__init__(str(store.path))

        def load_history_strings(self) -> Iterable[str]:
            return list(reversed(self.store.entries))  # newest first, as prompt_toolkit wants

        def append_string(self, string: str) -> None:
            if self.store.append(string, secret=self.secret):
                self._loaded_strings.insert(0, string)

        def store_string(self, string: str) -> None:  # pragma: no cover - append_string writes
            self.store.append(string, secret=self.secret)

    return SharedFileHistory


def phrase_completer(suggestions: Callable[[], Sequence[str]] = tuple) -> Any:
    """Tab completion over whole phrases: the bot's latest suggestions first, then the command phrases."""
    from prompt_toolkit.completion import WordCompleter

    return WordCompleter(lambda: suggestion_list(tuple(suggestions())), ignore_case=True, sentence=True,
                         match_middle=True)


def run_repl(
    bot: Bot,
    *,
    input: Any | None = None,
    output: Any | None = None,
    history_path: Path | None = None,
    stdout: TextIO | None = None,
) -> int:
    """The plain conversation loop; returns the exit status (0: ctrl+d or the bot said goodbye).

    ``input`` / ``output`` are prompt_toolkit ``Input`` / ``Output`` objects (tests pass
    ``create_pipe_input()`` and ``DummyOutput()``); replies and status lines go to ``stdout``
    (default ``sys.stdout``).
    """
    from prompt_toolkit import PromptSession

    out = stdout if stdout is not None else sys.stdout
    history = _history_class()(HistoryStore(history_path))
    suggestions: tuple[str, ...] = ()
    completer = phrase_completer(lambda: suggestions)
    session: PromptSession[str] = PromptSession(
        history=history,
        completer=completer,
        complete_while_typing=False,  # Tab completes; no pop-up noise for screen readers
        input=input,
        output=output,
    )

    last_status: str | None = None

    def show_status(status: LicenseStatus | None) -> None:
        nonlocal last_status
        if status is None:
            return
        line = format_status(status)
        if line != last_status:
            out.write(f"[status] {line}\n")
            out.flush()
            last_status = line

    greeting = bot.greeting()
    _write_reply(out, greeting)
    show_status(bot.status())
    bot.warm()  # the knowledge index, once the first screen is out
    secret = expects_secret(greeting)
    suggestions = greeting.suggestions
    while True:
        history.secret = secret
        try:
            text = session.prompt(PASSWORD_PROMPT if secret else PROMPT, is_password=secret)
        except KeyboardInterrupt:
            continue  # ctrl+c: the line is cleared, the conversation goes on
        except EOFError:
            return 0  # ctrl+d
        if not text.strip():
            continue
        try:
            reply = bot.handle(text)
        except Exception as error:  # noqa: BLE001 - Bot.handle never raises; the REPL survives if it does
            out.write(_failure_text(error) + "\n\n")
            out.flush()
            secret = False
            continue
        _write_reply(out, reply)
        show_status(reply.status)
        out.write("\n")
        out.flush()
        if reply.quit:
            return 0
        secret = expects_secret(reply)
        suggestions = reply.suggestions
