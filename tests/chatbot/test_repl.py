"""The plain shells: the prompt_toolkit REPL (``create_pipe_input`` + ``DummyOutput``) and pipe mode.

The REPL runs the real bot on the real engine (``lab``); pipe mode is also run as a real process
(``python -m chatbot`` with standard input from a pipe), on a lab configuration and on the
built-in demo vendor.
"""

from __future__ import annotations

import io
import json
import random
import subprocess
import sys
import threading
import time
from datetime import timezone
from pathlib import Path

import pytest
from prompt_toolkit.completion import CompleteEvent
from prompt_toolkit.document import Document
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from chatbot.bot import Bot
from chatbot.repl import phrase_completer, run_pipe, run_repl
from chatbot.tui.common import HistoryStore, read_history

from support.lab import PRODUCT, Lab, isolated_home

ROOT = Path(__file__).resolve().parents[2]


def make_bot(lab: Lab, device: str = "device-A") -> Bot:
    return Bot(lab.manager(device), rng=random.Random(3), local_tz=timezone.utc)


def repl(bot: Bot, keys: str, history: Path) -> tuple[int, str]:
    """Run the REPL on ``keys`` (typed all at once); its exit status and what it printed."""
    out = io.StringIO()
    with create_pipe_input() as pipe:
        pipe.send_text(keys)
        status = run_repl(bot, input=pipe, output=DummyOutput(), history_path=history, stdout=out)
    return status, out.getvalue()


# -- the REPL ------------------------------------------------------------------------------------


def test_repl_answers_each_line_and_records_the_history(lab: Lab, tmp_path: Path) -> None:
    history = tmp_path / "state" / "history"
    status, out = repl(make_bot(lab), "am I licensed?\nlist features\n\x04", history)
    assert status == 0
    assert out.startswith("Hi! I'm the licensing chatbot.")  # the greeting first
    assert "[status] ○ Not licensed (no_license) · offline" in out
    assert "**You are not licensed" in out  # Markdown printed as it is: readable plain text
    assert read_history(history) == ["am I licensed?", "list features"]
    assert "+am I licensed?" in history.read_text(encoding="utf-8")  # prompt_toolkit's FileHistory format


def test_ctrl_c_clears_the_line_and_the_conversation_goes_on(lab: Lab, tmp_path: Path) -> None:
    history = tmp_path / "history"
    status, out = repl(make_bot(lab), "half typed nonsense\x03am I licensed?\n\x04", history)
    assert status == 0
    assert "half typed" not in out  # never sent to the bot
    assert "**You are not licensed" in out
    assert read_history(history) == ["am I licensed?"]


def test_ctrl_d_exits_with_status_0(lab: Lab, tmp_path: Path) -> None:
    status, out = repl(make_bot(lab), "\x04", tmp_path / "history")
    assert status == 0
    assert "licensing chatbot" in out
    assert not (tmp_path / "history").exists() or read_history(tmp_path / "history") == []


def test_a_quit_reply_ends_the_repl(lab: Lab, tmp_path: Path) -> None:
    status, out = repl(make_bot(lab), "quit\nam I licensed?\n", tmp_path / "history")
    assert status == 0
    assert "You are not licensed" not in out  # nothing after the goodbye was read


def test_up_arrow_recalls_a_line_the_tui_saved(lab: Lab, tmp_path: Path) -> None:
    history = tmp_path / "history"
    HistoryStore(history).append("list features")  # what the Textual app writes
    HistoryStore(history).append("am I licensed?")
    status, out = repl(make_bot(lab), "\x1b[A\x1b[A\n\x04", history)  # up, up, enter
    assert status == 0
    assert read_history(history) == ["list features", "am I licensed?", "list features"]


def test_password_lines_never_reach_the_history(lab: Lab, tmp_path: Path) -> None:
    history = tmp_path / "history"
    status, out = repl(make_bot(lab), "user someone@example.com password hunter2\nam I licensed?\n\x04", history)
    assert status == 0
    assert "hunter2" not in history.read_text(encoding="utf-8")
    assert read_history(history) == ["am I licensed?"]


def test_status_line_is_printed_when_it_changes(lab: Lab, tmp_path: Path) -> None:
    key = lab.issue("perpetual")
    manager = lab.manager("device-A")
    from licensing import LicenseID

    lab.respond(manager.create_offline_activation_file(LicenseID.from_key(key)))  # steps 1 and 2 (vendor)
    status, out = repl(make_bot(lab), "am I licensed?\nactivate offline\nam I licensed?\n\x04", tmp_path / "h")
    assert status == 0
    lines = [line for line in out.splitlines() if line.startswith("[status]")]
    assert lines == ["[status] ○ Not licensed (no_license) · offline",
                     "[status] ● Licensed · perpetual · no expiry · offline"]


