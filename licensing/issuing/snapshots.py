"""Connections kept open for single-statement reads: the online check's one statement, without a pool checkout.

An online check reads everything it needs in one statement, outside any transaction
(:meth:`~licensing.issuing.store.VendorStore.snapshot`). Checking a connection out of
SQLAlchemy's pool for it and back in (the pool's bookkeeping, its events, switching the
connection to autocommit and back, the reset on return) cost about as much CPU as the
statement itself: 14 % of a PostgreSQL check's CPU in the server, by a profile under load.
So the store keeps a few autocommit connections open here, checked out of the pool once, and
hands them out last-in first-out: a busy server reuses the same warm ones.

They follow the pool's rules: one that sat idle for :data:`PING_WHEN_IDLE_FOR` is pinged before
use and replaced if the database ended it; one whose statement failed on a database error is
dropped (the request fails typed, the next one opens a new connection). At most ``keep`` are
kept; the rest are closed, so a burst does not keep more than that out of the pool.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

__all__ = ["KeptConnections", "PING_WHEN_IDLE_FOR"]

#: a connection left unused this long is pinged before it is used again
PING_WHEN_IDLE_FOR = 1.0  # seconds


class KeptConnections:
    """Autocommit connections of ``engine``, kept open between uses (at most ``keep`` of them)."""

    def __init__(self, engine: Engine, keep: int) -> None:
        self._engine = engine
        self._keep = keep
        #: (connection, idle since); list.pop is atomic, the lock keeps the count at ``keep`` at most
        self._idle: list[tuple[Connection, float]] = []
        self._giving_back = threading.Lock()

    @contextlib.contextmanager
    def connection(self) -> Iterator[Connection]:
        """A connection for reads outside a transaction; raises SQLAlchemy's errors as they come."""
        connection = self._take()
        try:
            yield connection
        except SQLAlchemyError:
            connection.invalidate()  # its statement failed on the database: never hand it out again
            connection.close()
            raise
        except BaseException:
            self._give_back(connection)
            raise
        self._give_back(connection)

    def close(self) -> None:
        while self._idle:
            self._idle.pop()[0].close()

    def _take(self) -> Connection:
        while True:
            try:
                connection, idle_since = self._idle.pop()
            except IndexError:
                return self._engine.connect()
            if time.monotonic() - idle_since < PING_WHEN_IDLE_FOR or self._answers(connection):
                return connection

    def _answers(self, connection: Connection) -> bool:
        """Ping an idle connection; close it if the database ended it (a restart, an administrator)."""
        try:
            connection.exec_driver_sql("SELECT 1").close()
            return True
        except SQLAlchemyError:
            connection.invalidate()
            connection.close()
            return False

    def _give_back(self, connection: Connection) -> None:
        with self._giving_back:
            if len(self._idle) < self._keep:
                self._idle.append((connection, time.monotonic()))
                return
        connection.close()
