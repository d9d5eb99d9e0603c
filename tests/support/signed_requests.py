"""Request bodies for load and profiling, signed exactly as the SDK signs them, but in bulk.

The SDK writes one request at a time through a device's fsync'd local store; a benchmark needs
tens of thousands of distinct ones in seconds. These build the same payloads (``LicenseManager``
and ``License._device_request`` are the shapes; ``bench/bench_portal.py`` checks one against an
SDK-made request) with a fresh device key each, and nothing stored on disk. Used by the benchmarks
(``bench/``) and by the failover test.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone

from licensing import Configuration
from licensing.wire import ACTIVATION_REQUEST, REFRESH_REQUEST, Envelope, crypto, encode_device_signed, format_time

__all__ = ["Device", "activation_request", "activate_device", "check_request"]


def _now() -> str:
    return format_time(datetime.now(timezone.utc))


def activation_request(config: Configuration, key: str, device_key: crypto.Ed25519PrivateKey | None = None,
                       hardware_id: str | None = None) -> bytes:
    """A distinct ``ls_activation.req`` for license ``key`` (a new device key unless given)."""
    body = {
        "product": config.product, "api_key": config.api_key, "request_id": secrets.token_hex(16),
        "nonce": secrets.token_hex(16), "hardware_id": hardware_id or secrets.token_hex(32),
        "created_at": _now(), "credentials": {"key": key},
    }
    return encode_device_signed(ACTIVATION_REQUEST, body, device_key or crypto.Ed25519PrivateKey.generate(),
                                config.shared_key.encode("utf-8"))


@dataclass(frozen=True)
class Device:
    """An activated device as the vendor bound it: enough to sign requests about its activation."""

    key: crypto.Ed25519PrivateKey
    hardware_id: str
    device_id: str
    license_id: int


def activate_device(config: Configuration, key: str, answer_activation) -> Device:  # type: ignore[no-untyped-def]
    """Activate a new device with ``answer_activation(request bytes) -> ActivationAnswer``."""
    device_key, hardware_id = crypto.Ed25519PrivateKey.generate(), secrets.token_hex(32)
    answer = answer_activation(activation_request(config, key, device_key, hardware_id))
    doc = json.loads(Envelope.parse(answer.data).payload)
    return Device(device_key, hardware_id, doc["device_id"], doc["license"]["id"])


def check_request(config: Configuration, device: Device, typ: str = REFRESH_REQUEST) -> bytes:
    """A device-signed request about ``device``'s activation (the online check's body by default)."""
    body = {
        "product": config.product, "api_key": config.api_key, "request_id": secrets.token_hex(16),
        "nonce": secrets.token_hex(16), "hardware_id": device.hardware_id, "device_id": device.device_id,
        "license_id": device.license_id,
        "created_at": _now(), "local_consumptions": 0, "feature_consumptions": {},
    }
    return encode_device_signed(typ, body, device.key, config.shared_key.encode("utf-8"))
