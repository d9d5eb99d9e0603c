"""The floating server's leases, in its own SQLite file: durable, and exact however many workers race.

One row per seat in use. The seat number is the primary key and the holder's key is unique, so
the database itself guarantees one lease per seat and one seat per workstation; the server only
hands out seat numbers below the license's seat count, so there are never more than N live
leases. Every change runs in a ``BEGIN IMMEDIATE`` transaction (the write lock taken up front), so
two workers can never both see the last seat free.

Durability, in WAL mode: a process killed at any instant loses no committed change (the log is
written before the answer leaves). Against a power cut, a *grant* (a new seat, a borrow) is
fsync'ed before it is answered (``durable=True``: ``synchronous=FULL``), so no seat handed out can
be forgotten. Renewals and releases are not (``synchronous=NORMAL``: an fsync costs milliseconds on
many disks, and heartbeats are the bulk of the traffic); a power cut may lose the last of them,
which is made safe by the server, not the disk: at start it holds every seat it knows for one more
lease length (see :meth:`Transaction.hold_every_lease`), and it accepts a heartbeat whose sequence
is ahead of the one it kept.

Times are whole microseconds since the Unix epoch, by the server's clock.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from pathlib import Path

from .. import StorageError, StorageLockedError

__all__ = ["LeaseStore", "SeatRow", "micros", "moment"]

_SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS leases (
    slot        INTEGER PRIMARY KEY CHECK (slot >= 0),
    lease_id    TEXT    NOT NULL UNIQUE,
    holder_key  TEXT    NOT NULL UNIQUE,
    hardware_id TEXT    NOT NULL,
    client      TEXT    NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('lease', 'borrow')),
    sequence    INTEGER NOT NULL,
    granted_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    held_until  INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS answered (
    request_id  TEXT    PRIMARY KEY,
    at          INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS answered_at ON answered (at);
"""


def micros(at: datetime) -> int:
    delta = at - datetime(1970, 1, 1, tzinfo=timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def moment(value: int) -> datetime:
    return datetime.fromtimestamp(value // 1_000_000, timezone.utc).replace(microsecond=value % 1_000_000)


@dataclass(frozen=True)
class SeatRow:
    """One seat in use. ``expires_at`` is the end the lease states; the seat is free after ``held_until``
    (the same for a live lease; a borrow's end plus the clock tolerance, see ``server``)."""

    slot: int
    lease_id: str
    holder_key: str
    hardware_id: str
    client: str
    kind: str
    sequence: int
    granted_at: int
    expires_at: int
    held_until: int


_COLUMNS = ", ".join(f.name for f in fields(SeatRow))


class Transaction:
    """The statements one change is made of; only valid inside :meth:`LeaseStore.transaction`."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def expire(self, now: int) -> None:
        """Free every seat whose lease ran out."""
        self._db.execute("DELETE FROM leases WHERE held_until <= ?", (now,))

    def by_holder(self, holder_key: str) -> SeatRow | None:
        return self._one("SELECT {} FROM leases WHERE holder_key = ?", holder_key)

    def by_id(self, lease_id: str) -> SeatRow | None:
        return self._one("SELECT {} FROM leases WHERE lease_id = ?", lease_id)

    def free_slot(self, seats: int) -> int | None:
        """The lowest seat number below ``seats`` that nobody holds."""
        taken = {row[0] for row in self._db.execute("SELECT slot FROM leases WHERE slot < ?", (seats,))}
        return next((slot for slot in range(seats) if slot not in taken), None)

    def put(self, row: SeatRow) -> None:
        self._db.execute(f"INSERT OR REPLACE INTO leases ({_COLUMNS}) VALUES ({', '.join('?' * len(fields(row)))})",
                         tuple(getattr(row, f.name) for f in fields(row)))

    def delete(self, lease_id: str) -> None:
        self._db.execute("DELETE FROM leases WHERE lease_id = ?", (lease_id,))

    def hold_every_lease(self, until: int) -> int:
        """After a start: no live lease's seat is free before ``until`` (a renewal may have been lost)."""
        return self._db.execute("UPDATE leases SET held_until = MAX(held_until, ?) WHERE kind = 'lease'",
                                (until,)).rowcount

    def remember(self, request_id: str, now: int) -> bool:
        """Record an answered request id; False when it was answered before (a replay)."""
        return self._db.execute("INSERT OR IGNORE INTO answered (request_id, at) VALUES (?, ?)",
                                (request_id, now)).rowcount == 1

    def forget_answered_before(self, before: int) -> None:
        self._db.execute("DELETE FROM answered WHERE at < ?", (before,))

    def _one(self, query: str, value: str) -> SeatRow | None:
        found = self._db.execute(query.format(_COLUMNS), (value,)).fetchone()
        return None if found is None else SeatRow(*found)


class LeaseStore:
    """The SQLite file of one floating server. Methods raise only :class:`~licensing.StorageError` types."""

    def __init__(self, path: Path, *, busy_timeout: float = 10.0) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), timeout=busy_timeout, isolation_level=None,
                                       check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._synchronous = ""
            self._set_durable(True)
            with self.transaction():
                version = self._db.execute("PRAGMA user_version").fetchone()[0]
                if version > _SCHEMA_VERSION:
                    raise StorageError(f"The leases file {path} was written by a newer version of this server.",
                                       hint="Run the newer version, or move the file away to start afresh.")
                for statement in filter(str.strip, _SCHEMA.split(";")):
                    self._db.execute(statement)
                self._db.execute(f"PRAGMA user_version={_SCHEMA_VERSION}")
        except sqlite3.Error as exc:
            raise _storage_error(exc, path) from None

    def _set_durable(self, durable: bool) -> None:
        wanted = "FULL" if durable else "NORMAL"
        if wanted != self._synchronous:
            self._db.execute(f"PRAGMA synchronous={wanted}")
            self._synchronous = wanted

    @contextlib.contextmanager
    def transaction(self, *, durable: bool = True) -> Iterator[Transaction]:
        """One change: the write lock is taken first; committed when the block ends.

        ``durable``: on disk (fsync) before the block returns; otherwise safe against a killed
        process but not a power cut (see the module's docstring for why that is enough).
        """
        try:
            self._set_durable(durable)
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise _storage_error(exc, self.path) from None
        try:
            yield Transaction(self._db)
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        try:
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            self._db.execute("ROLLBACK")
            raise _storage_error(exc, self.path) from None

    def seats_in_use(self, now: int) -> list[SeatRow]:
        """The seats held at ``now``, by seat number (a read: no write lock)."""
        try:
            rows = self._db.execute(f"SELECT {_COLUMNS} FROM leases WHERE held_until > ? ORDER BY slot",
                                    (now,)).fetchall()
        except sqlite3.Error as exc:
            raise _storage_error(exc, self.path) from None
        return [SeatRow(*row) for row in rows]

    def clear(self) -> None:
        """Forget every lease (the server was deactivated: its seats are gone with its license)."""
        with self.transaction():
            self._db.execute("DELETE FROM leases")

    def close(self) -> None:
        self._db.close()


def _storage_error(exc: sqlite3.Error, path: Path) -> StorageError:
    if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc).lower():
        return StorageLockedError("The floating server's leases file is busy; try again in a moment.")
    return StorageError(f"The floating server's leases file {path} cannot be used: {exc}.",
                        hint="Check the folder's permissions and free space; the file may be damaged.")
