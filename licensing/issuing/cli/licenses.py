"""``license issue | list | show | enable | disable | extend | add-feature | set-max-activations |
set-floating | reset-consumption``."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from ... import UsageError
from .. import catalog
from ..models import License
from .context import CommandContext, quote
from .output import (
    Output,
    fields,
    floating_text,
    license_data,
    license_name,
    license_text,
    parse_time_field,
    show_expiry,
    show_time,
    table,
)
from .passwords import read_password, refuse_password_argument

#: a catalogue change to one license, made inside the command's session
Change = Callable[[Session, datetime, License], object]


def issue(ctx: CommandContext, args: argparse.Namespace) -> Output:
    refuse_password_argument(args)
    password = None
    if args.user is not None:
        password = read_password(args, what=f"the password for {args.user}", command="license issue ... --user NAME")
    elif args.password_stdin or args.password_file:
        raise UsageError("A password is only for a user-based license.",
                         hint="Add --user NAME, or leave the password option out.")
    spec = catalog.LicenseSpec(
        license_type=args.type, features=args.features, max_activations=args.max_activations, start=args.start,
        expires=args.expires, max_consumptions=args.max_consumptions, allow_overages=args.allow_overages,
        max_overages=args.max_overages, user=args.user, password=password, customer=args.customer,
        enabled=not args.disabled, seats=args.seats, lease_seconds=args.lease_length,
        max_borrow_seconds=args.max_borrow,
    )
    with ctx.workspace.store.session() as session:
        product = catalog.get_product(session, args.product)
        license = catalog.issue_license(session, ctx.now(), product, spec)
        data = license_data(session, license, ctx.now())
    who = f"license {data['key']}" if data["key"] else f"license for user {data['user']}"
    text = "\n".join([
        f"Issued {data['type']} {who} ({data['product']})",
        fields([
            ("features", ", ".join(f["code"] for f in data["features"]) or "-"),
            ("activations", f"0 / {data['max_activations']}"),
            ("expires", show_expiry(parse_time_field(data["expires"]))),
            *([("floating", floating_text(data["floating"]))] if "floating" in data else []),
            ("status", data["status"]),
        ], "  "),
    ])
    return Output({"key": data["key"], "user": data["user"], "license": data}, text)


def list_(ctx: CommandContext, args: argparse.Namespace) -> Output:
    with ctx.workspace.store.session() as session:
        product = catalog.get_product(session, args.product) if args.product else None
        now = ctx.now()
        licenses = [license_data(session, lic, now) for lic in catalog.list_licenses(session, product)]
    rows = [(license_name(d), d["product"], d["type"], d["status"], f"{d['total_activations']}/{d['max_activations']}",
             show_time(parse_time_field(d["expires"]), "never"), d["customer"]) for d in licenses]
    text = table(("LICENSE", "PRODUCT", "TYPE", "STATUS", "ACTIVATIONS", "EXPIRES (UTC)", "CUSTOMER"), rows,
                 "No licenses" + (f" for {args.product}" if args.product else "") + " yet.")
    return Output({"licenses": licenses}, text)


def show(ctx: CommandContext, args: argparse.Namespace) -> Output:
    with ctx.workspace.store.session() as session:
        data = license_data(session, catalog.get_license(session, args.key), ctx.now(), devices=True)
    return Output({"license": data}, license_text(data))


def _change(ctx: CommandContext, key: str, change: Change, done: str) -> Output:
    """Apply one catalogue change to a license and report its new state."""
    with ctx.workspace.store.session() as session:
        license = catalog.get_license(session, key, for_update=True)
        now = ctx.now()
        change(session, now, license)
        data = license_data(session, license, now, devices=True)
    active = [d["id"] for d in data["devices"] if d["active"]]
    lines = [f"{done} {license_name(data)} (now revision {data['revision']}, {data['status']})."]
    if active:
        lines.append("Active devices learn of it from a refresh file, e.g.:")
        lines.append(f"  {ctx.command_prefix} refresh --license {quote(data['key'] or data['user'])} "
                     f"--device {active[0]}")
    return Output({"license": data}, "\n".join(lines))


def enable(ctx: CommandContext, args: argparse.Namespace) -> Output:
    return _change(ctx, args.key, lambda s, now, lic: catalog.set_enabled(s, now, lic, True), "Enabled")


def disable(ctx: CommandContext, args: argparse.Namespace) -> Output:
    return _change(ctx, args.key, lambda s, now, lic: catalog.set_enabled(s, now, lic, False), "Disabled")


def extend(ctx: CommandContext, args: argparse.Namespace) -> Output:
    return _change(ctx, args.key, lambda s, now, lic: catalog.extend_license(s, now, lic, args.expires),
                   f"Set the expiry to {show_expiry(args.expires)} on")


def add_feature(ctx: CommandContext, args: argparse.Namespace) -> Output:
    return _change(ctx, args.key, lambda s, now, lic: catalog.add_feature(
        s, now, lic, args.code, name=args.name, expires=args.expires, max_consumptions=args.max_consumptions),
        f"Added the feature {args.code} to")


def set_max_activations(ctx: CommandContext, args: argparse.Namespace) -> Output:
    return _change(ctx, args.key, lambda s, now, lic: catalog.set_max_activations(s, now, lic, args.count),
                   f"Set the maximum activations to {args.count} on")


def set_floating(ctx: CommandContext, args: argparse.Namespace) -> Output:
    return _change(ctx, args.key, lambda s, now, lic: catalog.set_floating(
        s, now, lic, seats=args.seats, lease_seconds=args.lease_length, max_borrow_seconds=args.max_borrow),
        "Changed the floating terms of")


def reset_consumption(ctx: CommandContext, args: argparse.Namespace) -> Output:
    return _change(ctx, args.key, catalog.reset_consumption, "Reset the consumption of")
