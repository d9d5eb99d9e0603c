"""UI-neutral helpers shared by every shell: the Textual app, the prompt_toolkit REPL and pipe mode.

Nothing here imports Textual, prompt_toolkit or the licensing engine, so the REPL and pipe mode can
use it without paying for a UI toolkit they do not run.

* the status line (``format_status``), built from a ``chatbot.replies.LicenseStatus``;
* the command phrases offered as inline suggestions, completions and palette entries;
* the input history: one file, shared by the TUI and the REPL, in prompt_toolkit's ``FileHistory``
  format (so either shell reads what the other wrote), bounded, written ``0600``, and never
  recording what the user typed after the bot asked for a password;
* small text helpers (quoting a path for the input line).
"""

from __future__ import annotations

import datetime as _dt
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

from ..replies import LicenseStatus, Reply

__all__ = [
    "APP_NAME",
    "STATE_DIR_ENV",
    "HISTORY_LIMIT",
    "COMMAND_PHRASES",
    "PaletteAction",
    "PALETTE_ACTIONS",
    "state_dir",
    "default_history_path",
    "format_status",
    "expects_secret",
    "should_record",
    "HistoryStore",
    "read_history",
    "quote_path",
    "suggestion_list",
    "unique",
]

APP_NAME = "offline-licensing-chatbot"
#: overrides the folder that holds the input history (tests, portable installs)
STATE_DIR_ENV = "CHATBOT_STATE_DIR"
HISTORY_FILE = "history"
#: at most this many lines are kept (the file is trimmed when it grows to twice as many)
HISTORY_LIMIT = 1000


class PaletteAction(NamedTuple):
    """One command-palette entry: what it is called, the phrase sent to the bot, a line of help."""

    title: str
    phrase: str
    help: str


#: The main actions, in the order the palette lists them; each sends its phrase to the bot.
PALETTE_ACTIONS: tuple[PaletteAction, ...] = (
    PaletteAction("Am I licensed?", "am I licensed?", "Show the license on this device"),
    PaletteAction("Activate offline", "activate offline", "Activate with the response file (ls_activation.lic)"),
    PaletteAction("Create activation request", "create activation request",
                  "Write ls_activation.req for the licensing portal"),
    PaletteAction("Refresh license", "refresh license", "Apply a refresh file (license_refresh.lic)"),
    PaletteAction("Deactivate offline", "deactivate offline",
                  "Write ls_deactivation.req and remove the license here"),
    PaletteAction("List features", "list features", "The features this license carries"),
    PaletteAction("Check online", "check online", "Ask the license server about this license"),
    PaletteAction("Clear local storage", "clear local storage", "Remove every local license file"),
    PaletteAction("Help", "help", "What I can do, and how the offline flow works"),
)

#: Phrases offered as inline suggestions (TUI) and completions (REPL), most useful first.
COMMAND_PHRASES: tuple[str, ...] = (
    "am I licensed?",
    "activate offline",
    "activate offline ",
    "create activation request",
    "create activation request for ",
    "refresh license",
    "refresh license from ",
    "deactivate offline",
    "deactivate online",
    "list features",
    "check online",
    "check the license locally",
    "am I online?",
    "reload license",
    "clear local storage",
    "help",
    "how does offline activation work?",
    "tell me a joke",
    "roll a dice",
    "what time is it?",
    "count words in ",
    "convert 5 km to miles",
    "quit",
)


# -- status line -------------------------------------------------------------------------------


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _expiry(days_left: int | None, expires: _dt.datetime | None) -> str:
    if days_left is None:
        if expires is None:
            return "no expiry"
        return f"expires {expires.date().isoformat()}"
    if days_left > 1:
        return f"expires in {days_left} days"
    if days_left == 1:
        return "expires tomorrow"
    if days_left == 0:
        return "expires today"
    return f"expired {_plural(-days_left, 'day')} ago"


def _online(online: bool | None) -> str:
    if online is True:
        return "online"
    if online is False:
        return "offline"
    return "online: not checked"


def format_status(status: LicenseStatus | None) -> str:
    """One line for the status bar / the REPL, from a ``LicenseStatus``.

    ``● Licensed · perpetual · no expiry · offline``,
    ``● Licensed · consumption · 12 uses left · expires in 29 days · online``,
    ``○ Not licensed (no_license) · offline``.
    """
    if status is None:
        return "… starting"
    licensed = status.licensed
    license_type = status.license_type
    consumption_left = status.consumption_left
    days_left = status.days_left
    expires = status.expires
    online = status.online
    problem = status.problem_code
    parts: list[str] = []
    if licensed:
        parts.append("● Licensed")
        parts.append(str(license_type or "license"))
        if consumption_left is not None:
            parts.append(f"{_plural(int(consumption_left), 'use')} left")
        parts.append(_expiry(days_left, expires))
    else:
        parts.append("○ Not licensed" + (f" ({problem})" if problem else ""))
        if license_type:
            parts.append(str(license_type))
            if consumption_left is not None:
                parts.append(f"{_plural(int(consumption_left), 'use')} left")
            if days_left is not None or expires is not None:
                parts.append(_expiry(days_left, expires))
    parts.append(_online(online))
    return " · ".join(parts)


