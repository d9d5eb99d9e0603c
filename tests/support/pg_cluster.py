"""A throw-away PostgreSQL cluster for the tests: ``scripts/scaleout.py``'s, on a free port in a temp folder.

It runs with ``fsync`` off (the tests need SQL, not durability; the benchmark and the failover
set measure a durable one). As root, the cluster belongs to and runs as the ``postgres`` user
Debian's package creates (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from scaleout import Postgres, create_database, free_port, postgres_binary

__all__ = ["postgres_available", "postgres_cluster", "create_database"]


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
