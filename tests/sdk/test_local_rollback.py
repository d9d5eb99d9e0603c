"""Restoring old copies of the local files: nothing comes back that the device already used up.

The SDK keeps a second trace of what must never go backwards — the clock's high-water mark, the
consumption counters, the tombstones of deactivated licenses and the newest license terms — in
another folder than the data folder, and takes the maximum of both. Each attack below restores
files the way a person with a backup would (plain copies), then uses the public SDK.
"""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from licensing import LicenseError, LicenseManager
from licensing.issuing import catalog

from support.lab import FakeClock, Lab

LICENSE_FILE, TOMBSTONES = "license.dat", "tombstones.dat"


def _backup(folder: Path, *names: str) -> dict[str, bytes]:
    return {name: (folder / name).read_bytes() for name in names}


def _restore(folder: Path, saved: dict[str, bytes]) -> None:
    for name, data in saved.items():
        (folder / name).write_bytes(data)


def _fresh(manager: LicenseManager):  # type: ignore[no-untyped-def]
    """What the application sees after a restart: a new manager reading the disk."""
    license = LicenseManager(manager.config).reload_license()
    assert license is not None
    return license


def test_restoring_an_old_license_file_does_not_refill_consumption(lab: Lab) -> None:
    """The issue's measurement: used count 10 back to 2, and 8 more uses accepted."""
    manager = lab.manager()
    license = lab.activate(manager, lab.issue("consumption", max_consumptions=10))
    license.add_local_consumption(2)
    saved = _backup(manager.config.product_dir, LICENSE_FILE)
    license.add_local_consumption(8)
    _restore(manager.config.product_dir, saved)
    restored = _fresh(manager)
    assert restored.local_consumptions == 10
    accepted = 0
    for _ in range(8):
        try:
            restored.add_local_consumption(1)
            accepted += 1
        except LicenseError as refused:
            assert refused.code == "consumption_limit"
    assert accepted == 0


def test_restoring_an_old_license_file_does_not_stretch_an_expired_license(lab: Lab, clock: FakeClock) -> None:
    manager = lab.manager()
    license = lab.activate(manager, lab.issue("time-based", expires=clock() + timedelta(days=30)))
    saved = _backup(manager.config.product_dir, LICENSE_FILE)
    clock.advance(days=31)
    with pytest.raises(LicenseError):
        license.local_check()  # expired: the device has seen day 31
    _restore(manager.config.product_dir, saved)
    clock.advance(days=-3)  # day 28 again
    with pytest.raises(LicenseError) as caught:
        _fresh(manager).local_check()
    assert caught.value.code == "clock_tampered"


@pytest.mark.parametrize("restored", ["license and tombstones", "the whole data folder"])
def test_restoring_files_does_not_undo_a_deactivation(lab: Lab, restored: str) -> None:
    manager = lab.manager()
    license = lab.activate(manager, lab.issue("consumption", max_consumptions=10))
    license.add_local_consumption(3)
    folder = manager.config.product_dir
    if restored == "license and tombstones":
        license.deactivate_offline()  # a first tombstones.dat exists from now on...
        lab.activate(manager, lab.issue("consumption", max_consumptions=10))
        license = manager.get_current_license()  # type: ignore[assignment]
        saved = _backup(folder, LICENSE_FILE, TOMBSTONES)
        license.deactivate_offline()
        _restore(folder, saved)
    else:
        snapshot = folder.parent / "snapshot"
        shutil.copytree(folder, snapshot)
        license.deactivate_offline()
        shutil.rmtree(folder)
        shutil.copytree(snapshot, folder)
    with pytest.raises(LicenseError) as caught:
        _fresh(manager).local_check()
    assert caught.value.code == "license_deactivated"


def test_restoring_an_old_license_file_does_not_revive_a_license_the_vendor_disabled(lab: Lab) -> None:
    manager = lab.manager()
    key = lab.issue()
    license = lab.activate(manager, key)
    saved = _backup(manager.config.product_dir, LICENSE_FILE)
    with lab.vendor.store.session() as session:
        catalog.set_enabled(session, lab.clock(), catalog.get_license(session, key), False)
    license.update_offline(lab.refresh_file(key, license.device_id, manager))
    assert license.status == "disabled"
    _restore(manager.config.product_dir, saved)
    with pytest.raises(LicenseError) as caught:
        _fresh(manager).local_check()
    assert caught.value.code == "license_disabled"


