"""The vendor's database: an SQLAlchemy engine and sessions whose transactions serialise writers.

SQLite is the default (one file in the vendor's data folder). Its transactions start with
``BEGIN IMMEDIATE`` so two processes answering requests for the same license cannot both read
"one activation left" and both take it; on PostgreSQL the issuer locks the license row instead
(``SELECT … FOR UPDATE``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from .. import ConfigurationError, StorageError, StorageLockedError

__all__ = ["VendorStore", "sqlite_url"]


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def _make_engine(url: str) -> Engine:
    try:
        if not url.startswith("sqlite"):
            return create_engine(url, pool_pre_ping=True)
        engine = create_engine(url, connect_args={"timeout": 30})
    except (ArgumentError, NoSuchModuleError) as exc:
        raise ConfigurationError(f"The database URL cannot be used: {exc}.",
                                 hint="Give a URL such as postgresql+psycopg://user@host/db, or leave it out for SQLite.") from None
    except ImportError as exc:
        raise ConfigurationError(f"The database driver for this URL is not installed ({exc}).",
                                 hint="Install the driver the URL names, e.g. pip install 'psycopg[binary]'.") from None

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let us issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Writers take the write lock up front (no lock upgrade half-way, no lost race);
        # read-only sessions start deferred so they never wait for a writer.
        connection.exec_driver_sql("BEGIN " + connection.get_execution_options().get("sqlite_begin", "IMMEDIATE"))

    return engine


def _storage_error(exc: SQLAlchemyError) -> StorageError:
    """Database failures as typed errors: a busy database, or one that cannot be used at all."""
    if isinstance(exc, OperationalError) and "locked" in str(exc).lower():
        return StorageLockedError("The vendor database is busy; try again in a moment.")
    detail = getattr(exc, "orig", None) or exc
    return StorageError(f"The vendor database failed: {detail}.",
                        hint="Check the --data folder and --database URL; the database file may be damaged.")


class VendorStore:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = _make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._read_sessions = sessionmaker(self.engine.execution_options(sqlite_begin="DEFERRED"),
                                           expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def create_schema(self) -> None:
        """Create or upgrade the schema in place to the newest Alembic revision."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
        try:
            with self.engine.begin() as connection:
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        except SQLAlchemyError as exc:
            raise _storage_error(exc) from None

    @contextlib.contextmanager
    def session(self, *, readonly: bool = False) -> Iterator[Session]:
        """One transaction: committed when the block ends normally, rolled back on any error.

        ``readonly`` sessions must not write: on SQLite they do not take the write lock.
        """
        try:
            with (self._read_sessions if readonly else self._sessions)() as session, session.begin():
                yield session
        except SQLAlchemyError as exc:
            raise _storage_error(exc) from None

    def dispose(self) -> None:
        self.engine.dispose()
