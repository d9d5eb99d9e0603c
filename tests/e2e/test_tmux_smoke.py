"""One real-terminal smoke test: the ``chatbot`` app under tmux, typed at like a person would.

tmux runs on a private socket in the test's temporary folder (never the user's server); HOME, the
XDG folders, ``$CHATBOT_STATE_DIR``, ``$CHATBOT_CONFIG`` and ``$CHATBOT_HARDWARE_ID`` all point
into that folder, so nothing outside it is read or written.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support.lab import PRODUCT, isolated_home

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (CI installs it)")


class Tmux:
    def __init__(self, socket: Path) -> None:
        self.socket = socket

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["tmux", "-S", str(self.socket), *args], capture_output=True, text=True,
                              check=check, timeout=10)

    def screen(self) -> str:
        result = self("capture-pane", "-p", "-t", "chat", check=False)
        return result.stdout if result.returncode == 0 else ""

    def wait_for(self, predicate, timeout: float = 15.0) -> str:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            text = self.screen()
            if predicate(text):
                return text
            time.sleep(0.1)
        raise AssertionError(f"the screen never showed what was expected; it shows:\n{text}")

    def alive(self) -> bool:
        return self("has-session", "-t", "chat", check=False).returncode == 0


def test_chatbot_in_a_real_terminal(lab, tmp_path: Path) -> None:
    config = lab.vendor.client_configuration(PRODUCT).write_file(tmp_path / "chatbot-config.json")
    isolated = isolated_home(tmp_path, "tmux-device")
    env = {name: isolated[name] for name in ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME",
                                             "XDG_CACHE_HOME", "CHATBOT_STATE_DIR", "CHATBOT_HARDWARE_ID")}
    env.update({"CHATBOT_CONFIG": str(config), "TERM": "xterm-256color", "LANG": "C.UTF-8",
                "PATH": os.environ.get("PATH", "/usr/bin:/bin")})
    command = " ".join(shlex.quote(part) for part in [
        "env", *(f"{key}={value}" for key, value in env.items()), sys.executable, "-m", "chatbot"])
    tmux = Tmux(tmp_path / "tmux.sock")
    tmux("-f", "/dev/null", "new-session", "-d", "-s", "chat", "-x", "100", "-y", "30", command)
    try:
        first = tmux.wait_for(lambda text: "Licensing chatbot" in text)
        assert "Licensing chatbot" in first
        # the greeting and the status bar, once the bot is made (in a worker, after the first screen)
        tmux.wait_for(lambda text: "Not licensed" in text)

        tmux("send-keys", "-t", "chat", "-l", "am I licensed?")
        tmux("send-keys", "-t", "chat", "Enter")
        screen = tmux.wait_for(lambda text: "you › am I licensed?" in text and text.count("icense") >= 3)
        # the user's line, the bot's answer below it, and the status bar, all on a real screen
        lines = screen.splitlines()
        asked = next(i for i, line in enumerate(lines) if "you › am I licensed?" in line)
        assert any(line.strip() for line in lines[asked + 1:]), screen
        assert any("○ Not licensed" in line for line in lines), screen
        history = (tmp_path / "state" / "history").read_text(encoding="utf-8")
        assert "+am I licensed?" in history

        tmux("send-keys", "-t", "chat", "C-q")
        deadline = time.monotonic() + 10
        while tmux.alive() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not tmux.alive(), "ctrl+q did not end the app:\n" + tmux.screen()
    finally:
        tmux("kill-server", check=False)
