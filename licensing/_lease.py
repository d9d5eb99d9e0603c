"""A seat held by this workstation: a :class:`Lease` (live, kept by heartbeats, or borrowed) and its :class:`Heartbeat`.

A lease answers like a :class:`~licensing.License` where it can (its local check, features and
terms) from the verified answer of the floating server it holds; renewing, giving it back and
returning a borrow go through the :class:`~licensing._floating.FloatingClient` that took it
(how a workstation talks to the server, and its clocks, are described there).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING

from ._clock import Reading
from ._errors import (
    FloatingServerUnreachableError,
    LeaseExpiredError,
    LeaseNotFoundError,
    LicenseDisabledError,
    LicenseError,
    UsageError,
)
from ._formats import (
    LEASE_HEARTBEAT,
    LEASE_RELEASE,
    LEASE_REQUEST,
    Feature,
    LicenseTerms,
)
from ._leases import LeaseGrant, ServerCertificate
from ._license_rules import feature_of, validity_error, within_dates
from ._results import CheckItem, LocalCheckResult

if TYPE_CHECKING:
    from ._floating import FloatingClient

__all__ = ["LEASE_CHECK_ORDER", "HeldAnswer", "Heartbeat", "Lease"]

LEASE_CHECK_ORDER = ("signature", "product", "hardware_id", "enabled", "validity", "lease", "clock")
_ALL_PASSED = tuple(CheckItem(name, True) for name in LEASE_CHECK_ORDER)


@dataclass(frozen=True)
class HeldAnswer:
    """One verified answer of the server, and until when this workstation may rely on it."""

    grant: LeaseGrant
    raw: bytes
    wall_deadline: datetime
    mono_deadline: float | None  # live leases: the monotonic clock's deadline; borrows: none
    received_at: datetime


class Lease:
    """A seat of a floating license held by this workstation: live (kept by heartbeats) or borrowed.

    Get one from :class:`FloatingClient` (``request_lease``, ``borrow``, ``borrowed_lease``). It
    answers like a :class:`~licensing.License` where it can: :meth:`local_check`, the features,
    the license's terms; plus :meth:`time_left`, :meth:`renew`, :meth:`start_heartbeat` and
    :meth:`release`. As a context manager it gives the seat back on exit.
    """

    def __init__(self, client: FloatingClient, certificate: ServerCertificate, held: HeldAnswer, server_url: str) -> None:
        self._client = client
        self._certificate = certificate
        self._held = held
        self._server_url = server_url
        self._released = False
        self._heartbeat: Heartbeat | None = None

    # -- what it is ------------------------------------------------------------------------------

    @property
    def lease_id(self) -> str:
        return self._held.grant.lease_id

    @property
    def borrowed(self) -> bool:
        return self._held.grant.borrowed

    @property
    def released(self) -> bool:
        return self._released

    @property
    def slot(self) -> int:
        return self._held.grant.slot

    @property
    def server_url(self) -> str:
        return self._server_url

    @property
    def seats(self) -> int:
        return self._certificate.floating.seats

    @property
    def terms(self) -> LicenseTerms:
        return self._certificate.terms

    @property
    def license_type(self) -> str:
        return self.terms.license_type

    @property
    def key(self) -> str | None:
        return self.terms.key

    @property
    def expires(self) -> datetime:
        """When this workstation stops relying on the lease (its clock; a live lease renews it)."""
        return self._held.wall_deadline

    @property
    def last_server_contact(self) -> datetime:
        """When the floating server last answered for this lease (this computer's clock)."""
        return self._held.received_at

    def time_left(self) -> timedelta:
        """How long the lease still holds without another word from the server (zero once ended)."""
        held = self._held
        left = held.wall_deadline - self._client.now()
        if held.mono_deadline is not None:
            left = min(left, timedelta(seconds=held.mono_deadline - time.monotonic()))
        return max(left, timedelta(0))

    def features(self) -> tuple[Feature, ...]:
        return self.terms.features

    def feature(self, code: str) -> Feature:
        return feature_of(self.terms, code, self._client.now())

    def has_feature(self, code: str) -> bool:
        try:
            self.feature(code)
        except LicenseError:
            return False
        return True

    # -- checks ----------------------------------------------------------------------------------

    def local_check(self) -> LocalCheckResult:
        """Check the lease here, without the network; raise the first failure (``LEASE_CHECK_ORDER``).

        A live lease passes until its end even when the server stopped answering; after that it
        fails with ``lease_expired``, naming the server and the fix.
        """
        client = self._client
        held = self._held
        reading = client._reading(client.now(), self._signed_times(held))
        now = reading.effective  # the device clock plus any set-back already forgiven: time never runs twice
        terms = self._certificate.terms
        if (not self._released and reading.error is None and now < held.wall_deadline
                and (held.mono_deadline is None or time.monotonic() < held.mono_deadline)
                and terms.enabled and within_dates(terms, now)):
            client._saw(reading)
            return LocalCheckResult(checked_at=now, items=_ALL_PASSED)
        error = next((error for _name, error in self._checks(now, held, reading) if error is not None), None)
        if error is None:  # another thread renewed the lease between the two looks: it passes
            client._saw(reading)
            return LocalCheckResult(checked_at=now, items=_ALL_PASSED)
        if isinstance(error, LeaseExpiredError) and held.grant.borrowed:
            client._saw(reading, persist=True)  # an ended borrow cannot come back by turning the clock back
        raise error

    def check_status(self) -> LocalCheckResult:
        """Every check and its outcome, without raising (for a status bar)."""
        reading = self._client._reading(self._client.now(), self._signed_times(self._held))
        items = tuple(CheckItem(name, error is None, error)
                      for name, error in self._checks(reading.effective, self._held, reading))
        return LocalCheckResult(checked_at=reading.effective, items=items)

    def _signed_times(self, held: HeldAnswer) -> tuple[datetime, ...]:
        """The signing times this computer's clock may not be behind (beyond the tolerance)."""
        if held.grant.borrowed:  # a borrow is timed by the wall clock, so the server's counts too
            return (self._certificate.issued_at, held.grant.issued_at)
        return (self._certificate.issued_at,)

    def _checks(self, now: datetime, held: HeldAnswer, reading: Reading) -> Iterator[tuple[str, LicenseError | None]]:
        terms = self._certificate.terms
        yield "signature", None  # verified when the answer arrived; the objects are frozen
        yield "product", None
        yield "hardware_id", None
        yield "enabled", None if terms.enabled else LicenseDisabledError(
            "The floating license is disabled by the vendor.",
            hint="Ask your administrator: the floating server needs the vendor's refresh file.")
        yield "validity", validity_error(terms, now)
        yield "lease", self._lease_error(now, held)
        yield "clock", reading.error

    def _lease_error(self, now: datetime, held: HeldAnswer) -> LicenseError | None:
        if self._released:
            return LeaseExpiredError("This seat was given back.", hint="Take a seat again.")
        if held.grant.borrowed:
            if now < held.wall_deadline:
                return None
            return LeaseExpiredError(
                f"The seat borrowed from the floating server at {self._server_url} ended on "
                f"{held.wall_deadline:%Y-%m-%d %H:%M} UTC.",
                hint=f"Connect to your site's network and take a seat from {self._server_url}, or borrow one again.")
        if now < held.wall_deadline and time.monotonic() < (held.mono_deadline or 0.0):
            return None
        return LeaseExpiredError(
            f"Your seat from the floating server at {self._server_url} ran out: the server has not confirmed it "
            f"since {held.received_at:%Y-%m-%d %H:%M:%S} UTC.",
            hint=f"Check that the floating server at {self._server_url} is running (licensing-floating serve) and "
                 "reachable from this computer, then take a seat again.")

    # -- keeping it ------------------------------------------------------------------------------

    def renew(self) -> Lease:
        """Heartbeat: the server extends the lease by its lease length. A borrow needs none."""
        if self.borrowed:
            raise UsageError("A borrowed seat needs no heartbeat: it lasts until its end.",
                             hint="Give it back early with release().")
        if self._released:
            raise LeaseNotFoundError("This seat was given back, so it cannot be renewed.", hint="Take a seat again.")
        grant = self._held.grant
        self._certificate, self._held = self._client._exchange(LEASE_HEARTBEAT, self._certificate, self._server_url,
                                                               lease_id=grant.lease_id, sequence=grant.sequence)
        return self

    def start_heartbeat(self, interval: float | None = None, *,
                        on_error: Callable[[LicenseError], object] | None = None) -> Heartbeat:
        """Renew the lease in a background thread (default: three times per lease length) until stopped.

        A failed renewal is retried sooner while the lease still holds; ``on_error`` hears of each
        failure (called in the heartbeat thread). A seat the server no longer knows is taken again
        when one is free. ``stop()`` ends it; leaving a ``with`` block of the lease stops it too.
        """
        if self._heartbeat is not None and self._heartbeat.running:
            return self._heartbeat
        period = interval if interval is not None else max(0.05, self._held.grant.seconds / 3)
        if period <= 0:
            raise UsageError("The heartbeat interval must be a positive number of seconds.")
        self._heartbeat = Heartbeat(self, period, on_error)
        return self._heartbeat

    def _renew_or_retake(self) -> None:
        try:
            self.renew()
        except LeaseNotFoundError:
            if self._released:
                raise
            self._adopt(self._client._request(LEASE_REQUEST))  # the server forgot it: take a seat again

    def _adopt(self, lease: Lease) -> None:
        self._certificate, self._held, self._server_url = lease._certificate, lease._held, lease._server_url

    def release(self) -> bool:
        """Give the seat back; True once the server confirmed, False if it could not be reached.

        After this the lease no longer passes ``local_check()``. Unconfirmed, a live seat frees
        itself when its lease runs out; an unconfirmed return of a borrow is sent again with the
        next request to the server (the borrow is gone from this computer either way). A borrow is
        given back only while the server answers: if it does not, nothing changes and
        ``floating_server_unreachable`` says so, so the seat stays usable.
        """
        if self._heartbeat is not None:
            self._heartbeat.stop()
        if self._released:
            return True
        if self.borrowed:
            told = self._client._return_borrow(self)
            self._released = True
            return told
        self._released = True
        grant = self._held.grant
        try:
            self._client._send(LEASE_RELEASE, self._certificate, self._server_url,
                               lease_id=grant.lease_id, sequence=grant.sequence)
        except LeaseNotFoundError:
            return True  # already free
        except FloatingServerUnreachableError:
            return False
        return True

    def __enter__(self) -> Lease:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        """Leaving a ``with`` block gives a live seat back; a borrowed seat stays borrowed (it outlives the run)."""
        if self.borrowed:
            return
        try:
            self.release()
        except LicenseError:
            pass  # leaving must not fail: an unreturned seat frees itself when its lease ends

    def __repr__(self) -> str:
        state = "released" if self._released else f"{self.time_left().total_seconds():.0f} s left"
        return f"<Lease {self.lease_id} {'borrowed' if self.borrowed else 'live'} seat {self.slot} ({state})>"


class Heartbeat:
    """Renews a live lease in a background thread; see :meth:`Lease.start_heartbeat`."""

    def __init__(self, lease: Lease, interval: float, on_error: Callable[[LicenseError], object] | None) -> None:
        self.interval = interval
        self.renewals = 0
        self.last_error: LicenseError | None = None
        self._lease = lease
        self._on_error = on_error
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-heartbeat-{lease.lease_id}", daemon=True)
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop renewing (the lease itself is kept until released or ended)."""
        self._stopping.set()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def _run(self) -> None:
        delay = self.interval
        while not self._stopping.wait(delay):
            lease = self._lease
            if lease.released or lease.borrowed:
                return
            try:
                lease._renew_or_retake()
            except LicenseError as error:
                self.last_error = error
                if self._on_error is not None:
                    try:
                        self._on_error(error)
                    except Exception:  # noqa: BLE001 - the application's callback must not stop the heartbeat
                        pass
                # retry sooner while the lease still holds, so a short outage costs no seat; once it has
                # ended there is nothing left to save, and the seat is taken again at the usual pace
                left = lease.time_left().total_seconds()
                delay = max(0.05, min(self.interval, left / 4)) if left > 0 else self.interval
            else:
                self.last_error = None
                self.renewals += 1
                delay = self.interval
