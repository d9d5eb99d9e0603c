"""Crash safety: a process killed with SIGKILL at any instant leaves the old state or the new one.

Each test starts ``tests/support/workers/store_worker.py`` — a real process using the real SDK on a real
data folder — lets it loop on one operation (consuming, refreshing, activating, writing the
guard), kills it with SIGKILL after a random 0–150 ms, and then inspects the folder from this
process with a fresh :class:`LicenseManager`:

* loading never raises (in particular never ``StorageCorruptError``) and finds either no license
  (only before any activation completed) or a consistent one;
* what the worker was told succeeded is on disk: the state is the last acknowledged one or the
  one being written when the kill landed, never older, never anything else;
* leftover temporary files (``.license.dat.*.tmp``) are never read and never get in the way.

The workers use the system clock (clock overrides are not serialised), so the lab here runs on
real time as well.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from licensing import LicenseID, LicenseManager
from licensing.issuing import catalog
from licensing.issuing.models import Device
from licensing.issuing.workspace import VendorWorkspace
from licensing.wire import Envelope, system_clock

from support.lab import Lab
from support.whitebox import GUARD_FILE, LICENSE_FILE, store_of

WORKER = Path(__file__).resolve().parents[1] / "support" / "workers" / "store_worker.py"
KILLS = 30
MAX_DELAY = 0.150
SEED = int(os.environ.get("CRASH_SEED", "0")) or random.randrange(1, 2**31)


@pytest.fixture
def real_lab(tmp_path: Path) -> Iterator[Lab]:
    lab = Lab(tmp_path, system_clock)  # type: ignore[arg-type] - any zero-argument UTC clock will do
    yield lab
    lab.vendor.close()


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> random.Random:
    """Random kill delays; the seed is in the failure message (rerun with CRASH_SEED=...)."""
    request.node.user_properties.append(("crash_seed", SEED))
    return random.Random(f"{SEED}-{request.node.name}")


class Worker:
    """One run of the worker script, read line by line while it runs."""

    def __init__(self, lab: Lab, device: str, mode: str, *extra: str) -> None:
        config = lab.config(device)
        config_file = lab.root / "licensing.json"
        if not config_file.exists():
            config.write_file(config_file)
        self.proc = subprocess.Popen(
            [sys.executable, str(WORKER), mode, "--config", str(config_file), "--data", str(config.data_dir),
             "--requests", str(config.request_dir), "--hardware", device, *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while "ready" not in self.lines:
            if self.proc.poll() is not None:
                self._reader.join(5)
                raise AssertionError(f"the worker died before it was ready:\n{self.stderr()}")
            if time.monotonic() > deadline:
                self.proc.kill()
                raise AssertionError("the worker did not get ready in time")
            time.sleep(0.002)

    def kill_after(self, delay: float) -> list[str]:
        """SIGKILL after ``delay`` seconds; return what the worker acknowledged after 'ready'."""
        time.sleep(delay)
        alive = self.proc.poll() is None
        if alive:
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        self._reader.join(10)
        assert alive and self.proc.returncode == -signal.SIGKILL, (
            f"the worker ended by itself (exit {self.proc.returncode}):\n{self.stderr()}")
        return self.lines[self.lines.index("ready") + 1:]

    def stderr(self) -> str:
        assert self.proc.stderr is not None
        try:
            return self.proc.stderr.read()
        except ValueError:
            return ""


def run_and_kill(lab: Lab, rng: random.Random, device: str, mode: str, *extra: str) -> list[str]:
    worker = Worker(lab, device, mode, *extra)
    try:
        worker.wait_ready()
        return worker.kill_after(rng.uniform(0.0, MAX_DELAY))
    finally:
        if worker.proc.poll() is None:
            worker.proc.kill()
            worker.proc.wait(10)
        for stream in (worker.proc.stdout, worker.proc.stderr):
            if stream is not None:
                stream.close()


def fresh(lab: Lab, device: str) -> LicenseManager:
    return LicenseManager(lab.config(device))


def plant_stray_temp_files(lab: Lab, device: str) -> list[Path]:
    """Temp files as a crash leaves them, full of garbage: the store must never read them."""
    folder = lab.config(device).product_dir
    planted = [folder / ".license.dat.planted.tmp", folder / ".tombstones.dat.planted.tmp",
               folder / ".guard.planted.tmp"]
    for path in planted:
        path.write_bytes(b"OLS1" + os.urandom(200))
    return planted


def temp_files(lab: Lab, device: str) -> list[Path]:
    return sorted(lab.config(device).product_dir.glob(".*.tmp"))


def seed_note(rng_seed: int = SEED) -> str:
    return f"(rerun with CRASH_SEED={rng_seed})"


# -- consuming -----------------------------------------------------------------------------------


@pytest.mark.slow
def test_killed_while_consuming_loses_nothing(real_lab: Lab, rng: random.Random) -> None:
    lab = real_lab
    key = lab.issue("consumption", max_consumptions=10**9)
    lab.activate(fresh(lab, "device-A"), key)
    planted = plant_stray_temp_files(lab, "device-A")
    on_disk = 0
    landed_between = 0  # kills that hit after the write but before the acknowledgement
    for round_ in range(KILLS):
        acked = [int(line) for line in run_and_kill(lab, rng, "device-A", "consume")]
        assert acked == list(range(on_disk + 1, on_disk + 1 + len(acked))), (
            f"round {round_}: acknowledged totals are not consecutive from {on_disk}: {acked[:5]}... {seed_note()}")
        last = acked[-1] if acked else on_disk
        license = fresh(lab, "device-A").reload_license()  # never StorageCorruptError
        assert license is not None, f"round {round_}: the license vanished {seed_note()}"
        now = license.local_consumptions
        assert now in (last, last + 1), (
            f"round {round_}: {now} uses on disk, but {last} were acknowledged {seed_note()}")
        landed_between += now == last + 1
        on_disk = now
        license.local_check()
    assert on_disk > 0, "the workers never got to consume: the test proved nothing"
    # The store keeps working after all the kills, stray temp files or not.
    license = fresh(lab, "device-A").reload_license()
    assert license.add_local_consumption(1) == on_disk + 1
    assert all(p.exists() for p in planted), "planted temp files are left alone"
    for path in temp_files(lab, "device-A"):
        assert path.name.startswith(".") and path.name.endswith(".tmp")


# -- refreshing ----------------------------------------------------------------------------------


def _make_refreshes(lab: Lab, key: str, device_id: str, folder: Path, until: int) -> int:
    """Bump the license's revision and write one refresh file per revision, up to ``until``."""
    with lab.vendor.store.session() as session:
        revision = catalog.get_license(session, key).revision
    while revision < until:
        with lab.vendor.store.session() as session:
            license = catalog.get_license(session, key)
            catalog.set_enabled(session, lab.clock(), license, True)  # changes nothing but the revision
            revision = license.revision
        (folder / f"{revision:06d}.lic").write_bytes(lab.vendor.issuer.refresh(key, device_id))
    return revision


