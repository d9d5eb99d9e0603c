"""The issuer's hot paths in SQL: SQLAlchemy Core statements on the models' tables, no ORM objects.

Every answer the license server gives (activation, check, refresh, deactivation, consumption
report) runs a handful of these inside one short transaction the caller opened
(:meth:`~licensing.issuing.store.VendorStore.transaction`). Rows come back as plain
:class:`~sqlalchemy.engine.Row` tuples with attribute access, so nothing is loaded that the answer
does not use, and there is no identity map, unit of work or lazy load to pay for.

The statements are built once, at import, with bound parameters: SQLAlchemy then reuses each
one's compiled form from its cache instead of building and coercing a new construct per request.
The admin pages and the CLI keep using the ORM (:mod:`licensing.issuing.catalog`); both write the
same tables, so the two meet only in the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeAlias, Unpack

from sqlalchemy import Row, Table, and_, bindparam, insert, or_, select, update
from sqlalchemy.engine import Connection

from .. import Feature
from .models import AnsweredRequest, AuditEvent, Device, License, LicenseFeature, Product

__all__ = [
    "Record",
    "product",
    "product_and_license",
    "license_to_activate",
    "license_with_device",
    "device_with_license",
    "device_snapshot",
    "features",
    "features_in",
    "devices_of_machine",
    "answer_to",
    "device_state",
    "bind_device",
    "end_activations",
    "record_answer",
    "book_consumption",
    "audit",
]


#: one result row: columns by attribute (``row.max_activations``), nothing loaded lazily
Record: TypeAlias = "Row[Unpack[tuple[Any, ...]]]"


def _table(model: type) -> Table:
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)
    return table


products = _table(Product)
licenses = _table(License)
license_features = _table(LicenseFeature)
devices = _table(Device)
answered_requests = _table(AnsweredRequest)
audit_events = _table(AuditEvent)

#: what a device is told about its license (see catalog.terms_of), plus what the rules read
_LICENSE_COLUMNS = (
    licenses.c.id, licenses.c.product_id, licenses.c.key, licenses.c.user, licenses.c.license_type,
    licenses.c.enabled, licenses.c.start, licenses.c.expires, licenses.c.max_activations,
    licenses.c.max_consumptions, licenses.c.total_consumptions, licenses.c.allow_overages,
    licenses.c.max_overages, licenses.c.revision, licenses.c.customer, licenses.c.active_devices,
)
#: the device's side of a joined row, named so it cannot clash with the license's columns
_DEVICE_COLUMNS = (
    devices.c.id.label("device_id"), devices.c.license_id.label("device_license_id"),
    devices.c.hardware_id.label("device_hardware_id"), devices.c.device_key.label("device_key"),
    devices.c.active.label("device_active"), devices.c.enabled.label("device_enabled"),
)

#: a license's feature, named so it cannot clash with the license's columns (see features_in)
_FEATURE_COLUMNS = (
    license_features.c.code.label("feature_code"), license_features.c.name.label("feature_name"),
    license_features.c.expires.label("feature_expires"),
    license_features.c.max_consumptions.label("feature_max_consumptions"),
    license_features.c.total_consumptions.label("feature_total_consumptions"),
)

_PRODUCT = select(products.c.id, products.c.code, products.c.api_key, products.c.shared_key,
                  products.c.free_tier).where(products.c.code == bindparam("code"))
_PRODUCT_AND_LICENSE = (
    select(products.c.id, products.c.code, products.c.api_key, products.c.shared_key, products.c.free_tier,
           licenses.c.id.label("license_id"), licenses.c.password_hash)
    .select_from(products.outerjoin(licenses, and_(
        licenses.c.product_id == products.c.id,
        or_(licenses.c.key == bindparam("key"), licenses.c.user == bindparam("user")))))
    .where(products.c.code == bindparam("code"))
)
_LICENSE_TO_ACTIVATE = (
    select(*_LICENSE_COLUMNS,
           answered_requests.c.kind.label("answered_kind"), answered_requests.c.answered_at,
           answered_requests.c.request_digest, answered_requests.c.device_id.label("answered_device_id"),
           answered_requests.c.answer, *_FEATURE_COLUMNS)
    .select_from(licenses
                 .outerjoin(answered_requests, answered_requests.c.request_id == bindparam("request_id"))
                 .outerjoin(license_features, license_features.c.license_id == licenses.c.id))
    .where(licenses.c.id == bindparam("license_id"))
    .order_by(license_features.c.code)
    .with_for_update(of=licenses)
)
_LICENSE_WITH_DEVICE = (
    select(*_LICENSE_COLUMNS, *_DEVICE_COLUMNS)
    .select_from(licenses.outerjoin(devices, and_(devices.c.id == bindparam("device_id"),
                                                   devices.c.license_id == licenses.c.id)))
    .where(licenses.c.id == bindparam("license_id"), licenses.c.product_id == bindparam("product_id"))
)
_LICENSE_WITH_DEVICE_LOCKED = _LICENSE_WITH_DEVICE.with_for_update(of=licenses)
_DEVICE_WITH_LICENSE = (
    select(*_LICENSE_COLUMNS, *_DEVICE_COLUMNS, products.c.code.label("product_code"))
    .select_from(devices.join(licenses, licenses.c.id == devices.c.license_id)
                 .join(products, products.c.id == licenses.c.product_id))
    .where(devices.c.id == bindparam("device_id"))
    .with_for_update(of=licenses)
)
_DEVICE_SNAPSHOT = (
    select(products.c.code.label("product_code"), products.c.api_key, products.c.shared_key, products.c.free_tier,
           *_LICENSE_COLUMNS, *_DEVICE_COLUMNS, *_FEATURE_COLUMNS)
    .select_from(devices.join(licenses, licenses.c.id == devices.c.license_id)
                 .join(products, products.c.id == licenses.c.product_id)
                 .outerjoin(license_features, license_features.c.license_id == licenses.c.id))
    .where(devices.c.id == bindparam("device_id"))
    .order_by(license_features.c.code)
)
_FEATURES = (select(license_features.c.code, license_features.c.name, license_features.c.expires,
                    license_features.c.max_consumptions, license_features.c.total_consumptions)
             .where(license_features.c.license_id == bindparam("license_id"))
             .order_by(license_features.c.code))
_DEVICES_OF_MACHINE = select(devices.c.id, devices.c.active, devices.c.enabled).where(
    devices.c.license_id == bindparam("license_id"), devices.c.hardware_id == bindparam("hardware_id"),
    devices.c.active.is_(True) | devices.c.enabled.is_(False))
_ANSWER = select(answered_requests.c.kind, answered_requests.c.answered_at, answered_requests.c.request_digest,
                 answered_requests.c.device_id, answered_requests.c.answer).where(
    answered_requests.c.request_id == bindparam("request_id"))
_DEVICE_STATE = select(devices.c.active, devices.c.enabled).where(devices.c.id == bindparam("device_id"))
_ADD_DEVICE = insert(devices)
_END_ACTIVATION = (update(devices).where(devices.c.id == bindparam("ended_id"), devices.c.active.is_(True))
                   .values(active=False, deactivated_at=bindparam("ended_at")))
_COUNT_SEATS = (update(licenses).where(licenses.c.id == bindparam("of_license"))
                .values(active_devices=licenses.c.active_devices + bindparam("change")))
_RECORD_ANSWER = insert(answered_requests)
_AUDIT = insert(audit_events)
_BOOK_FEATURE = (update(license_features)
                 .where(license_features.c.license_id == bindparam("of_license"),
                        license_features.c.code == bindparam("feature_code"))
                 .values(total_consumptions=license_features.c.total_consumptions + bindparam("uses")))
_BOOK_LICENSE = (update(licenses).where(licenses.c.id == bindparam("of_license"))
                 .values(total_consumptions=licenses.c.total_consumptions + bindparam("uses"),
                         revision=licenses.c.revision + bindparam("new_revision")))
_BOOK_DEVICE = (update(devices).where(devices.c.id == bindparam("of_device"))
                .values(booked_consumptions=devices.c.booked_consumptions + bindparam("uses")))


# -- who is asking ---------------------------------------------------------------------------


def product(db: Connection, code: str) -> Record | None:
    """The product with ``code``: id, code, api_key, shared_key, free_tier."""
    return db.execute(_PRODUCT, {"code": code}).first()


def product_and_license(db: Connection, code: str, *, key: str | None, user: str | None) -> Record | None:
    """The product with ``code`` (id, code, api_key, shared_key, free_tier) and, if it has one, its license
    with this key or user (``license_id`` and ``password_hash``, else None). None: no such product."""
    return db.execute(_PRODUCT_AND_LICENSE, {"code": code, "key": key, "user": user}).first()


# -- the license and its devices --------------------------------------------------------------


def license_to_activate(db: Connection, license_id: int, request_id: str) -> Sequence[Record]:
    """License ``license_id``, locked until the transaction ends, with how ``request_id`` was answered and the features.

    One row per feature (one with ``feature_*`` None if the license has none): the license's
    columns; ``answered_kind``, ``answered_at``, ``request_digest``, ``answered_device_id`` and
    ``answer`` (all None if the request was never answered); the feature's (see features_in).
    """
    return db.execute(_LICENSE_TO_ACTIVATE, {"license_id": license_id, "request_id": request_id}).all()


def license_with_device(db: Connection, product_id: int, license_id: int, device_id: str, *,
                        lock: bool) -> Record | None:
    """The product's license ``license_id`` joined to its device ``device_id`` (device columns None if not its).

    None when the product has no such license. ``lock`` locks the license row (not the device).
    """
    statement = _LICENSE_WITH_DEVICE_LOCKED if lock else _LICENSE_WITH_DEVICE
    return db.execute(statement, {"product_id": product_id, "license_id": license_id,
                                  "device_id": device_id}).first()


def device_with_license(db: Connection, device_id: str) -> Record | None:
    """Device ``device_id`` joined to its (locked) license and the product's code."""
    return db.execute(_DEVICE_WITH_LICENSE, {"device_id": device_id}).first()


