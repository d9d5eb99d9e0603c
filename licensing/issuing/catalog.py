"""The vendor's catalogue: products, licenses, features and devices, and every change to them.

Functions here take an open :class:`~sqlalchemy.orm.Session` (one transaction) so the CLI and the
portal compose them freely. Every change that alters what a device would be told bumps the
license's ``revision`` (a refresh file is accepted only when it is newer) and writes an audit event.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import (
    DeviceNotFoundError,
    Feature,
    FloatingTerms,
    LicenseNotFoundError,
    LicenseTerms,
    ProductNotFoundError,
    VendorInputError,
)
from ..wire import LICENSE_TYPES, PRODUCT_CODE_PATTERN
from .models import AuditEvent, Device, License, LicenseFeature, Product
from .passwords import hash_password

__all__ = [
    "license_status",
    "LicenseSpec",
    "add_product",
    "get_product",
    "list_products",
    "issue_license",
    "get_license",
    "license_of_device",
    "list_licenses",
    "set_enabled",
    "extend_license",
    "add_feature",
    "set_max_activations",
    "reset_consumption",
    "set_floating",
    "active_devices",
    "add_device",
    "get_device",
    "set_device_enabled",
    "reset_device",
    "license_terms",
    "terms_of",
    "audit",
    "new_license_key",
]

_KEY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no O/0, I/1: keys are read aloud and retyped

#: floating licenses: a lease lasts this long unless the vendor says otherwise (a crashed
#: workstation holds its seat at most this long; heartbeats come three times as often)
DEFAULT_LEASE_SECONDS = 300
MIN_LEASE_SECONDS = 2
MAX_LEASE_SECONDS = 86_400
MAX_BORROW_SECONDS = 366 * 86_400


def new_license_key() -> str:
    return "-".join("".join(secrets.choice(_KEY_ALPHABET) for _ in range(4)) for _ in range(4))


def audit(session: Session, now: datetime, action: str, *, license: License | None = None,
          device_id: str | None = None, **detail: Any) -> None:
    session.add(AuditEvent(at=now, action=action, license_id=None if license is None else license.id,
                           device_id=device_id, detail=detail))


# -- products ----------------------------------------------------------------------------------


def add_product(session: Session, now: datetime, code: str, name: str | None = None, *,
                free_tier: bool = False) -> Product:
    if not PRODUCT_CODE_PATTERN.match(code):
        raise VendorInputError(f"{code!r} is not a valid product code.",
                               hint="Use letters, digits, '.', '_' or '-' (at most 64), starting with a letter or digit.")
    if session.scalar(select(Product).where(Product.code == code)) is not None:
        raise VendorInputError(f"A product with the code {code!r} already exists.")
    product = Product(code=code, name=name or code, api_key=secrets.token_urlsafe(24),
                      shared_key=secrets.token_urlsafe(32), free_tier=free_tier, created_at=now)
    session.add(product)
    session.flush()
    audit(session, now, "product.add", product=code)
    return product


def get_product(session: Session, code: str) -> Product:
    product = session.scalar(select(Product).where(Product.code == code))
    if product is None:
        raise ProductNotFoundError(f"There is no product with the code {code!r}.")
    return product


def list_products(session: Session) -> list[Product]:
    return list(session.scalars(select(Product).order_by(Product.code)))


# -- licenses ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LicenseSpec:
    """What ``license issue`` asks for; validated before anything is written."""

    license_type: str
    features: tuple[str, ...] = ()
    max_activations: int = 1
    start: datetime | None = None
    expires: datetime | None = None
    max_consumptions: int | None = None
    allow_overages: bool = False
    max_overages: int = 0
    user: str | None = None
    password: str | None = None
    customer: str | None = None
    enabled: bool = True
    #: floating licenses only: seats at once (required), lease length, longest borrow (0: no borrowing)
    seats: int | None = None
    lease_seconds: int | None = None
    max_borrow_seconds: int | None = None

    def validate(self) -> None:
        if self.license_type not in LICENSE_TYPES:
            raise VendorInputError(f"{self.license_type!r} is not a license type.",
                                   hint=f"Use one of: {', '.join(LICENSE_TYPES)}.")
        if self.license_type == "time-based" and self.expires is None:
            raise VendorInputError("A time-based license needs an expiry date (--expires YYYY-MM-DD).")
        if self.license_type == "consumption" and self.max_consumptions is None:
            raise VendorInputError("A consumption license needs a limit (--max-consumptions N).")
        if self.max_activations < 1:
            raise VendorInputError("A license needs at least one activation.")
        if (self.max_consumptions is not None and self.max_consumptions < 0) or self.max_overages < 0:
            raise VendorInputError("Consumption limits cannot be negative.")
        if (self.user is None) != (self.password is None) or (self.password is not None and not self.password):
            raise VendorInputError("A user-based license needs both a user name and a non-empty password.")
        if self.start is not None and self.expires is not None and self.start >= self.expires:
            raise VendorInputError("The start date must be before the expiry date.")
        for code in self.features:
            _check_feature_code(code)
        if self.license_type == "floating":
            if self.seats is None:
                raise VendorInputError("A floating license needs a seat count (--seats N).")
            if self.max_consumptions is not None:
                raise VendorInputError("A floating license cannot count consumption; issue a consumption license "
                                       "for that.")
            _check_floating(self.seats, self.lease_seconds, self.max_borrow_seconds)
        elif (self.seats, self.lease_seconds, self.max_borrow_seconds) != (None, None, None):
            raise VendorInputError("Seats, lease length and borrowing are for floating licenses only.",
                                   hint="Issue it with --type floating, or leave those options out.")


def _check_floating(seats: int | None, lease_seconds: int | None, max_borrow_seconds: int | None) -> None:
    if seats is not None and not 1 <= seats <= 1_000_000:
        raise VendorInputError("A floating license needs between 1 and 1000000 seats.")
    if lease_seconds is not None and not MIN_LEASE_SECONDS <= lease_seconds <= MAX_LEASE_SECONDS:
        raise VendorInputError(f"A lease lasts between {MIN_LEASE_SECONDS} seconds and one day.",
                               hint="Minutes are typical (e.g. --lease-length 5m): a crashed workstation holds its "
                                    "seat that long.")
    if max_borrow_seconds is not None and not 0 <= max_borrow_seconds <= MAX_BORROW_SECONDS:
        raise VendorInputError("The longest borrow is between 0 (no borrowing) and 366 days.")


def _check_feature_code(code: str) -> None:
    if not PRODUCT_CODE_PATTERN.match(code):
        raise VendorInputError(f"{code!r} is not a valid feature code.",
                               hint="Use letters, digits, '.', '_' or '-' (at most 64).")


def issue_license(session: Session, now: datetime, product: Product, spec: LicenseSpec) -> License:
    spec.validate()
    if spec.user is not None and session.scalar(
            select(License).where(License.product_id == product.id, License.user == spec.user)) is not None:
        raise VendorInputError(f"The user {spec.user!r} already has a license for this product.")
    license = License(
        product=product, key=None if spec.user else new_license_key(), user=spec.user,
        password_hash=None if spec.password is None else hash_password(spec.password),
        license_type=spec.license_type, enabled=spec.enabled, start=spec.start, expires=spec.expires,
        max_activations=spec.max_activations, active_devices=0, max_consumptions=spec.max_consumptions, total_consumptions=0,
        allow_overages=spec.allow_overages, max_overages=spec.max_overages, revision=1, customer=spec.customer,
        created_at=now, seats=spec.seats,
        lease_seconds=(spec.lease_seconds or DEFAULT_LEASE_SECONDS) if spec.license_type == "floating" else None,
        max_borrow_seconds=(spec.max_borrow_seconds or 0) if spec.license_type == "floating" else None,
        features=[LicenseFeature(code=code, name=code, total_consumptions=0) for code in dict.fromkeys(spec.features)],
    )
    session.add(license)
    session.flush()
    audit(session, now, "license.issue", license=license, type=spec.license_type)
    return license


def get_license(session: Session, key_or_user: str, *, product: Product | None = None,
                for_update: bool = False) -> License:
    """Find a license by its key (any case) or, for a user-based one, its user name."""
    query = select(License).where((License.key == key_or_user.strip().upper()) | (License.user == key_or_user))
    if for_update:
        query = query.with_for_update()
    if product is not None:
        query = query.where(License.product_id == product.id)
    found = list(session.scalars(query))
    if not found:
        raise LicenseNotFoundError(f"There is no license {key_or_user!r}.")
    if len(found) > 1:
        products = ", ".join(sorted(license.product.code for license in found))
        raise VendorInputError(f"The user {key_or_user!r} has licenses for several products ({products}).",
                               hint="Name the license by its product too (--product), or use a key.")
    return found[0]


def license_of_device(session: Session, key_or_user: str, device_id: str) -> tuple[License, Device]:
    """The license named ``key_or_user`` that device ``device_id`` belongs to (unambiguous by device)."""
    device = get_device(session, device_id)
    license = device.license
    if license.key != key_or_user.strip().upper() and license.user != key_or_user:
        raise DeviceNotFoundError(f"The device {device_id!r} is not on the license {key_or_user!r}.")
    return license, device


def list_licenses(session: Session, product: Product | None = None) -> list[License]:
    query = select(License).order_by(License.id)
    if product is not None:
        query = query.where(License.product_id == product.id)
    return list(session.scalars(query))


def _changed(session: Session, now: datetime, license: License, action: str, **detail: Any) -> License:
    license.revision += 1
    audit(session, now, action, license=license, **detail)
    return license


def set_enabled(session: Session, now: datetime, license: License, enabled: bool) -> License:
    license.enabled = enabled
    return _changed(session, now, license, "license.enable" if enabled else "license.disable")


def extend_license(session: Session, now: datetime, license: License, expires: datetime) -> License:
    if license.start is not None and expires <= license.start:
        raise VendorInputError("The new expiry date must be after the license's start date.")
    license.expires = expires
    return _changed(session, now, license, "license.extend", expires=expires.isoformat())


def add_feature(session: Session, now: datetime, license: License, code: str, *, name: str | None = None,
                expires: datetime | None = None, max_consumptions: int | None = None) -> License:
    _check_feature_code(code)
    if any(f.code == code for f in license.features):
        raise VendorInputError(f"The license already has the feature {code!r}.")
    if max_consumptions is not None and max_consumptions < 0:
        raise VendorInputError("A feature's consumption limit cannot be negative.")
    license.features.append(LicenseFeature(code=code, name=name or code, expires=expires,
                                           max_consumptions=max_consumptions, total_consumptions=0))
    return _changed(session, now, license, "license.add-feature", feature=code)


def set_max_activations(session: Session, now: datetime, license: License, count: int) -> License:
    if count < 1:
        raise VendorInputError("A license needs at least one activation.")
    license.max_activations = count
    return _changed(session, now, license, "license.set-max-activations", max_activations=count)


def set_floating(session: Session, now: datetime, license: License, *, seats: int | None = None,
                 lease_seconds: int | None = None, max_borrow_seconds: int | None = None) -> License:
    """Change a floating license's seats, lease length or longest borrow (its server learns by a refresh)."""
    if license.license_type != "floating":
        raise VendorInputError(f"The license is a {license.license_type} license; only a floating license has seats.")
    if (seats, lease_seconds, max_borrow_seconds) == (None, None, None):
        raise VendorInputError("Say what to change: the seats, the lease length or the longest borrow.")
    _check_floating(seats, lease_seconds, max_borrow_seconds)
    changed: dict[str, int] = {}
    for name, value in (("seats", seats), ("lease_seconds", lease_seconds), ("max_borrow_seconds", max_borrow_seconds)):
        if value is not None:
            setattr(license, name, value)
            changed[name] = value
    return _changed(session, now, license, "license.set-floating", **changed)


