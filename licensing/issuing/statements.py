"""The issuer's hot paths in SQL: SQLAlchemy Core statements on the models' tables, no ORM objects.

Every answer the license server gives (activation, check, refresh, deactivation, consumption
report) runs a handful of these inside one short transaction the caller opened
(:meth:`~licensing.issuing.store.VendorStore.transaction`). Rows come back as named tuples
(columns by attribute), so nothing is loaded that the answer does not use, and there is no
identity map, unit of work or lazy load to pay for.

The statements are built once, at import, with bound parameters, and prepared once per database
kind (:mod:`licensing.issuing.prepared`): each call goes straight to the driver. The admin pages
and the CLI keep using the ORM (:mod:`licensing.issuing.catalog`); both write the same tables, so
the two meet only in the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple, TypeAlias

from sqlalchemy import Integer, Table, and_, any_, bindparam, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection

from .. import Feature
from ..wire import ACTIVATION_REQUEST
from .models import AnsweredRequest, AuditEvent, Device, License, LicenseFeature, Product
from .prepared import Prepared

__all__ = [
    "Record",
    "MachineDevice",
    "product",
    "product_and_license",
    "license_to_activate",
    "lock_licenses",
    "license_with_device",
    "device_with_license",
    "device_snapshot",
    "features",
    "features_in",
    "machine_devices_in",
    "audited_since",
    "answer_to",
    "device_state",
    "record_activation",
    "end_activations",
    "set_password_hash",
    "record_answer",
    "book_consumption",
    "audit",
]


#: one result row: a named tuple, columns by attribute (``row.max_activations``)
Record: TypeAlias = Any


class MachineDevice(NamedTuple):
    """A device a license was activated as on one machine (see machine_devices_in)."""

    id: str
    active: bool
    enabled: bool
    device_key: str
    activated_at: datetime


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
    licenses.c.seats, licenses.c.lease_seconds, licenses.c.max_borrow_seconds,  # floating licenses
)
#: the device's side of a joined row, named so it cannot clash with the license's columns
_DEVICE_COLUMNS = (
    devices.c.id.label("device_id"), devices.c.license_id.label("device_license_id"),
    devices.c.hardware_id.label("device_hardware_id"), devices.c.device_key.label("device_key"),
    devices.c.active.label("device_active"), devices.c.enabled.label("device_enabled"),
    devices.c.request_id.label("device_request_id"),
)

#: a license's feature, named so it cannot clash with the license's columns (see features_in)
_FEATURE_COLUMNS = (
    license_features.c.code.label("feature_code"), license_features.c.name.label("feature_name"),
    license_features.c.expires.label("feature_expires"),
    license_features.c.max_consumptions.label("feature_max_consumptions"),
    license_features.c.total_consumptions.label("feature_total_consumptions"),
)

#: a device of the license on the machine asking (see machine_devices_in)
_MACHINE_DEVICE_COLUMNS = (
    devices.c.id.label("machine_device_id"), devices.c.active.label("machine_device_active"),
    devices.c.enabled.label("machine_device_enabled"), devices.c.device_key.label("machine_device_key"),
    devices.c.activated_at.label("machine_device_activated_at"),
)

# Each statement is prepared once per database kind (licensing.issuing.prepared).
_PRODUCT = Prepared(
    select(products.c.id, products.c.code, products.c.api_key, products.c.shared_key, products.c.free_tier)
    .where(products.c.code == bindparam("code"))
)
_PRODUCT_AND_LICENSE = Prepared(
    select(products.c.id, products.c.code, products.c.api_key, products.c.shared_key, products.c.free_tier,
           licenses.c.id.label("license_id"), licenses.c.password_hash)
    .select_from(products.outerjoin(licenses, and_(
        licenses.c.product_id == products.c.id,
        or_(licenses.c.key == bindparam("key"), licenses.c.user == bindparam("user")))))
    .where(products.c.code == bindparam("code"))
)
_LICENSE_TO_ACTIVATE = Prepared(
    select(*_LICENSE_COLUMNS,
           products.c.code.label("product_code"), products.c.api_key, products.c.shared_key, products.c.free_tier,
           answered_requests.c.kind.label("answered_kind"), answered_requests.c.answered_at,
           answered_requests.c.request_digest, answered_requests.c.device_id.label("answered_device_id"),
           answered_requests.c.answer, *_FEATURE_COLUMNS, *_MACHINE_DEVICE_COLUMNS)
    .select_from(licenses
                 .join(products, products.c.id == licenses.c.product_id)
                 .outerjoin(answered_requests, answered_requests.c.request_id == bindparam("request_id"))
                 .outerjoin(license_features, license_features.c.license_id == licenses.c.id)
                 .outerjoin(devices, and_(devices.c.license_id == licenses.c.id,
                                          devices.c.hardware_id == bindparam("hardware_id"))))
    .where(licenses.c.id == bindparam("license_id"))
    .order_by(license_features.c.code, devices.c.activated_at)
    .with_for_update(of=licenses)
)
_license_with_device = (
    select(*_LICENSE_COLUMNS, *_DEVICE_COLUMNS)
    .select_from(licenses.outerjoin(devices, and_(devices.c.id == bindparam("device_id"),
                                                   devices.c.license_id == licenses.c.id)))
    .where(licenses.c.id == bindparam("license_id"), licenses.c.product_id == bindparam("product_id"))
)
# PostgreSQL only (SQLite's BEGIN IMMEDIATE locks the whole database): an array, one statement for any number.
_LOCK_LICENSES = Prepared(
    select(licenses.c.id).where(licenses.c.id == any_(bindparam("ids", type_=postgresql.ARRAY(Integer))))
    .order_by(licenses.c.id).with_for_update()
)
_LICENSE_WITH_DEVICE = Prepared(_license_with_device)
_LICENSE_WITH_DEVICE_LOCKED = Prepared(_license_with_device.with_for_update(of=licenses))
_DEVICE_WITH_LICENSE = Prepared(
    select(*_LICENSE_COLUMNS, *_DEVICE_COLUMNS, products.c.code.label("product_code"))
    .select_from(devices.join(licenses, licenses.c.id == devices.c.license_id)
                 .join(products, products.c.id == licenses.c.product_id))
    .where(devices.c.id == bindparam("device_id"))
    .with_for_update(of=licenses)
)
_DEVICE_SNAPSHOT = Prepared(
    select(products.c.code.label("product_code"), products.c.api_key, products.c.shared_key, products.c.free_tier,
           *_LICENSE_COLUMNS, *_DEVICE_COLUMNS, *_FEATURE_COLUMNS)
    .select_from(devices.join(licenses, licenses.c.id == devices.c.license_id)
                 .join(products, products.c.id == licenses.c.product_id)
                 .outerjoin(license_features, license_features.c.license_id == licenses.c.id))
    .where(devices.c.id == bindparam("device_id"))
    .order_by(license_features.c.code)
)
_FEATURES = Prepared(
    select(license_features.c.code, license_features.c.name, license_features.c.expires,
           license_features.c.max_consumptions, license_features.c.total_consumptions)
    .where(license_features.c.license_id == bindparam("license_id"))
    .order_by(license_features.c.code)
)
# Only after a re-activation, and with an expanding IN list: run by SQLAlchemy, not prepared.
_AUDITED_SINCE = (select(audit_events.c.at)
                  .where(audit_events.c.license_id == bindparam("license_id"),
                         audit_events.c.action.in_(bindparam("actions", expanding=True)),
                         audit_events.c.at > bindparam("since"))
                  .order_by(audit_events.c.at))
_SET_PASSWORD_HASH = Prepared(
    update(licenses).where(licenses.c.id == bindparam("of_license")).values(password_hash=bindparam("new_hash"))
)
_ANSWER = Prepared(
    select(answered_requests.c.kind, answered_requests.c.answered_at, answered_requests.c.request_digest,
           answered_requests.c.device_id, answered_requests.c.answer)
    .where(answered_requests.c.request_id == bindparam("request_id"))
)
_DEVICE_STATE = Prepared(select(devices.c.active, devices.c.enabled).where(devices.c.id == bindparam("device_id")))
_ADD_DEVICE = Prepared(insert(devices).values({name: bindparam(name) for name in (
    "id", "license_id", "hardware_id", "device_key", "request_id", "active", "enabled", "activated_at",
    "deactivated_at", "booked_consumptions")}))
_END_ACTIVATION = Prepared(
    update(devices).where(devices.c.id == bindparam("ended_id"), devices.c.active.is_(True))
    .values(active=False, deactivated_at=bindparam("ended_at"))
)
_COUNT_SEATS = Prepared(
    update(licenses).where(licenses.c.id == bindparam("of_license"))
    .values(active_devices=licenses.c.active_devices + bindparam("change"))
)
_RECORD_ANSWER = Prepared(insert(answered_requests).values({name: bindparam(name) for name in (
    "request_id", "kind", "answered_at", "request_digest", "device_id", "answer")}))
_AUDIT = Prepared(insert(audit_events).values({name: bindparam(name) for name in (
    "at", "action", "license_id", "device_id", "detail")}))


def _activation_writes() -> Prepared:
    """An activation's four writes as one PostgreSQL statement (data-modifying CTEs): one round trip, not four.

    The device it replaces (``ended_id``, or None) is ended, the new device added, the seats
    counted from how many were really ended, the answer and the audit event recorded. SQLite has
    no data-modifying CTEs: there :func:`record_activation` runs the four statements.
    """
    ended = (update(devices).where(devices.c.id == bindparam("ended_id"), devices.c.active.is_(True))
             .values(active=False, deactivated_at=bindparam("at")).returning(devices.c.id).cte("ended"))
    added = (insert(devices).values(
        id=bindparam("device_id"), license_id=bindparam("license_id"), hardware_id=bindparam("hardware_id"),
        device_key=bindparam("device_key"), request_id=bindparam("request_id"), active=True, enabled=True,
        activated_at=bindparam("at"), deactivated_at=None, booked_consumptions=0).returning(devices.c.id).cte("added"))
    seats = (update(licenses).where(licenses.c.id == bindparam("license_id"))
             .values(active_devices=licenses.c.active_devices + 1
                     - select(func.count()).select_from(ended).scalar_subquery())
             .returning(licenses.c.id).cte("seats"))
    answered = (insert(answered_requests).values(
        request_id=bindparam("request_id"), kind=bindparam("kind"), answered_at=bindparam("at"),
        request_digest=bindparam("digest"), device_id=bindparam("device_id"), answer=bindparam("answer"))
        .returning(answered_requests.c.request_id).cte("answered"))
    return Prepared(insert(audit_events).values(
        at=bindparam("at"), action=bindparam("action"), license_id=bindparam("license_id"),
        device_id=bindparam("device_id"), detail=bindparam("detail", type_=audit_events.c.detail.type))
        .add_cte(ended, added, seats, answered))


_ACTIVATION_WRITES = _activation_writes()

_BOOK_FEATURE = Prepared(
    update(license_features)
    .where(license_features.c.license_id == bindparam("of_license"), license_features.c.code == bindparam("feature_code"))
    .values(total_consumptions=license_features.c.total_consumptions + bindparam("uses"))
)
_BOOK_LICENSE = Prepared(
    update(licenses).where(licenses.c.id == bindparam("of_license"))
    .values(total_consumptions=licenses.c.total_consumptions + bindparam("uses"),
            revision=licenses.c.revision + bindparam("new_revision"))
)
_BOOK_DEVICE = Prepared(
    update(devices).where(devices.c.id == bindparam("of_device"))
    .values(booked_consumptions=devices.c.booked_consumptions + bindparam("uses"))
)


# -- who is asking ---------------------------------------------------------------------------


def _first(rows: list[Record]) -> Record | None:
    return rows[0] if rows else None


def product(db: Connection, code: str) -> Record | None:
    """The product with ``code``: id, code, api_key, shared_key, free_tier."""
    return _first(_PRODUCT.rows(db, {"code": code}))


def product_and_license(db: Connection, code: str, *, key: str | None, user: str | None) -> Record | None:
    """The product with ``code`` (id, code, api_key, shared_key, free_tier) and, if it has one, its license
    with this key or user (``license_id`` and ``password_hash``, else None). None: no such product."""
    return _first(_PRODUCT_AND_LICENSE.rows(db, {"code": code, "key": key, "user": user}))


# -- the license and its devices --------------------------------------------------------------


def license_to_activate(db: Connection, license_id: int, request_id: str, hardware_id: str) -> Sequence[Record]:
    """License ``license_id`` (locked), its product, how ``request_id`` was answered, the features, the machine's devices.

    The caller must already hold the license's lock (:meth:`VendorStore.write
    <licensing.issuing.store.VendorStore.write>` takes it before the work runs): on PostgreSQL
    a statement that waits for a row lock reads the rows it joins as they were before the wait.
    One row per feature and device of the license on ``hardware_id`` (see features_in and
    machine_devices_in): the license's columns; its product's ``product_code``, ``api_key``,
    ``shared_key`` and ``free_tier``; ``answered_kind``, ``answered_at``, ``request_digest``,
    ``answered_device_id`` and ``answer`` (all None if the request was never answered); the
    feature's (``feature_*``); the device's (``machine_device_*``).
    """
    return _LICENSE_TO_ACTIVATE.rows(db, {"license_id": license_id, "request_id": request_id,
                                          "hardware_id": hardware_id})


def lock_licenses(db: Connection, license_ids: Sequence[int]) -> None:
    """Lock these license rows (PostgreSQL), in ascending id order, until the transaction ends."""
    _LOCK_LICENSES.rows(db, {"ids": sorted(license_ids)})


def license_with_device(db: Connection, product_id: int, license_id: int, device_id: str, *,
                        lock: bool) -> Record | None:
    """The product's license ``license_id`` joined to its device ``device_id`` (device columns None if not its).

    None when the product has no such license. ``lock`` locks the license row (not the device).
    """
    statement = _LICENSE_WITH_DEVICE_LOCKED if lock else _LICENSE_WITH_DEVICE
    return _first(statement.rows(db, {"product_id": product_id, "license_id": license_id,
                                  "device_id": device_id}))


def device_with_license(db: Connection, device_id: str) -> Record | None:
    """Device ``device_id`` joined to its (locked) license and the product's code."""
    return _first(_DEVICE_WITH_LICENSE.rows(db, {"device_id": device_id}))


def device_snapshot(db: Connection, device_id: str) -> Sequence[Record]:
    """Everything an online check needs about device ``device_id``, in one statement (one snapshot).

    One row per feature of its license (one row with ``feature_*`` None if it has none): the
    product's code (``product_code``), keys and tier, the license's columns, the device's
    (``device_*``), the feature's (``feature_*``). No rows: no such device.
    """
    return _DEVICE_SNAPSHOT.rows(db, {"device_id": device_id})


def features_in(rows: Sequence[Record]) -> list[Feature]:
    """The license's features, from the rows of a statement that joined them (``feature_*`` columns), by code."""
    found = {row.feature_code: Feature(code=row.feature_code, name=row.feature_name, expires=row.feature_expires,
                                       max_consumptions=row.feature_max_consumptions,
                                       total_consumptions=row.feature_total_consumptions)
             for row in rows if row.feature_code is not None}
    return list(found.values())


def machine_devices_in(rows: Sequence[Record]) -> list[MachineDevice]:
    """Every device the license was activated as on the machine asking, from :func:`license_to_activate`'s rows."""
    found = {row.machine_device_id: MachineDevice(row.machine_device_id, row.machine_device_active,
                                                  row.machine_device_enabled, row.machine_device_key,
                                                  row.machine_device_activated_at)
             for row in rows if row.machine_device_id is not None}
    return list(found.values())


def features(db: Connection, license_id: int) -> Sequence[Record]:
    """The license's features, by code: code, name, expires, max_consumptions, total_consumptions."""
    return _FEATURES.rows(db, {"license_id": license_id})


def audited_since(db: Connection, license_id: int, actions: Sequence[str], since: datetime) -> list[datetime]:
    """When the license's audit events of these ``actions`` after ``since`` happened, oldest first."""
    return list(db.execute(_AUDITED_SINCE, {"license_id": license_id, "actions": list(actions),
                                            "since": since}).scalars())


# -- writes ------------------------------------------------------------------------------------


def answer_to(db: Connection, request_id: str) -> Record | None:
    """How ``request_id`` was answered, if it was: kind, answered_at, request_digest, device_id, answer."""
    return _first(_ANSWER.rows(db, {"request_id": request_id}))


def device_state(db: Connection, device_id: str) -> Record | None:
    """active and enabled of one device."""
    return _first(_DEVICE_STATE.rows(db, {"device_id": device_id}))


def record_activation(db: Connection, *, device_id: str, license_id: int, hardware_id: str, device_key: str,
                      request_id: str, now: datetime, digest: str, answer: str, action: str,
                      replacing: str | None = None) -> None:
    """A new active device on the license, in place of ``replacing`` (ended), the seats counted, the answer
    to ``request_id`` and the audit event ``action`` recorded. The caller holds the license's lock."""
    if db.dialect.name == "postgresql":
        _ACTIVATION_WRITES.run(db, {"ended_id": replacing, "at": now, "device_id": device_id, "license_id": license_id,
                                    "hardware_id": hardware_id, "device_key": device_key, "request_id": request_id,
                                    "kind": ACTIVATION_REQUEST, "digest": digest, "answer": answer, "action": action,
                                    "detail": {}})
        return
    ended = _end(db, [] if replacing is None else [replacing], now)
    _ADD_DEVICE.run(db, {"id": device_id, "license_id": license_id, "hardware_id": hardware_id,
                         "device_key": device_key, "request_id": request_id, "active": True, "enabled": True,
                         "activated_at": now, "deactivated_at": None, "booked_consumptions": 0})
    _COUNT_SEATS.run(db, {"of_license": license_id, "change": 1 - ended})
    record_answer(db, request_id, ACTIVATION_REQUEST, now, digest=digest, device_id=device_id, answer=answer)
    audit(db, now, action, license_id=license_id, device_id=device_id)


def end_activations(db: Connection, license_id: int, device_ids: Sequence[str], now: datetime) -> None:
    """Mark the license's devices inactive; their seats are free again (the caller holds the license's lock)."""
    ended = _end(db, device_ids, now)
    if ended:
        _COUNT_SEATS.run(db, {"of_license": license_id, "change": -ended})


def _end(db: Connection, device_ids: Sequence[str], now: datetime) -> int:
    """End the active ones among ``device_ids``; how many were active. One statement each: a row
    count is reliable only for one."""
    return sum(_END_ACTIVATION.run(db, {"ended_id": device_id, "ended_at": now})
               for device_id in device_ids)


def set_password_hash(db: Connection, license_id: int, password_hash: str) -> None:
    _SET_PASSWORD_HASH.run(db, {"of_license": license_id, "new_hash": password_hash})


def record_answer(db: Connection, request_id: str, kind: str, now: datetime, *, digest: str,
                  device_id: str | None, answer: str | None) -> None:
    """Remember how ``request_id`` was answered (its primary key makes a second insert fail)."""
    _RECORD_ANSWER.run(db, {"request_id": request_id, "kind": kind, "answered_at": now,
                                "request_digest": digest, "device_id": device_id, "answer": answer})


def book_consumption(db: Connection, license_id: int, device_id: str, uses: int,
                     feature_uses: dict[str, int]) -> None:
    """Add a device's reported uses to the license's and features' totals; any change is a new revision."""
    for code, count in feature_uses.items():
        _BOOK_FEATURE.run(db, {"of_license": license_id, "feature_code": code, "uses": count})
    changed = bool(uses or feature_uses)
    _BOOK_LICENSE.run(db, {"of_license": license_id, "uses": uses, "new_revision": int(changed)})
    _BOOK_DEVICE.run(db, {"of_device": device_id, "uses": uses})


def audit(db: Connection, now: datetime, action: str, *, license_id: int | None, device_id: str | None,
          **detail: Any) -> None:
    _AUDIT.run(db, {"at": now, "action": action, "license_id": license_id, "device_id": device_id,
                        "detail": detail})
