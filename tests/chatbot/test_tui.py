"""The Textual app, driven by Textual's pilot at 80×24, on the real bot and the real engine.

Each test gets a vendor and a device in a temporary folder (``lab``), a fake clock and a fixed
hardware id; the history file lives in the test's folder too. Nothing is mocked: where a test
needs the bot to be slow it wraps the real bot and holds it on an event.

SVG snapshots live in ``tests/chatbot/snapshots``; ``UPDATE_SNAPSHOTS=1`` rewrites them. On a mismatch the
new screenshot is written to ``test-artifacts/`` for comparison.
"""

from __future__ import annotations

import io
import os
import re
import threading
from datetime import timezone
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from textual.command import CommandPalette

from chatbot.bot import Bot
from chatbot.tui.app import DARK_THEME, LIGHT_THEME, ChatApp
from chatbot.tui.common import HistoryStore, format_status
from chatbot.tui.reply import BotMessage
from chatbot.tui.screens import FilePickerScreen, HelpScreen, LicenseFileTree
from chatbot.tui.widgets import UserMessage
from licensing import ConfigurationError

from support.lab import Lab

SIZE = (80, 24)
ROOT = Path(__file__).resolve().parents[2]
SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
ARTIFACTS = ROOT / "test-artifacts"


# -- helpers -------------------------------------------------------------------------------------


def make_bot(lab: Lab, device: str = "device-A") -> Bot:
    import random

    return Bot(lab.manager(device), rng=random.Random(7), local_tz=timezone.utc)


def make_app(lab: Lab, tmp_path: Path, bot: Any | None = None, **options: Any) -> ChatApp:
    options.setdefault("history_path", tmp_path / "state" / "history")
    options.setdefault("cursor_blink", False)
    return ChatApp(bot if bot is not None else make_bot(lab), **options)


def screen_text(app: ChatApp) -> str:
    """What the terminal shows right now, as plain text (the modal screens included)."""
    console = Console(width=app.size.width, height=app.size.height, file=io.StringIO(), record=True,
                      force_terminal=True, color_system=None, legacy_windows=False)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text()


async def settle(pilot: Any, timeout: float = 10.0) -> None:
    """Wait until the bot has answered everything sent so far and the screen is drawn."""
    app = pilot.app
    waited = 0.0
    while app.busy and waited < timeout:
        await pilot.pause(0.02)
        waited += 0.02
    assert not app.busy, "the bot did not answer in time"
    await pilot.pause()
    await app.workers.wait_for_complete()
    await pilot.pause()


async def wait_until(pilot: Any, predicate: Any, what: str, timeout: float = 10.0) -> None:
    """Poll ``predicate()`` while the app runs (no fixed sleeps: a loaded machine only takes longer)."""
    waited = 0.0
    while not predicate():
        if waited >= timeout:
            raise AssertionError(f"timed out waiting for {what}:\n{screen_text(pilot.app)}")
        await pilot.pause(0.02)
        waited += 0.02


async def type_line(pilot: Any, text: str, *, keys: bool = False) -> None:
    """Enter a line: key by key (``keys=True``), else pasted into the input (faster); then Enter."""
    if keys:
        await pilot.press(*text)
    else:
        pilot.app.chat_input.insert_text_at_cursor(text)
    await pilot.press("enter")
    await settle(pilot)


def user_lines(app: ChatApp) -> list[str]:
    return [widget.text for widget in app.query(UserMessage)]


def bot_replies(app: ChatApp) -> list[BotMessage]:
    return list(app.query(BotMessage))


def normalise_svg(svg: str) -> str:
    # Rich names the SVG's classes after a hash of the content; keep the content, drop the hash.
    return re.sub(r"terminal-\d+", "terminal", svg)


def assert_snapshot(app: ChatApp, name: str) -> None:
    svg = normalise_svg(app.export_screenshot(title="chatbot"))
    stored = SNAPSHOTS / f"{name}.svg"
    if os.environ.get("UPDATE_SNAPSHOTS") or not stored.exists():
        if not os.environ.get("UPDATE_SNAPSHOTS"):
            pytest.fail(f"no stored snapshot {stored.name}; run with UPDATE_SNAPSHOTS=1 to create it")
        SNAPSHOTS.mkdir(exist_ok=True)
        stored.write_text(svg, encoding="utf-8")
        return
    if stored.read_text(encoding="utf-8") != svg:
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / f"{name}.svg").write_text(svg, encoding="utf-8")
        pytest.fail(f"screen differs from {stored}; the new one is in {ARTIFACTS / (name + '.svg')}\n"
                    f"{screen_text(app)}")


