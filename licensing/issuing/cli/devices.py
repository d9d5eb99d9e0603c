"""``device list | disable | enable | reset``."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session

from .. import catalog
from ..models import Device
from .context import CommandContext
from .output import Output, device_data, devices_table, yes

#: a catalogue change to one device, made inside the command's session
Change = Callable[[Session, datetime, Device], object]


def list_(ctx: CommandContext, args: argparse.Namespace) -> Output:
    with ctx.workspace.store.session() as session:
        license = catalog.get_license(session, args.license)
        name = license.key or license.user
        devices = [device_data(d) for d in license.devices]
        used, maximum = catalog.active_devices(session, license), license.max_activations
    text = f"Devices of {name} ({used} / {maximum} activations in use)\n" + devices_table(devices)
    return Output({"license": name, "total_activations": used, "max_activations": maximum, "devices": devices}, text)


def _change(ctx: CommandContext, device_id: str, change: Change, done: str) -> Output:
    with ctx.workspace.store.session() as session:
        device = catalog.get_device(session, device_id)
        change(session, ctx.now(), device)
        session.flush()
        data = device_data(device)
        used, maximum = catalog.active_devices(session, device.license), device.license.max_activations
    text = (f"{done} device {data['id']} of {data['license']} "
            f"(active: {yes(data['active'])}, enabled: {yes(data['enabled'])}; "
            f"{used} / {maximum} activations in use).")
    return Output({"device": data, "total_activations": used, "max_activations": maximum}, text)


def disable(ctx: CommandContext, args: argparse.Namespace) -> Output:
    return _change(ctx, args.id, lambda s, now, d: catalog.set_device_enabled(s, now, d, False), "Disabled")


def enable(ctx: CommandContext, args: argparse.Namespace) -> Output:
    return _change(ctx, args.id, lambda s, now, d: catalog.set_device_enabled(s, now, d, True), "Enabled")


def reset(ctx: CommandContext, args: argparse.Namespace) -> Output:
    return _change(ctx, args.id, catalog.reset_device, "Reset (unbound)")