def test_restoring_only_the_trace_changes_nothing(lab: Lab, tmp_path: Path) -> None:
    """The second trace is a floor, never a source: an old copy of it takes nothing back either."""
    manager = lab.manager()
    license = lab.activate(manager, lab.issue("consumption", max_consumptions=10))
    trace_dir = manager.config.product_trace_dir
    assert manager.config.product_dir not in (trace_dir, *trace_dir.parents)
    old = tmp_path / "old-trace"
    shutil.copytree(trace_dir, old)
    license.add_local_consumption(6)
    shutil.rmtree(trace_dir)
    shutil.copytree(old, trace_dir)
    assert _fresh(manager).local_consumptions == 6


def test_deleting_the_license_file_does_not_bring_it_back_from_the_trace(lab: Lab) -> None:
    manager = lab.manager()
    lab.activate(manager, lab.issue())
    (manager.config.product_dir / LICENSE_FILE).unlink()
    assert LicenseManager(manager.config).reload_license() is None


def test_clearing_local_storage_keeps_the_trace(lab: Lab) -> None:
    """clear_local_storage() forgets the license, not what it used: an old copy restored after it is caught."""
    manager = lab.manager()
    license = lab.activate(manager, lab.issue("consumption", max_consumptions=10))
    saved = _backup(manager.config.product_dir, LICENSE_FILE)
    license.add_local_consumption(7)
    manager.clear_local_storage()
    _restore(manager.config.product_dir, saved)
    assert _fresh(manager).local_consumptions == 7


def test_a_new_activation_after_clearing_starts_from_the_vendors_count(lab: Lab) -> None:
    """The trace keeps the counters of one activation; a new activation is the vendor's to count."""
    manager = lab.manager()
    key = lab.issue("consumption", max_consumptions=10, max_activations=2)
    license = lab.activate(manager, key)
    license.add_local_consumption(4)
    license.deactivate_offline()
    again = lab.activate(manager, key)
    assert again.local_consumptions == 0


def test_the_trace_lives_outside_the_data_folder_by_default(lab: Lab) -> None:
    config = lab.config(trace_dir=None)
    manager = LicenseManager(config)
    assert config.trace_dir is None
    lab.activate(manager, lab.issue())
    folder = config.product_trace_dir
    assert folder.is_dir() and config.data_dir not in folder.parents  # type: ignore[operator]
    assert any(folder.iterdir())


def test_a_damaged_trace_is_a_storage_error_that_clearing_repairs(lab: Lab) -> None:
    manager = lab.manager()
    lab.activate(manager, lab.issue())
    for trace in manager.config.product_trace_dir.iterdir():
        trace.write_bytes(b"OLS1" + b"\x00" * 64)
    with pytest.raises(LicenseError) as caught:
        LicenseManager(manager.config).reload_license()
    assert caught.value.code == "storage_corrupt" and "trace" in caught.value.message
    manager.clear_local_storage()
    lab.activate(manager, lab.issue())
    assert _fresh(manager).local_check().ok


def test_a_license_activated_with_the_guard_off_still_keeps_a_trace(lab: Lab) -> None:
    manager = lab.manager(guard_file=False)
    license = lab.activate(manager, lab.issue("consumption", max_consumptions=3))
    saved = _backup(manager.config.product_dir, LICENSE_FILE)
    license.add_local_consumption(3)
    _restore(manager.config.product_dir, saved)
    with pytest.raises(LicenseError):
        _fresh(manager).add_local_consumption(1)


def test_what_a_person_who_restores_every_location_can_still_do(lab: Lab, tmp_path: Path) -> None:
    """Said plainly in the README: restoring the data folder *and* the trace, with the clock set back, works."""
    manager = lab.manager()
    license = lab.activate(manager, lab.issue("consumption", max_consumptions=10))
    data, trace = manager.config.product_dir, manager.config.product_trace_dir
    shutil.copytree(data, tmp_path / "data")
    shutil.copytree(trace, tmp_path / "trace")
    license.add_local_consumption(10)
    for source, target in ((tmp_path / "data", data), (tmp_path / "trace", trace)):
        shutil.rmtree(target)
        shutil.copytree(source, target)
    assert _fresh(manager).remaining_consumptions == 10
