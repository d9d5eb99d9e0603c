"""Shared fixtures: a settable clock, the lab (a real vendor and devices, also on each database), a
PostgreSQL cluster.

The helpers behind them live in :mod:`support` (``tests/support``), which test modules import
directly; this file only turns them into fixtures.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from support.lab import FakeClock, Lab


@pytest.fixture(autouse=True)
def _own_state_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test gets its own user state folder: the SDK's second trace lives there by default
    (``default_trace_dir``), and one test's clock must never leave its mark on another's."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def lab(tmp_path: Path, clock: FakeClock) -> Iterator[Lab]:
    created = Lab(tmp_path, clock)
    yield created
    created.vendor.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def online_lab(request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock) -> Iterator[Lab]:
    """The lab on real time, once with the SQLite store and once with PostgreSQL."""
    clock.set(datetime.now(timezone.utc))
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    created = Lab(tmp_path, clock, database_url=url)
    yield created
    created.vendor.close()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """One PostgreSQL cluster for the whole run (each test gets its own database)."""
    from support.pg_cluster import postgres_available, postgres_cluster

    if not postgres_available():
        pytest.skip("PostgreSQL is not installed here (CI installs it with apt-get install postgresql)")
    with postgres_cluster() as url:
        yield url


@pytest.fixture
def postgres_url(postgres_server: str) -> str:
    """A fresh, empty PostgreSQL database for one test."""
    from support.pg_cluster import create_database

    return create_database(postgres_server, f"t_{uuid.uuid4().hex[:16]}")
