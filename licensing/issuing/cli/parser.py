"""The argument parser of ``licensing-portal``, and the one table of what runs each command.

Each command names its handler as ``"module:function"`` inside this package, and
:func:`~licensing.issuing.cli.runner.main` imports only that module. Why: the handlers need
SQLAlchemy, the issuer and, for ``serve``, FastAPI and uvicorn — about 0.6 s of imports on a
2-core machine, three quarters of an eager start-up — while ``--help``, a mistyped command and
shell completion need none of them. This module therefore imports nothing beyond the standard
library, the SDK's public surface and the date parser; ``bench/bench_cli.py`` measures both.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from ... import VendorInputError
from ...wire import LICENSE_TYPES
from ..dates import DURATION_HELP, parse_date, parse_duration, parse_start_date
from .context import PROG

__all__ = ["build_parser", "ArgumentError", "DEFAULT_HOST", "DEFAULT_PORT"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


class ArgumentError(Exception):
    """A usage error, raised instead of argparse's exit so that ``main`` decides how to report it."""

    def __init__(self, parser: argparse.ArgumentParser, message: str) -> None:
        super().__init__(message)
        self.parser = parser
        self.message = message


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise ArgumentError(self, message)


def _converted(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """An argparse ``type`` from a parser of ``dates``: its typed refusal becomes argparse's usage error."""
    def convert(text: str) -> Any:
        try:
            return parse(text)
        except VendorInputError as error:
            raise argparse.ArgumentTypeError(error.message) from None

    convert.__name__ = parse.__name__
    return convert


def _password_options(parser: argparse.ArgumentParser, what: str) -> None:
    """A password never comes from the arguments (``ps`` shows them): a prompt, stdin, or a file."""
    sources = parser.add_mutually_exclusive_group()
    sources.add_argument("--password-stdin", action="store_true",
                         help=f"read {what} from the first line of standard input instead of asking twice")
    sources.add_argument("--password-file", metavar="FILE",
                         help=f"read {what} from the first line of FILE (readable by you only)")


def _feature_list(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


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


def _floating_options(sub: argparse.ArgumentParser, *, seats_help: str) -> None:
    sub.add_argument("--seats", metavar="N", type=int, help=seats_help)
    sub.add_argument("--lease-length", metavar="SPAN", type=_converted(parse_duration),
                     help=f"floating: how long a lease lasts without a heartbeat (default 5m; {DURATION_HELP})")
    sub.add_argument("--max-borrow", metavar="SPAN", type=_converted(parse_duration),
                     help="floating: the longest a computer may borrow a seat and take it away (default 0: no "
                          "borrowing)")


def _common(*, suppress: bool) -> argparse.ArgumentParser:
    """The global options; also accepted after the sub-command (``suppress``: do not reset them)."""
    parser = _Parser(add_help=False)
    default = argparse.SUPPRESS if suppress else None
    group = parser.add_argument_group("global options")
    group.add_argument("--data", metavar="DIR", default=default,
                       help="the vendor's data folder (default: $LICENSING_VENDOR_DATA, else the user data folder)")
    group.add_argument("--database", metavar="URL", default=default,
                       help="a database URL (default: the SQLite file vendor.db in the data folder)")
    group.add_argument("--json", action="store_true", default=argparse.SUPPRESS if suppress else False,
                       help="print exactly one JSON object on stdout (for scripts)")
    return parser


def _examples(*lines: str) -> str:
    return "examples:\n" + "\n".join(f"  {PROG} {line}" for line in lines)


def build_parser() -> argparse.ArgumentParser:
    common = _common(suppress=True)
    parser = _Parser(
        prog=PROG, parents=[_common(suppress=False)], formatter_class=argparse.RawDescriptionHelpFormatter,
        description="The vendor side of offline licensing: products, licenses, devices, and the answers to "
                    "request files.",
        epilog=_examples("init", "product add chatbot --name Chatbot",
                         "license issue --product chatbot --type perpetual --features jokes,dice",
                         "respond ~/Desktop/ls_activation.req", "--json license list", "demo")
        + "\n\nExit status: 0 done, 1 refused or failed (the error's code is printed), 2 wrong command line.",
    )
    commands = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND", required=True,
                                     parser_class=_Parser)

    def command(group: Any, name: str, summary: str, examples: Sequence[str], handler: str | None,
                **extra: Any) -> argparse.ArgumentParser:
        sub = group.add_parser(name, help=summary, description=summary, parents=[common],
                               epilog=_examples(*examples), formatter_class=argparse.RawDescriptionHelpFormatter,
                               **extra)
        if handler is not None:
            sub.set_defaults(handler=handler)
        return sub

    def subgroup(parent: argparse.ArgumentParser, dest: str) -> Any:
        return parent.add_subparsers(title="commands", dest=dest, metavar="COMMAND", required=True,
                                     parser_class=_Parser)

    # init
    command(commands, "init", "Create a vendor: signing keys and an empty database in the data folder.",
            ["init", "--data ./vendor init"], "workspaces:init")

    # product
    product = command(commands, "product", "Add, list, show products and export their client configuration.",
                      ["product add chatbot --name Chatbot", "product list",
                       "product export-config chatbot -o chatbot-config.json"], None)
    products = subgroup(product, "product_command")
    sub = command(products, "add", "Add a product (its code is what applications name in their configuration).",
                  ["product add chatbot --name Chatbot", "product add trial-app --free-tier"], "products:add")
    sub.add_argument("code", metavar="CODE", help="product code: letters, digits, '.', '_' or '-'")
    sub.add_argument("--name", help="display name (default: the code)")
    sub.add_argument("--free-tier", action="store_true",
                     help="the account is on the free tier (offline requests are refused)")
    command(products, "list", "List the products.", ["product list", "--json product list"], "products:list_")
    sub = command(products, "show", "Show one product, with its API and shared keys.",
                  ["product show chatbot"], "products:show")
    sub.add_argument("code", metavar="CODE")
    sub = command(products, "export-config", "Write the configuration file an application ships for a product.",
                  ["product export-config chatbot -o chatbot-config.json",
                   "product export-config chatbot -o dist/ --server-url https://licensing.example.com"],
                  "products:export_config")
    sub.add_argument("code", metavar="CODE")
    sub.add_argument("-o", "--output", metavar="FILE", required=True,
                     help="where to write it (a folder means CODE-config.json inside it)")
    sub.add_argument("--server-url", metavar="URL", help="the license server, for online and hybrid use")

    # license
    license = command(commands, "license", "Issue, list, show and change licenses.",
                      ["license issue --product chatbot --type perpetual --max-activations 3",
                       "license list --product chatbot", "license show ABCD-EFGH-JKLM-NPQR"], None)
    licenses = subgroup(license, "license_command")
    sub = command(licenses, "issue", "Issue a new license for a product.", [
        "license issue --product chatbot --type perpetual --features jokes,dice --max-activations 3",
        "license issue --product chatbot --type time-based --expires 2026-12-31",
        "license issue --product chatbot --type consumption --max-consumptions 100 --allow-overages --max-overages 10",
        "license issue --product chatbot --type perpetual --user ann@example.com",
        "license issue --product chatbot --type perpetual --user ann@example.com --password-stdin < password.txt",
        "license issue --product chatbot --type floating --seats 10 --lease-length 5m --max-borrow 7d",
    ], "licenses:issue")
    sub.add_argument("--product", metavar="P", required=True, help="the product code")
    sub.add_argument("--type", required=True, choices=LICENSE_TYPES, help="the license type")
    sub.add_argument("--features", metavar="a,b", type=_feature_list, default=(),
                     help="feature codes, separated by commas")
    sub.add_argument("--max-activations", metavar="N", type=int, default=1,
                     help="how many devices may hold it at once (default: 1)")
    sub.add_argument("--start", metavar="DATE", type=_converted(parse_start_date),
                     help="valid from (YYYY-MM-DD: from 00:00 UTC that day, or ISO 8601 with a zone)")
    sub.add_argument("--expires", metavar="DATE", type=_converted(parse_date),
                     help="valid through (YYYY-MM-DD: through that day, UTC, or ISO 8601 with a zone)")
    sub.add_argument("--max-consumptions", metavar="N", type=int, help="the consumption limit (consumption type)")
    sub.add_argument("--allow-overages", action="store_true", help="allow use beyond the consumption limit")
    sub.add_argument("--max-overages", metavar="N", type=int, default=0,
                     help="how many uses beyond the limit are allowed (with --allow-overages)")
    sub.add_argument("--user", metavar="EMAIL",
                     help="make it user-based: the user name (its password is asked for at the terminal, or read "
                          "with --password-stdin or --password-file)")
    _password_options(sub, "the user's password")
    sub.add_argument("--password", help=argparse.SUPPRESS)  # refused, with the reason (cli/passwords.py)
    sub.add_argument("--customer", metavar="NAME", help="who it was sold to (for your records)")
    sub.add_argument("--disabled", action="store_true", help="issue it disabled")
    _floating_options(sub, seats_help="floating: how many computers may use it at once (required)")
    sub = command(licenses, "list", "List licenses, with their status and activations.",
                  ["license list", "license list --product chatbot"], "licenses:list_")
    sub.add_argument("--product", metavar="P", help="only this product's licenses")
    key_help = "the license key, or a user-based license's user name"
    sub = command(licenses, "show", "Show a license: terms, features, devices, activations and consumption.",
                  ["license show ABCD-EFGH-JKLM-NPQR", "license show ann@example.com"], "licenses:show")
    sub.add_argument("key", metavar="KEY", help=key_help)
    sub = command(licenses, "enable", "Enable a license.", ["license enable ABCD-EFGH-JKLM-NPQR"],
                  "licenses:enable")
    sub.add_argument("key", metavar="KEY", help=key_help)
    sub = command(licenses, "disable", "Disable a license (new activations are refused; refresh files tell devices).",
                  ["license disable ABCD-EFGH-JKLM-NPQR"], "licenses:disable")
    sub.add_argument("key", metavar="KEY", help=key_help)
    sub = command(licenses, "extend", "Set a license's expiry date.",
                  ["license extend ABCD-EFGH-JKLM-NPQR --expires 2027-06-30",
                   "license extend ABCD-EFGH-JKLM-NPQR --expires 2027-06-30T12:00:00Z"], "licenses:extend")
    sub.add_argument("key", metavar="KEY", help=key_help)
    sub.add_argument("--expires", metavar="DATE", type=_converted(parse_date), required=True,
                     help="valid through (YYYY-MM-DD: through that day, UTC, or ISO 8601 with a zone)")
    sub = command(licenses, "add-feature", "Add a feature to a license.",
                  ["license add-feature ABCD-EFGH-JKLM-NPQR convert --name 'Unit conversion'",
                   "license add-feature ABCD-EFGH-JKLM-NPQR dice --expires 2026-12-31 --max-consumptions 50"],
                  "licenses:add_feature")
    sub.add_argument("key", metavar="KEY", help=key_help)
    sub.add_argument("code", metavar="CODE", help="the feature code")
    sub.add_argument("--name", metavar="N", help="display name (default: the code)")
    sub.add_argument("--expires", metavar="DATE", type=_converted(parse_date), help="the feature is valid through this date")
    sub.add_argument("--max-consumptions", metavar="N", type=int, help="the feature's own consumption limit")
    sub = command(licenses, "set-max-activations", "Change how many devices may hold a license at once.",
                  ["license set-max-activations ABCD-EFGH-JKLM-NPQR 5"], "licenses:set_max_activations")
    sub.add_argument("key", metavar="KEY", help=key_help)
    sub.add_argument("count", metavar="N", type=int, help="the new maximum (at least 1)")
    sub = command(licenses, "set-floating", "Change a floating license's seats, lease length or longest borrow "
                                            "(its floating server learns of it from a refresh file).",
                  ["license set-floating ABCD-EFGH-JKLM-NPQR --seats 20",
                   "license set-floating ABCD-EFGH-JKLM-NPQR --lease-length 2m --max-borrow 0"],
                  "licenses:set_floating")
    sub.add_argument("key", metavar="KEY", help=key_help)
    _floating_options(sub, seats_help="the new number of seats")
    sub = command(licenses, "reset-consumption", "Set a license's consumption (and its features') back to zero.",
                  ["license reset-consumption ABCD-EFGH-JKLM-NPQR"], "licenses:reset_consumption")
    sub.add_argument("key", metavar="KEY", help=key_help)

    # device
    device = command(commands, "device", "List a license's devices; disable, enable or reset one.",
                     ["device list --license ABCD-EFGH-JKLM-NPQR", "device disable dev_0123456789abcdef"], None)
    devices = subgroup(device, "device_command")
    sub = command(devices, "list", "List the devices of a license (active or not).",
                  ["device list --license ABCD-EFGH-JKLM-NPQR"], "devices:list_")
    sub.add_argument("--license", metavar="KEY", required=True, help=key_help)
    for name, summary, handler in (
        ("disable", "Disable a device: it gets no new activation or refresh until enabled.", "devices:disable"),
        ("enable", "Enable a device again.", "devices:enable"),
        ("reset", "Unbind a device on the vendor side (frees its activation; the device is not told).",
         "devices:reset"),
    ):
        sub = command(devices, name, summary, [f"device {name} dev_0123456789abcdef"], handler)
        sub.add_argument("id", metavar="ID", help="the device id (see 'device list')")

    # respond
    sub = command(commands, "respond", "Answer a request file: activation (writes ls_activation.lic) or deactivation.",
                  ["respond ~/Desktop/ls_activation.req", "respond upload/ls_activation.req -o outbox/",
                   "respond ls_deactivation.req"], "files:respond")
    sub.add_argument("file", metavar="FILE.req", help="the request file the application created")
    sub.add_argument("-o", "--output", metavar="OUT",
                     help="where to write the response (default: ls_activation.lic next to FILE.req; "
                          "a folder means ls_activation.lic inside it)")

    # refresh
    sub = command(commands, "refresh", "Write a refresh file (license_refresh.lic) with a license's current terms "
                                       "for one device.",
                  ["refresh --license ABCD-EFGH-JKLM-NPQR --device dev_0123456789abcdef",
                   "refresh --license ABCD-EFGH-JKLM-NPQR --device dev_0123456789abcdef -o outbox/ "
                   "--reset-consumption"], "files:refresh")
    sub.add_argument("--license", metavar="KEY", required=True, help=key_help)
    sub.add_argument("--device", metavar="ID", required=True, help="the device id (see 'device list')")
    sub.add_argument("-o", "--output", metavar="OUT",
                     help="where to write it (default: ./license_refresh.lic; a folder means that name inside it)")
    sub.add_argument("--reset-consumption", action="store_true",
                     help="also tell the device to set its local consumption back to zero")

    # demo
    sub = command(commands, "demo", "Create (or reuse) a demo vendor: product chatbot and a license of every kind.",
                  ["demo", "--data ./demo-vendor demo --config-out chatbot-config.json"], "workspaces:demo")
    sub.add_argument("--config-out", metavar="FILE",
                     help="where to write the chatbot's configuration (default: chatbot-config.json in the data folder)")

    # serve, admin set-password: the web portal
    sub = command(commands, "serve", "Run the Offline Licensing Portal (web pages, admin area and JSON API).",
                  ["--data ./demo-vendor serve", "serve --host 0.0.0.0 --port 8080 --workers 4",
                   "--database postgresql+psycopg://vendor@db/licensing serve --workers 4"], "portal:serve")
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
                  ["admin set-password", "admin set-password --password-stdin",
                   "admin set-password --password-file /run/secrets/portal-admin"], "portal:set_password")
    _password_options(sub, "the password")
    return parser
