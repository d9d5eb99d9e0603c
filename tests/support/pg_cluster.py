"""A throw-away PostgreSQL cluster for the tests: ``scripts/scaleout.py``'s, on a free port in a temp folder.

It runs with ``fsync`` off (the tests need SQL, not durability; the benchmark and the failover
set measure a durable one). As root, the cluster belongs to and runs as the ``postgres`` user
Debian's package creates (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from scaleout import Postgres, create_database, free_port, postgres_binary
from sqlalchemy import Engine, text

__all__ = ["postgres_available", "postgres_cluster", "create_database", "wait_for_lock_waiters"]


def postgres_available() -> bool:
    return postgres_binary("initdb") is not None and postgres_binary("pg_ctl") is not None


@contextlib.contextmanager
def postgres_cluster() -> Iterator[str]:
    """Start a cluster; yield the server URL without a database name (``…@127.0.0.1:PORT``)."""
    root = Path(tempfile.mkdtemp(prefix="licensing-pg-"))
    cluster = Postgres(root, free_port(), durable=False)
    try:
        cluster.start()
        try:
            yield cluster.url
        finally:
            cluster.stop("immediate")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def wait_for_lock_waiters(engine: Engine, count: int) -> None:
    """Return once ``count`` statements of this database wait for a lock (at most 10 s)."""
    with engine.connect() as watcher:
        for _ in range(500):
            waiting = watcher.execute(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                           "AND datname = current_database()")).scalar_one()
            watcher.rollback()  # PostgreSQL keeps one statistics snapshot per transaction
            if waiting >= count:
                return
            time.sleep(0.02)
    raise AssertionError(f"{count} statement(s) never waited for a lock")
