"""Concurrency: two processes at once, many threads at once, a flood of uploads — nothing lost.

Device side: several real processes (``tests/support/workers/store_worker.py consume-n``) record uses on
the same data folder at the same instant; the cross-process lock must serialise the
read-modify-writes so that no update is lost and a limit is never passed.

Vendor side: many threads of one portal process, and several portal processes on the same SQLite
file (``tests/support/workers/vendor_worker.py``), answer activation requests for one license at once;
exactly ``max_activations`` of them may win. A flood of 200 mixed uploads, answered one by one,
by threads and by processes, gets only the expected refusals and leaves a consistent database.

Responses from worker processes are dated by the system clock, so these labs run on real time.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from licensing import LicenseError, LicenseID, LicenseManager, MaxActivationsReachedError
from licensing.issuing import catalog
from licensing.issuing.issuer import ActivationAnswer
from licensing.issuing.models import AnsweredRequest, Device
from licensing.wire import system_clock

from support.lab import Lab

WORKERS = Path(__file__).resolve().parents[1] / "support" / "workers"


@pytest.fixture
def real_lab(tmp_path: Path) -> Iterator[Lab]:
    lab = Lab(tmp_path, system_clock)  # type: ignore[arg-type] - any zero-argument UTC clock will do
    yield lab
    lab.vendor.close()


def run_together(commands: list[list[str]], go: Path, timeout: float = 120.0) -> list[Any]:
    """Start every command, wait until all print 'ready', release them at once, collect their JSON."""
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for cmd in commands]
    try:
        for proc in procs:
            assert proc.stdout is not None
            line = proc.stdout.readline().strip()
            if line != "ready":
                proc.wait(10)
                raise AssertionError(f"a worker failed to start: {line!r}\n{proc.stderr.read()}")
        go.touch()  # every worker is loaded and polling: they start within a millisecond
        results = []
        for proc in procs:
            out, err = proc.communicate(timeout=timeout)
            assert proc.returncode == 0, f"a worker failed (exit {proc.returncode}):\n{err}"
            results.append(json.loads(out.strip().splitlines()[-1]))
        return results
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)


def store_worker_cmd(lab: Lab, device: str, go: Path, count: int) -> list[str]:
    config = lab.config(device)
    config_file = lab.root / "licensing.json"
    if not config_file.exists():
        config.write_file(config_file)
    return [sys.executable, str(WORKERS / "store_worker.py"), "consume-n", "--config", str(config_file),
            "--data", str(config.data_dir), "--requests", str(config.request_dir), "--hardware", device,
            "--go", str(go), "--count", str(count)]


def vendor_worker_cmd(lab: Lab, folder: Path, go: Path) -> list[str]:
    return [sys.executable, str(WORKERS / "vendor_worker.py"), "--vendor", str(lab.vendor.folder),
            "--requests", str(folder), "--go", str(go)]


# -- one device, several processes ---------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("processes", [2, 4])
def test_processes_consuming_at_once_lose_no_update(real_lab: Lab, processes: int) -> None:
    lab = real_lab
    per_process = 50
    lab.activate(lab.manager("device-A"), lab.issue("consumption", max_consumptions=10**6))
    go = lab.root / f"go-{processes}"
    summaries = run_together([store_worker_cmd(lab, "device-A", go, per_process)] * processes, go)
    assert [s["ok"] for s in summaries] == [per_process] * processes
    assert all(s["refused"] == {} for s in summaries), summaries
    license = LicenseManager(lab.config("device-A")).reload_license()
    assert license.local_consumptions == processes * per_process
    license.local_check()


@pytest.mark.slow
def test_processes_share_a_limit_exactly(real_lab: Lab) -> None:
    lab = real_lab
    limit, processes, per_process = 60, 4, 25
    lab.activate(lab.manager("device-A"), lab.issue("consumption", max_consumptions=limit))
    go = lab.root / "go"
    summaries = run_together([store_worker_cmd(lab, "device-A", go, per_process)] * processes, go)
    assert sum(s["ok"] for s in summaries) == limit
    refused = Counter()
    for summary in summaries:
        refused.update(summary["refused"])
    assert refused == {"consumption_limit": processes * per_process - limit}
    license = LicenseManager(lab.config("device-A")).reload_license()
    assert license.local_consumptions == limit
    assert license.remaining_consumptions == 0
    with pytest.raises(LicenseError) as refused_more:
        license.add_local_consumption(1)
    assert refused_more.value.code == "consumption_limit"
    assert LicenseManager(lab.config("device-A")).reload_license().local_consumptions == limit


# -- the vendor: one license, many devices at once -----------------------------------------------


def _requests(lab: Lab, key: str, devices: list[str]) -> dict[str, bytes]:
    return {device: lab.manager(device).create_offline_activation_file(LicenseID.from_key(key)).read_bytes()
            for device in devices}


def _vendor_state(lab: Lab, key: str) -> tuple[set[str], int, str]:
    with lab.vendor.store.session() as session:
        license = catalog.get_license(session, key)
        active = set(session.scalars(select(Device.id).where(Device.license_id == license.id,
                                                            Device.active.is_(True))))
        answered = session.scalar(select(func.count()).select_from(AnsweredRequest))
        integrity = session.execute(text("PRAGMA integrity_check")).scalar()
    return active, answered, integrity


def _activate_with(lab: Lab, device: str, response: bytes) -> None:
    manager = lab.manager(device)
    path = manager.config.requests_dir / "ls_activation.lic"
    path.write_bytes(response)
    manager.activate_license_offline(path).local_check()


def _in_threads(calls: list[Callable[[], object]]) -> list[tuple[str, Any]]:
    """Run every call in its own thread, released together by a barrier."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[tuple[str, Any]] = [("missing", None)] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        barrier.wait()
        try:
            outcomes[index] = ("ok", call())
        except LicenseError as error:
            outcomes[index] = ("refused", error)
        except Exception as error:  # noqa: BLE001 - reported below
            outcomes[index] = ("crashed", error)

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    crashed = [o for o in outcomes if o[0] != "ok" and o[0] != "refused"]
    assert not crashed, f"untyped failures: {crashed}"
    return outcomes


