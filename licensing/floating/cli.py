"""``licensing-floating``: run a floating license server at the customer's site.

The administrator sets the server up once, activates it offline like any device, and serves::

    licensing-floating --data /srv/floating init --config chatbot-config.json
    licensing-floating --data /srv/floating request ABCD-EFGH-JKLM-NPQR     # -> ls_activation.req
    #   ... the vendor answers it (portal, or licensing-portal respond) -> ls_activation.lic
    licensing-floating --data /srv/floating activate ls_activation.lic
    licensing-floating --data /srv/floating serve --host 0.0.0.0 --port 8470 --workers 2

``status`` shows the license and who holds the seats; ``refresh-request`` / ``refresh`` bring the
vendor's newer terms (more seats, a later expiry), ``deactivate`` gives the license back. With
``--json`` every command prints exactly one JSON object. Exit status: 0 done, 1 refused or failed
(the error's stable code is printed), 2 the command line was wrong.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from .. import License, LicenseError, LicenseID, StorageError, UsageError
from ..wire import format_span, format_time
from .site import SITE_ENV, FloatingSite, default_site_dir
from .store import moment

__all__ = ["main", "build_parser", "PROG", "DEFAULT_PORT"]

PROG = "licensing-floating"
DEFAULT_PORT = 8470


@dataclass
class Result:
    data: dict[str, Any]
    text: str


class _UsageProblem(Exception):
    def __init__(self, parser: argparse.ArgumentParser, message: str) -> None:
        super().__init__(message)
        self.parser, self.message = parser, message


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageProblem(self, message)


def _span(seconds: int) -> str:
    return format_span(seconds) if seconds else "no borrowing"


def _lines(*pairs: tuple[str, object]) -> str:
    width = max(len(name) for name, _ in pairs)
    return "\n".join(f"  {name.ljust(width)}  {value}" for name, value in pairs)


class _Run:
    """One command's context: the site folder (and how to name it in "next" lines)."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.folder = (Path(args.data).expanduser() if args.data else default_site_dir()).absolute()
        self.prefix = PROG + (f" --data {self.folder}" if args.data else "")

    def site(self) -> FloatingSite:
        return FloatingSite.open(self.folder)


def _license_view(license: License) -> dict[str, Any]:
    floating = license.terms.floating
    assert floating is not None
    return {"license": license.key or license.user, "device_id": license.device_id, "status": license.status,
            "seats": floating.seats, "lease_seconds": floating.lease_seconds,
            "max_borrow_seconds": floating.max_borrow_seconds,
            "expires": None if license.expires is None else format_time(license.expires),
            "features": [f.code for f in license.features()]}


def _license_text(view: dict[str, Any]) -> str:
    return _lines(("license", view["license"]), ("status", view["status"]), ("seats", view["seats"]),
                  ("lease length", _span(view["lease_seconds"])), ("longest borrow", _span(view["max_borrow_seconds"])),
                  ("expires", view["expires"] or "never"), ("features", ", ".join(view["features"]) or "-"))


# -- commands ------------------------------------------------------------------------------------


def cmd_init(run: _Run, args: argparse.Namespace) -> Result:
    site = FloatingSite.create(run.folder, Path(args.config).expanduser(), hardware_id=args.hardware_id)
    return Result({"data": str(site.folder), "product": site.configuration.product},
                  f"Floating server for {site.configuration.product} set up in {site.folder}\n"
                  f"Next: {run.prefix} request YOUR-LICENSE-KEY")


def cmd_request(run: _Run, args: argparse.Namespace) -> Result:
    if (args.key is None) == (args.user is None):
        raise UsageError("Name the floating license by its key, or by --user and --password (not both).")
    if args.user is not None and not args.password:
        raise UsageError("A user-based license needs --password too.")
    license_id = LicenseID.from_key(args.key) if args.key else LicenseID.from_user(args.user, args.password)
    path = run.site().create_request(license_id, args.output)
    return Result({"path": str(path)}, "\n".join([
        f"Wrote this floating server's activation request to {path}",
        "Take it to the vendor's portal (Offline activation), or have the vendor run:",
        f"  licensing-portal respond {path.name}",
        f"Then: {run.prefix} activate {path.with_name('ls_activation.lic')}",
    ]))