def reset_consumption(session: Session, now: datetime, license: License) -> License:
    license.total_consumptions = 0
    for feature in license.features:
        feature.total_consumptions = 0
    return _changed(session, now, license, "license.reset-consumption")


# -- devices -----------------------------------------------------------------------------------


def license_status(license: License, now: datetime) -> str:
    """One word for the vendor's lists: active, disabled, expired or not-started (the CLI and the admin pages)."""
    if not license.enabled:
        return "disabled"
    if license.expires is not None and license.expires <= now:
        return "expired"
    if license.start is not None and now < license.start:
        return "not-started"
    return "active"


def active_devices(session: Session, license: License) -> int:
    """The license's seats in use (kept in ``License.active_devices`` with every change of a device)."""
    return license.active_devices


def add_device(session: Session, now: datetime, license: License, *, hardware_id: str, device_key: str,
               request_id: str) -> Device:
    """Bind a device to the license outside the issuer (the demo vendor's made-up device), counted in its seats."""
    device = Device(id="dev_" + secrets.token_hex(8), license=license, hardware_id=hardware_id, device_key=device_key,
                    request_id=request_id, active=True, enabled=True, activated_at=now, booked_consumptions=0)
    session.add(device)
    _count_seats(license, +1)
    session.flush()
    return device


