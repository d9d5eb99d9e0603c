"""The vendor's database: an SQLAlchemy engine, and transactions that serialise writers.

SQLite is the default (one file in the vendor's data folder). Its write transactions start with
``BEGIN IMMEDIATE`` so two processes answering requests for the same license cannot both read
"one activation left" and both take it; on PostgreSQL the issuer locks the license row instead
(``SELECT … FOR UPDATE``). Read-only transactions on SQLite start ``DEFERRED`` and never wait
for a writer (WAL).

Two ways in: :meth:`VendorStore.transaction` hands out a plain connection (SQLAlchemy Core: the
issuer's hot paths) and :meth:`VendorStore.session` an ORM session (the catalogue, the admin pages,
the CLI). SQLite's ``BEGIN`` is issued by these two, not by an engine-wide ``begin`` event: an
engine with connection events dispatches them around every statement, which cost the hot paths
about a tenth of their time.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    DisconnectionError,
    NoSuchModuleError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.orm import Session, sessionmaker

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: SQLite's own lock alone
    fcntl = None  # type: ignore[assignment]

from .. import ConfigurationError, DatabaseUnavailableError, StorageError, StorageLockedError
from .group_commit import GroupCommit
from .snapshots import PING_WHEN_IDLE_FOR, KeptConnections
from .statements import lock_licenses

__all__ = ["VendorStore", "sqlite_url"]

T = TypeVar("T")


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def _make_engine(url: str) -> Engine:
    try:
        # Connections per process: the portal's database threads (PortalSettings.db_concurrency),
        # the connections kept for reads (VendorStore.KEEP_FOR_READS), a health check and the
        # admin pages.
        pool = {"pool_size": 16, "max_overflow": 8}
        if not url.startswith("sqlite"):
            return _ping_when_idle(create_engine(url, **pool))
        engine = create_engine(url, connect_args={"timeout": 30}, **pool)
    except (ArgumentError, NoSuchModuleError) as exc:
        raise ConfigurationError(f"The database URL cannot be used: {exc}.",
                                 hint="Give a URL such as postgresql+psycopg://user@host/db, or leave it out for SQLite.") from None
    except ImportError as exc:
        raise ConfigurationError(f"The database driver for this URL is not installed ({exc}).",
                                 hint="Install the driver the URL names, e.g. pip install 'psycopg[binary]'.") from None

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves (see the module's docstring)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    return engine


def _ping_when_idle(engine: Engine) -> Engine:
    """Hand out pooled connections that still reach the database, without a round trip per checkout.

    SQLAlchemy's ``pool_pre_ping`` pings on every checkout: two of an activation's round trips to
    PostgreSQL, for a connection that was in use a millisecond ago. Here only a connection idle
    for :data:`PING_WHEN_IDLE_FOR` is pinged (after a database restart, a quiet server finds out
    before a request does). One that dies while in steady use fails its statement instead: that
    request is answered ``database_unavailable`` (503), the client sends it again (answers are
    idempotent), and SQLAlchemy replaces every connection of the pool opened before the failure.
    """

    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_WHEN_IDLE_FOR:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            raise DisconnectionError() from exc  # the pool opens a new connection and tries again

    return engine


def _begin_sqlite(mode: str) -> Callable[[Session, Any, Connection], None]:
    """An ORM session's ``after_begin`` hook: open SQLite's transaction in ``mode`` before any statement."""

    def begin(_session: Session, _transaction: Any, connection: Connection) -> None:
        connection.exec_driver_sql(f"BEGIN {mode}")

    return begin


def _typed(exc: Exception) -> Exception:
    return _storage_error(exc) if isinstance(exc, SQLAlchemyError) else exc


def _storage_error(exc: SQLAlchemyError) -> StorageError:
    """Database failures as typed errors: a busy database, or one that cannot be used at all."""
    if isinstance(exc, OperationalError) and "locked" in str(exc).lower():
        return StorageLockedError("The vendor database is busy; try again in a moment.")
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:  # the pool opens new connections from now on
        return DatabaseUnavailableError()
    detail = getattr(exc, "orig", None) or exc
    return StorageError(f"The vendor database failed: {detail}.",
                        hint="Check the --data folder and --database URL; the database file may be damaged.")


class _WriterQueue:
    """On SQLite, the writers of one database file queue in the kernel before taking SQLite's lock.

    SQLite makes a writer that finds the database locked sleep and retry, with growing sleeps (up
    to 100 ms each); the lock is often free long before the sleeper wakes, so writers of several
    processes (``serve --workers N``) leave it idle while they wait, and their answers pile up
    behind. ``flock`` on a file next to the database wakes the next writer the moment the lock is
    released. Writers that do not queue here (another program) still meet SQLite's own lock.
    Every write transaction of this module queues, and none is ever opened inside another.
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path if fcntl is not None else None

    @contextlib.contextmanager
    def turn(self, writing: bool) -> Iterator[None]:
        if not writing or self.path is None:
            yield
            return
        handle = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX)  # released when the file is closed
            yield
        finally:
            os.close(handle)