# -- start-up ------------------------------------------------------------------------------------


async def test_first_screen_appears_before_the_bot_is_made(lab: Lab, tmp_path: Path) -> None:
    gate = threading.Event()

    def slow_factory() -> Bot:
        assert gate.wait(10)
        return make_bot(lab)

    app = ChatApp(bot_factory=slow_factory, history_path=tmp_path / "history", cursor_blink=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "Licensing chatbot" in screen_text(app), "the first screen")
        first = screen_text(app)
        assert "Licensing chatbot" in first
        assert "… starting" in first
        assert app.bot is None
        # the input is live while the bot is being made; a line typed now waits for it
        app.chat_input.insert_text_at_cursor("am I licensed?")
        await pilot.press("enter")
        await pilot.pause(0.05)
        assert user_lines(app) == ["am I licensed?"]
        gate.set()
        await settle(pilot)
        assert app.bot is not None
        replies = bot_replies(app)
        assert len(replies) == 2  # the greeting, then the answer to the early line
        assert "licensing chatbot" in replies[0].text
        assert "not licensed" in replies[1].text.lower()
        assert app.status_bar.text == "○ Not licensed (no_license) · offline"


async def test_a_startup_license_error_ends_the_app_with_status_2(tmp_path: Path) -> None:
    def broken() -> Bot:
        raise ConfigurationError("The licensing configuration file is incomplete or damaged.")

    app = ChatApp(bot_factory=broken, history_path=tmp_path / "history")
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: not app.is_running, "the app to end")
    assert app.return_code == 2
    assert isinstance(app.return_value, ConfigurationError)


# -- typing, replies, literal text ---------------------------------------------------------------


