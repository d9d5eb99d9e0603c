"""``licensing-portal``: the vendor's command line (products, licenses, devices, request files).

A thin shell: it parses arguments, calls :mod:`~licensing.issuing.catalog` and the
:class:`~licensing.issuing.issuer.Issuer`, and formats what they return. The rules live there.

Every command prints short aligned lines for people, or — with ``--json`` — exactly one JSON
object on stdout (``{"ok": true, ...}``, or ``{"ok": false, "code", "message", "hint"}``).
Exit status: 0 done, 1 refused or failed (a :class:`~licensing._errors.LicenseError`, whose
stable ``code`` is printed), 2 the command line itself was wrong.

Run ``licensing-portal --help`` (or ``python -m licensing.issuing.cli --help``) for the commands.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, NoReturn, TextIO

from .. import LicenseError, StorageError, UsageError
from ..wire import (
    ACTIVATION_REQUEST,
    ACTIVATION_RESPONSE_FILE_NAME,
    LICENSE_TYPES,
    REFRESH_FILE_NAME,
    Clock,
    Envelope,
    format_time,
    read_artefact,
    system_clock,
    utc_now,
    write_artefact,
)

__all__ = ["main", "build_parser", "parse_date", "parse_start_date"]

PROG = "licensing-portal"

# -- dates -------------------------------------------------------------------------------------

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DAY_AND_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d")
_DATE_HELP = ("use YYYY-MM-DD (valid through that day, UTC) or a full ISO 8601 time with a zone, "
              "e.g. 2026-12-31T18:00:00+02:00")


def _parse_moment(text: str, *, end_of_day: bool) -> datetime:
    value = text.strip()
    try:
        if _DAY.match(value):
            try:
                day = date.fromisoformat(value)
            except ValueError:
                raise argparse.ArgumentTypeError(f"{text!r} is not a real calendar date; {_DATE_HELP}") from None
            moment = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
            return moment + timedelta(days=1) if end_of_day else moment
        if not _DAY_AND_TIME.match(value):
            raise argparse.ArgumentTypeError(f"{text!r} is not a date; {_DATE_HELP}")
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a valid date and time; {_DATE_HELP}") from None
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise argparse.ArgumentTypeError(
                f"{text!r} has no time zone; add one (Z for UTC, or e.g. +02:00), or give just the day YYYY-MM-DD")
        return moment.astimezone(timezone.utc)
    except OverflowError:
        raise argparse.ArgumentTypeError(f"{text!r} is out of the range of dates this tool handles") from None


def parse_date(text: str) -> datetime:
    """An expiry: ``YYYY-MM-DD`` is valid through that day (ends at 00:00 UTC of the next day)."""
    return _parse_moment(text, end_of_day=True)


def parse_start_date(text: str) -> datetime:
    """A start: ``YYYY-MM-DD`` is valid from 00:00 UTC of that day."""
    return _parse_moment(text, end_of_day=False)


def _feature_list(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


# -- output helpers ----------------------------------------------------------------------------


@dataclass
class Output:
    """What a command produced: the JSON fields (``ok`` is added) and the text for people."""

    data: dict[str, Any]
    text: str


def _time(moment: datetime | None) -> str | None:
    return None if moment is None else format_time(moment)


def _show_time(moment: datetime | None, empty: str = "-") -> str:
    if moment is None:
        return empty
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M")


def _show_expiry(moment: datetime | None) -> str:
    if moment is None:
        return "never"
    moment = moment.astimezone(timezone.utc)
    text = f"{moment:%Y-%m-%d %H:%M} UTC"
    if (moment.hour, moment.minute, moment.second, moment.microsecond) == (0, 0, 0, 0):
        text += f" (valid through {(moment - timedelta(days=1)):%Y-%m-%d})"
    return text


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _limit(used: int, limit: int | None) -> str:
    return f"{used} / {'unlimited' if limit is None else limit}"


def _short(text: str, width: int = 12) -> str:
    return text if len(text) <= width + 3 else text[:width] + "..."


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]], empty: str) -> str:
    if not rows:
        return empty
    cells = [[str(c) for c in headers], *[["-" if c is None else str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells)


def _fields(pairs: Sequence[tuple[str, object]], indent: str = "") -> str:
    width = max(len(name) for name, _ in pairs)
    return "\n".join(f"{indent}{name.ljust(width)}  {value}" for name, value in pairs)


# -- context -----------------------------------------------------------------------------------


class _Context:
    """The parsed arguments and, opened on first use, the vendor workspace."""

    def __init__(self, args: argparse.Namespace, clock: Clock) -> None:
        self.args = args
        self.clock = clock
        self._workspace: Any = None

    @property
    def data_dir(self) -> Path:
        from .workspace import default_vendor_dir

        return (Path(self.args.data).expanduser() if self.args.data else default_vendor_dir()).absolute()

    @property
    def command_prefix(self) -> str:
        """How to call us again with the same data folder (for "next step" lines)."""
        prefix = PROG
        if self.args.data:
            prefix += f" --data {_quote(str(self.data_dir))}"
        if self.args.database:
            prefix += " --database URL"
        return prefix

    @property
    def workspace(self) -> Any:
        if self._workspace is None:
            from .workspace import VendorWorkspace

            self._workspace = VendorWorkspace.open(self.data_dir, database_url=self.args.database, clock=self.clock)
        return self._workspace

    def now(self) -> datetime:
        return utc_now(self.clock)

    def close(self) -> None:
        if self._workspace is not None:
            self._workspace.close()
            self._workspace = None


def _quote(text: str) -> str:
    return f"'{text}'" if any(c.isspace() for c in text) or not text else text


def _output_path(given: str | None, default_dir: Path, default_name: str) -> Path:
    """No path: the default folder; a folder: the default name inside it; else the path itself."""
    if not given:
        return (default_dir / default_name).absolute()
    target = Path(given).expanduser().absolute()
    names_a_folder = given.endswith(("/", os.sep)) or target.is_dir()
    return target / default_name if names_a_folder else target


def _check_writable(target: Path) -> None:
    """Refuse early, before the vendor answers (an answered request cannot be answered twice)."""
    ancestor = target.parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir() or not os.access(ancestor, os.W_OK | os.X_OK):
        raise StorageError(f"Cannot write {target}: {ancestor} is not a writable folder.",
                           hint="Pick another output path with -o.")


# -- views of catalogue objects (built inside a session) ---------------------------------------


def _status(license: Any, now: datetime) -> str:
    if not license.enabled:
        return "disabled"
    if license.expires is not None and license.expires <= now:
        return "expired"
    if license.start is not None and now < license.start:
        return "not-started"
    return "active"


def _license_data(session: Any, license: Any, now: datetime, *, devices: bool = False) -> dict[str, Any]:
    from . import catalog

    data = catalog.license_terms(session, license).to_dict()
    data.update(product=license.product.code, status=_status(license, now), created_at=_time(license.created_at))
    if devices:
        data["devices"] = [_device_data(d) for d in license.devices]
    return data


def _device_data(device: Any) -> dict[str, Any]:
    return {
        "id": device.id, "license": device.license.key or device.license.user, "hardware_id": device.hardware_id,
        "active": device.active, "enabled": device.enabled, "activated_at": _time(device.activated_at),
        "deactivated_at": _time(device.deactivated_at), "booked_consumptions": device.booked_consumptions,
    }


def _product_data(session: Any, product: Any) -> dict[str, Any]:
    from . import catalog

    return {
        "code": product.code, "name": product.name, "free_tier": product.free_tier, "api_key": product.api_key,
        "shared_key": product.shared_key, "created_at": _time(product.created_at),
        "licenses": len(catalog.list_licenses(session, product)),
    }


def _name(data: dict[str, Any]) -> str:
    return data["key"] or f"user {data['user']}"


def _consumption_text(data: dict[str, Any]) -> str:
    text = _limit(data["total_consumptions"], data["max_consumptions"])
    if data["allow_overages"]:
        text += f" (+ up to {data['max_overages']} overages)"
    return text


def _devices_table(devices: Sequence[dict[str, Any]]) -> str:
    rows = [(d["id"], _short(d["hardware_id"]), _yes(d["active"]), _yes(d["enabled"]),
             _show_time(_parse(d["activated_at"])), _show_time(_parse(d["deactivated_at"])), d["booked_consumptions"])
            for d in devices]
    return _table(("DEVICE", "HARDWARE ID", "ACTIVE", "ENABLED", "ACTIVATED (UTC)", "DEACTIVATED (UTC)", "BOOKED"),
                  rows, "(no devices)")


def _parse(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _license_text(data: dict[str, Any]) -> str:
    head = f"License {_name(data)}  ({data['type']}, {data['status']})"
    pairs: list[tuple[str, object]] = [
        ("product", data["product"]),
        ("customer", data["customer"] or "-"),
        ("enabled", _yes(data["enabled"])),
        ("start", _show_time(_parse(data["start"])) + (" UTC" if data["start"] else "")),
        ("expires", _show_expiry(_parse(data["expires"]))),
        ("activations", f"{data['total_activations']} / {data['max_activations']}"),
        ("consumption", _consumption_text(data)),
        ("revision", data["revision"]),
    ]
    features = _table(("FEATURE", "NAME", "EXPIRES (UTC)", "USES"),
                      [(f["code"], f["name"], _show_time(_parse(f["expires"]), "never"),
                        _limit(f["total_consumptions"], f["max_consumptions"])) for f in data["features"]],
                      "(no features)")
    parts = [head, _fields(pairs, "  "), "Features:", _indent(features)]
    if "devices" in data:
        parts += ["Devices:", _indent(_devices_table(data["devices"]))]
    return "\n".join(parts)


def _indent(text: str, by: str = "  ") -> str:
    return "\n".join(by + line for line in text.splitlines())


# -- commands ----------------------------------------------------------------------------------


def cmd_init(ctx: _Context, args: argparse.Namespace) -> Output:
    from .workspace import VendorWorkspace

    folder = ctx.data_dir
    workspace = VendorWorkspace.create(folder, database_url=args.database, clock=ctx.clock)
    try:
        kid = workspace.keys.active_kid
    finally:
        workspace.close()
    text = "\n".join([
        f"Vendor created in {folder}",
        f"Signing key id:   {kid}",
        f"Next: {ctx.command_prefix} product add CODE --name NAME",
    ])
    return Output({"data": str(folder), "kid": kid}, text)


def cmd_product_add(ctx: _Context, args: argparse.Namespace) -> Output:
    from . import catalog

    with ctx.workspace.store.session() as session:
        product = catalog.add_product(session, ctx.now(), args.code, args.name, free_tier=args.free_tier)
        data = _product_data(session, product)
    text = f"Added product {data['code']} ({data['name']})" + (" on the free tier" if data["free_tier"] else "")
    text += f"\nNext: {ctx.command_prefix} product export-config {data['code']} -o {data['code']}-config.json"
    return Output({"product": data}, text)


def cmd_product_list(ctx: _Context, args: argparse.Namespace) -> Output:
    from . import catalog

    with ctx.workspace.store.session() as session:
        products = [_product_data(session, p) for p in catalog.list_products(session)]
    rows = [(p["code"], p["name"], _yes(p["free_tier"]), p["licenses"], _show_time(_parse(p["created_at"])))
            for p in products]
    text = _table(("PRODUCT", "NAME", "FREE TIER", "LICENSES", "CREATED (UTC)"), rows,
                  f"No products yet. Add one: {ctx.command_prefix} product add CODE")
    return Output({"products": products}, text)


def cmd_product_show(ctx: _Context, args: argparse.Namespace) -> Output:
    from . import catalog

    with ctx.workspace.store.session() as session:
        data = _product_data(session, catalog.get_product(session, args.code))
    text = _fields([
        ("product", data["code"]), ("name", data["name"]), ("free tier", _yes(data["free_tier"])),
        ("api key", data["api_key"]), ("shared key", data["shared_key"]), ("licenses", data["licenses"]),
        ("created", _show_time(_parse(data["created_at"])) + " UTC"),
    ])
    return Output({"product": data}, text)


def cmd_product_export_config(ctx: _Context, args: argparse.Namespace) -> Output:
    configuration = ctx.workspace.client_configuration(args.code, server_url=args.server_url)
    target = _output_path(args.output, Path.cwd(), f"{configuration.product}-config.json")
    path = configuration.write_file(target)
    text = "\n".join([
        f"Wrote the configuration of {configuration.product} to {path}",
        "Ship it with the application, which loads it with:",
        f"  Configuration.from_file({str(path)!r})",
    ])
    return Output({"path": str(path), "product": configuration.product}, text)


def cmd_license_issue(ctx: _Context, args: argparse.Namespace) -> Output:
    from . import catalog

    spec = catalog.LicenseSpec(
        license_type=args.type, features=args.features, max_activations=args.max_activations, start=args.start,
        expires=args.expires, max_consumptions=args.max_consumptions, allow_overages=args.allow_overages,
        max_overages=args.max_overages, user=args.user, password=args.password, customer=args.customer,
        enabled=not args.disabled,
    )
    with ctx.workspace.store.session() as session:
        product = catalog.get_product(session, args.product)
        license = catalog.issue_license(session, ctx.now(), product, spec)
        data = _license_data(session, license, ctx.now())
    who = f"license {data['key']}" if data["key"] else f"license for user {data['user']}"
    text = "\n".join([
        f"Issued {data['type']} {who} ({data['product']})",
        _fields([
            ("features", ", ".join(f["code"] for f in data["features"]) or "-"),
            ("activations", f"0 / {data['max_activations']}"),
            ("expires", _show_expiry(_parse(data["expires"]))),
            ("status", data["status"]),
        ], "  "),
    ])
    return Output({"key": data["key"], "user": data["user"], "license": data}, text)


def cmd_license_list(ctx: _Context, args: argparse.Namespace) -> Output:
    from . import catalog

    with ctx.workspace.store.session() as session:
        product = catalog.get_product(session, args.product) if args.product else None
        now = ctx.now()
        licenses = [_license_data(session, lic, now) for lic in catalog.list_licenses(session, product)]
    rows = [(_name(d), d["product"], d["type"], d["status"], f"{d['total_activations']}/{d['max_activations']}",
             _show_time(_parse(d["expires"]), "never"), d["customer"]) for d in licenses]
    text = _table(("LICENSE", "PRODUCT", "TYPE", "STATUS", "ACTIVATIONS", "EXPIRES (UTC)", "CUSTOMER"), rows,
                  "No licenses" + (f" for {args.product}" if args.product else "") + " yet.")
    return Output({"licenses": licenses}, text)


def cmd_license_show(ctx: _Context, args: argparse.Namespace) -> Output:
    from . import catalog

    with ctx.workspace.store.session() as session:
        data = _license_data(session, catalog.get_license(session, args.key), ctx.now(), devices=True)
    return Output({"license": data}, _license_text(data))


def _change(ctx: _Context, key: str, change: Callable[[Any, datetime, Any], Any], done: str) -> Output:
    """Apply one catalogue change to a license and report its new state."""
    from . import catalog

    with ctx.workspace.store.session() as session:
        license = catalog.get_license(session, key, for_update=True)
        now = ctx.now()
        change(session, now, license)
        data = _license_data(session, license, now, devices=True)
    active = [d["id"] for d in data["devices"] if d["active"]]
    lines = [f"{done} {_name(data)} (now revision {data['revision']}, {data['status']})."]
    if active:
        lines.append("Active devices learn of it from a refresh file, e.g.:")
        lines.append(f"  {ctx.command_prefix} refresh --license {_quote(data['key'] or data['user'])} "
                     f"--device {active[0]}")
    return Output({"license": data}, "\n".join(lines))


def cmd_license_enable(ctx: _Context, args: argparse.Namespace) -> Output:
    from . import catalog

    return _change(ctx, args.key, lambda s, now, lic: catalog.set_enabled(s, now, lic, True), "Enabled")


def cmd_license_disable(ctx: _Context, args: argparse.Namespace) -> Output:
    from . import catalog

    return _change(ctx, args.key, lambda s, now, lic: catalog.set_enabled(s, now, lic, False), "Disabled")


def cmd_license_extend(ctx: _Context, args: argparse.Namespace) -> Output:
    from . import catalog

    return _change(ctx, args.key, lambda s, now, lic: catalog.extend_license(s, now, lic, args.expires),
                   f"Set the expiry to {_show_expiry(args.expires)} on")


def cmd_license_add_feature(ctx: _Context, args: argparse.Namespace) -> Output:
    from . import catalog

    return _change(ctx, args.key, lambda s, now, lic: catalog.add_feature(
        s, now, lic, args.code, name=args.name, expires=args.expires, max_consumptions=args.max_consumptions),
        f"Added the feature {args.code} to")


def cmd_license_set_max_activations(ctx: _Context, args: argparse.Namespace) -> Output:
    from . import catalog

    return _change(ctx, args.key, lambda s, now, lic: catalog.set_max_activations(s, now, lic, args.count),
                   f"Set the maximum activations to {args.count} on")


def cmd_license_reset_consumption(ctx: _Context, args: argparse.Namespace) -> Output:
    from . import catalog

    return _change(ctx, args.key, catalog.reset_consumption, "Reset the consumption of")


def cmd_device_list(ctx: _Context, args: argparse.Namespace) -> Output:
    from . import catalog

    with ctx.workspace.store.session() as session:
        license = catalog.get_license(session, args.license)
        name = license.key or license.user
        devices = [_device_data(d) for d in license.devices]
        used, maximum = catalog.active_devices(session, license), license.max_activations
    text = f"Devices of {name} ({used} / {maximum} activations in use)\n" + _devices_table(devices)
    return Output({"license": name, "total_activations": used, "max_activations": maximum, "devices": devices}, text)


def _device_change(ctx: _Context, device_id: str, change: Callable[[Any, datetime, Any], Any],
                   done: str) -> Output:
    from . import catalog

    with ctx.workspace.store.session() as session:
        device = catalog.get_device(session, device_id)
        change(session, ctx.now(), device)
        session.flush()
        data = _device_data(device)
        used, maximum = catalog.active_devices(session, device.license), device.license.max_activations
    text = (f"{done} device {data['id']} of {data['license']} "
            f"(active: {_yes(data['active'])}, enabled: {_yes(data['enabled'])}; "
            f"{used} / {maximum} activations in use).")
    return Output({"device": data, "total_activations": used, "max_activations": maximum}, text)


def cmd_device_disable(ctx: _Context, args: argparse.Namespace) -> Output:
    from . import catalog

    return _device_change(ctx, args.id, lambda s, now, d: catalog.set_device_enabled(s, now, d, False), "Disabled")


def cmd_device_enable(ctx: _Context, args: argparse.Namespace) -> Output:
    from . import catalog

    return _device_change(ctx, args.id, lambda s, now, d: catalog.set_device_enabled(s, now, d, True), "Enabled")


def cmd_device_reset(ctx: _Context, args: argparse.Namespace) -> Output:
    from . import catalog

    return _device_change(ctx, args.id, catalog.reset_device, "Reset (unbound)")


def cmd_respond(ctx: _Context, args: argparse.Namespace) -> Output:
    from .issuer import ActivationAnswer

    source = Path(args.file).expanduser().absolute()
    data = read_artefact(source)
    target = _output_path(args.output, source.parent, ACTIVATION_RESPONSE_FILE_NAME)
    if Envelope.parse(data).typ == ACTIVATION_REQUEST:  # only an activation writes a file
        _check_writable(target)
    answer = ctx.workspace.issuer.answer(data)
    if isinstance(answer, ActivationAnswer):
        path = write_artefact(target, answer.data)
        name = answer.license_key or answer.user
        text = "\n".join([
            f"Wrote the activation response to {path}",
            _fields([("license", name), ("device", answer.device_id),
                     ("activations", f"{answer.total_activations} / {answer.max_activations}")], "  "),
            "Give this file to the user; the application activates with it (activate_license_offline).",
        ])
        return Output({"kind": "activation", "path": str(path), "device_id": answer.device_id, "license": name,
                       "total_activations": answer.total_activations, "max_activations": answer.max_activations},
                      text)
    receipt = answer.to_dict()
    booked = ", ".join(f"{code} {count}" for code, count in receipt["feature_consumptions_booked"].items())
    text = "\n".join([
        "Deactivation receipt",
        _fields([
            ("license", receipt["license"]), ("device", receipt["device_id"]),
            ("deactivated", _show_time(_parse(receipt["deactivated_at"])) + " UTC"),
            ("consumptions", f"{receipt['consumptions_booked']} booked" + (f" (features: {booked})" if booked else "")),
            ("activations", f"{receipt['total_activations']} / {receipt['max_activations']}"),
        ], "  "),
    ])
    return Output({"kind": "deactivation", "receipt": receipt}, text)


def cmd_refresh(ctx: _Context, args: argparse.Namespace) -> Output:
    target = _output_path(args.output, Path.cwd(), REFRESH_FILE_NAME)
    _check_writable(target)
    data = ctx.workspace.issuer.refresh(args.license, args.device, reset_consumption=args.reset_consumption)
    path = write_artefact(target, data)
    text = "\n".join([
        f"Wrote the refresh file for device {args.device} to {path}",
        "Give it to the user; the application applies it with license.update_offline(path).",
    ])
    return Output({"path": str(path), "license": args.license, "device_id": args.device,
                   "reset_consumption": args.reset_consumption}, text)


def cmd_demo(ctx: _Context, args: argparse.Namespace) -> Output:
    from .demo import build_demo

    config_out = Path(args.config_out).expanduser() if args.config_out else None
    info = build_demo(ctx.data_dir, config_out, ctx.clock, database_url=args.database)
    licenses = []
    for label, key_or_user, description in info.licenses:
        user_based = label == "user-based"
        licenses.append({"label": label, "key": None if user_based else key_or_user,
                         "user": key_or_user if user_based else None, "type": info.license_type(label),
                         "description": description})
    rows = [(d["label"], d["key"] or f"user {d['user']}", d["type"], d["description"]) for d in licenses]
    prefix = PROG + ("" if not args.data else f" --data {_quote(str(info.folder))}")
    config = str(info.config_path)
    text = "\n".join([
        f"Demo vendor in {info.folder}",
        f"Client configuration: {config}",
        "",
        _table(("LABEL", "LICENSE", "TYPE", "WHAT IT SHOWS"), rows, "(no licenses)"),
        "",
        "Next steps:",
        "  1. Point the chatbot (or your own app) at the configuration:",
        "       from licensing import Configuration, LicenseManager, LicenseID",
        f"       manager = LicenseManager(Configuration.from_file({config!r}))",
        "  2. Make a request on the device:",
        "       manager.create_offline_activation_file(LicenseID.from_key(KEY))",
        "  3. Answer it here, then activate with the ls_activation.lic written next to it:",
        f"       {prefix} respond PATH/ls_activation.req",
    ])
    return Output({"data": str(info.folder), "config": config, "licenses": licenses}, text)


# -- the parser --------------------------------------------------------------------------------


class _ArgumentError(Exception):
    def __init__(self, parser: argparse.ArgumentParser, message: str) -> None:
        super().__init__(message)
        self.parser = parser
        self.message = message


class _Parser(argparse.ArgumentParser):
    """Raises instead of exiting on a usage error, so ``main`` decides how to report it."""

    def error(self, message: str) -> NoReturn:
        raise _ArgumentError(self, message)


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

    def command(group: Any, name: str, summary: str, examples: Sequence[str], handler: Callable[..., Output] | None,
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
            ["init", "--data ./vendor init"], cmd_init)

    # product
    product = command(commands, "product", "Add, list, show products and export their client configuration.",
                      ["product add chatbot --name Chatbot", "product list",
                       "product export-config chatbot -o chatbot-config.json"], None)
    products = subgroup(product, "product_command")
    sub = command(products, "add", "Add a product (its code is what applications name in their configuration).",
                  ["product add chatbot --name Chatbot", "product add trial-app --free-tier"], cmd_product_add)
    sub.add_argument("code", metavar="CODE", help="product code: letters, digits, '.', '_' or '-'")
    sub.add_argument("--name", help="display name (default: the code)")
    sub.add_argument("--free-tier", action="store_true",
                     help="the account is on the free tier (offline requests are refused)")
    command(products, "list", "List the products.", ["product list", "--json product list"], cmd_product_list)
    sub = command(products, "show", "Show one product, with its API and shared keys.",
                  ["product show chatbot"], cmd_product_show)
    sub.add_argument("code", metavar="CODE")
    sub = command(products, "export-config", "Write the configuration file an application ships for a product.",
                  ["product export-config chatbot -o chatbot-config.json",
                   "product export-config chatbot -o dist/ --server-url https://licensing.example.com"],
                  cmd_product_export_config)
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
        "license issue --product chatbot --type perpetual --user ann@example.com --password 's3cret'",
    ], cmd_license_issue)
    sub.add_argument("--product", metavar="P", required=True, help="the product code")
    sub.add_argument("--type", required=True, choices=LICENSE_TYPES, help="the license type")
    sub.add_argument("--features", metavar="a,b", type=_feature_list, default=(),
                     help="feature codes, separated by commas")
    sub.add_argument("--max-activations", metavar="N", type=int, default=1,
                     help="how many devices may hold it at once (default: 1)")
    sub.add_argument("--start", metavar="DATE", type=parse_start_date,
                     help="valid from (YYYY-MM-DD: from 00:00 UTC that day, or ISO 8601 with a zone)")
    sub.add_argument("--expires", metavar="DATE", type=parse_date,
                     help="valid through (YYYY-MM-DD: through that day, UTC, or ISO 8601 with a zone)")
    sub.add_argument("--max-consumptions", metavar="N", type=int, help="the consumption limit (consumption type)")
    sub.add_argument("--allow-overages", action="store_true", help="allow use beyond the consumption limit")
    sub.add_argument("--max-overages", metavar="N", type=int, default=0,
                     help="how many uses beyond the limit are allowed (with --allow-overages)")
    sub.add_argument("--user", metavar="EMAIL", help="make it user-based: the user name (needs --password)")
    sub.add_argument("--password", metavar="PW", help="the user-based license's password")
    sub.add_argument("--customer", metavar="NAME", help="who it was sold to (for your records)")
    sub.add_argument("--disabled", action="store_true", help="issue it disabled")
    sub = command(licenses, "list", "List licenses, with their status and activations.",
                  ["license list", "license list --product chatbot"], cmd_license_list)
    sub.add_argument("--product", metavar="P", help="only this product's licenses")
    key_help = "the license key, or a user-based license's user name"
    sub = command(licenses, "show", "Show a license: terms, features, devices, activations and consumption.",
                  ["license show ABCD-EFGH-JKLM-NPQR", "license show ann@example.com"], cmd_license_show)
    sub.add_argument("key", metavar="KEY", help=key_help)
    sub = command(licenses, "enable", "Enable a license.", ["license enable ABCD-EFGH-JKLM-NPQR"],
                  cmd_license_enable)
    sub.add_argument("key", metavar="KEY", help=key_help)
    sub = command(licenses, "disable", "Disable a license (new activations are refused; refresh files tell devices).",
                  ["license disable ABCD-EFGH-JKLM-NPQR"], cmd_license_disable)
    sub.add_argument("key", metavar="KEY", help=key_help)
    sub = command(licenses, "extend", "Set a license's expiry date.",
                  ["license extend ABCD-EFGH-JKLM-NPQR --expires 2027-06-30",
                   "license extend ABCD-EFGH-JKLM-NPQR --expires 2027-06-30T12:00:00Z"], cmd_license_extend)
    sub.add_argument("key", metavar="KEY", help=key_help)
    sub.add_argument("--expires", metavar="DATE", type=parse_date, required=True,
                     help="valid through (YYYY-MM-DD: through that day, UTC, or ISO 8601 with a zone)")
    sub = command(licenses, "add-feature", "Add a feature to a license.",
                  ["license add-feature ABCD-EFGH-JKLM-NPQR convert --name 'Unit conversion'",
                   "license add-feature ABCD-EFGH-JKLM-NPQR dice --expires 2026-12-31 --max-consumptions 50"],
                  cmd_license_add_feature)
    sub.add_argument("key", metavar="KEY", help=key_help)
    sub.add_argument("code", metavar="CODE", help="the feature code")
    sub.add_argument("--name", metavar="N", help="display name (default: the code)")
    sub.add_argument("--expires", metavar="DATE", type=parse_date, help="the feature is valid through this date")
    sub.add_argument("--max-consumptions", metavar="N", type=int, help="the feature's own consumption limit")
    sub = command(licenses, "set-max-activations", "Change how many devices may hold a license at once.",
                  ["license set-max-activations ABCD-EFGH-JKLM-NPQR 5"], cmd_license_set_max_activations)
    sub.add_argument("key", metavar="KEY", help=key_help)
    sub.add_argument("count", metavar="N", type=int, help="the new maximum (at least 1)")
    sub = command(licenses, "reset-consumption", "Set a license's consumption (and its features') back to zero.",
                  ["license reset-consumption ABCD-EFGH-JKLM-NPQR"], cmd_license_reset_consumption)
    sub.add_argument("key", metavar="KEY", help=key_help)

    # device
    device = command(commands, "device", "List a license's devices; disable, enable or reset one.",
                     ["device list --license ABCD-EFGH-JKLM-NPQR", "device disable dev_0123456789abcdef"], None)
    devices = subgroup(device, "device_command")
    sub = command(devices, "list", "List the devices of a license (active or not).",
                  ["device list --license ABCD-EFGH-JKLM-NPQR"], cmd_device_list)
    sub.add_argument("--license", metavar="KEY", required=True, help=key_help)
    for name, summary, handler in (
        ("disable", "Disable a device: it gets no new activation or refresh until enabled.", cmd_device_disable),
        ("enable", "Enable a device again.", cmd_device_enable),
        ("reset", "Unbind a device on the vendor side (frees its activation; the device is not told).",
         cmd_device_reset),
    ):
        sub = command(devices, name, summary, [f"device {name} dev_0123456789abcdef"], handler)
        sub.add_argument("id", metavar="ID", help="the device id (see 'device list')")

    # respond
    sub = command(commands, "respond", "Answer a request file: activation (writes ls_activation.lic) or deactivation.",
                  ["respond ~/Desktop/ls_activation.req", "respond upload/ls_activation.req -o outbox/",
                   "respond ls_deactivation.req"], cmd_respond)
    sub.add_argument("file", metavar="FILE.req", help="the request file the application created")
    sub.add_argument("-o", "--output", metavar="OUT",
                     help="where to write the response (default: ls_activation.lic next to FILE.req; "
                          "a folder means ls_activation.lic inside it)")

    # refresh
    sub = command(commands, "refresh", "Write a refresh file (license_refresh.lic) with a license's current terms "
                                       "for one device.",
                  ["refresh --license ABCD-EFGH-JKLM-NPQR --device dev_0123456789abcdef",
                   "refresh --license ABCD-EFGH-JKLM-NPQR --device dev_0123456789abcdef -o outbox/ "
                   "--reset-consumption"], cmd_refresh)
    sub.add_argument("--license", metavar="KEY", required=True, help=key_help)
    sub.add_argument("--device", metavar="ID", required=True, help="the device id (see 'device list')")
    sub.add_argument("-o", "--output", metavar="OUT",
                     help="where to write it (default: ./license_refresh.lic; a folder means that name inside it)")
    sub.add_argument("--reset-consumption", action="store_true",
                     help="also tell the device to set its local consumption back to zero")

    # demo
    sub = command(commands, "demo", "Create (or reuse) a demo vendor: product chatbot and a license of every kind.",
                  ["demo", "--data ./demo-vendor demo --config-out chatbot-config.json"], cmd_demo)
    sub.add_argument("--config-out", metavar="FILE",
                     help="where to write the chatbot's configuration (default: chatbot-config.json in the data folder)")

    # serve, admin set-password: the web portal's commands (licensing.issuing.portal.commands)
    from .portal.commands import register as register_portal_commands

    register_portal_commands(commands, command, subgroup)
    return parser


# -- main --------------------------------------------------------------------------------------


def _wants_json(argv: Sequence[str]) -> bool:
    for arg in argv:
        if arg == "--":
            return False
        if arg == "--json":
            return True
    return False


def _print_json(data: dict[str, Any], stream: TextIO) -> None:
    stream.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def _usage_error(error: _ArgumentError, json_mode: bool) -> int:
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
    except _ArgumentError as error:
        return _usage_error(error, json_mode)
    except SystemExit as exit_:  # --help
        return exit_.code if isinstance(exit_.code, int) else 0
    json_mode = bool(args.json)
    context = _Context(args, clock)
    try:
        try:
            output = args.handler(context, args)
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


if __name__ == "__main__":
    sys.exit(main())
