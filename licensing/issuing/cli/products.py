"""``product add | list | show | export-config``."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import catalog
from .context import CommandContext, output_path
from .output import Output, fields, parse_time_field, product_data, show_time, table, yes


def add(ctx: CommandContext, args: argparse.Namespace) -> Output:
    with ctx.workspace.store.session() as session:
        product = catalog.add_product(session, ctx.now(), args.code, args.name, free_tier=args.free_tier)
        data = product_data(session, product)
    text = f"Added product {data['code']} ({data['name']})" + (" on the free tier" if data["free_tier"] else "")
    text += f"\nNext: {ctx.command_prefix} product export-config {data['code']} -o {data['code']}-config.json"
    return Output({"product": data}, text)


def list_(ctx: CommandContext, args: argparse.Namespace) -> Output:
    with ctx.workspace.store.session() as session:
        products = [product_data(session, p) for p in catalog.list_products(session)]
    rows = [(p["code"], p["name"], yes(p["free_tier"]), p["licenses"], show_time(parse_time_field(p["created_at"])))
            for p in products]
    text = table(("PRODUCT", "NAME", "FREE TIER", "LICENSES", "CREATED (UTC)"), rows,
                 f"No products yet. Add one: {ctx.command_prefix} product add CODE")
    return Output({"products": products}, text)


def show(ctx: CommandContext, args: argparse.Namespace) -> Output:
    with ctx.workspace.store.session() as session:
        data = product_data(session, catalog.get_product(session, args.code))
    text = fields([
        ("product", data["code"]), ("name", data["name"]), ("free tier", yes(data["free_tier"])),
        ("api key", data["api_key"]), ("shared key", data["shared_key"]), ("licenses", data["licenses"]),
        ("created", show_time(parse_time_field(data["created_at"])) + " UTC"),
    ])
    return Output({"product": data}, text)


def export_config(ctx: CommandContext, args: argparse.Namespace) -> Output:
    configuration = ctx.workspace.client_configuration(args.code, server_url=args.server_url)
    target = output_path(args.output, Path.cwd(), f"{configuration.product}-config.json")
    path = configuration.write_file(target)
    fingerprint = configuration.fingerprint
    text = "\n".join([
        f"Wrote the configuration of {configuration.product} to {path}",
        "Ship it with the application, which loads it pinned (an edited file is then refused) with:",
        f"  Configuration.from_file({str(path)!r}, expected_fingerprint={fingerprint!r})",
    ])
    return Output({"path": str(path), "product": configuration.product, "fingerprint": fingerprint}, text)