@pytest.mark.slow
def test_killed_while_refreshing_keeps_a_whole_license(real_lab: Lab, rng: random.Random) -> None:
    lab = real_lab
    key = lab.issue("consumption", max_consumptions=10**6)
    license = lab.activate(fresh(lab, "device-A"), key)
    license.add_local_consumption(7)
    device_id = license.device_id
    folder = lab.root / "refreshes"
    folder.mkdir()
    plant_stray_temp_files(lab, "device-A")
    revision = license.revision
    made = _make_refreshes(lab, key, device_id, folder, revision + 300)
    ran_out = 0
    for round_ in range(KILLS):
        if made - revision < 250:
            made = _make_refreshes(lab, key, device_id, folder, made + 300)
        lines = run_and_kill(lab, rng, "device-A", "refresh", "--refresh-dir", str(folder))
        acked = [int(line) for line in lines if line != "done"]
        ran_out += "done" in lines  # a fast worker may apply every file before the kill: a round with no crash
        assert acked == list(range(revision + 1, revision + 1 + len(acked))), f"round {round_} {seed_note()}"
        last = acked[-1] if acked else revision
        loaded = fresh(lab, "device-A").reload_license()
        assert loaded is not None and loaded.device_id == device_id
        assert loaded.revision in (last, last + 1), (
            f"round {round_}: revision {loaded.revision} on disk, {last} acknowledged {seed_note()}")
        assert loaded.local_consumptions == 7, "a refresh without reset keeps the local consumption"
        loaded.local_check()
        revision = loaded.revision
    assert revision > 1, "no refresh was ever applied: the test proved nothing"
    assert ran_out <= KILLS // 2, f"the worker outran the kill in {ran_out} of {KILLS} rounds: make more files"
    # A newer refresh still applies; an older one is still refused.
    made = _make_refreshes(lab, key, device_id, folder, revision + 1)
    loaded = fresh(lab, "device-A").reload_license()
    loaded.update_offline(folder / f"{made:06d}.lic")
    assert loaded.revision == made