@pytest.mark.parametrize("round_", range(3))
def test_threads_racing_for_the_last_seats(real_lab: Lab, round_: int) -> None:
    lab = real_lab
    threads, seats = 8, 3
    key = lab.issue("perpetual", max_activations=seats)
    devices = [f"racer-{i}" for i in range(threads)]
    requests = _requests(lab, key, devices)
    outcomes = _in_threads([lambda data=requests[d]: lab.vendor.issuer.answer_activation(data) for d in devices])
    won = {device: value for device, (kind, value) in zip(devices, outcomes) if kind == "ok"}
    lost = [value for kind, value in outcomes if kind == "refused"]
    assert len(won) == seats, f"{len(won)} of {threads} simultaneous activations won {seats} seats"
    assert all(isinstance(e, MaxActivationsReachedError) and e.code == "max_activations_reached" for e in lost), lost
    active, answered, integrity = _vendor_state(lab, key)
    assert integrity == "ok"
    assert active == {answer.device_id for answer in won.values()}
    assert answered == seats
    for device, answer in won.items():
        assert isinstance(answer, ActivationAnswer) and answer.max_activations == seats
        _activate_with(lab, device, answer.data)


@pytest.mark.slow
def test_processes_racing_for_the_last_seats(real_lab: Lab) -> None:
    lab = real_lab
    processes, per_process, seats = 3, 4, 5
    key = lab.issue("perpetual", max_activations=seats)
    go = lab.root / "go"
    folders = []
    owner: dict[str, str] = {}
    for p in range(processes):
        folder = lab.root / f"uploads-{p}"
        folder.mkdir()
        folders.append(folder)
        for i in range(per_process):
            device = f"racer-{p}-{i}"
            name = f"{device}.req"
            (folder / name).write_bytes(_requests(lab, key, [device])[device])
            owner[name] = device
    summaries = run_together([vendor_worker_cmd(lab, folder, go) for folder in folders], go)
    results = {name: outcome for summary in summaries for name, outcome in summary["results"].items()}
    assert len(results) == processes * per_process
    won = {name: device_id for name, (kind, device_id) in results.items() if kind == "ok"}
    assert len(won) == seats
    assert Counter(code for kind, code in results.values() if kind == "refused") == {
        "max_activations_reached": processes * per_process - seats}
    active, answered, integrity = _vendor_state(lab, key)
    assert integrity == "ok" and answered == seats
    assert active == set(won.values())
    for name in won:
        folder = next(f for f in folders if (f / name).exists())
        _activate_with(lab, owner[name], (folder / name).with_suffix(".lic").read_bytes())


# -- a flood of uploads ------------------------------------------------------------------------


# The 20 requests sent twice are answered twice, with the same file: 117 activations, 137 answers.
FLOOD_EXPECTED = Counter({"ok": 137, "max_activations_reached": 23, "license_disabled": 10,
                          "license_expired": 10, "offline_not_supported": 10, "file_malformed": 10})