def device_snapshot(db: Connection, device_id: str) -> Sequence[Record]:
    """Everything an online check needs about device ``device_id``, in one statement (one snapshot).

    One row per feature of its license (one row with ``feature_*`` None if it has none): the
    product's code (``product_code``), keys and tier, the license's columns, the device's
    (``device_*``), the feature's (``feature_*``). No rows: no such device.
    """
    return db.execute(_DEVICE_SNAPSHOT, {"device_id": device_id}).all()


def features_in(rows: Sequence[Record]) -> list[Feature]:
    """The license's features, from the rows of a statement that joined them (``feature_*`` columns)."""
    return [Feature(code=row.feature_code, name=row.feature_name, expires=row.feature_expires,
                    max_consumptions=row.feature_max_consumptions, total_consumptions=row.feature_total_consumptions)
            for row in rows if row.feature_code is not None]


def features(db: Connection, license_id: int) -> Sequence[Record]:
    """The license's features, by code: code, name, expires, max_consumptions, total_consumptions."""
    return db.execute(_FEATURES, {"license_id": license_id}).all()


def devices_of_machine(db: Connection, license_id: int, hardware_id: str) -> Sequence[Record]:
    """The license's devices on this hardware that are active or disabled: id, active, enabled."""
    return db.execute(_DEVICES_OF_MACHINE, {"license_id": license_id, "hardware_id": hardware_id}).all()


