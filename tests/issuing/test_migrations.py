"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL,
and opening a database upgrades it in place (so a vendor's existing data survives an upgrade)."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

from licensing.issuing import store as store_module
from licensing.issuing.models import Base
from licensing.issuing.store import VendorStore, sqlite_url

MIGRATIONS = Path(store_module.__file__).with_name("migrations")


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _head() -> str:
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def _schema_drift(url: str) -> list[object]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_migrations_match_the_models(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    url = sqlite_url(tmp_path / "vendor.db") if backend == "sqlite" else request.getfixturevalue("postgres_url")
    store = VendorStore(url)
    store.create_schema()
    store.dispose()
    assert _schema_drift(url) == []


def test_the_drift_check_sees_a_missing_schema(tmp_path: Path) -> None:
    drift = _schema_drift(sqlite_url(tmp_path / "empty.db"))
    assert {table.name for op, table in drift if op == "add_table"} >= {"licenses", "devices"}


def test_opening_again_is_an_in_place_no_op_that_keeps_data(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "vendor.db")
    store = VendorStore(url)
    store.create_schema()
    with store.engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO products (code, name, api_key, shared_key, free_tier, created_at) "
            "VALUES ('p', 'P', 'a', 's', 0, '2026-01-01 00:00:00')")
    store.dispose()
    again = VendorStore(url)
    again.create_schema()
    with again.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT code FROM products").scalar() == "p"
        assert connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == _head()
    assert "alembic_version" in inspect(again.engine).get_table_names()
    again.dispose()


def test_a_database_made_by_the_first_release_is_upgraded_in_place_and_keeps_its_data(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "vendor.db")
    store = VendorStore(url)
    config = _alembic_config()
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        connection.exec_driver_sql(
            "INSERT INTO products (code, name, api_key, shared_key, free_tier, created_at) "
            "VALUES ('p', 'P', 'a', 's', 0, '2026-01-01 00:00:00')")
        connection.exec_driver_sql(
            "INSERT INTO licenses (product_id, key, license_type, enabled, max_activations, total_consumptions, "
            "allow_overages, max_overages, revision, created_at) "
            "VALUES (1, 'AAAA-BBBB-CCCC-DDDD', 'perpetual', 1, 1, 0, 0, 0, 1, '2026-01-01 00:00:00')")
    store.create_schema()
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT code FROM products").scalar() == "p"
        row = connection.exec_driver_sql("SELECT key, seats, lease_seconds, max_borrow_seconds FROM licenses").one()
        assert connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == _head()
    assert tuple(row) == ("AAAA-BBBB-CCCC-DDDD", None, None, None)
    store.dispose()
    assert _schema_drift(url) == []


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_upgrading_from_0001_counts_the_seats_already_in_use(backend: str, tmp_path: Path,
                                                             request: pytest.FixtureRequest) -> None:
    """0004_scale_out adds licenses.active_devices: a vendor's existing devices must be counted, not reset to 0."""
    url = sqlite_url(tmp_path / "vendor.db") if backend == "sqlite" else request.getfixturevalue("postgres_url")
    engine = create_engine(url)
    config = _alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        connection.exec_driver_sql(
            "INSERT INTO products (id, code, name, api_key, shared_key, free_tier, created_at) "
            "VALUES (1, 'p', 'P', 'a', 's', false, '2026-01-01 00:00:00+00')")
        for license_id in (1, 2):
            connection.exec_driver_sql(
                "INSERT INTO licenses (id, product_id, key, license_type, enabled, max_activations, total_consumptions,"
                " allow_overages, max_overages, revision, created_at) VALUES "
                f"({license_id}, 1, 'KEY{license_id}', 'perpetual', true, 9, 0, false, 0, 1, '2026-01-01 00:00:00+00')")
        for index, (license_id, active) in enumerate([(1, True), (1, True), (1, False), (2, False)]):
            connection.exec_driver_sql(
                "INSERT INTO devices (id, license_id, hardware_id, device_key, request_id, active, enabled, "
                f"activated_at, booked_consumptions) VALUES ('d{index}', {license_id}, 'h{index}', 'k', 'r{index}', "
                f"{str(active).lower()}, true, '2026-01-01 00:00:00+00', 0)")
    engine.dispose()
    store = VendorStore(url)
    store.create_schema()
    with store.engine.connect() as connection:
        counts = dict(connection.exec_driver_sql("SELECT id, active_devices FROM licenses").all())
    store.dispose()
    assert counts == {1: 2, 2: 0}