class VendorStore:
    #: connections kept open for :meth:`snapshot` (the portal reads in two threads per process)
    KEEP_FOR_READS = 4

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = _make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._read_sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._group = GroupCommit(self.transaction, convert=_typed, lock=self._lock_licenses)
        # SQLite: isolation_level stays None (see _make_engine), so a bare connection autocommits.
        self._snapshots = KeptConnections(self.engine if self.is_sqlite else self.engine.execution_options(
            isolation_level="AUTOCOMMIT"), keep=self.KEEP_FOR_READS)
        database = self.engine.url.database
        self._writers = _WriterQueue(Path(database + "-writers.lock") if self.is_sqlite and database
                                     and database != ":memory:" else None)
        if self.is_sqlite:
            event.listen(self._sessions, "after_begin", _begin_sqlite("IMMEDIATE"))
            event.listen(self._read_sessions, "after_begin", _begin_sqlite("DEFERRED"))

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def create_schema(self) -> None:
        """Create or upgrade the schema in place to the newest Alembic revision."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
        with self.transaction() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    @contextlib.contextmanager
    def session(self, *, readonly: bool = False) -> Iterator[Session]:
        """One transaction: committed when the block ends normally, rolled back on any error.

        ``readonly`` sessions must not write: on SQLite they do not take the write lock.
        """
        try:
            with self._writers.turn(not readonly), (self._read_sessions if readonly else self._sessions)() as session, \
                    session.begin():
                yield session
        except SQLAlchemyError as exc:
            raise _storage_error(exc) from None

    @contextlib.contextmanager
    def transaction(self, *, readonly: bool = False) -> Iterator[Connection]:
        """One transaction on a plain connection (SQLAlchemy Core, no ORM): the issuer's hot paths.

        Committed when the block ends normally, rolled back on any error; ``readonly`` as for
        :meth:`session`.
        """
        try:
            with self._writers.turn(not readonly), self.engine.connect() as connection:
                if self.is_sqlite:
                    connection.exec_driver_sql("BEGIN DEFERRED" if readonly else "BEGIN IMMEDIATE")
                else:
                    connection.begin()
                try:
                    yield connection
                except BaseException:
                    connection.rollback()
                    raise
                connection.commit()
        except SQLAlchemyError as exc:
            raise _storage_error(exc) from None

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[Connection]:
        """A connection for a single read statement, outside any transaction.

        One statement reads one consistent snapshot by itself, so the hottest reads (online
        checks) skip the BEGIN and COMMIT round trips. On PostgreSQL the connection is in
        autocommit; on SQLite no BEGIN is issued at all (the driver's own autocommit). The
        connection is one of a few kept open for this (:mod:`licensing.issuing.snapshots`).
        """
        try:
            with self._snapshots.connection() as connection:
                yield connection
        except SQLAlchemyError as exc:
            raise _storage_error(exc) from None

    def write(self, work: Callable[[Connection], T], *, order: int = 0) -> T:
        """Run ``work(connection)`` in a write transaction shared with other threads' (group commit).

        Returns once the transaction is committed (durable); see :mod:`licensing.issuing.group_commit`.
        ``order``: the id of the license the work reads and changes; its row is locked before the
        work runs, so the work reads it, and the rows that hang on it, as they are under the lock.
        """
        return self._group.run(work, order)

    def _lock_licenses(self, connection: Connection, license_ids: list[int]) -> None:
        """Lock the license rows a group of writes works on, before any of it runs (see :meth:`write`).

        SQLite needs nothing: ``BEGIN IMMEDIATE`` already keeps every other writer out.
        """
        if not self.is_sqlite:
            lock_licenses(connection, license_ids)

    def ping(self) -> None:
        """Raise a StorageError unless the database answers a trivial query (health checks)."""
        with self.transaction(readonly=True) as connection:
            connection.exec_driver_sql("SELECT 1")

    def dispose(self) -> None:
        self._snapshots.close()
        self.engine.dispose()
