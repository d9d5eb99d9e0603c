"""Group commit (:mod:`licensing.issuing.group_commit`) on SQLite and PostgreSQL.

Concurrent writers share transactions, yet each answer is its own: a refusal or a failed
statement in one piece of work is rolled back alone, and nothing is answered before the shared
commit. The groups here are made deterministic by holding the first transaction open until the
other threads have queued behind it.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.engine import Connection

from licensing import LicenseError, LicenseID, StorageError
from licensing.issuing import catalog
from licensing.issuing.store import VendorStore, sqlite_url

from support.lab import FakeClock, Lab


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return sqlite_url(tmp_path / "vendor.db") if request.param == "sqlite" else request.getfixturevalue("postgres_url")


@pytest.fixture
def store(database_url: str) -> Iterator[VendorStore]:
    created = VendorStore(database_url)
    created.create_schema()
    with created.transaction() as db:
        db.execute(text("CREATE TABLE pieces (id INTEGER PRIMARY KEY, label VARCHAR(20))"))
    yield created
    created.dispose()


def in_threads(calls: list[Callable[[], Any]]) -> list[tuple[str, Any]]:
    results: list[tuple[str, Any]] = [("missing", None)] * len(calls)

    def run(index: int) -> None:
        try:
            results[index] = ("ok", calls[index]())
        except Exception as error:  # noqa: BLE001 - the outcome is the result
            results[index] = ("error", error)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def grouped(store: VendorStore, works: list[Callable[[Connection], Any]]) -> list[tuple[str, Any]]:
    """Run ``works`` from threads, all but the first queued behind the first one's open transaction."""
    gate = threading.Event()

    def first(db: Connection) -> str:
        db.execute(text("INSERT INTO pieces (id, label) VALUES (0, 'first')"))
        assert gate.wait(30)
        return "first"

    def release_when_queued() -> None:
        deadline = time.monotonic() + 30
        while store._group.waiting < len(works) and time.monotonic() < deadline:
            time.sleep(0.01)
        gate.set()

    threading.Thread(target=release_when_queued).start()
    calls = [lambda: store.write(first)]
    calls += [lambda work=work: (time.sleep(0.05), store.write(work))[1] for work in works]
    return in_threads(calls)[1:]


def labels(store: VendorStore) -> set[str]:
    with store.transaction(readonly=True) as db:
        return {row[0] for row in db.execute(text("SELECT label FROM pieces"))}


def test_queued_writers_share_one_commit(store: VendorStore) -> None:
    def insert(number: int) -> Callable[[Connection], int]:
        def work(db: Connection) -> int:
            db.execute(text("INSERT INTO pieces (id, label) VALUES (:id, :label)"), {"id": number, "label": f"p{number}"})
            return number
        return work

    results = grouped(store, [insert(number) for number in range(1, 11)])
    assert results == [("ok", number) for number in range(1, 11)]
    assert store._group.groups == 2 and store._group.pieces == 11  # the first alone, then the ten together
    assert labels(store) == {"first"} | {f"p{number}" for number in range(1, 11)}


def test_a_failing_piece_is_rolled_back_alone(store: VendorStore) -> None:
    def insert(number: int, label: str) -> Callable[[Connection], str]:
        def work(db: Connection) -> str:
            db.execute(text("INSERT INTO pieces (id, label) VALUES (:id, :label)"), {"id": number, "label": label})
            if label == "refused":
                raise LicenseError("refused after writing")
            return label
        return work

    results = grouped(store, [insert(1, "kept"), insert(2, "refused"), insert(0, "duplicate id"), insert(3, "also kept")])
    kinds = [(kind, value if kind == "ok" else type(value)) for kind, value in results]
    assert kinds == [("ok", "kept"), ("error", LicenseError), ("error", StorageError), ("ok", "also kept")]
    assert labels(store) == {"first", "kept", "also kept"}
    assert store._group.groups == 2


def test_a_group_without_failures_sends_no_savepoint(store: VendorStore) -> None:
    """Savepoints would cost two round trips per answer on PostgreSQL: a group is rolled back and split instead."""
    statements: list[str] = []
    event.listen(store.engine, "before_cursor_execute",
                 lambda _conn, _cursor, statement, *_: statements.append(statement.upper()))
    results = grouped(store, [lambda db, number=number: db.execute(
        text("INSERT INTO pieces (id, label) VALUES (:id, 'x')"), {"id": number}).rowcount for number in range(1, 6)])
    assert results == [("ok", 1)] * 5 and store._group.groups == 2
    assert not [statement for statement in statements if "SAVEPOINT" in statement]


def test_a_piece_that_fails_on_the_database_alone_is_tried_once_more(store: VendorStore) -> None:
    """The second try is a new transaction: what another writer committed meanwhile is seen then."""
    tries: list[int] = []

    def conflicts_the_first_time(db: Connection) -> str:
        tries.append(1)
        if len(tries) == 1:
            db.execute(text("INSERT INTO pieces (id, label) VALUES (7, 'x')"))
            db.execute(text("INSERT INTO pieces (id, label) VALUES (7, 'again')"))
        return "second try"

    def always_conflicts(db: Connection) -> None:
        db.execute(text("INSERT INTO pieces (id, label) VALUES (8, 'x')"))
        db.execute(text("INSERT INTO pieces (id, label) VALUES (8, 'again')"))

    assert store.write(conflicts_the_first_time) == "second try" and len(tries) == 2
    with pytest.raises(StorageError):
        store.write(always_conflicts)
    assert labels(store) == set()


def test_nothing_is_answered_before_the_commit(store: VendorStore) -> None:
    """A piece's answer comes back only after its group committed: another connection sees its row."""
    seen: list[bool] = []

    def insert_and_check(number: int) -> Callable[[Connection], int]:
        def work(db: Connection) -> int:
            db.execute(text("INSERT INTO pieces (id, label) VALUES (:id, 'x')"), {"id": number})
            return number
        return work

    def write_then_look(number: int) -> None:
        store.write(insert_and_check(number))
        with store.transaction(readonly=True) as db:
            seen.append(db.execute(text("SELECT count(*) FROM pieces WHERE id = :id"), {"id": number}).scalar() == 1)

    in_threads([lambda number=number: write_then_look(number) for number in range(1, 17)])
    assert seen == [True] * 16


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_concurrent_activations_in_groups_count_seats_exactly(backend: str, tmp_path: Path, clock: FakeClock,
                                                              request: pytest.FixtureRequest) -> None:
    clock.set(datetime.now(timezone.utc))
    lab = Lab(tmp_path, clock, database_url=request.getfixturevalue("postgres_url") if backend == "postgresql" else None)
    try:
        key = lab.issue(max_activations=5)
        requests = [lab.manager(f"device-{index}").create_offline_activation_file(LicenseID.from_key(key)).read_bytes()
                    for index in range(12)]
        results = in_threads([lambda data=data: lab.vendor.issuer.answer_activation(data) for data in requests])
        outcomes = Counter("ok" if kind == "ok" else value.code for kind, value in results)
        assert outcomes == {"ok": 5, "max_activations_reached": 7}
        with lab.vendor.store.session() as session:
            assert catalog.get_license(session, key).active_devices == 5
        assert {value.total_activations for kind, value in results if kind == "ok"} == {1, 2, 3, 4, 5}
    finally:
        lab.vendor.close()
