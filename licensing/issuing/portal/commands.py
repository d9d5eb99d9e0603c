"""``licensing-portal serve`` and ``licensing-portal admin set-password`` (registered by the CLI).

Kept apart from :mod:`licensing.issuing.cli` so that the CLI stays a thin shell: :func:`register`
adds the two commands to its parser; the handlers import uvicorn and FastAPI only when run.
"""

from __future__ import annotations

import argparse
import getpass
import ipaddress
import os
import socket
import sys
from collections.abc import Callable
from typing import Any

__all__ = ["register", "cmd_serve", "cmd_admin_set_password"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
APP_FACTORY = "licensing.issuing.portal.app:create_app_from_env"


def _workers(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= 64:
        raise argparse.ArgumentTypeError("use between 1 and 64 workers")
    return value


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError("a port is between 1 and 65535")
    return value


def register(commands: Any, command: Callable[..., argparse.ArgumentParser],
             subgroup: Callable[[argparse.ArgumentParser, str], Any]) -> None:
    """Add ``serve`` and ``admin set-password`` with the CLI's own ``command``/``subgroup`` helpers."""
    sub = command(commands, "serve", "Run the Offline Licensing Portal (web pages, admin area and JSON API).",
                  ["--data ./demo-vendor serve", "serve --host 0.0.0.0 --port 8080 --workers 4",
                   "--database postgresql+psycopg://vendor@db/licensing serve --workers 4"], cmd_serve)
    sub.add_argument("--host", default=DEFAULT_HOST,
                     help=f"the address to listen on (default: {DEFAULT_HOST}, this machine only)")
    sub.add_argument("--port", type=_port, default=DEFAULT_PORT, help=f"the TCP port (default: {DEFAULT_PORT})")
    sub.add_argument("--workers", type=_workers, default=1, metavar="N",
                     help="worker processes (default: 1; use PostgreSQL via --database for many)")
    sub.add_argument("--log-level", choices=("critical", "error", "warning", "info", "debug"), default="info",
                     help="how much the server logs (default: info)")
    sub.add_argument("--no-access-log", action="store_true", help="do not log every request")
    sub.add_argument("--secure-cookies", action="store_true",
                     help="the portal is served over https (a reverse proxy terminates TLS): mark the admin cookie "
                          "Secure and send HSTS on every answer, whatever the proxy forwards")

    admin = command(commands, "admin", "Manage the portal's admin area (its password).",
                    ["admin set-password", "admin set-password --password-stdin < password.txt"], None)
    admins = subgroup(admin, "admin_command")
    sub = command(admins, "set-password", "Set (or change) the admin password of the portal; a running portal "
                                          "picks it up at once and ends existing admin sessions.",
                  ["admin set-password", "admin set-password --password-stdin"], cmd_admin_set_password)
    sub.add_argument("--password-stdin", action="store_true",
                     help="read the password from the first line of standard input instead of asking twice")


def _check_vendor(ctx: Any) -> None:
    from ... import ConfigurationError
    from ..keys import VendorKeys

    folder = ctx.data_dir
    if not VendorKeys.exists(folder / "keys"):
        raise ConfigurationError(f"There is no vendor in {folder}.",
                                 hint=f"Create one first: {ctx.command_prefix} init (or "
                                      f"{ctx.command_prefix} demo for a ready-made demo vendor).")


def _check_port_free(host: str, port: int) -> None:
    from ... import UsageError

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UsageError(f"The host {host!r} cannot be used: {exc.strerror}.",
                         hint="Use an address of this machine, e.g. 127.0.0.1 (local only) or 0.0.0.0.") from None
    family, kind, proto, _name, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as exc:
            raise UsageError(f"Cannot listen on {host}:{port}: {exc.strerror or exc}.",
                             hint="Another program may use that port; pick another with --port.") from None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cmd_serve(ctx: Any, args: argparse.Namespace) -> Any:
    from ..cli import Output
    from ..workspace import DATA_ENV
    from .app import DATABASE_ENV, SECURE_COOKIES_ENV
    from .settings import ensure_portal_file

    _check_vendor(ctx)
    _ = ctx.workspace  # opens the keys and the database now, so a wrong --database fails here, not in a worker
    ctx.close()
    folder = ctx.data_dir
    credentials = ensure_portal_file(folder)
    _check_port_free(args.host, args.port)

    import uvicorn

    os.environ[DATA_ENV] = str(folder)
    if args.database:
        os.environ[DATABASE_ENV] = args.database
    else:
        os.environ.pop(DATABASE_ENV, None)
    if args.secure_cookies:
        os.environ[SECURE_COOKIES_ENV] = "1"
    else:
        os.environ.pop(SECURE_COOKIES_ENV, None)
    shown_host = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{shown_host}:{args.port}/"
    lines = [
        f"Offline Licensing Portal: {url}  ({args.workers} worker{'s' if args.workers != 1 else ''}; "
        "Ctrl+C stops it)",
        f"  vendor data: {folder}",
        f"  database:    {'the URL given with --database' if args.database else folder / 'vendor.db'}",
        f"  admin area:  {url}admin"
        + ("" if credentials.admin_password_hash else
           f"  (no password yet: run '{ctx.command_prefix} admin set-password')"),
    ]
    if args.workers > 1 and not args.database:
        lines.append("  note: several workers share one SQLite file; writes take turns. "
                     "PostgreSQL (--database) scales further.")
    if args.secure_cookies:
        lines.append("  https:       admin cookies are Secure and HSTS is sent (serve it only behind TLS)")
    elif not _is_loopback(args.host):
        lines.append("  note: reachable from other machines. Put it behind https (a reverse proxy) and add "
                     "--secure-cookies: without it, admin cookies are marked Secure only on requests the proxy "
                     "marks as https.")
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()
    uvicorn.run(APP_FACTORY, factory=True, host=args.host, port=args.port, workers=args.workers,
                log_level=args.log_level, access_log=not args.no_access_log, server_header=False,
                proxy_headers=True)
    return Output({"url": url, "stopped": True}, "The portal has stopped.")


def _read_password(args: argparse.Namespace) -> str:
    from ... import UsageError

    if args.password_stdin:
        line = sys.stdin.readline()
        if not line:
            raise UsageError("No password arrived on standard input.",
                             hint="Pipe it in, e.g.: printf '%s\\n' \"$PASSWORD\" | licensing-portal admin "
                                  "set-password --password-stdin")
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        raise UsageError("There is no terminal to ask for the password on.",
                         hint="Pass it on standard input with --password-stdin.")
    first = getpass.getpass("New admin password: ")
    second = getpass.getpass("Type it again: ")
    if first != second:
        raise UsageError("The two passwords are not the same; nothing was changed.", hint="Run the command again.")
    return first


def cmd_admin_set_password(ctx: Any, args: argparse.Namespace) -> Any:
    from ..cli import Output
    from .settings import PORTAL_FILE, set_admin_password

    _check_vendor(ctx)
    password = _read_password(args)
    folder = ctx.data_dir
    set_admin_password(folder, password)
    path = folder / PORTAL_FILE
    text = "\n".join([
        f"Set the admin password (stored as an scrypt hash in {path}, readable by you only).",
        f"Sign in at /admin/login of the portal ({ctx.command_prefix} serve); a running portal uses the new "
        "password at once and signs out existing admin sessions.",
    ])
    return Output({"path": str(path)}, text)
