"""How many credential checks a bucket (a user, a license, a client address) may take per window.

The counters live in the vendor database (table ``attempt_counters``), so every portal worker,
every machine behind the load balancer and the CLI count against one total, on SQLite and on
PostgreSQL alike.

An attempt is *reserved* before the password is hashed, in one short write transaction that
either takes a slot in every bucket named or takes none and refuses with
:class:`~licensing.TooManyAttemptsError` (its ``details["retry_after"]`` says how many seconds
remain). So twenty guesses sent at once get the allowance, not twenty checks: each one has
counted before any of them is checked. A check that succeeds gives its own slot back
(:meth:`AttemptThrottle.release`); a failure keeps it. Failures by others are not wiped by a
success, so a right password does not reset an attacker's count.

A window starts at a bucket's first attempt and lasts ``Limit.window``; counters idle for a
week are deleted as others are written.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from .. import TooManyAttemptsError
from ..wire import Clock, system_clock, utc_now
from .models import AttemptCounter
from .store import VendorStore

__all__ = ["Limit", "AttemptThrottle", "Reservation", "bucket"]

_COUNTER = (AttemptCounter.bucket, AttemptCounter.window_started_at, AttemptCounter.attempts)

_FORGET_AFTER = timedelta(days=7)
_MAX_VALUE = 200  # a bucket name holds a value up to this long as it is, a longer one by its digest


@dataclass(frozen=True)
class Limit:
    """At most ``attempts`` checks per ``window`` (a window of up to a week)."""

    attempts: int
    window: timedelta

    def __post_init__(self) -> None:
        if self.attempts < 1 or not timedelta(0) < self.window <= _FORGET_AFTER:
            raise ValueError("a limit allows at least one attempt per window of up to seven days")


@dataclass(frozen=True)
class Reservation:
    buckets: tuple[str, ...]


def bucket(scope: str, value: str) -> str:
    """The counter name for ``value`` (a user name, an address…) in ``scope``."""
    if len(value) > _MAX_VALUE:
        value = "sha256:" + hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{scope}:{value}"


class AttemptThrottle:
    def __init__(self, store: VendorStore, clock: Clock = system_clock) -> None:
        self.store = store
        self.clock = clock

    def reserve(self, buckets: Iterable[str], limit: Limit) -> Reservation:
        """Take one attempt in each of ``buckets``, or none and raise :class:`TooManyAttemptsError`."""
        names = tuple(sorted(set(buckets)))  # one lock order for every caller: no deadlock on PostgreSQL
        now = utc_now(self.clock)
        insert = postgresql.insert if self.store.engine.dialect.name == "postgresql" else sqlite.insert
        with self.store.transaction() as db:
            db.execute(insert(AttemptCounter).values(
                [{"bucket": name, "window_started_at": now, "attempts": 0} for name in names]
            ).on_conflict_do_nothing(index_elements=["bucket"]))
            counters = db.execute(select(*_COUNTER).where(AttemptCounter.bucket.in_(names))
                                  .order_by(AttemptCounter.bucket).with_for_update()).all()
            wait = timedelta(0)
            for counter in counters:
                if counter.window_started_at > now - limit.window and counter.attempts >= limit.attempts:
                    wait = max(wait, counter.window_started_at + limit.window - now)
            if wait:
                seconds = max(1, int(wait.total_seconds() + 0.999))
                minutes = (seconds + 59) // 60
                raise TooManyAttemptsError(
                    hint=f"Wait {minutes} minute{'s' if minutes != 1 else ''}, then try again with the right "
                         "password (or ask the vendor).", retry_after=seconds)
            for counter in counters:
                expired = counter.window_started_at <= now - limit.window  # a new window starts with this one
                db.execute(update(AttemptCounter).where(AttemptCounter.bucket == counter.bucket).values(
                    window_started_at=now if expired else counter.window_started_at,
                    attempts=1 if expired else counter.attempts + 1))
            db.execute(delete(AttemptCounter).where(AttemptCounter.window_started_at < now - _FORGET_AFTER))
        return Reservation(names)

    def release(self, reservation: Reservation) -> None:
        """Give back the attempts of a check that succeeded."""
        with self.store.transaction() as db:
            db.execute(update(AttemptCounter)
                       .where(AttemptCounter.bucket.in_(reservation.buckets), AttemptCounter.attempts > 0)
                       .values(attempts=AttemptCounter.attempts - 1))