def cmd_activate(run: _Run, args: argparse.Namespace) -> Result:
    view = _license_view(run.site().activate(args.file))
    return Result({"license": view}, "Activated the floating server.\n" + _license_text(view)
                  + f"\nNext: {run.prefix} serve --host 0.0.0.0 --port {DEFAULT_PORT}")


def cmd_status(run: _Run, args: argparse.Namespace) -> Result:
    site = run.site()
    view = _license_view(site.license())
    rows = site.seats_in_use()
    holders = [{"slot": r.slot, "client": r.client, "kind": r.kind, "lease_id": r.lease_id,
                "expires_at": format_time(moment(r.expires_at))} for r in rows]
    table = "\n".join(f"  seat {r.slot + 1:<4} {r.kind:<7} until {moment(r.expires_at):%Y-%m-%d %H:%M:%S} UTC  "
                      f"{r.client}" for r in rows) or "  (every seat is free)"
    text = (f"Floating server in {site.folder}\n" + _license_text(view)
            + f"\nSeats in use: {len(rows)} of {view['seats']}\n" + table)
    return Result({"license": view, "used": len(rows), "holders": holders}, text)


def cmd_refresh_request(run: _Run, args: argparse.Namespace) -> Result:
    path = run.site().create_refresh_request(args.output)
    return Result({"path": str(path)}, f"Wrote {path}: upload it on the vendor's portal (Refresh), then:\n"
                                       f"  {run.prefix} refresh license_refresh.lic")


def cmd_refresh(run: _Run, args: argparse.Namespace) -> Result:
    view = _license_view(run.site().apply_refresh(args.file))
    return Result({"license": view}, "Applied the vendor's refresh; a running server uses it within a second.\n"
                  + _license_text(view))


def cmd_deactivate(run: _Run, args: argparse.Namespace) -> Result:
    path = run.site().deactivate(args.output, force=args.force)
    return Result({"path": str(path)}, f"Deactivated: give {path} to the vendor (portal: Offline deactivation) "
                                       "to free the activation. Every seat of this server is gone.")


def cmd_serve(run: _Run, args: argparse.Namespace) -> Result:
    from .app import APP_FACTORY
    from .server import FloatingServer

    site = run.site()
    FloatingServer(site).close()  # fails here, with its typed error, if the server cannot hand out seats
    import uvicorn

    os.environ[SITE_ENV] = str(site.folder)
    shown = f"[{args.host}]" if ":" in args.host else args.host
    sys.stdout.write(f"Floating license server: http://{shown}:{args.port}/  ({args.workers} worker"
                     f"{'s' if args.workers != 1 else ''}; Ctrl+C stops it)\n  site: {site.folder}\n")
    sys.stdout.flush()
    uvicorn.run(APP_FACTORY, factory=True, host=args.host, port=args.port, workers=args.workers,
                log_level=args.log_level, access_log=not args.no_access_log, server_header=False)
    return Result({"stopped": True}, "The floating server has stopped.")


# -- the parser ----------------------------------------------------------------------------------


