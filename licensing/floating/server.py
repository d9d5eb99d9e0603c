"""The floating server's rules: hand out at most N seats, renew them, take them back.

:class:`FloatingServer` answers the three workstation requests (see :mod:`licensing.wire`'s
floating artefacts) with leases signed by the server's own key — the key the vendor certified
when the server activated — and reports who holds the seats. It does no HTTP (``app`` does).

Each request is checked before anything changes: signed by the workstation key it names, made
with this product's API key and shared key, meant for this server (its key id), made within a
day of the server's clock, and, for a heartbeat or release, naming the lease's current sequence
(an older one is a replay). A new request id is remembered for a day, so a captured request
cannot take a seat again. The server also checks its own license first (enabled, dates, clock):
an expired or disabled floating license hands out no seat.

Seat rules:

* one seat per workstation key: asking again while holding a seat renews that seat; borrowing
  while holding a live seat turns it into the borrow; asking for a seat while holding a borrow
  answers that borrow again;
* a live lease lasts the license's lease length from each answer; a seat whose lease ran out is
  free for the next request (a workstation that vanished frees its seat then, and not before);
* a borrow lasts what was asked, at most the license's longest borrow and never past the
  license's expiry; its seat is held for the clock tolerance past its end (a workstation whose
  clock runs a little late may use it until then by its own clock);
* when the vendor lowers the seat count, seats above it are not renewed.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from .. import (
    FloatingTerms,
    LeaseNotFoundError,
    License,
    LicenseError,
    NoSeatAvailableError,
    ProductConfigurationError,
    RequestMismatchError,
    RequestReplayedError,
    UsageError,
    __version__,
)
from ..wire import (
    LEASE_HEARTBEAT,
    LEASE_RELEASE,
    LEASE_REQUEST,
    Clock,
    LeaseAsk,
    LeaseSigner,
    ServerCertificate,
    crypto,
    format_time,
    open_device_signed,
    utc_now,
)
from .site import FloatingSite
from .store import LeaseStore, SeatRow, micros, moment

__all__ = ["FloatingServer", "REQUEST_WINDOW"]

#: how far a request's time may be from the server's clock, and how long its id is remembered
REQUEST_WINDOW = timedelta(days=1)
#: how often a worker looks whether its license files changed (a refresh or deactivation applied
#: by ``licensing-floating`` while it serves): two stat() calls, not worth paying on every heartbeat
_CERTIFICATE_CHECK_SECONDS = 0.5


class FloatingServer:
    """The rules of one floating server, over its site folder. Not thread-safe: one per worker."""

    def __init__(self, site: FloatingSite, *, clock: Clock | None = None) -> None:
        self.site = site
        self.config = site.configuration
        self.clock = clock or self.config.clock
        self.store = LeaseStore(site.leases_path)
        self._loaded_at: tuple[int, ...] | None = None
        self._looked_at = 0.0  # time.monotonic() of the last look at the license files
        self._license: License | None = None
        self._signer: LeaseSigner | None = None
        self._certificate: ServerCertificate | None = None
        self._api_key = self.config.api_key.encode("utf-8")
        self._shared_key = self.config.shared_key.encode("utf-8")
        self._load()
        self._hold_known_seats()

    def _hold_known_seats(self) -> None:
        """At start, every live seat on record stays taken for one more lease length.

        Renewals are not fsync'ed (see ``store``): after a power cut the record may show a lease
        ending earlier than the workstation was told. Holding the seat one lease length from now
        covers any renewal the disk lost, so no seat is ever handed out while its last holder may
        still use it. (A workstation that vanished just before a restart keeps its seat that much longer.)
        """
        assert self._license is not None and self._license.terms.floating is not None
        until = self.now() + timedelta(seconds=self._license.terms.floating.lease_seconds)
        with self.store.transaction() as tx:
            tx.hold_every_lease(micros(until))

    def close(self) -> None:
        self.store.close()

    def now(self) -> datetime:
        return utc_now(self.clock)

    # -- the server's own license ------------------------------------------------------------------

    def _certificate_stamp(self) -> tuple[int, ...]:
        folder = self.site.folder / "certificate"
        stamps = []
        for name in ("activation.lic", "refresh.lic"):
            with contextlib.suppress(OSError):
                stamps.append((folder / name).stat().st_mtime_ns)
        return tuple(stamps)

    def _load(self) -> None:
        """Read the license, its signer and the certificate; the certificate must name the signer's key."""
        self._loaded_at = self._certificate_stamp()
        license = self.site.license()
        signer = license.lease_signer()
        certificate = self.site.certificate()
        if certificate.kid != signer.kid or certificate.device_id != license.device_id:
            raise RequestMismatchError(
                "The floating server's certificate is not the one of its current activation.",
                hint="Activate the server again (licensing-floating request KEY, then activate).")
        self._license, self._signer, self._certificate = license, signer, certificate

    def _current(self) -> tuple[License, LeaseSigner]:
        """The server's license, reloaded when its files changed (a refresh, a deactivation), and checked."""
        looked = time.monotonic()
        if looked - self._looked_at >= _CERTIFICATE_CHECK_SECONDS:
            self._looked_at = looked
            if self._certificate_stamp() != self._loaded_at:
                self._license = None
                self._load()
        assert self._license is not None and self._signer is not None
        self._license.local_check()
        return self._license, self._signer

    def certificate(self) -> bytes:
        self._current()
        assert self._certificate is not None
        return self._certificate.data

    # -- requests ------------------------------------------------------------------------------------

    def _open(self, data: bytes, typ: str, now: datetime, signer: LeaseSigner) -> LeaseAsk:
        envelope, doc = open_device_signed(data, typ)
        ask = LeaseAsk.from_payload(typ, doc)
        if ask.product != self.config.product:
            raise ProductConfigurationError(f"This floating server serves {self.config.product}, not {ask.product}.")
        if not secrets.compare_digest(ask.api_key.encode("utf-8"), self._api_key) or envelope.mac is None \
                or not crypto.mac_matches(self._shared_key, typ, envelope.payload, envelope.mac):
            raise ProductConfigurationError("The request was made with another configuration of this product "
                                            "(API key or shared key).")
        if ask.server != signer.kid:
            raise RequestMismatchError("This request was made for another floating server.",
                                       hint="Send it to the server it was made for, or ask this one afresh.")
        if abs(ask.created_at - now) > REQUEST_WINDOW:
            raise RequestReplayedError(
                f"This request was made at {ask.created_at:%Y-%m-%d %H:%M} UTC, more than a day from the floating "
                f"server's clock ({now:%Y-%m-%d %H:%M} UTC): it is an old request, or one of the clocks is wrong.",
                hint="Check both computers' clocks, then ask again.")
        return ask

    def _receive(self, data: bytes, typ: str) -> tuple[LeaseAsk, datetime, License, LeaseSigner, FloatingTerms]:
        """A request checked against the server's current license: the request, the time, the license's terms."""
        license, signer = self._current()
        now = self.now()
        floating = license.terms.floating
        assert floating is not None  # the site loads floating licenses only
        return self._open(data, typ, now, signer), now, license, signer, floating

    def grant(self, data: bytes) -> bytes:
        """A seat for a workstation (``lease-request``): a live lease, or a borrow."""
        ask, now, license, signer, floating = self._receive(data, LEASE_REQUEST)
        end = now + timedelta(seconds=floating.lease_seconds)
        kind, held_until = "lease", end
        if ask.borrow_seconds:
            if floating.max_borrow_seconds == 0:
                raise UsageError("This floating license does not allow borrowing seats.")
            if ask.borrow_seconds > floating.max_borrow_seconds:
                raise UsageError(f"A seat can be borrowed for at most {floating.max_borrow_seconds} seconds.",
                                 hint="Borrow it for less time.")
            end = now + timedelta(seconds=ask.borrow_seconds)
            if license.expires is not None:
                end = min(end, license.expires)
            kind, held_until = "borrow", end + self.config.clock_tolerance
        at = micros(now)
        with self.store.transaction() as tx:
            if not tx.remember(ask.request_id, at):
                raise RequestReplayedError("This request for a seat was already answered.",
                                           hint="Ask again (a new request).")
            tx.forget_answered_before(micros(now - REQUEST_WINDOW))
            tx.expire(at)
            row = tx.by_holder(ask.device_key)
            if row is not None and row.slot >= floating.seats:  # the vendor lowered the seat count
                tx.delete(row.lease_id)
                row = None
            if row is None:
                slot = tx.free_slot(floating.seats)
                if slot is None:
                    raise NoSeatAvailableError(f"All {floating.seats} seats of the floating license are in use.")
                row = SeatRow(slot=slot, lease_id="lease_" + secrets.token_hex(8), holder_key=ask.device_key,
                              hardware_id=ask.hardware_id, client=ask.client, kind=kind, sequence=1,
                              granted_at=at, expires_at=micros(end), held_until=micros(held_until))
            elif row.kind == "borrow" and kind == "lease":  # a seat is a seat: answer the borrow again
                row = replace(row, sequence=row.sequence + 1)
            else:
                row = replace(row, kind=kind, client=ask.client, sequence=row.sequence + 1, expires_at=micros(end),
                              held_until=micros(held_until))
            tx.put(row)
        return self._signed(row, ask, now, license, signer)

    def renew(self, data: bytes) -> bytes:
        """A heartbeat (``lease-heartbeat``): the lease holds for another lease length."""
        ask, now, license, signer, floating = self._receive(data, LEASE_HEARTBEAT)
        at = micros(now)
        with self.store.transaction(durable=False) as tx:
            tx.expire(at)
            row = self._held_row(tx.by_id(ask.lease_id or ""), ask)
            if row.kind == "borrow":
                raise UsageError("A borrowed seat needs no heartbeat: it lasts until its end.")
            if row.slot >= floating.seats:
                tx.delete(row.lease_id)
                raise NoSeatAvailableError(f"The floating license now has {floating.seats} seats; this seat is gone.",
                                           hint="Take a seat again when one is free.")
            end = micros(now + timedelta(seconds=floating.lease_seconds))
            row = replace(row, sequence=max(row.sequence, ask.sequence or 0) + 1, expires_at=end,
                          held_until=max(end, row.held_until))
            tx.put(row)
        return self._signed(row, ask, now, license, signer)

    def release(self, data: bytes) -> dict[str, Any]:
        """Give a seat back (``lease-release``): a live lease, or a borrow returned early."""
        ask, now, *_ = self._receive(data, LEASE_RELEASE)
        with self.store.transaction(durable=False) as tx:  # a lost release only holds a seat until it ends
            tx.expire(micros(now))
            row = self._held_row(tx.by_id(ask.lease_id or ""), ask)
            tx.delete(row.lease_id)
        return {"ok": True, "lease_id": row.lease_id, "slot": row.slot, "released_at": format_time(now)}

    @staticmethod
    def _held_row(row: SeatRow | None, ask: LeaseAsk) -> SeatRow:
        if row is None or row.holder_key != ask.device_key:
            raise LeaseNotFoundError()
        if ask.sequence is None or ask.sequence < row.sequence:  # ahead is fine: a renewal lost by a power cut
            raise RequestReplayedError("This request names an earlier state of the lease: it was replayed.",
                                       hint="Take a seat again if this workstation lost track of its lease.")
        return row

    def _signed(self, row: SeatRow, ask: LeaseAsk, now: datetime, license: License, signer: LeaseSigner) -> bytes:
        return signer.sign({
            "product": self.config.product, "server_device_id": license.device_id,
            "license_id": license.terms.license_id, "revision": license.revision, "lease_id": row.lease_id, "slot": row.slot, "kind": row.kind,
            "sequence": row.sequence, "hardware_id": row.hardware_id, "holder_key": row.holder_key,
            "request_id": ask.request_id, "nonce": ask.nonce, "client": row.client,
            "issued_at": format_time(now), "expires_at": format_time(moment(row.expires_at)),
        })

    # -- reports -------------------------------------------------------------------------------------

    def seats(self) -> dict[str, Any]:
        """How many seats, and who holds them (for ``seats()`` and ``licensing-floating status``)."""
        license, _ = self._current()
        now = self.now()
        floating = license.terms.floating
        assert floating is not None
        rows = self.store.seats_in_use(micros(now))
        return {
            "ok": True, "seats": floating.seats, "used": len(rows), "server_time": format_time(now),
            "lease_seconds": floating.lease_seconds, "max_borrow_seconds": floating.max_borrow_seconds,
            "holders": [{"slot": row.slot, "lease_id": row.lease_id, "client": row.client,
                         "holder": _key_id(row.holder_key), "kind": row.kind,
                         "expires_at": format_time(moment(row.expires_at))} for row in rows],
        }

    def ping(self) -> dict[str, Any]:
        """Alive, and whether it can hand out seats right now (its license checks)."""
        try:
            self._current()
        except LicenseError as error:
            return {"ok": True, "service": "offline-licensing-floating", "version": __version__,
                    "serving": False, "problem": error.to_dict()}
        return {"ok": True, "service": "offline-licensing-floating", "version": __version__, "serving": True}


def _key_id(key_b64: str) -> str:
    try:
        return crypto.key_id(crypto.ed25519_public_from_b64(key_b64))
    except ValueError:
        return "unknown"

