"""Passwords reach ``licensing-portal`` on a prompt, standard input or a file — never in its arguments.

The attack (issue 9, item 10): ``license issue --password s3cret`` put the password where every
user of the machine reads it (``ps``, ``/proc/PID/cmdline``) for as long as the command runs, and
in the shell history. These tests run the real command in a child process and look at its
command line from outside, as another user would.
"""

from __future__ import annotations

import fcntl
import json
import os
import select
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from licensing.issuing import catalog
from licensing.issuing.passwords import password_matches
from licensing.issuing.portal.settings import read_portal_file
from licensing.issuing.workspace import DATA_ENV, VendorWorkspace

SECRET = "correct horse battery staple"
CLI = [sys.executable, "-m", "licensing.issuing.cli"]


@pytest.fixture
def vendor(tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, DATA_ENV: str(tmp_path / "vendor")}
    for command in (["init"], ["product", "add", "chatbot"]):
        done = subprocess.run([*CLI, *command], capture_output=True, text=True, env=env, timeout=60)
        assert done.returncode == 0, done.stderr
    return env


def _stored_hash(env: dict[str, str], user: str) -> str | None:
    workspace = VendorWorkspace.open(Path(env[DATA_ENV]))
    try:
        with workspace.store.session() as session:
            return catalog.get_license(session, user).password_hash
    finally:
        workspace.close()


def _issue(user: str) -> list[str]:
    return [*CLI, "--json", "license", "issue", "--product", "chatbot", "--type", "perpetual", "--user", user]


def test_password_on_stdin_is_never_in_the_process_list(vendor: dict[str, str]) -> None:
    child = subprocess.Popen([*_issue("ann@example.com"), "--password-stdin"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=vendor)
    # what `ps` shows any user, read while the command is running (it waits for its standard input)
    seen = ""
    deadline = time.monotonic() + 30
    while "license issue" not in seen and time.monotonic() < deadline:
        seen = Path(f"/proc/{child.pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        time.sleep(0.01)
    out, err = child.communicate(SECRET + "\n", timeout=60)
    assert child.returncode == 0, err
    assert "license issue" in seen and SECRET not in seen
    assert json.loads(out)["user"] == "ann@example.com" and SECRET not in out + err
    assert password_matches(_stored_hash(vendor, "ann@example.com"), SECRET)


def test_password_file(vendor: dict[str, str], tmp_path: Path) -> None:
    secret_file = tmp_path / "pw.txt"
    secret_file.write_text(SECRET + "\r\nignored second line\n")
    done = subprocess.run([*_issue("bob@example.com"), "--password-file", str(secret_file)], capture_output=True,
                          text=True, env=vendor, timeout=60)
    assert done.returncode == 0, done.stderr
    assert password_matches(_stored_hash(vendor, "bob@example.com"), SECRET)
    missing = subprocess.run([*_issue("cid@example.com"), "--password-file", str(tmp_path / "nope")],
                             capture_output=True, text=True, env=vendor, timeout=60)
    assert missing.returncode == 1 and json.loads(missing.stdout)["code"] == "invalid_argument"
    assert "Cannot read the password file" in json.loads(missing.stdout)["message"]


def test_the_old_password_flag_is_refused_and_says_what_to_use(vendor: dict[str, str]) -> None:
    done = subprocess.run([*_issue("dan@example.com"), "--password", SECRET], capture_output=True, text=True,
                          env=vendor, timeout=60)
    assert done.returncode == 1
    answer = json.loads(done.stdout)
    assert answer["code"] == "invalid_argument" and "(ps)" in answer["message"]
    assert "--password-stdin" in answer["hint"] and "--password-file" in answer["hint"]
    listing = subprocess.run([*CLI, "--json", "license", "list"], capture_output=True, text=True, env=vendor,
                             timeout=60)
    assert json.loads(listing.stdout)["licenses"] == []  # nothing was issued


def test_without_a_terminal_or_an_option_it_says_how_to_pass_the_password(vendor: dict[str, str]) -> None:
    done = subprocess.run(_issue("eve@example.com"), stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          env=vendor, timeout=60)
    assert done.returncode == 1
    answer = json.loads(done.stdout)
    assert "no terminal" in answer["message"] and "--password-stdin" in answer["hint"]
    key_based = subprocess.run([*CLI, "--json", "license", "issue", "--product", "chatbot", "--type", "perpetual",
                                "--password-stdin"], input=SECRET, capture_output=True, text=True, env=vendor,
                               timeout=60)
    assert key_based.returncode == 1 and "only for a user-based license" in json.loads(key_based.stdout)["message"]


def _run_on_a_terminal(command: list[str], env: dict[str, str], answers: list[str]) -> tuple[int, str]:
    """Run ``command`` with a pseudo-terminal as its controlling terminal; type each answer at a prompt."""
    main, child_end = os.openpty()

    def take_the_terminal() -> None:
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    child = subprocess.Popen(command, stdin=child_end, stdout=child_end, stderr=child_end, env=env,
                             preexec_fn=take_the_terminal, close_fds=True)
    os.close(child_end)
    shown, since, pending = b"", b"", list(answers)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ready, _, _ = select.select([main], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(main, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            shown, since = shown + chunk, since + chunk
            if pending and since.rstrip().endswith(b":"):  # a prompt (getpass flushes input typed before it)
                os.write(main, pending.pop(0).encode() + b"\n")
                since = b""
        elif child.poll() is not None:
            break
    code = child.wait(timeout=30)
    os.close(main)
    return code, shown.decode(errors="replace")


def test_a_person_is_asked_twice_at_the_terminal(vendor: dict[str, str]) -> None:
    code, shown = _run_on_a_terminal(_issue("fay@example.com"), vendor, [SECRET, SECRET])
    assert code == 0, shown
    assert "The password for fay@example.com:" in shown and "Type it again:" in shown
    assert SECRET not in shown  # not echoed
    assert password_matches(_stored_hash(vendor, "fay@example.com"), SECRET)
    code, shown = _run_on_a_terminal(_issue("gus@example.com"), vendor, [SECRET, "something else"])
    assert code == 1 and "not the same" in shown


def test_admin_set_password_from_a_file(vendor: dict[str, str], tmp_path: Path) -> None:
    secret_file = tmp_path / "admin.txt"
    secret_file.write_text("the portal admin password\n")
    done = subprocess.run([*CLI, "admin", "set-password", "--password-file", str(secret_file)], capture_output=True,
                          text=True, env=vendor, timeout=60)
    assert done.returncode == 0, done.stderr
    stored = read_portal_file(Path(vendor[DATA_ENV]))
    assert stored is not None and password_matches(stored.admin_password_hash, "the portal admin password")
    both = subprocess.run([*CLI, "admin", "set-password", "--password-file", str(secret_file), "--password-stdin"],
                          capture_output=True, text=True, env=vendor, timeout=60)
    assert both.returncode == 2 and "not allowed with argument" in both.stderr