async def test_typing_a_line_shows_it_and_the_reply(lab: Lab, tmp_path: Path) -> None:
    app = make_app(lab, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await type_line(pilot, "am I licensed?", keys=True)
        assert user_lines(app) == ["am I licensed?"]
        reply = bot_replies(app)[-1]
        assert "not licensed" in reply.text.lower()
        assert app.chat_input.value == ""
        screen = screen_text(app)
        assert "you › am I licensed?" in screen
        assert "You are not licensed" in screen  # the Markdown reply, rendered (no ** left)
        assert "**You are not licensed" not in screen


async def test_user_text_is_shown_literally(lab: Lab, tmp_path: Path) -> None:
    app = make_app(lab, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await type_line(pilot, "[bold]x[/] **x**", keys=True)
        assert "you › [bold]x[/] **x**" in screen_text(app)
        await type_line(pilot, "[red]not markup `code` <b>html</b>")
        assert "you › [red]not markup `code` <b>html</b>" in screen_text(app)
        assert user_lines(app) == ["[bold]x[/] **x**", "[red]not markup `code` <b>html</b>"]
        # the widget holds the text as typed, styled only by its own "you ›" label
        message = app.query(UserMessage).first()
        assert message.render().plain == "you › [bold]x[/] **x**"  # type: ignore[union-attr]


async def test_a_failed_reply_is_marked(lab: Lab, tmp_path: Path) -> None:
    app = make_app(lab, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await type_line(pilot, "what is the price of a license?")
        assert bot_replies(app)[-1].has_class("failed")
        await type_line(pilot, "am I licensed?")
        assert not bot_replies(app)[-1].has_class("failed")


# -- history -------------------------------------------------------------------------------------


async def test_up_and_down_walk_the_history(lab: Lab, tmp_path: Path) -> None:
    app = make_app(lab, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await type_line(pilot, "am I licensed?")
        await type_line(pilot, "list features")
        chat_input = app.chat_input
        await pilot.press(*"draft")
        await pilot.press("up")
        assert chat_input.value == "list features"
        await pilot.press("up")
        assert chat_input.value == "am I licensed?"
        await pilot.press("up")
        assert chat_input.value == "am I licensed?"  # the oldest line stays
        await pilot.press("down")
        assert chat_input.value == "list features"
        await pilot.press("down")
        assert chat_input.value == "draft"  # back to what was being typed
        assert chat_input.cursor_position == len("draft")


async def test_history_is_saved_and_a_new_app_reloads_it(lab: Lab, tmp_path: Path) -> None:
    history = tmp_path / "state" / "history"
    first = make_app(lab, tmp_path, history_path=history)
    async with first.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await type_line(pilot, "am I licensed?")
        await type_line(pilot, "user someone password hunter2")  # credentials are never written
        await type_line(pilot, "tell me a joke")
    text = history.read_text(encoding="utf-8")
    assert "+am I licensed?" in text and "+tell me a joke" in text
    assert "hunter2" not in text
    assert os.stat(history).st_mode & 0o077 == 0  # private to the user

    second = make_app(lab, tmp_path, bot=make_bot(lab, "device-B"), history_path=history)
    async with second.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("up")
        assert second.chat_input.value == "tell me a joke"
        await pilot.press("up")
        assert second.chat_input.value == "am I licensed?"


async def test_history_file_location_follows_the_environment(lab: Lab, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHATBOT_STATE_DIR", str(tmp_path / "elsewhere"))
    app = ChatApp(make_bot(lab), cursor_blink=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await type_line(pilot, "am I licensed?")
    assert "+am I licensed?" in (tmp_path / "elsewhere" / "history").read_text(encoding="utf-8")


# -- suggestions ---------------------------------------------------------------------------------


async def test_inline_suggestions_complete_command_phrases(lab: Lab, tmp_path: Path) -> None:
    app = make_app(lab, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press(*"am I l")
        await wait_until(pilot, lambda: app.chat_input._suggestion == "am I licensed?", "the suggestion")
        await pilot.press("tab")
        assert app.chat_input.value == "am I licensed?"
        app.chat_input.value = ""
        # the bot's own suggestions come first: the greeting offers "which keys can I use?" only on
        # the demo vendor, so use one it always offers after an unknown line
        await type_line(pilot, "blah blah")
        assert "tell me a joke" in app.bot.handle("blah blah").suggestions
        await pilot.press(*"tell")
        await wait_until(pilot, lambda: app.chat_input._suggestion == "tell me a joke", "the bot's suggestion")


# -- the status bar, through a real offline activation ------------------------------------------


async def test_status_bar_before_and_after_an_offline_activation(lab: Lab, tmp_path: Path) -> None:
    key = lab.issue("perpetual", features=("jokes",))
    app = make_app(lab, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.status_bar.text == "○ Not licensed (no_license) · offline"
        assert app.status_bar.has_class("unlicensed")

        await type_line(pilot, f"create activation request for {key}")
        request = lab.config("device-A").requests_dir / "ls_activation.req"
        assert request.is_file(), screen_text(app)
        assert app.status_bar.text == "○ Not licensed (no_license) · offline"

        lab.respond(request)  # the vendor answers: ls_activation.lic next to the request
        await type_line(pilot, "activate offline")
        assert app.status_bar.text == "● Licensed · perpetual · no expiry · offline", screen_text(app)
        assert app.status_bar.has_class("licensed")
        assert "● Licensed · perpetual · no expiry · offline" in screen_text(app)


async def test_status_bar_shows_uses_left_and_expiry(lab: Lab, tmp_path: Path) -> None:
    from datetime import timedelta

    manager = lab.manager("device-A")
    key = lab.issue("consumption", features=("wordcount",), max_consumptions=12,
                    expires=lab.clock() + timedelta(days=29, hours=1))
    lab.activate(manager, key)
    app = make_app(lab, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.status_bar.text == "● Licensed · consumption · 12 uses left · expires in 29 days · offline"
        await type_line(pilot, "count words in one two three")
        assert "3" in bot_replies(app)[-1].text
        assert app.status_bar.text == "● Licensed · consumption · 11 uses left · expires in 29 days · offline"


def test_status_line_wording() -> None:
    from chatbot.bot import LicenseStatus

    assert format_status(LicenseStatus(False, None, None, None, None, None, "x", "no_license")) == \
        "○ Not licensed (no_license) · online: not checked"
    assert format_status(LicenseStatus(True, "time-based", None, 1, None, True, "x", None)) == \
        "● Licensed · time-based · expires tomorrow · online"
    assert format_status(LicenseStatus(False, "time-based", None, -2, None, False, "x", "license_expired")) == \
        "○ Not licensed (license_expired) · time-based · expired 2 days ago · offline"
    assert format_status(LicenseStatus(True, "consumption", None, None, 1, False, "x", None)) == \
        "● Licensed · consumption · 1 use left · no expiry · offline"


# -- palette, file picker, copy, help, theme, quit ---------------------------------------------


async def test_palette_entry_sends_its_phrase(lab: Lab, tmp_path: Path) -> None:
    app = make_app(lab, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette), "the palette")
        await pilot.press(*"list feat")
        await wait_until(pilot, lambda: "List features" in screen_text(app), "the palette entry")
        await pilot.press("enter")
        await wait_until(pilot, lambda: user_lines(app) != [], "the phrase to be sent")
        await settle(pilot)
        assert user_lines(app) == ["list features"]
        assert len(bot_replies(app)) == 2
        assert bot_replies(app)[-1].text  # the bot answered (no license: it says so)


async def test_palette_lists_the_main_actions(lab: Lab, tmp_path: Path) -> None:
    app = make_app(lab, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette), "the palette")
        await pilot.press(*"offline")
        await wait_until(pilot, lambda: "Activate offline" in screen_text(app)
                         and "Deactivate offline" in screen_text(app), "the offline entries")
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, CommandPalette), "the palette to close")
        assert user_lines(app) == []


async def test_file_picker_inserts_the_chosen_path_and_activation_works(lab: Lab, tmp_path: Path) -> None:
    key = lab.issue("perpetual")
    folder = tmp_path / "USB stick"
    folder.mkdir()
    (folder / "notes.txt").write_text("not a licensing file")
    app = make_app(lab, tmp_path, start_dir=folder)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await type_line(pilot, f"create activation request for {key}")
        lab.respond(lab.config("device-A").requests_dir / "ls_activation.req", folder / "ls_activation.lic")

        app.chat_input.insert_text_at_cursor("activate offline")
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: isinstance(app.screen, FilePickerScreen), "the file picker")
        tree = app.screen.query_one(LicenseFileTree)
        await wait_until(pilot, lambda: len(tree.root.children) > 0, "the folder to be listed")
        await pilot.pause(0.1)
        shown = [str(node.label) for node in tree.root.children]
        assert shown == ["ls_activation.lic"]  # folders and .lic/.req only: notes.txt is hidden
        await pilot.press("down", "enter")
        await wait_until(pilot, lambda: not isinstance(app.screen, FilePickerScreen), "the picker to close")
        expected = f'activate offline "{folder / "ls_activation.lic"}"'
        assert app.chat_input.value == expected
        await pilot.press("enter")
        await settle(pilot)
        assert app.status_bar.text.startswith("● Licensed · perpetual"), screen_text(app)


async def test_palette_opens_the_file_picker(lab: Lab, tmp_path: Path) -> None:
    app = make_app(lab, tmp_path, start_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await wait_until(pilot, lambda: isinstance(app.screen, CommandPalette), "the palette")
        await pilot.press(*"choose a lic")
        await wait_until(pilot, lambda: "Choose a license file" in screen_text(app), "the picker entry")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, FilePickerScreen), "the file picker")
        await pilot.press("escape")


async def test_file_picker_cancel_changes_nothing(lab: Lab, tmp_path: Path) -> None:
    app = make_app(lab, tmp_path, start_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.chat_input.insert_text_at_cursor("refresh license")
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: isinstance(app.screen, FilePickerScreen), "the file picker")
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, FilePickerScreen), "the picker to close")
        assert app.chat_input.value == "refresh license"
        assert app.focused is app.chat_input


async def test_ctrl_y_copies_the_last_reply(lab: Lab, tmp_path: Path) -> None:
    app = make_app(lab, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await type_line(pilot, "am I licensed?")
        await pilot.press("ctrl+y")
        await pilot.pause()
        assert app.clipboard == bot_replies(app)[-1].text
        assert app.clipboard.startswith("**You are not licensed")


async def test_f1_opens_the_help_with_the_key_bindings(lab: Lab, tmp_path: Path) -> None:
    app = make_app(lab, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), "the help screen")
        await pilot.pause()
        screen = screen_text(app)
        for keys in ("Ctrl+P", "Ctrl+O", "Ctrl+Y", "Ctrl+Q", "F1", "Up / Down"):
            assert keys in screen
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, HelpScreen), "the help to close")


