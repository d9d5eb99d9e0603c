"""``init`` and ``demo``: create a vendor workspace (keys and database), empty or ready-made."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..demo import build_demo
from ..workspace import VendorWorkspace
from .context import PROG, CommandContext, quote
from .output import Output, table


def init(ctx: CommandContext, args: argparse.Namespace) -> Output:
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


def demo(ctx: CommandContext, args: argparse.Namespace) -> Output:
    config_out = Path(args.config_out).expanduser() if args.config_out else None
    info = build_demo(ctx.data_dir, config_out, ctx.clock, database_url=args.database)
    licenses = []
    for label, key_or_user, description in info.licenses:
        user_based = label == "user-based"
        licenses.append({"label": label, "key": None if user_based else key_or_user,
                         "user": key_or_user if user_based else None, "type": info.license_type(label),
                         "description": description})
    rows = [(d["label"], d["key"] or f"user {d['user']}", d["type"], d["description"]) for d in licenses]
    prefix = PROG + ("" if not args.data else f" --data {quote(str(info.folder))}")
    config = str(info.config_path)
    text = "\n".join([
        f"Demo vendor in {info.folder}",
        f"Client configuration: {config}",
        "",
        table(("LABEL", "LICENSE", "TYPE", "WHAT IT SHOWS"), rows, "(no licenses)"),
        "",
        "Next steps:",
        "  1. Point the chatbot (or your own app) at the configuration:",
        "       from licensing import Configuration, LicenseManager, LicenseID",
        f"       manager = LicenseManager(Configuration.from_file({config!r}))",
        "  2. Make a request on the device:",
        "       manager.create_offline_activation_file(LicenseID.from_key(KEY))",
        "  3. Answer it here, then activate with the ls_activation.lic written next to it:",
        f"       {prefix} respond PATH/ls_activation.req",
        "",
        "The floating license's seats come from the demo's floating server (already activated). Serve them with:",
        f"       {' '.join(quote(part) for part in info.floating_command)}",
        "  and take a seat: manager.floating('http://127.0.0.1:8470').request_lease()",
    ])
    return Output({"data": str(info.folder), "config": config, "licenses": licenses,
                   "floating_server": {"site": str(info.floating_site), "command": info.floating_command}}, text)
