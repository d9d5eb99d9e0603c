"""``respond FILE.req`` and ``refresh``: the files that travel between the vendor and a device.

``respond`` answers any request a device makes: an activation (writes ``ls_activation.lic``), a
deactivation (prints the receipt) or a refresh request (writes ``license_refresh.lic``).
"""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path

from ...wire import (
    ACTIVATION_REQUEST,
    ACTIVATION_RESPONSE_FILE_NAME,
    REFRESH_FILE_NAME,
    REFRESH_REQUEST,
    Envelope,
    read_artefact,
    write_artefact,
)
from ..issuer import ActivationAnswer, RefreshAnswer
from .context import CommandContext, check_writable, output_path
from .output import Output, fields, parse_time_field, show_time, time_field


def respond(ctx: CommandContext, args: argparse.Namespace) -> Output:
    source = Path(args.file).expanduser().absolute()
    data = read_artefact(source)
    typ = Envelope.parse(data).typ
    target = output_path(args.output, source.parent,
                         REFRESH_FILE_NAME if typ == REFRESH_REQUEST else ACTIVATION_RESPONSE_FILE_NAME)
    if typ in (ACTIVATION_REQUEST, REFRESH_REQUEST):  # the answers that are files
        check_writable(target)
    answer = ctx.workspace.issuer.answer(data)
    if isinstance(answer, RefreshAnswer):
        path = write_artefact(target, answer.data)
        text = "\n".join([
            f"Wrote the refresh file to {path}",
            "Give it to the user; the application applies it with license.update_offline(path).",
        ])
        return Output({"kind": "refresh", "path": str(path)}, text)
    if isinstance(answer, ActivationAnswer):
        path = write_artefact(target, answer.data)
        name = answer.license_key or answer.user
        text = "\n".join([
            *_answered_before(answer.first_answered_at, "the same activation response again"),
            f"Wrote the activation response to {path}",
            fields([("license", name), ("device", answer.device_id),
                    ("activations", f"{answer.total_activations} / {answer.max_activations}")], "  "),
            "Give this file to the user; the application activates with it (activate_license_offline).",
        ])
        return Output({"kind": "activation", "path": str(path), "device_id": answer.device_id, "license": name,
                       "total_activations": answer.total_activations, "max_activations": answer.max_activations,
                       "first_answered_at": time_field(answer.first_answered_at)}, text)
    receipt = answer.to_dict()
    booked = ", ".join(f"{code} {count}" for code, count in receipt["feature_consumptions_booked"].items())
    text = "\n".join([
        *_answered_before(answer.first_answered_at, "the same receipt again"),
        "Deactivation receipt",
        fields([
            ("license", receipt["license"]), ("device", receipt["device_id"]),
            ("deactivated", show_time(parse_time_field(receipt["deactivated_at"])) + " UTC"),
            ("consumptions", f"{receipt['consumptions_booked']} booked" + (f" (features: {booked})" if booked else "")),
            ("activations", f"{receipt['total_activations']} / {receipt['max_activations']}"),
        ], "  "),
    ])
    return Output({"kind": "deactivation", "receipt": receipt,
                   "first_answered_at": time_field(answer.first_answered_at)}, text)


def _answered_before(first_answered_at: datetime | None, what: str) -> list[str]:
    """The line that says a request was answered before (sent again: same answer, nothing counted twice)."""
    if first_answered_at is None:
        return []
    return [f"This request was already answered on {show_time(first_answered_at)} UTC: this is {what} "
            "(nothing was counted twice)."]


def refresh(ctx: CommandContext, args: argparse.Namespace) -> Output:
    target = output_path(args.output, Path.cwd(), REFRESH_FILE_NAME)
    check_writable(target)
    data = ctx.workspace.issuer.refresh(args.license, args.device, reset_consumption=args.reset_consumption)
    path = write_artefact(target, data)
    text = "\n".join([
        f"Wrote the refresh file for device {args.device} to {path}",
        "Give it to the user; the application applies it with license.update_offline(path).",
    ])
    return Output({"path": str(path), "license": args.license, "device_id": args.device,
                   "reset_consumption": args.reset_consumption}, text)