# -- activating ----------------------------------------------------------------------------------


def _vendor_devices(lab: Lab, key: str) -> tuple[dict[str, bool], str]:
    with lab.vendor.store.session() as session:
        integrity = session.execute(text("PRAGMA integrity_check")).scalar()
        license = catalog.get_license(session, key)
        devices = {d.id: d.active for d in session.scalars(select(Device).where(Device.license_id == license.id))}
    return devices, integrity


@pytest.mark.slow
def test_killed_while_activating_leaves_no_half_activation(real_lab: Lab, rng: random.Random) -> None:
    lab = real_lab
    key = lab.issue("perpetual", max_activations=1)
    # The worker activates the same device over and over: lift the vendor's re-activation limit.
    (lab.vendor.folder / "issuer.json").write_text('{"reactivations_per_period": 100000}')
    lab.vendor.close()
    lab.vendor = VendorWorkspace.open(lab.vendor.folder, clock=system_clock)
    acked_ids: list[str] = []
    for round_ in range(KILLS):
        lines = run_and_kill(lab, rng, "device-A", "activate", "--vendor", str(lab.vendor.folder), "--key", key)
        acked_ids.extend(lines)
        manager = fresh(lab, "device-A")
        license = manager.reload_license()  # never StorageCorruptError
        store_of(manager).read_guard()  # a pending request, or none: never a broken guard
        devices, integrity = _vendor_devices(lab, key)
        assert integrity == "ok", f"round {round_}: vendor database damaged: {integrity}"
        assert sum(devices.values()) <= 1, f"round {round_}: one device holds {sum(devices.values())} seats"
        assert set(acked_ids) <= set(devices), "an acknowledged activation is unknown to the vendor"
        if license is None:
            assert not acked_ids, f"round {round_}: an acknowledged activation was lost {seed_note()}"
            continue
        assert license.device_id in devices, "the device holds an activation the vendor never made"
        if acked_ids:
            # The last acknowledged activation, or one that completed just before the kill.
            assert license.device_id == acked_ids[-1] or license.device_id not in acked_ids, (
                f"round {round_}: the device went back to an older activation {seed_note()}")
        license.local_check()
    assert acked_ids, "no activation ever completed: the test proved nothing"
    # After all that, the device activates normally, and only one seat is used.
    manager = fresh(lab, "device-A")
    license = lab.activate(manager, key)
    license.local_check()
    devices, integrity = _vendor_devices(lab, key)
    assert integrity == "ok" and sum(devices.values()) == 1 and devices[license.device_id]


# -- writing the guard ---------------------------------------------------------------------------


@pytest.mark.slow
def test_killed_while_writing_the_guard_keeps_a_usable_store(real_lab: Lab, rng: random.Random) -> None:
    lab = real_lab
    key = lab.issue("consumption", max_consumptions=100, max_activations=2)
    license = lab.activate(fresh(lab, "device-A"), key)
    license.add_local_consumption(3)
    device_id = license.device_id
    plant_stray_temp_files(lab, "device-A")
    acked: list[str] = []
    desktop = lab.config("device-A").requests_dir
    for round_ in range(KILLS):
        acked.extend(run_and_kill(lab, rng, "device-A", "guard", "--key", key))
        manager = fresh(lab, "device-A")
        pending = store_of(manager).read_guard()  # never StorageCorruptError
        if pending is None:  # only possible while no request was ever completed
            assert not acked, f"round {round_}: the guard of an acknowledged request vanished {seed_note()}"
        elif acked:
            assert pending.request_id == acked[-1] or pending.request_id not in acked, (
                f"round {round_}: the guard went back to an older request {seed_note()}")
        request = desktop / "ls_activation.req"
        if request.exists():
            Envelope.parse(request.read_bytes())  # the request file is whole (old or new)
        loaded = manager.reload_license()
        assert loaded is not None and loaded.device_id == device_id and loaded.local_consumptions == 3
        loaded.local_check()
    assert acked, "no request was ever written: the test proved nothing"
    # The last request written is usable end to end.
    manager = fresh(lab, "device-A")
    request = manager.create_offline_activation_file(LicenseID.from_key(key))
    activated = manager.activate_license_offline(lab.respond(request))
    activated.local_check()
    assert activated.device_id != device_id
    assert not (manager.config.product_dir / GUARD_FILE).exists()
    assert (manager.config.product_dir / LICENSE_FILE).exists()
    with lab.vendor.store.session() as session:
        assert session.scalar(select(func.count()).select_from(Device).where(Device.active.is_(True))) == 1
