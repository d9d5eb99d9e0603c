"""Floating licenses on a workstation: take a seat from the floating server at the site, keep it, give it back.

A floating license is served by a *floating server* at the customer's site (``licensing-floating``),
which the vendor certified when it activated. A workstation asks it for a seat and gets a
*lease*: a short-lived document signed by the server's key. The application checks the lease
locally (:meth:`Lease.local_check`, no network, microseconds) and renews it by heartbeats
(:meth:`Lease.start_heartbeat`); when the application exits it gives the seat back
(:meth:`Lease.release`). A workstation that disappears frees its seat when its lease runs out.

What a workstation checks, on every answer: the server's certificate against the vendor keys the
application pins (``ServerCertificate``), the lease against the key that certificate names, and
that the lease was made for this product, this device's key and hardware id, and the request
just sent (its id and a fresh nonce): an answer replayed from an earlier request is refused.

**Clocks.** A live lease is timed by this computer alone: it lasts ``expires_at - issued_at`` (the
server's figures) from the moment the request was *sent*, measured both with the monotonic clock
(so setting the wall clock back cannot stretch it) and with the wall clock (so a machine that
slept past the end sees it ended). The server frees the seat that long after it *answered*, so
the workstation always stops believing in a lease before the server hands the seat to someone
else, whatever the two wall clocks say. A *borrowed* lease outlives the process, so it ends at
its signed ``expires_at`` by this computer's wall clock: when it is borrowed the workstation's
clock may not be behind the server's by more than the configured clock tolerance (the same rule
as for a vendor's signing time), and the usual high-water mark (shared with the device's license
file) refuses a clock set back afterwards. The server holds a borrowed seat for that tolerance
past its end, so a workstation clock running late cannot overlap a new holder.

**Storage.** A borrowed lease lives in ``floating.dat`` beside the local license: sealed with the
same device-and-product key, written atomically under the same lock. A borrow returned early is
added to the tombstones, so an old copy of ``floating.dat`` cannot bring it back; a return the
server has not heard yet is kept and sent again with the next request.
"""

from __future__ import annotations

import contextlib
import json
import math
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from . import _crypto as crypto
from ._borrows import Borrow, FloatingRecord, PendingReturn
from ._clock import Reading, read_clock
from ._context import LicenseContext
from ._errors import (
    FloatingServerUnreachableError,
    LeaseExpiredError,
    LeaseNotFoundError,
    LicenseDeactivatedError,
    LicenseError,
    LicenseFileError,
    ProductMismatchError,
    RequestMismatchError,
    ServerResponseError,
    SignatureMismatchError,
    StorageCorruptError,
    UnknownSigningKeyError,
    UsageError,
)
from ._floating_link import ENDPOINTS, FloatingLink, SeatsReport, checked_server_url, default_client_name
from ._formats import (
    FLOATING_LEASE,
    LEASE_HEARTBEAT,
    LEASE_RELEASE,
    LEASE_REQUEST,
    encode_device_signed,
    format_time,
    open_signed,
)
from ._lease import HeldAnswer, Lease
from ._leases import LeaseGrant, ServerCertificate, format_span, open_certificate
from ._storage import DeviceState

__all__ = ["FloatingClient"]



# -- the client ----------------------------------------------------------------------------------


