"""The vendor's database schema (SQLAlchemy 2.0 declarative models)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

__all__ = ["Base", "Product", "License", "LicenseFeature", "Device", "AnsweredRequest", "AuditEvent", "AttemptCounter",
           "AdminSession"]


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC and always hands back an aware UTC datetime (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    pass


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    api_key: Mapped[str] = mapped_column(String(100))
    shared_key: Mapped[str] = mapped_column(String(100))
    free_tier: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    licenses: Mapped[list[License]] = relationship(back_populates="product")


class License(Base):
    __tablename__ = "licenses"
    __table_args__ = (UniqueConstraint("product_id", "user", name="uq_license_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    key: Mapped[str | None] = mapped_column(String(19), unique=True)
    user: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    license_type: Mapped[str] = mapped_column(String(20))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    start: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires: Mapped[datetime | None] = mapped_column(UTCDateTime())
    max_activations: Mapped[int] = mapped_column(Integer, default=1)
    max_consumptions: Mapped[int | None] = mapped_column(Integer)
    total_consumptions: Mapped[int] = mapped_column(Integer, default=0)
    allow_overages: Mapped[bool] = mapped_column(Boolean, default=False)
    max_overages: Mapped[int] = mapped_column(Integer, default=0)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    #: devices active on the license now (kept with every change to a device's ``active``, under
    #: the license's lock): the seat count without counting rows on every activation and check
    active_devices: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    customer: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: floating licenses only (NULL otherwise): seats at once, lease length, longest borrow (0: none)
    seats: Mapped[int | None] = mapped_column(Integer)
    lease_seconds: Mapped[int | None] = mapped_column(Integer)
    max_borrow_seconds: Mapped[int | None] = mapped_column(Integer)

    product: Mapped[Product] = relationship(back_populates="licenses")
    features: Mapped[list[LicenseFeature]] = relationship(back_populates="license", order_by="LicenseFeature.code",
                                                          cascade="all, delete-orphan")
    devices: Mapped[list[Device]] = relationship(back_populates="license", order_by="Device.activated_at")


class LicenseFeature(Base):
    __tablename__ = "license_features"
    __table_args__ = (UniqueConstraint("license_id", "code", name="uq_feature_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    license_id: Mapped[int] = mapped_column(ForeignKey("licenses.id"), index=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    expires: Mapped[datetime | None] = mapped_column(UTCDateTime())
    max_consumptions: Mapped[int | None] = mapped_column(Integer)
    total_consumptions: Mapped[int] = mapped_column(Integer, default=0)

    license: Mapped[License] = relationship(back_populates="features")


class Device(Base):
    """One activation of a license on one device (a re-activation is a new row)."""

    __tablename__ = "devices"
    # An activation looks up the license's devices on the same hardware: without both columns in
    # one index, SQLite scans every device of the license (all of them, on a license of many seats).
    __table_args__ = (Index("ix_devices_license_hardware", "license_id", "hardware_id"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    license_id: Mapped[int] = mapped_column(ForeignKey("licenses.id"), index=True)
    hardware_id: Mapped[str] = mapped_column(String(64), index=True)
    device_key: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    activated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    booked_consumptions: Mapped[int] = mapped_column(Integer, default=0)

    license: Mapped[License] = relationship(back_populates="devices")


class AnsweredRequest(Base):
    """Every request id the vendor has answered, and what it was answered with.

    The same request sent again (a client retrying after a lost answer) gets the same answer
    back; another request that reuses the id is a replay. ``request_digest`` is the SHA-256 of
    the signed payload, ``answer`` the exact bytes handed out (a signed file or a receipt).
    """

    __tablename__ = "answered_requests"

    request_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    request_digest: Mapped[str | None] = mapped_column(String(64))
    device_id: Mapped[str | None] = mapped_column(String(40))
    answer: Mapped[str | None] = mapped_column(Text)


class AuditEvent(Base):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    action: Mapped[str] = mapped_column(String(40))
    license_id: Mapped[int | None] = mapped_column(Integer, index=True)
    device_id: Mapped[str | None] = mapped_column(String(40))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AttemptCounter(Base):
    """Credential checks taken in the current window, per bucket (a user, a license, a client address).

    Kept in the database so that every portal process, and the CLI, count against one total
    (see :mod:`licensing.issuing.throttle`).
    """

    __tablename__ = "attempt_counters"

    bucket: Mapped[str] = mapped_column(String(320), primary_key=True)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class AdminSession(Base):
    """A signed-in admin session; signing out deletes the row, which ends the session in every process.

    ``id`` is the SHA-256 of the random session id the cookie carries, so reading the table does
    not hand out live cookies.
    """

    __tablename__ = "admin_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