def _count_seats(license: License, change: int) -> None:
    # An UPDATE ... SET active_devices = active_devices + change at flush: right even when another
    # process changed the count since this session read the row.
    license.active_devices = License.active_devices + change  # type: ignore[assignment]


def get_device(session: Session, device_id: str, license: License | None = None) -> Device:
    device = session.get(Device, device_id)
    if device is None or (license is not None and device.license_id != license.id):
        raise DeviceNotFoundError(f"There is no device {device_id!r}" + (
            f" on the license {license.key or license.user}." if license is not None else "."))
    return device


def set_device_enabled(session: Session, now: datetime, device: Device, enabled: bool) -> Device:
    device.enabled = enabled
    audit(session, now, "device.enable" if enabled else "device.disable", license=device.license, device_id=device.id)
    return device


def reset_device(session: Session, now: datetime, device: Device) -> Device:
    """Unbind the device on the vendor side (frees its activation); the device itself is not told."""
    if device.active:
        device.active = False
        device.deactivated_at = now
        _count_seats(device.license, -1)
    audit(session, now, "device.reset", license=device.license, device_id=device.id)
    return device


def license_terms(session: Session, license: License, *, total_activations: int | None = None) -> LicenseTerms:
    """The signed view of a license, as a device will see it (pass the seat count if known)."""
    if total_activations is None:
        total_activations = active_devices(session, license)
    return terms_of(license, license.features, total_activations)


def terms_of(license: Any, features: Iterable[Any], total_activations: int) -> LicenseTerms:
    """The signed view of a license from anything with its columns as attributes: an ORM object or a Core row."""
    return LicenseTerms(
        license_id=license.id, key=license.key, user=license.user, license_type=license.license_type,
        enabled=license.enabled, start=license.start, expires=license.expires,
        max_activations=license.max_activations, total_activations=total_activations,
        max_consumptions=license.max_consumptions, total_consumptions=license.total_consumptions,
        allow_overages=license.allow_overages, max_overages=license.max_overages,
        features=tuple(Feature(code=f.code, name=f.name, expires=f.expires, max_consumptions=f.max_consumptions,
                               total_consumptions=f.total_consumptions) for f in features),
        revision=license.revision, customer=license.customer, floating=_floating_terms(license),
    )


def _floating_terms(license: Any) -> FloatingTerms | None:
    """A license row's floating terms (an ORM object or a Core row: both have the columns)."""
    if license.license_type != "floating":
        return None
    return FloatingTerms(seats=license.seats or 0, lease_seconds=license.lease_seconds or DEFAULT_LEASE_SECONDS,
                         max_borrow_seconds=license.max_borrow_seconds or 0)