# -- writes ------------------------------------------------------------------------------------


def answer_to(db: Connection, request_id: str) -> Record | None:
    """How ``request_id`` was answered, if it was: kind, answered_at, request_digest, device_id, answer."""
    return db.execute(_ANSWER, {"request_id": request_id}).first()


def device_state(db: Connection, device_id: str) -> Record | None:
    """active and enabled of one device."""
    return db.execute(_DEVICE_STATE, {"device_id": device_id}).first()


def bind_device(db: Connection, *, device_id: str, license_id: int, hardware_id: str, device_key: str,
                request_id: str, now: datetime, replacing: Sequence[str] = ()) -> None:
    """A new active device on the license, in place of ``replacing`` (ended), and the seats counted.

    The caller holds the license's lock.
    """
    ended = _end(db, replacing, now)
    db.execute(_ADD_DEVICE, {"id": device_id, "license_id": license_id, "hardware_id": hardware_id,
                             "device_key": device_key, "request_id": request_id, "active": True, "enabled": True,
                             "activated_at": now, "deactivated_at": None, "booked_consumptions": 0})
    db.execute(_COUNT_SEATS, {"of_license": license_id, "change": 1 - ended})


def end_activations(db: Connection, license_id: int, device_ids: Sequence[str], now: datetime) -> None:
    """Mark the license's devices inactive; their seats are free again (the caller holds the license's lock)."""
    ended = _end(db, device_ids, now)
    if ended:
        db.execute(_COUNT_SEATS, {"of_license": license_id, "change": -ended})


def _end(db: Connection, device_ids: Sequence[str], now: datetime) -> int:
    """End the active ones among ``device_ids``; how many were active. One statement each: a row
    count is reliable only for one."""
    return sum(db.execute(_END_ACTIVATION, {"ended_id": device_id, "ended_at": now}).rowcount
               for device_id in device_ids)


def record_answer(db: Connection, request_id: str, kind: str, now: datetime, *, digest: str,
                  device_id: str | None, answer: str | None) -> None:
    """Remember how ``request_id`` was answered (its primary key makes a second insert fail)."""
    db.execute(_RECORD_ANSWER, {"request_id": request_id, "kind": kind, "answered_at": now,
                                "request_digest": digest, "device_id": device_id, "answer": answer})


def book_consumption(db: Connection, license_id: int, device_id: str, uses: int,
                     feature_uses: dict[str, int]) -> None:
    """Add a device's reported uses to the license's and features' totals; any change is a new revision."""
    for code, count in feature_uses.items():
        db.execute(_BOOK_FEATURE, {"of_license": license_id, "feature_code": code, "uses": count})
    changed = bool(uses or feature_uses)
    db.execute(_BOOK_LICENSE, {"of_license": license_id, "uses": uses, "new_revision": int(changed)})
    db.execute(_BOOK_DEVICE, {"of_device": device_id, "uses": uses})


def audit(db: Connection, now: datetime, action: str, *, license_id: int | None, device_id: str | None,
          **detail: Any) -> None:
    db.execute(_AUDIT, {"at": now, "action": action, "license_id": license_id, "device_id": device_id,
                        "detail": detail})