# -- secrets -------------------------------------------------------------------------------------


def expects_secret(reply: Reply | None) -> bool:
    """Did this reply ask for a password? Then the next line is masked and never recorded."""
    if reply is None:
        return False
    data = reply.data
    if not isinstance(data, Mapping):
        return False
    return data.get("expects") == "password"


def should_record(line: str, *, secret: bool = False) -> bool:
    """Whether a submitted line may go to the history file."""
    text = line.strip()
    if not text or secret:
        return False
    # Belt and braces: a password typed inline ("... password hunter2") is never kept either.
    return "password" not in text.casefold()


# -- history -------------------------------------------------------------------------------------


def state_dir() -> Path:
    """``$CHATBOT_STATE_DIR``, else the platform's user state folder for the chatbot."""
    override = os.environ.get(STATE_DIR_ENV)
    if override:
        return Path(override).expanduser()
    import platformdirs

    return Path(platformdirs.user_state_dir(APP_NAME, appauthor=False))


def default_history_path() -> Path:
    return state_dir() / HISTORY_FILE


def _parse(text: str) -> list[str]:
    """Entries of a prompt_toolkit ``FileHistory`` file, oldest first."""
    entries: list[str] = []
    current: list[str] = []

    def flush() -> None:
        if current:
            entries.append("\n".join(current))
            current.clear()

    for raw in text.splitlines():
        if raw.startswith("+"):
            current.append(raw[1:])
        else:
            flush()
    flush()
    return entries


def _format(entry: str, when: _dt.datetime | None = None) -> str:
    stamp = (when or _dt.datetime.now()).strftime("%Y-%m-%d %H:%M:%S.%f")
    body = "".join(f"+{line}\n" for line in entry.split("\n"))
    return f"\n# {stamp}\n{body}"


def read_history(path: Path, limit: int = HISTORY_LIMIT) -> list[str]:
    """The last ``limit`` entries, oldest first; a missing or unreadable file is an empty history."""
    try:
        data = Path(path).read_bytes()
    except OSError:
        return []
    entries = _parse(data.decode("utf-8", errors="replace"))
    return entries[-limit:] if limit else entries


class HistoryStore:
    """The shared input history: an in-memory list plus its file (appended to, trimmed now and then).

    Failing to write the history never fails the conversation: the error is swallowed (a read-only
    home folder still gets a working chatbot, with a history that lasts one session).
    """

    def __init__(self, path: Path | None = None, limit: int = HISTORY_LIMIT) -> None:
        self.path = Path(path) if path is not None else default_history_path()
        self.limit = limit
        self.entries: list[str] = read_history(self.path, limit)
        self._on_disk = len(self.entries)

    def append(self, line: str, *, secret: bool = False) -> bool:
        """Remember ``line`` (unless it must not be kept); True when it was recorded."""
        if not should_record(line, secret=secret):
            return False
        line = line.rstrip("\n")
        if self.entries and self.entries[-1] == line:
            return False
        self.entries.append(line)
        del self.entries[: -self.limit]
        self._write(line)
        return True

    def _write(self, line: str) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(fd, "a", encoding="utf-8") as handle:
                handle.write(_format(line))
            self._on_disk += 1
            if self._on_disk > 2 * self.limit:
                self._trim()
        except OSError:
            pass

    def _trim(self) -> None:
        """Rewrite the file with its last ``limit`` entries (re-read: another shell may have added some)."""
        keep = read_history(self.path, self.limit)
        text = "".join(_format(entry) for entry in keep)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".history.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.path)
        except OSError:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        self._on_disk = len(keep)


# -- text helpers --------------------------------------------------------------------------------


def quote_path(path: str | os.PathLike[str]) -> str:
    """A path as the user would type it: double-quoted when it holds spaces or quotes."""
    text = os.fspath(path)
    if any(ch.isspace() for ch in text) or '"' in text or "'" in text:
        if '"' in text:
            return f"'{text}'"
        return f'"{text}"'
    return text


def unique(items: Iterable[str]) -> list[str]:
    """Items in order, without repeats (case-insensitively) or blanks."""
    seen: set[str] = set()
    out: list[str] = []
    for item in items:
        key = item.casefold()
        if item.strip() and key not in seen:
            seen.add(key)
            out.append(item)
    return out


def suggestion_list(reply_suggestions: Sequence[str] = ()) -> list[str]:
    """The bot's latest suggestions first, then the standard command phrases."""
    return unique([*reply_suggestions, *COMMAND_PHRASES])