def _flood(lab: Lab) -> tuple[list[tuple[str, bytes]], dict[str, str], int]:
    """200 uploads: (device, bytes) in a shuffled but fixed order, the license of each device, seats."""
    import random

    now = lab.clock()
    big = lab.issue("perpetual", max_activations=1000)
    small = lab.issue("perpetual", max_activations=7)
    disabled = lab.issue("perpetual", enabled=False)
    expired = lab.issue("time-based", expires=now - timedelta(days=1), start=now - timedelta(days=30))
    subscription = lab.issue("subscription", expires=now + timedelta(days=30))
    plan = [("big", big, 110), ("small", small, 30), ("disabled", disabled, 10), ("expired", expired, 10),
            ("subscription", subscription, 10)]
    uploads: list[tuple[str, bytes]] = []
    license_of: dict[str, str] = {}
    base = lab.config("flood-base")
    for label, key, count in plan:
        for i in range(count):
            device = f"{label}-{i}"
            config = base.with_options(data_dir=lab.root / device / "data", request_dir=lab.root / device,
                                       hardware_id=device)
            (lab.root / device).mkdir()
            data = LicenseManager(config).create_offline_activation_file(LicenseID.from_key(key)).read_bytes()
            uploads.append((device, data))
            license_of[device] = label
    uploads += [uploads[i] for i in range(0, 40, 2)]  # 20 requests for the big license sent again
    garbage = random.Random(7)
    uploads += [(f"garbage-{i}", garbage.randbytes(garbage.randrange(1, 3000))) for i in range(10)]
    random.Random(11).shuffle(uploads)
    assert len(uploads) == 200
    return uploads, license_of, 7


@pytest.mark.parametrize("mode", ["sequential", "threads", pytest.param("processes", marks=pytest.mark.slow)])
def test_a_flood_of_uploads_gets_only_expected_refusals(real_lab: Lab, mode: str) -> None:
    lab = real_lab
    uploads, license_of, small_seats = _flood(lab)
    outcomes: list[tuple[str, str, bytes | None]] = []  # (device, "ok" or code, response)
    if mode == "sequential":
        for device, data in uploads:
            try:
                answer = lab.vendor.issuer.answer(data)
            except LicenseError as error:
                outcomes.append((device, error.code, None))
            else:
                outcomes.append((device, "ok", answer.data))
    elif mode == "threads":
        chunks = [uploads[i::8] for i in range(8)]

        def answer_all(chunk: list[tuple[str, bytes]]) -> list[tuple[str, str, bytes | None]]:
            done = []
            for device, data in chunk:
                try:
                    done.append((device, "ok", lab.vendor.issuer.answer(data).data))
                except LicenseError as error:
                    done.append((device, error.code, None))
            return done

        for kind, value in _in_threads([lambda c=chunk: answer_all(c) for chunk in chunks]):
            assert kind == "ok", value
            outcomes.extend(value)
    else:
        go = lab.root / "go"
        folders = [lab.root / f"portal-{p}" for p in range(3)]
        for folder in folders:
            folder.mkdir()
        for index, (device, data) in enumerate(uploads):
            (folders[index % 3] / f"{index:03d}-{device}.req").write_bytes(data)
        for summary, folder in zip(run_together([vendor_worker_cmd(lab, f, go) for f in folders], go), folders):
            for name, (kind, value) in summary["results"].items():
                device = name[4:-4]
                response = (folder / name).with_suffix(".lic").read_bytes() if kind == "ok" else None
                outcomes.append((device, "ok" if kind == "ok" else value, response))

    assert len(outcomes) == 200
    assert Counter(code for _, code, _ in outcomes) == FLOOD_EXPECTED
    # Which refusal went to whom.
    for device, code, _ in outcomes:
        label = license_of.get(device, "garbage")
        assert code in {"big": {"ok"}, "small": {"ok", "max_activations_reached"},
                        "disabled": {"license_disabled"}, "expired": {"license_expired"},
                        "subscription": {"offline_not_supported"}, "garbage": {"file_malformed"}}[label], (device, code)
    # The database says the same, and is intact.
    with lab.vendor.store.session() as session:
        assert session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        assert session.scalar(select(func.count()).select_from(Device)) == 117
        assert session.scalar(select(func.count()).select_from(AnsweredRequest)) == 117
        per_license = dict(session.execute(select(Device.license_id, func.count()).where(
            Device.active.is_(True)).group_by(Device.license_id)).all())
    assert sorted(per_license.values()) == [small_seats, 110]
    # A request sent twice got the same file twice; every response handed out activates its own device.
    answers: dict[str, set[bytes]] = {}
    for device, code, response in outcomes:
        if code == "ok":
            assert response is not None
            answers.setdefault(device, set()).add(response)
    assert len(answers) == 117 and all(len(responses) == 1 for responses in answers.values())
    for device, (response,) in answers.items():
        _activate_with(lab, device, response)
