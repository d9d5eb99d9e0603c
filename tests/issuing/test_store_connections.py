"""The vendor store's PostgreSQL connections survive the database dropping them.

Connections are pinged only after they sat idle (:data:`licensing.issuing.store.PING_WHEN_IDLE_FOR`),
not on every checkout, so a busy server spends no round trip on it. Here every connection the
store holds is ended by the database (as a restart or an administrator would) while idle: the
pooled ones, and the few it keeps open for single-statement reads (``VendorStore.snapshot``).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import text

from licensing import DatabaseUnavailableError
from licensing.issuing.portal.errors import status_for
from licensing.issuing.store import PING_WHEN_IDLE_FOR, VendorStore


@pytest.fixture
def store(postgres_url: str) -> Iterator[VendorStore]:
    created = VendorStore(postgres_url)
    created.create_schema()
    yield created
    created.dispose()


def end_every_other_connection(url: str) -> int:
    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as admin:
        return admin.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                             "WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchone()[0]


def busy_connections(store: VendorStore, count: int) -> None:
    """Check ``count`` connections out at once and back in, so the pool holds that many."""
    held = [store.engine.connect() for _ in range(count)]
    for connection in held:
        connection.execute(text("SELECT 1"))
        connection.close()


def kept_connections(store: VendorStore, count: int) -> set[int]:
    """Read in ``count`` snapshots at once, so the store keeps connections for reads; their backends' pids."""
    with contextlib.ExitStack() as stack:
        connections = [stack.enter_context(store.snapshot()) for _ in range(count)]
        return {db.execute(text("SELECT pg_backend_pid()")).scalar_one() for db in connections}


def snapshot_pid(store: VendorStore) -> int:
    with store.snapshot() as db:
        return int(db.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_reads_reuse_the_connections_kept_for_them(store: VendorStore) -> None:
    kept = kept_connections(store, VendorStore.KEEP_FOR_READS + 2)
    assert len(kept) == VendorStore.KEEP_FOR_READS + 2
    assert {snapshot_pid(store) for _ in range(10)} <= kept  # no new connection for a read
    assert len({snapshot_pid(store) for _ in range(10)}) == 1  # the last one used, again and again


def test_idle_kept_connections_ended_by_the_database_are_replaced_before_use(store: VendorStore,
                                                                              postgres_url: str) -> None:
    kept = kept_connections(store, VendorStore.KEEP_FOR_READS)
    assert end_every_other_connection(postgres_url) >= len(kept)
    time.sleep(PING_WHEN_IDLE_FOR + 0.1)
    pids = {snapshot_pid(store) for _ in range(VendorStore.KEEP_FOR_READS + 2)}
    assert not pids & kept


def test_a_kept_connection_ended_in_steady_use_fails_one_read_with_a_typed_error(store: VendorStore,
                                                                                postgres_url: str) -> None:
    pid = snapshot_pid(store)
    assert end_every_other_connection(postgres_url) >= 1
    with pytest.raises(DatabaseUnavailableError), store.snapshot() as db:
        db.execute(text("SELECT 1"))
    assert snapshot_pid(store) != pid  # the next read has a new connection


def test_idle_connections_ended_by_the_database_are_replaced_before_use(store: VendorStore, postgres_url: str) -> None:
    busy_connections(store, 4)
    assert end_every_other_connection(postgres_url) == 4
    time.sleep(PING_WHEN_IDLE_FOR + 0.1)
    for _ in range(6):  # more than the pool held: every one of them is found dead and replaced
        store.ping()
        with store.snapshot() as db:
            assert db.execute(text("SELECT count(*) FROM licenses")).scalar_one() == 0


def test_a_connection_ended_while_in_steady_use_fails_one_request_with_a_typed_error(
        store: VendorStore, postgres_url: str) -> None:
    """No ping within the idle time: the dead connection fails its statement, and the pool is renewed."""
    busy_connections(store, 2)
    assert end_every_other_connection(postgres_url) == 2
    with pytest.raises(DatabaseUnavailableError) as lost:
        store.ping()
    assert lost.value.code == "database_unavailable" and status_for(lost.value) == 503
    store.ping()
    store.ping()
