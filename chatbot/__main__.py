"""``chatbot``: the licensing chatbot's entry point.

Which shell runs:

* standard input is not a terminal → pipe mode: each line in, each reply out (exit 1 if a line
  failed): ``printf 'am I licensed?\\n' | chatbot``;
* ``--plain``, or ``TERM=dumb`` → the prompt_toolkit REPL;
* otherwise → the Textual app (the window appears first; the bot is made in a worker).

A licensing error at start-up (a bad ``--config``, say) prints ``error: …`` and ``hint: …`` and
exits with status 2. This module imports only the standard library at load time, so ``chatbot
--help`` stays fast; each shell imports what it needs when it runs.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .bot import Bot

__all__ = ["main"]

EXIT_STARTUP_ERROR = 2

DESCRIPTION = """\
A terminal chatbot licensed by the offline-licensing toolkit. Ask it in plain words:
"am I licensed?", "create activation request for XXXX-XXXX-XXXX-XXXX", "activate offline",
"refresh license", "deactivate offline", "help".
"""

EPILOG = """\
configuration: --config FILE, else $CHATBOT_CONFIG, else the built-in demo vendor (made on the
first run, so the whole tutorial works on one machine). $CHATBOT_CONFIG_FINGERPRINT pins the
configuration file (sha256:..., from the vendor): an edited file is refused. The demo vendor's
file is pinned when the demo is built. $CHATBOT_HARDWARE_ID pins this device's id (containers).
modes: a terminal gets the full-screen app (F1: keys, ctrl+p: actions, ctrl+q: quit);
--plain or TERM=dumb gets a plain prompt; piped input gets one reply per line (exit 1 if a line
failed). Input history: $CHATBOT_STATE_DIR/history, else the user state folder.
"""


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("offline-licensing")
    except PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "unknown"


class _VersionAction(argparse.Action):
    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        super().__init__(option_strings, dest=dest, default=argparse.SUPPRESS, nargs=0,
                         help="print the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        print(f"chatbot {_version()}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chatbot", description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--plain", action="store_true",
                        help="plain prompt (prompt_toolkit) for dumb terminals, screen readers and SSH")
    parser.add_argument("--config", metavar="FILE", type=Path,
                        help="the licensing configuration file (default: $CHATBOT_CONFIG, else the demo vendor)")
    parser.add_argument("--dark", action="store_true", help="start the full-screen app with the dark theme")
    parser.add_argument("--version", action=_VersionAction)
    return parser


def _is_license_error(error: BaseException) -> bool:
    from licensing import LicenseError

    return isinstance(error, LicenseError)


def _report(error: BaseException) -> int:
    """Print a start-up refusal for people (no traceback); the exit status to use."""
    message = getattr(error, "message", None) or str(error)
    code = getattr(error, "code", None)
    hint = getattr(error, "hint", None)
    print(f"error: {message}" + (f" ({code})" if code else ""), file=sys.stderr)
    if hint:
        print(f"hint: {hint}", file=sys.stderr)
    return EXIT_STARTUP_ERROR


def _mode(args: argparse.Namespace) -> str:
    try:
        interactive = sys.stdin is not None and sys.stdin.isatty()
    except (ValueError, OSError):  # a closed standard input
        interactive = False
    if not interactive:
        return "pipe"
    if args.plain or os.environ.get("TERM", "") == "dumb":
        return "plain"
    return "tui"


def _make_bot(config: Path | None) -> Bot:
    from .bootstrap import create_bot

    return create_bot(config)


def _run_tui(args: argparse.Namespace) -> int:
    from .tui.app import DARK_THEME, LIGHT_THEME, ChatApp

    app = ChatApp(config_path=args.config, theme=DARK_THEME if args.dark else LIGHT_THEME)
    app.run()
    result = app.return_value
    if isinstance(result, BaseException):
        if _is_license_error(result):
            return _report(result)
        raise result
    return app.return_code or 0


def _run_line_mode(mode: str, args: argparse.Namespace) -> int:
    try:
        bot = _make_bot(args.config)
    except Exception as error:
        if _is_license_error(error):
            return _report(error)
        raise
    from .repl import run_pipe, run_repl

    if mode == "pipe":
        stdin = sys.stdin
        if stdin is None:
            return 0
        if hasattr(stdin, "reconfigure"):
            stdin.reconfigure(errors="replace")
        try:
            return run_pipe(bot, stdin, sys.stdout)
        except BrokenPipeError:
            # The reader went away (`chatbot | head -1`): stop quietly, as other filters do.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            return 1
    return run_repl(bot)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    mode = _mode(args)
    if args.config is not None and not args.config.expanduser().is_file():
        # Said before any window opens (the engine would say the same a moment later).
        print(f"error: There is no configuration file at {args.config.expanduser()} (file_not_found)",
              file=sys.stderr)
        print("hint: Check the path, or export one with: licensing-portal product export-config PRODUCT -o FILE",
              file=sys.stderr)
        return EXIT_STARTUP_ERROR
    try:
        if mode == "tui":
            return _run_tui(args)
        return _run_line_mode(mode, args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
