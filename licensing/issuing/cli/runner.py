"""``main``: parse the command line, run the one handler it names, print its output or its error."""

from __future__ import annotations

import importlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TextIO

from ... import LicenseError, StorageError, UsageError
from ...wire import Clock, system_clock
from .context import CommandContext
from .parser import ArgumentError, build_parser

if TYPE_CHECKING:
    import argparse

    from .output import Output

__all__ = ["main"]


def _handler(name: str) -> Callable[[CommandContext, argparse.Namespace], Output]:
    """``"module:function"`` of this package: imported only for the command being run."""
    module, _, function = name.partition(":")
    handler: Callable[[CommandContext, argparse.Namespace], Output] = getattr(
        importlib.import_module(f"{__package__}.{module}"), function)
    return handler


def _wants_json(argv: Sequence[str]) -> bool:
    for arg in argv:
        if arg == "--":
            return False
        if arg == "--json":
            return True
    return False


def _print_json(data: dict[str, Any], stream: TextIO) -> None:
    stream.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _usage_error(error: ArgumentError, json_mode: bool) -> int:
    hint = f"Run '{error.parser.prog} --help' to see what it accepts."
    sys.stderr.write(error.parser.format_usage())
    sys.stderr.write(f"{error.parser.prog}: error: {error.message}\n")
    sys.stderr.write(f"hint: {hint}\n")
    if json_mode:
        _print_json({"ok": False, "code": UsageError.code, "message": error.message, "hint": hint}, sys.stdout)
    return 2


def _report(error: LicenseError, json_mode: bool) -> int:
    if json_mode:
        _print_json({"ok": False, **error.to_dict()}, sys.stdout)
    else:
        sys.stderr.write(f"error: {error.message}\nhint: {error.hint}\n(code: {error.code})\n")
    return 1


def main(argv: Sequence[str] | None = None, *, clock: Clock = system_clock) -> int:
    """Run one ``licensing-portal`` command and return its exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    json_mode = _wants_json(arguments)
    try:
        args = build_parser().parse_args(arguments)
    except ArgumentError as error:
        return _usage_error(error, json_mode)
    except SystemExit as exit_:  # --help
        return exit_.code if isinstance(exit_.code, int) else 0
    json_mode = bool(args.json)
    context = CommandContext(args, clock)
    try:
        try:
            output = _handler(args.handler)(context, args)
        finally:
            context.close()
    except LicenseError as error:
        return _report(error, json_mode)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
    except OSError as exc:
        return _report(StorageError(f"A file could not be read or written: {exc}."), json_mode)
    try:
        if json_mode:
            _print_json({"ok": True, **output.data}, sys.stdout)
        else:
            sys.stdout.write(output.text.rstrip("\n") + "\n")
        sys.stdout.flush()
    except BrokenPipeError:  # e.g. piped into `head`
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    return 0