class FloatingClient:
    """This workstation's side of one floating server. Get one with :meth:`LicenseManager.floating`.

    One seat per workstation: asking again while this workstation holds a seat gets the same seat
    (renewed); borrowing while it holds a live seat turns that seat into the borrow.
    """

    def __init__(self, context: LicenseContext, server_url: str, *, client_name: str | None = None) -> None:
        self._context = context
        self.server_url = checked_server_url(server_url)
        self.client_name = (client_name or default_client_name()).strip()[:120] or "workstation"
        self._connection = FloatingLink(self.server_url, context.config.timeout)
        self._certificate: ServerCertificate | None = None
        self._device_key: crypto.Ed25519PrivateKey | None = None
        self._high_water: datetime | None = None
        self._skew = timedelta(0)
        self._persisted_high_water: datetime | None = None
        self._lease: Lease | None = None  # the seat this client holds, as one object
        self._lock = threading.Lock()

    def now(self) -> datetime:
        return self._context.now()

    def close(self) -> None:
        self._connection.close()

    def __enter__(self) -> FloatingClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- the public calls --------------------------------------------------------------------------

    def is_online(self) -> bool:
        """Does the floating server answer right now? Never raises; bounded by the timeout."""
        try:
            return json.loads(self._connection.get("/ping")).get("ok") is True
        except (LicenseError, ValueError, AttributeError):
            return False

    def certificate(self, *, fresh: bool = False) -> ServerCertificate:
        """The floating server's certificate, verified against this application's vendor keys."""
        if self._certificate is None or fresh:
            self._certificate = open_certificate(self._connection.get("/certificate"),
                                                 self._context.config.trusted_keys, self._context.config.product)
        return self._certificate

    def request_lease(self) -> Lease:
        """Take a seat (or get back the one this workstation holds, a borrowed one included)."""
        borrowed = self._usable_borrow()
        if borrowed is not None:
            return borrowed
        self._send_pending_returns()
        return self._request(LEASE_REQUEST)

    def hold_seat(self, interval: float | None = None, *,
                  on_error: Callable[[LicenseError], object] | None = None) -> Lease:
        """Take a seat and keep it with a background heartbeat; ``with client.hold_seat() as lease:``."""
        lease = self.request_lease()
        if not lease.borrowed:
            lease.start_heartbeat(interval, on_error=on_error)
        return lease

    def borrow(self, period: timedelta) -> Lease:
        """Borrow a seat for ``period`` (at most the license's longest borrow) and keep it on this computer.

        The borrowed seat works without the server until its end, also after the application
        restarts (:meth:`borrowed_lease`); :meth:`Lease.release` gives it back early.
        """
        if not isinstance(period, timedelta) or period <= timedelta(0):
            raise UsageError("Say for how long to borrow the seat, e.g. timedelta(days=3).")
        certificate = self.certificate()
        longest = certificate.floating.max_borrow_seconds
        if longest == 0:
            raise UsageError("This floating license does not allow borrowing seats.",
                             hint="Ask your vendor for a license that allows borrowing.")
        if period.total_seconds() > longest:
            raise UsageError(f"A seat can be borrowed for at most {format_span(longest)}, not "
                             f"{format_span(period.total_seconds())}.", hint=f"Borrow it for {format_span(longest)} or less.")
        current = self._usable_borrow()
        if current is not None:
            raise UsageError(f"This computer already borrowed a seat, until {current.expires:%Y-%m-%d %H:%M} UTC.",
                             hint="Give it back first (release), then borrow again.")
        self._send_pending_returns()
        lease = self._request(LEASE_REQUEST, borrow_seconds=math.ceil(period.total_seconds()))
        if not lease.borrowed:
            raise ServerResponseError("The floating server answered a borrow with a live lease.")
        store = self._context.store
        with store.locked():
            record = FloatingRecord.from_dict(store.read_floating())
            store.write_floating(replace(record, borrow=Borrow(lease._held.raw, lease._certificate.data,
                                                                lease.server_url)).to_dict())
        self._saw(self._reading(self.now(), lease._signed_times(lease._held)), persist=True)
        return lease

    def return_borrowed(self) -> bool:
        """Give back the seat this computer borrowed, before its end (see :meth:`Lease.release`)."""
        lease = self.borrowed_lease()
        if lease is None:
            raise UsageError("This computer has no borrowed seat to give back.",
                             hint="Borrow one first, or check that this is the computer that borrowed it.")
        return lease.release()

    def borrowed_lease(self) -> Lease | None:
        """The seat this computer borrowed (from disk, verified again), or None; its ``local_check()`` says
        whether it still holds (an ended borrow fails with ``lease_expired``, a returned one cannot come back)."""
        store = self._context.store
        with store.locked():
            record = FloatingRecord.from_dict(store.read_floating())
            returned = store.read_tombstones()
        borrow = record.borrow
        if borrow is None:
            return None
        if self._lease is not None and self._lease.borrowed and self._lease._held.raw == borrow.lease:
            return self._lease
        try:
            certificate = open_certificate(borrow.certificate, self._context.config.trusted_keys,
                                           self._context.config.product)
            grant = self._check_seat(self._verified_grant(borrow.lease, certificate), certificate)
        except UnknownSigningKeyError:
            raise  # accurate as it is: the application no longer trusts the vendor key behind it
        except (LicenseFileError, ProductMismatchError):  # a lease for another computer stays device_mismatch
            raise StorageCorruptError("The borrowed seat stored on this computer fails verification: it was altered.",
                                      hint="Give it up (clear local storage) and take or borrow a seat again.") from None
        if grant.lease_id in returned:
            raise LicenseDeactivatedError("This borrowed seat was given back from this computer; an old copy of it "
                                          "cannot bring it back.", hint="Take or borrow a seat again.")
        if not grant.borrowed:
            raise StorageCorruptError("The borrowed seat stored on this computer is not a borrow.")
        held = HeldAnswer(grant, borrow.lease, grant.expires_at, None, grant.issued_at)
        self._lease = Lease(self, certificate, held, borrow.server_url)
        return self._lease

    def seats(self) -> SeatsReport:
        """How many seats the floating license has, how many are free, and who holds them."""
        return self._connection.seats(crypto.key_id(self._key().public_key()))

    # -- requests and answers ----------------------------------------------------------------------

    def _request(self, typ: str, **fields: Any) -> Lease:
        """Ask for a seat (or a borrow) and return the one Lease object this client holds, updated."""
        try:
            certificate, held = self._exchange(typ, self.certificate(), self.server_url, **fields)
        except UnknownSigningKeyError:
            # The server may have been re-activated with a new key since its certificate was read.
            certificate, held = self._exchange(typ, self.certificate(fresh=True), self.server_url, **fields)
        lease = Lease(self, certificate, held, self.server_url)
        with self._lock:
            if self._lease is not None and not self._lease.released:
                self._lease._adopt(lease)  # the same seat, or the live seat that became this borrow
                return self._lease
            self._lease = lease
        return lease

    def _exchange(self, typ: str, certificate: ServerCertificate, server_url: str,
                  **fields: Any) -> tuple[ServerCertificate, HeldAnswer]:
        """Send one signed request and verify the lease that answers it (and the certificate, if it is newer)."""
        sent_wall, sent_mono = self.now(), time.monotonic()
        data, body = self._signed_request(typ, certificate, **fields)
        with self._connected(server_url) as connection:
            answer = connection.post(ENDPOINTS[typ], data)
        grant = self._verified_grant(answer, certificate)
        if grant.revision > certificate.terms.revision and server_url == self.server_url:
            certificate = self.certificate(fresh=True)  # the vendor refreshed the server's terms (more seats...)
            grant = self._verified_grant(answer, certificate)
        self._check_seat(grant, certificate)
        if (grant.request_id, grant.nonce) != (body["request_id"], body["nonce"]):
            raise RequestMismatchError("The floating server's answer does not answer the request just sent "
                                       "(it is an earlier answer replayed, or another workstation's).",
                                       hint="Try again; if it keeps happening, tell your administrator.")
        if typ == LEASE_HEARTBEAT and (grant.lease_id != fields["lease_id"] or grant.sequence <= fields["sequence"]):
            raise RequestMismatchError("The floating server answered the heartbeat with another or an older lease.")
        if grant.borrowed:
            self._key()  # loads the mark and the skew
            error = read_clock(sent_wall, self._high_water, self._skew, self._context.config.clock_tolerance,
                               floor=grant.issued_at).error
            if error is not None:
                raise error.__class__(
                    f"This computer's clock reads {sent_wall:%Y-%m-%d %H:%M} UTC, earlier than the floating server's "
                    f"({grant.issued_at:%Y-%m-%d %H:%M} UTC), so a borrowed seat could not end on time.",
                    hint=error.hint)
            return certificate, HeldAnswer(grant, answer, grant.expires_at, None, self.now())
        seconds = timedelta(seconds=grant.seconds)
        return certificate, HeldAnswer(grant, answer, sent_wall + seconds, sent_mono + grant.seconds, self.now())

    def _send(self, typ: str, certificate: ServerCertificate, server_url: str, **fields: Any) -> bytes:
        data, _ = self._signed_request(typ, certificate, **fields)
        with self._connected(server_url) as connection:
            return connection.post(ENDPOINTS[typ], data)

    def _signed_request(self, typ: str, certificate: ServerCertificate, **fields: Any) -> tuple[bytes, dict[str, Any]]:
        config = self._context.config
        body = {
            "product": config.product,
            "api_key": config.api_key,
            "request_id": secrets.token_hex(16),
            "nonce": secrets.token_hex(16),
            "hardware_id": self._context.hardware_id,
            "created_at": format_time(self.now()),
            "client": self.client_name,
            "server": certificate.kid,
            **fields,
        }
        return encode_device_signed(typ, body, self._key(), config.shared_key.encode("utf-8")), body

    def _verified_grant(self, data: bytes, certificate: ServerCertificate) -> LeaseGrant:
        """A lease signed by this certified server, for this product, this device and its key."""
        try:
            _, doc = open_signed(data, FLOATING_LEASE, certificate.trusted)
        except UnknownSigningKeyError:
            raise UnknownSigningKeyError(
                "This lease was not signed by the floating server the vendor certified (another server's lease, "
                "or a forgery).", hint="Take a seat from your site's floating server.") from None
        grant = LeaseGrant.from_payload(doc)
        if grant.product != self._context.config.product:
            raise ProductMismatchError("This lease is for another product.")
        own_key = crypto.b64encode(crypto.public_bytes(self._key().public_key()))
        if grant.hardware_id != self._context.hardware_id or grant.holder_key != own_key:
            raise SignatureMismatchError("This lease was made for another workstation.",
                                         hint="Take a seat on this computer; seats cannot be copied between computers.")
        if grant.server_device_id != certificate.device_id or grant.license_id != certificate.terms.license_id:
            raise SignatureMismatchError("This lease names another floating server than the one that signed it.")
        return grant

    @staticmethod
    def _check_seat(grant: LeaseGrant, certificate: ServerCertificate) -> LeaseGrant:
        if grant.slot >= certificate.floating.seats:
            raise ServerResponseError(f"The floating server handed out seat {grant.slot + 1} of a license with "
                                      f"{certificate.floating.seats} seats.")
        return grant

    @contextlib.contextmanager
    def _connected(self, server_url: str) -> Iterator[FloatingLink]:
        """This client's connection, or one for another server (a borrow's, returned elsewhere) for one call."""
        if server_url == self.server_url:
            yield self._connection
            return
        connection = FloatingLink(server_url, self._context.config.timeout)
        try:
            yield connection
        finally:
            connection.close()

    # -- borrows on disk ---------------------------------------------------------------------------

    def _usable_borrow(self) -> Lease | None:
        """The borrowed seat, while it holds; an ended one is dropped from the disk (it cannot come back)."""
        lease = self.borrowed_lease()
        if lease is None:
            return None
        try:
            lease.local_check()
        except LeaseExpiredError:
            self._forget_borrow(lease.lease_id)
            return None
        return lease

    def _forget_borrow(self, lease_id: str) -> None:
        store = self._context.store
        with store.locked():
            record = FloatingRecord.from_dict(store.read_floating())
            store.add_tombstone(lease_id)
            store.write_floating(replace(record, borrow=None).to_dict())
        if self._lease is not None and self._lease.lease_id == lease_id:
            self._lease = None

    def _return_borrow(self, lease: Lease) -> bool:
        """Give a borrowed seat back: only while the server answers; told at once, or with the next request."""
        with self._connected(lease.server_url) as connection:
            connection.get("/ping")  # FloatingServerUnreachableError: nothing changed, the seat stays here
        grant = lease._held.grant
        data, _ = self._signed_request(LEASE_RELEASE, lease._certificate, lease_id=grant.lease_id,
                                       sequence=grant.sequence)
        pending = PendingReturn(data, lease.server_url, grant.lease_id)
        store = self._context.store
        with store.locked():  # first make it unusable here: a crash after this point loses no seat
            record = FloatingRecord.from_dict(store.read_floating())
            store.add_tombstone(grant.lease_id)
            store.write_floating(FloatingRecord(None, (*record.pending_returns, pending)).to_dict())
        if self._lease is lease:
            self._lease = None
        return self._deliver(pending)

    def _deliver(self, pending: PendingReturn) -> bool:
        try:
            with self._connected(pending.server_url) as connection:
                connection.post(ENDPOINTS[LEASE_RELEASE], pending.request)
        except FloatingServerUnreachableError:
            return False
        except LeaseNotFoundError:
            pass  # the borrow had already ended there
        store = self._context.store
        with store.locked():
            record = FloatingRecord.from_dict(store.read_floating())
            left = tuple(p for p in record.pending_returns if p.request != pending.request)
            store.write_floating(replace(record, pending_returns=left).to_dict())
        return True

    def _send_pending_returns(self) -> None:
        store = self._context.store
        with store.locked():
            pending = FloatingRecord.from_dict(store.read_floating()).pending_returns
        for item in pending:
            try:
                self._deliver(item)
            except LicenseError:
                continue  # the seat frees itself when the borrow ends; never block a new request on it

    # -- the device key and the clock ---------------------------------------------------------------

    def _key(self) -> crypto.Ed25519PrivateKey:
        """This device's Ed25519 key (the one its activations use), made on first use."""
        if self._device_key is None:
            store = self._context.store
            with store.locked():
                state = store.read_state()
                if state.device_key is None:
                    state = replace(state, device_key=crypto.private_bytes(crypto.Ed25519PrivateKey.generate()))
                    store.write_state(state)
            self._device_key = crypto.Ed25519PrivateKey.from_private_bytes(state.device_key)  # type: ignore[arg-type]
            self._high_water = state.high_water
            self._skew = state.clock_skew
            self._persisted_high_water = state.high_water
        return self._device_key

    def _reading(self, now: datetime, signed: tuple[datetime, ...]) -> Reading:
        """The device clock judged by the SDK's rule (a set-back is forgiven once, see ``_clock``)."""
        self._key()
        return read_clock(now, self._high_water, self._skew, self._context.config.clock_tolerance,
                          floor=max(signed))

    def _saw(self, reading: Reading, *, persist: bool = False) -> None:
        """Advance the device's high-water mark; write it at most once per persist interval, and at
        once when asked or when a set-back was just forgiven (else the same set-back could be
        forgiven again by the next process)."""
        forgiven = reading.skew > self._skew
        self._skew = max(self._skew, reading.skew)
        if self._high_water is None or reading.high_water > self._high_water:
            self._high_water = reading.high_water
        persisted = self._persisted_high_water
        if (not persist and not forgiven and persisted is not None
                and reading.high_water - persisted < self._context.config.high_water_persist_interval):
            return
        water, skew = self._high_water, self._skew
        store = self._context.store
        with store.locked():
            state: DeviceState = store.read_state()
            state = state.clocked(max(water, state.high_water or water), max(skew, state.clock_skew))
            store.write_state(state)
        self._high_water = self._persisted_high_water = state.high_water
        self._skew = state.clock_skew