def _bounded(low: int, high: int, what: str) -> Callable[[str], int]:
    def convert(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{what} is between {low} and {high}")
        return value
    return convert


def _global_options(*, after_command: bool) -> _Parser:
    """--data and --json, accepted before or after the command (after it, they must not reset a value
    given before it, hence no defaults there: argparse shares option objects between parsers)."""
    options = _Parser(add_help=False)
    options.add_argument("--data", metavar="DIR", default=argparse.SUPPRESS if after_command else None,
                         help=f"the floating server's folder (default: ${SITE_ENV}, else the user data folder)")
    options.add_argument("--json", action="store_true", default=argparse.SUPPRESS if after_command else False,
                         help="print exactly one JSON object (for scripts)")
    return options


def build_parser() -> argparse.ArgumentParser:
    shared = _global_options(after_command=True)
    parser = _Parser(prog=PROG, parents=[_global_options(after_command=False)],
                     formatter_class=argparse.RawDescriptionHelpFormatter,
                     description="A floating license server at your site: activated offline like a device, it "
                                 "hands out seats of a floating license to the computers on your network.",
                     epilog=__doc__.split("\n\n")[1] if __doc__ else None)
    commands = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND", required=True,
                                     parser_class=_Parser)

    def command(name: str, summary: str, handler: Callable[[_Run, argparse.Namespace], Result]) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=summary, description=summary, parents=[shared])
        sub.set_defaults(handler=handler)
        return sub

    sub = command("init", "Set up a floating server for a product (its configuration, as the vendor exported it).",
                  cmd_init)
    sub.add_argument("--config", metavar="FILE", required=True, help="the product's configuration file")
    sub.add_argument("--hardware-id", metavar="ID",
                     help="pin this server's device id (containers, VMs); default: the machine's own id")
    sub = command("request", "Step 1: write ls_activation.req for this server (take it to the vendor).", cmd_request)
    sub.add_argument("key", metavar="KEY", nargs="?", help="the floating license key")
    sub.add_argument("--user", metavar="NAME", help="a user-based floating license's user name")
    sub.add_argument("--password", metavar="PW", help="its password")
    sub.add_argument("-o", "--output", metavar="FILE", help="where to write it (default: in the server's folder)")
    sub = command("activate", "Step 3: activate with the vendor's ls_activation.lic.", cmd_activate)
    sub.add_argument("file", metavar="FILE", nargs="?", help="the response (default: ls_activation.lic in the folder)")
    command("status", "Show the license and who holds the seats.", cmd_status)
    sub = command("refresh-request", "Write license_refresh.req (the vendor's portal answers it).", cmd_refresh_request)
    sub.add_argument("-o", "--output", metavar="FILE")
    sub = command("refresh", "Apply the vendor's license_refresh.lic (more seats, a later expiry...).", cmd_refresh)
    sub.add_argument("file", metavar="FILE", nargs="?", help="default: license_refresh.lic in the folder")
    sub = command("deactivate", "Give the license back: write ls_deactivation.req; every seat goes.", cmd_deactivate)
    sub.add_argument("-o", "--output", metavar="FILE")
    sub.add_argument("--force", action="store_true", help="even while seats are borrowed")
    sub = command("serve", "Hand out seats (HTTP; workstations connect to it).", cmd_serve)
    sub.add_argument("--host", default="127.0.0.1", help="the address to listen on (default: 127.0.0.1; "
                                                          "0.0.0.0 for the whole network)")
    sub.add_argument("--port", type=_bounded(1, 65535, "a port"), default=DEFAULT_PORT,
                     help=f"the TCP port (default: {DEFAULT_PORT})")
    sub.add_argument("--workers", type=_bounded(1, 64, "the number of workers"), default=1, metavar="N",
                     help="worker processes (default: 1)")
    sub.add_argument("--log-level", choices=("critical", "error", "warning", "info", "debug"), default="info")
    sub.add_argument("--no-access-log", action="store_true", help="do not log every request")
    return parser


def _emit(json_mode: bool, data: dict[str, Any], text: str, stream: Any) -> None:
    stream.write((json.dumps(data, indent=2, ensure_ascii=False) if json_mode else text.rstrip("\n")) + "\n")


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``licensing-floating`` command; return its exit status."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    json_mode = "--json" in arguments[:arguments.index("--")] if "--" in arguments else "--json" in arguments
    try:
        args = build_parser().parse_args(arguments)
    except _UsageProblem as problem:
        hint = f"Run '{problem.parser.prog} --help' to see what it accepts."
        sys.stderr.write(f"{problem.parser.format_usage()}{problem.parser.prog}: error: {problem.message}\n")
        if json_mode:
            _emit(True, {"ok": False, "code": UsageError.code, "message": problem.message, "hint": hint}, "", sys.stdout)
        return 2
    except SystemExit as done:  # --help
        return done.code if isinstance(done.code, int) else 0
    try:
        try:
            result = args.handler(_Run(args), args)
        except OSError as exc:
            raise StorageError(f"A file could not be read or written: {exc}.") from None
    except LicenseError as error:
        _emit(args.json, {"ok": False, **error.to_dict()},
              f"error: {error.message}\nhint: {error.hint}\n(code: {error.code})", sys.stdout if args.json else sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    with contextlib.suppress(BrokenPipeError):
        _emit(args.json, {"ok": True, **result.data}, result.text, sys.stdout)
        sys.stdout.flush()
    return 0

