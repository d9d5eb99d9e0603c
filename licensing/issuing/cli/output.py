"""What a command produced, and how products, licenses and devices are shown to people.

Views (``*_data``) turn catalogue rows into the plain dictionaries that ``--json`` prints; they
run inside the command's database session. The ``*_text`` functions lay the same dictionaries
out as short aligned lines, so the two outputs can never disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy.orm import Session

from ...wire import format_span, format_time
from .. import catalog
from ..models import Device, License, Product

__all__ = [
    "Output", "show_time", "show_expiry", "yes", "table", "fields", "indent", "parse_time_field", "time_field",
    "license_data", "device_data", "product_data", "license_name", "license_text", "devices_table", "floating_text",
]


@dataclass
class Output:
    """What a command produced: the JSON fields (``ok`` is added) and the text for people."""

    data: dict[str, Any]
    text: str


# -- small formats -------------------------------------------------------------------------------


def time_field(moment: datetime | None) -> str | None:
    return None if moment is None else format_time(moment)


def parse_time_field(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def show_time(moment: datetime | None, empty: str = "-") -> str:
    if moment is None:
        return empty
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M")


def show_expiry(moment: datetime | None) -> str:
    if moment is None:
        return "never"
    moment = moment.astimezone(timezone.utc)
    text = f"{moment:%Y-%m-%d %H:%M} UTC"
    if (moment.hour, moment.minute, moment.second, moment.microsecond) == (0, 0, 0, 0):
        text += f" (valid through {(moment - timedelta(days=1)):%Y-%m-%d})"
    return text


def yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _limit(used: int, limit: int | None) -> str:
    return f"{used} / {'unlimited' if limit is None else limit}"


def _short(text: str, width: int = 12) -> str:
    return text if len(text) <= width + 3 else text[:width] + "..."


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], empty: str) -> str:
    if not rows:
        return empty
    cells = [[str(c) for c in headers], *[["-" if c is None else str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells)


def fields(pairs: Sequence[tuple[str, object]], prefix: str = "") -> str:
    width = max(len(name) for name, _ in pairs)
    return "\n".join(f"{prefix}{name.ljust(width)}  {value}" for name, value in pairs)


def indent(text: str, by: str = "  ") -> str:
    return "\n".join(by + line for line in text.splitlines())


# -- views of catalogue rows (built inside a session) ----------------------------------------------


def license_data(session: Session, license: License, now: datetime, *, devices: bool = False) -> dict[str, Any]:
    data = catalog.license_terms(session, license).to_dict()
    data.update(product=license.product.code, status=catalog.license_status(license, now), created_at=time_field(license.created_at))
    if devices:
        data["devices"] = [device_data(d) for d in license.devices]
    return data


def device_data(device: Device) -> dict[str, Any]:
    return {
        "id": device.id, "license": device.license.key or device.license.user, "hardware_id": device.hardware_id,
        "active": device.active, "enabled": device.enabled, "activated_at": time_field(device.activated_at),
        "deactivated_at": time_field(device.deactivated_at), "booked_consumptions": device.booked_consumptions,
    }


def product_data(session: Session, product: Product) -> dict[str, Any]:
    return {
        "code": product.code, "name": product.name, "free_tier": product.free_tier, "api_key": product.api_key,
        "shared_key": product.shared_key, "created_at": time_field(product.created_at),
        "licenses": len(catalog.list_licenses(session, product)),
    }


# -- text ------------------------------------------------------------------------------------------


def license_name(data: dict[str, Any]) -> str:
    return data["key"] or f"user {data['user']}"


def _consumption_text(data: dict[str, Any]) -> str:
    text = _limit(data["total_consumptions"], data["max_consumptions"])
    if data["allow_overages"]:
        text += f" (+ up to {data['max_overages']} overages)"
    return text


def devices_table(devices: Sequence[dict[str, Any]]) -> str:
    rows = [(d["id"], _short(d["hardware_id"]), yes(d["active"]), yes(d["enabled"]),
             show_time(parse_time_field(d["activated_at"])), show_time(parse_time_field(d["deactivated_at"])),
             d["booked_consumptions"])
            for d in devices]
    return table(("DEVICE", "HARDWARE ID", "ACTIVE", "ENABLED", "ACTIVATED (UTC)", "DEACTIVATED (UTC)", "BOOKED"),
                 rows, "(no devices)")


def floating_text(floating: dict[str, Any]) -> str:
    """A floating license's terms in one line: seats, lease length, longest borrow."""
    borrow = floating["max_borrow_seconds"]
    return (f"{floating['seats']} seats, leases of {format_span(floating['lease_seconds'])}, "
            + (f"borrowing up to {format_span(borrow)}" if borrow else "no borrowing"))


def license_text(data: dict[str, Any]) -> str:
    head = f"License {license_name(data)}  ({data['type']}, {data['status']})"
    pairs: list[tuple[str, object]] = [
        ("product", data["product"]),
        ("customer", data["customer"] or "-"),
        ("enabled", yes(data["enabled"])),
        ("start", show_time(parse_time_field(data["start"])) + (" UTC" if data["start"] else "")),
        ("expires", show_expiry(parse_time_field(data["expires"]))),
        ("activations", f"{data['total_activations']} / {data['max_activations']}"),
        ("consumption", _consumption_text(data)),
        *([("floating", floating_text(data["floating"]))] if "floating" in data else []),
        ("revision", data["revision"]),
    ]
    features = table(("FEATURE", "NAME", "EXPIRES (UTC)", "USES"),
                     [(f["code"], f["name"], show_time(parse_time_field(f["expires"]), "never"),
                       _limit(f["total_consumptions"], f["max_consumptions"])) for f in data["features"]],
                     "(no features)")
    parts = [head, fields(pairs, "  "), "Features:", indent(features)]
    if "devices" in data:
        parts += ["Devices:", indent(devices_table(data["devices"]))]
    return "\n".join(parts)
