"""``serve`` and ``admin set-password``: run the Offline Licensing Portal, and guard its admin area."""

from __future__ import annotations

import argparse
import ipaddress
import os
import socket
import sys

import uvicorn

from ... import ConfigurationError, UsageError
from ..keys import VendorKeys
from ..portal.app import DATABASE_ENV, SECURE_COOKIES_ENV
from ..portal.settings import PORTAL_FILE, ensure_portal_file, set_admin_password
from ..workspace import DATA_ENV
from .context import CommandContext
from .output import Output
from .passwords import read_password

APP_FACTORY = "licensing.issuing.portal.app:create_app_from_env"


def _check_vendor(ctx: CommandContext) -> None:
    folder = ctx.data_dir
    if not VendorKeys.exists(folder / "keys"):
        raise ConfigurationError(f"There is no vendor in {folder}.",
                                 hint=f"Create one first: {ctx.command_prefix} init (or "
                                      f"{ctx.command_prefix} demo for a ready-made demo vendor).")


def _check_port_free(host: str, port: int) -> None:
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


def serve(ctx: CommandContext, args: argparse.Namespace) -> Output:
    _check_vendor(ctx)
    _ = ctx.workspace  # opens the keys and the database now, so a wrong --database fails here, not in a worker
    ctx.close()
    folder = ctx.data_dir
    credentials = ensure_portal_file(folder)
    _check_port_free(args.host, args.port)
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


def set_password(ctx: CommandContext, args: argparse.Namespace) -> Output:
    _check_vendor(ctx)
    password = read_password(args, what="the new admin password", command="admin set-password")
    folder = ctx.data_dir
    set_admin_password(folder, password)
    path = folder / PORTAL_FILE
    text = "\n".join([
        f"Set the admin password (stored as an scrypt hash in {path}, readable by you only).",
        f"Sign in at /admin/login of the portal ({ctx.command_prefix} serve); a running portal uses the new "
        "password at once and signs out existing admin sessions.",
    ])
    return Output({"path": str(path)}, text)
