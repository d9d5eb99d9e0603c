"""Modal screens: F1 help (the key bindings) and the file picker for ``.lic`` / ``.req`` files."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DirectoryTree, Input, Static

__all__ = ["KEY_BINDINGS", "HelpScreen", "LicenseFileTree", "FilePickerScreen"]

#: (keys, what they do) — shown by F1; keep in step with ChatApp.BINDINGS
KEY_BINDINGS: tuple[tuple[str, str], ...] = (
    ("Enter", "Send the line to the bot"),
    ("Up / Down", "Previous / next line from the history"),
    ("Right or Tab", "Accept the grey suggestion"),
    ("PageUp / PageDown", "Scroll the conversation"),
    ("Shift+Tab", "Focus the conversation (then arrows, Home, End scroll)"),
    ("Ctrl+P", "Command palette: the main actions"),
    ("Ctrl+O", "Choose a .lic / .req file and insert its path"),
    ("Ctrl+Y", "Copy the last reply"),
    ("Ctrl+T", "Switch between the light and the dark theme"),
    ("F1", "This help"),
    ("Ctrl+Q", "Quit (or type: quit)"),
)

HELP_INTRO = (
    "Type what you want in plain words: \"am I licensed?\", \"create activation request for "
    "XXXX-XXXX-XXXX-XXXX\", \"activate offline\", \"refresh license\", \"deactivate offline\", "
    "\"help\". The status line at the bottom always shows the license on this device."
)


class HelpScreen(ModalScreen[None]):
    """F1: the key bindings, and how to talk to the bot."""

    BINDINGS = [
        Binding("escape,f1,q", "dismiss_help", "Close", show=True),
    ]

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 76; max-width: 100%; height: auto; max-height: 100%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    HelpScreen #help-title { text-style: bold; padding: 0 0 1 0; }
    HelpScreen #help-intro { padding: 1 0 0 0; }
    HelpScreen #help-foot { color: $text-muted; padding: 1 0 0 0; }
    """

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True)
        table.add_column()
        for keys, what in KEY_BINDINGS:
            table.add_row(keys, what)
        with VerticalScroll(id="help-body"):
            yield Static("Keys", id="help-title")
            yield Static(table, id="help-keys")
            yield Static(Text(HELP_INTRO), id="help-intro", markup=False)
            yield Static("Esc, F1 or q closes this help.", id="help-foot", markup=False)

    def action_dismiss_help(self) -> None:
        self.dismiss(None)


class LicenseFileTree(DirectoryTree):
    """A directory tree that shows folders and licensing files (``.lic``, ``.req``) only."""

    SUFFIXES = frozenset({".lic", ".req"})

    def filter_paths(self, paths: Iterable[Path]) -> Iterable[Path]:
        shown = []
        for path in paths:
            if path.name.startswith("."):
                continue
            try:
                if path.is_dir() or path.suffix.lower() in self.SUFFIXES:
                    shown.append(path)
            except OSError:
                continue
        return shown


class FilePickerScreen(ModalScreen["Path | None"]):
    """Pick a ``.lic`` / ``.req`` file; dismisses with its path (or ``None`` when cancelled)."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", show=True),
        Binding("backspace", "parent", "Parent folder", show=True),
    ]

    DEFAULT_CSS = """
    FilePickerScreen { align: center middle; }
    FilePickerScreen > Vertical {
        width: 76; max-width: 100%; height: 20; max-height: 100%;
        border: round $accent; background: $surface;
    }
    FilePickerScreen #picker-help { color: $text-muted; height: auto; padding: 0 1; }
    FilePickerScreen #picker-path { margin: 0 0; }
    FilePickerScreen LicenseFileTree { height: 1fr; }
    """

    def __init__(self, start: Path) -> None:
        super().__init__()
        self.start = start

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Choose a .lic or .req file — Enter picks, Backspace goes up, Esc cancels.",
                         id="picker-help", markup=False)
            yield Input(str(self.start), id="picker-path", placeholder="A folder or a file path")
            yield LicenseFileTree(self.start, id="picker-tree")

    def on_mount(self) -> None:
        self.query_one(LicenseFileTree).focus()

    @property
    def file_tree(self) -> LicenseFileTree:
        return self.query_one(LicenseFileTree)

    def _set_root(self, folder: Path) -> None:
        self.file_tree.path = folder
        self.query_one("#picker-path", Input).value = str(folder)

    def on_directory_tree_file_selected(self, event: DirectoryTree.FileSelected) -> None:
        event.stop()
        self.dismiss(Path(event.path))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        typed = Path(event.value.strip()).expanduser()
        if typed.is_dir():
            self._set_root(typed)
            self.file_tree.focus()
        elif typed.is_file():
            self.dismiss(typed)
        else:
            self.notify(f"There is no folder or file at {typed}.", severity="warning", markup=False)

    def action_parent(self) -> None:
        if isinstance(self.focused, Input):
            self.focused.action_delete_left()
            return
        current = Path(self.file_tree.path).expanduser().resolve()
        if current.parent != current:
            self._set_root(current.parent)

    def action_cancel(self) -> None:
        self.dismiss(None)