def test_completion_offers_whole_phrases_and_the_bots_suggestions() -> None:
    latest: tuple[str, ...] = ("which keys can I use?",)
    completer = phrase_completer(lambda: latest)

    def complete(text: str) -> list[str]:
        return [c.text for c in completer.get_completions(Document(text), CompleteEvent(completion_requested=True))]

    assert complete("am I lic") == ["am I licensed?"]
    assert "create activation request" in complete("create act")
    assert complete("which") == ["which keys can I use?"]
    assert complete("deactivate off") == ["deactivate offline"]


def test_tab_completes_in_a_running_repl(lab: Lab, tmp_path: Path) -> None:
    out = io.StringIO()
    result: list[int] = []
    with create_pipe_input() as pipe:
        worker = threading.Thread(target=lambda: result.append(run_repl(
            make_bot(lab), input=pipe, output=DummyOutput(), history_path=tmp_path / "h", stdout=out)))
        worker.start()
        pipe.send_text("am I lic\t")
        time.sleep(1.0)  # completions are computed in the background, as when a person types
        pipe.send_text("\n")
        time.sleep(0.5)
        pipe.send_text("\x04")
        worker.join(10)
    assert result == [0]
    assert read_history(tmp_path / "h") == ["am I licensed?"]


# -- pipe mode (function) ------------------------------------------------------------------------


def test_run_pipe_prints_each_reply_and_reports_failures(lab: Lab) -> None:
    out = io.StringIO()
    assert run_pipe(make_bot(lab), ["am I licensed?\n", "\n", "list features\n"], out) == 1  # no license: refused
    text = out.getvalue()
    assert text.startswith("**You are not licensed")
    assert text.count("\n\n") >= 1
    out = io.StringIO()
    assert run_pipe(make_bot(lab), ["am I licensed?\n", "help\n"], out) == 0


def test_run_pipe_stops_at_a_quit_reply(lab: Lab) -> None:
    out = io.StringIO()
    assert run_pipe(make_bot(lab), ["quit\n", "nonsense that would fail\n"], out) == 0
    assert "nonsense" not in out.getvalue()


# -- pipe mode (a real process) ------------------------------------------------------------------


@pytest.fixture
def process_env(tmp_path: Path) -> dict[str, str]:
    return isolated_home(tmp_path, "pipe-device")


def chatbot(stdin: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "chatbot", *args], input=stdin, capture_output=True, text=True,
                          env=env, timeout=60, cwd=ROOT)


def test_piped_question_is_answered_with_status_0(lab: Lab, tmp_path: Path, process_env: dict[str, str]) -> None:
    config = lab.vendor.client_configuration(PRODUCT).write_file(tmp_path / "config.json")
    result = chatbot("am I licensed?\n", dict(process_env, CHATBOT_CONFIG=str(config)))
    assert result.returncode == 0, result.stderr  # the question was answered fine (the answer is "no")
    assert result.stdout.startswith("**You are not licensed")
    assert result.stderr == ""
    assert "\x1b" not in result.stdout  # plain text: no terminal escapes in a pipe


def test_a_failing_piped_line_gives_status_1(lab: Lab, tmp_path: Path, process_env: dict[str, str]) -> None:
    config = lab.vendor.client_configuration(PRODUCT).write_file(tmp_path / "config.json")
    result = chatbot("am I licensed?\nhow much does a license cost?\n", dict(process_env, CHATBOT_CONFIG=str(config)))
    assert result.returncode == 1
    assert "You are not licensed" in result.stdout and "contact your vendor" in result.stdout


def test_the_demo_vendor_tutorial_through_pipes(process_env: dict[str, str], tmp_path: Path) -> None:
    """No configuration at all: the first run builds the demo vendor; the whole offline flow follows."""
    env = dict(process_env, CHATBOT_DATA_DIR=str(tmp_path / "chatbot-data"))
    first = chatbot("which keys can I use?\n", env)
    assert first.returncode == 0, first.stderr
    licenses = json.loads((tmp_path / "chatbot-data" / "demo-vendor" / "demo-licenses.json").read_text())["licenses"]
    key = licenses["perpetual"]
    assert key in first.stdout

    step1 = chatbot(f"activate offline {key}\n", env)
    assert step1.returncode == 0, step1.stdout
    request = Path(process_env["HOME"]) / "Desktop" / "ls_activation.req"
    assert request.is_file(), step1.stdout
    portal = Path(sys.executable).parent / "licensing-portal"
    respond = subprocess.run([str(portal), "--data", str(tmp_path / "chatbot-data" / "demo-vendor"), "respond",
                              str(request)], capture_output=True, text=True, env=env, timeout=60, cwd=tmp_path)
    assert respond.returncode == 0, respond.stderr
    assert (request.parent / "ls_activation.lic").is_file()

    step2 = chatbot("activate offline\nam I licensed?\ntell me a joke\n", env)
    assert step2.returncode == 0, step2.stdout
    assert "activated offline" in step2.stdout.lower()