async def test_light_theme_by_default_and_dark_on_request(lab: Lab, tmp_path: Path) -> None:
    app = make_app(lab, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.theme == LIGHT_THEME
        await pilot.press("ctrl+t")
        assert app.theme == DARK_THEME
    dark = make_app(lab, tmp_path, theme=DARK_THEME)
    async with dark.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert dark.theme == DARK_THEME


async def test_ctrl_q_quits(lab: Lab, tmp_path: Path) -> None:
    app = make_app(lab, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: not app.is_running, "the app to end")
    assert app.return_code == 0


async def test_the_bots_goodbye_quits(lab: Lab, tmp_path: Path) -> None:
    app = make_app(lab, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press(*"quit", "enter")
        await wait_until(pilot, lambda: not app.is_running, "the app to end")
    assert app.return_code == 0


async def test_page_keys_scroll_the_transcript(lab: Lab, tmp_path: Path) -> None:
    app = make_app(lab, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        for _ in range(2):
            await type_line(pilot, "help")
        transcript = app.transcript
        assert transcript.max_scroll_y > 0
        assert transcript.scroll_y == transcript.max_scroll_y  # anchored to the newest message
        await pilot.press("pageup")
        await wait_until(pilot, lambda: transcript.scroll_y < transcript.max_scroll_y, "a page up")
        await pilot.press("ctrl+end")
        await wait_until(pilot, lambda: transcript.scroll_y == transcript.max_scroll_y, "the end")


# -- responsiveness: the bot runs in a worker thread ---------------------------------------------


class HeldBot:
    """The real bot, held on an event inside ``handle`` (the engine doing slow I/O)."""

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self.started = threading.Event()
        self.release = threading.Event()
        self.threads: list[str] = []

    def greeting(self) -> Any:
        return self.bot.greeting()

    def status(self) -> Any:
        return self.bot.status()

    def warm(self) -> None:
        self.bot.warm()

    def handle(self, text: str) -> Any:
        self.threads.append(threading.current_thread().name)
        self.started.set()
        assert self.release.wait(10)
        return self.bot.handle(text)


async def test_the_ui_stays_responsive_while_the_bot_works(lab: Lab, tmp_path: Path) -> None:
    held = HeldBot(make_bot(lab))
    app = make_app(lab, tmp_path, bot=held)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.chat_input.insert_text_at_cursor("am I licensed?")
        await pilot.press("enter")
        await wait_until(pilot, held.started.is_set, "the bot to start working")
        # the bot is stuck in handle(); the UI still takes keys, shows them, and says it is working
        await pilot.press(*"list features")
        assert app.chat_input.value == "list features"
        assert app.status_bar.has_class("busy")
        assert "working…" in screen_text(app)
        await pilot.press("enter")  # queued behind the first line
        assert user_lines(app) == ["am I licensed?", "list features"]
        assert len(bot_replies(app)) == 1
        held.release.set()
        await settle(pilot)
        assert len(bot_replies(app)) == 3  # both answered, in order
        assert not app.status_bar.has_class("busy")
    assert held.threads and all(name != threading.main_thread().name for name in held.threads)


async def test_ctrl_q_while_the_bot_works_quits_cleanly(lab: Lab, tmp_path: Path) -> None:
    held = HeldBot(make_bot(lab))
    app = make_app(lab, tmp_path, bot=held)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.chat_input.insert_text_at_cursor("am I licensed?")
        await pilot.press("enter")
        await wait_until(pilot, held.started.is_set, "the bot to start working")
        threading.Timer(0.3, held.release.set).start()  # the engine finishes its file I/O a bit later
        await pilot.press("ctrl+q")
        await wait_until(pilot, lambda: not app.is_running, "the app to end")
    assert app.return_code == 0


# -- snapshots (80×24, fixed clock and ids) ------------------------------------------------------


async def test_snapshot_greeting(lab: Lab, tmp_path: Path) -> None:
    app = make_app(lab, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert_snapshot(app, "greeting")


async def test_snapshot_status_change(lab: Lab, tmp_path: Path) -> None:
    key = lab.issue("consumption", features=("wordcount",), max_consumptions=5)
    lab.activate(lab.manager("device-A"), key)
    app = make_app(lab, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await type_line(pilot, "count words in the quick brown fox")
        assert "4 uses left" in app.status_bar.text
        assert_snapshot(app, "status_change")


async def test_snapshot_help(lab: Lab, tmp_path: Path) -> None:
    app = make_app(lab, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("f1")
        await wait_until(pilot, lambda: isinstance(app.screen, HelpScreen), "the help screen")
        await pilot.pause()
        assert_snapshot(app, "help")


def test_history_store_is_bounded_and_shared_format(tmp_path: Path) -> None:
    path = tmp_path / "history"
    store = HistoryStore(path, limit=5)
    for number in range(12):
        store.append(f"line {number}")
    assert store.entries == [f"line {n}" for n in range(7, 12)]
    reloaded = HistoryStore(path, limit=5)
    assert reloaded.entries == store.entries
    assert path.read_text().count("\n+") <= 10  # trimmed on disk once it grew past twice the limit
    assert not store.append("   ")
    assert not store.append("line 11")  # no immediate repeats
    assert not store.append("anything", secret=True)
