"""Where a command gets a password from: a prompt, standard input or a file — never its arguments.

A password in the arguments is readable by every user of the machine while the command runs
(``ps``, ``/proc/PID/cmdline``) and stays in the shell's history, so no command takes one there.
Scripts pass it on standard input (``--password-stdin``) or in a file only they can read
(``--password-file``); people are asked twice at the terminal.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from ... import UsageError

__all__ = ["read_password", "refuse_password_argument"]


def _first_line(text: str) -> str:
    return text.split("\n", 1)[0].rstrip("\r")


def read_password(args: argparse.Namespace, *, what: str, command: str) -> str:
    """The password for ``command`` (the words after ``licensing-portal``), from the source the options name."""
    if args.password_stdin:
        line = sys.stdin.readline()
        if not line:
            raise UsageError(f"No password arrived on standard input for {what}.",
                             hint=f"Pipe it in, e.g.: printf '%s\\n' \"$PASSWORD\" | licensing-portal {command} "
                                  "--password-stdin")
        return _first_line(line)
    if args.password_file:
        path = Path(args.password_file).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeError) as exc:
            raise UsageError(f"Cannot read the password file {path}: {getattr(exc, 'strerror', None) or exc}.",
                             hint="Give a readable UTF-8 text file whose first line is the password.") from None
        if not text:
            raise UsageError(f"The password file {path} is empty.", hint="Put the password on its first line.")
        return _first_line(text)
    if not sys.stdin.isatty():
        raise UsageError(f"There is no terminal to ask for {what} on.",
                         hint="Pass it with --password-stdin (on standard input) or --password-file FILE.")
    first = getpass.getpass(f"{what[0].upper()}{what[1:]}: ")
    second = getpass.getpass("Type it again: ")
    if first != second:
        raise UsageError("The two passwords are not the same; nothing was changed.", hint="Run the command again.")
    return first


def refuse_password_argument(args: argparse.Namespace) -> None:
    """``--password VALUE`` is gone: say why and what replaces it, before anything is done."""
    if getattr(args, "password", None) is not None:
        raise UsageError("--password is no longer accepted: a password on the command line can be read by every "
                         "user of this machine (ps) and stays in the shell history.",
                         hint="Use --password-stdin (printf '%s\\n' \"$PASSWORD\" | licensing-portal ... "
                              "--password-stdin), --password-file FILE, or type it when asked.")
