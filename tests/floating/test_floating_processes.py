"""Floating seats with real processes: a ``licensing-floating serve`` process and workstation processes.

Loopback only. The server process runs on the system clock, and so does everything here except
where a test says otherwise. Workstations are ``tests/support/workers/workstation_worker.py``.
"""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from licensing import ClockTamperedError, FloatingServerUnreachableError, LeaseExpiredError, NoSeatAvailableError
from licensing.floating.launcher import free_port
from licensing.wire import system_clock

from support.floating import FloatingLab
from support.lab import FakeClock

WORKER = Path(__file__).resolve().parents[1] / "support" / "workers" / "workstation_worker.py"


class Workstation:
    """A workstation process and the lines it prints (read by a thread, so waits can time out)."""

    def __init__(self, floating: FloatingLab, name: str, url: str, *, go: Path | None = None, hold: bool = False,
                 interval: float = 1.0) -> None:
        command = [sys.executable, str(WORKER), "--config", str(floating.config_file), "--data",
                   str(floating.data_dir(name)), "--hardware", name, "--server", url, "--interval", str(interval)]
        command += ["--go", str(go)] if go else []
        command += ["--hold"] if hold else []
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.strip())

    def expect(self, prefix: str, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                stderr = self.process.stderr.read() if self.process.poll() is not None and self.process.stderr else ""
                raise AssertionError(f"no line starting {prefix!r} within {timeout} s; {stderr}") from None
            if line.startswith(prefix):
                return line

    def result(self) -> dict[str, object]:
        return json.loads(self.expect("{"))  # type: ignore[no-any-return]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)


@pytest.fixture
def floating(tmp_path: Path) -> Iterator[FloatingLab]:
    created = FloatingLab(tmp_path, system_clock, seats=4, lease_seconds=20, max_borrow_seconds=86_400)
    yield created
    created.lab.vendor.close()


@pytest.fixture
def stations() -> Iterator[list[Workstation]]:
    started: list[Workstation] = []
    yield started
    for station in started:
        station.stop()


@pytest.mark.slow
def test_twelve_workstations_racing_for_four_seats_get_exactly_four(floating: FloatingLab,
                                                                   stations: list[Workstation]) -> None:
    go = floating.root / "go"
    with floating.process(workers=2) as server:
        stations += [Workstation(floating, f"race-{i:02d}", server.url, go=go) for i in range(12)]
        for station in stations:
            station.expect("ready")
        go.touch()
        results = [station.result() for station in stations]
        granted = [r for r in results if r["ok"]]
        assert len(granted) == 4, results
        assert sorted(r["slot"] for r in granted) == [0, 1, 2, 3]  # type: ignore[type-var]
        assert [r["code"] for r in results if not r["ok"]] == ["no_seat_available"] * 8
        report = floating.client(server.url, "observer").seats()
        assert report.used == 4 and {h.lease_id for h in report.holders} == {r["lease_id"] for r in granted}


@pytest.mark.slow
def test_a_killed_workstation_frees_its_seat_after_the_lease_length_and_not_before(
        tmp_path: Path, stations: list[Workstation]) -> None:
    floating = FloatingLab(tmp_path, system_clock, seats=1, lease_seconds=3, max_borrow_seconds=0)
    try:
        with floating.process() as server:
            holder = Workstation(floating, "doomed", server.url, hold=True, interval=0.5)
            stations.append(holder)
            assert holder.result()["ok"]
            holder.expect("renewed")
            holder.process.kill()  # SIGKILL: no release, no last heartbeat
            holder.process.wait(10)
            killed_at = datetime.now(timezone.utc)
            waiting = floating.client(server.url, "next")
            (seat,) = waiting.seats().holders
            end = seat.expires  # the last renewal's end, by the server's clock (this machine's)
            refused_after_kill = 0
            while True:
                try:
                    lease = waiting.request_lease()
                except NoSeatAvailableError:
                    refused_after_kill += 1
                    time.sleep(0.05)
                    continue
                granted_at = datetime.now(timezone.utc)
                break
        assert refused_after_kill > 0 and end - killed_at > timedelta(seconds=1)  # held on after the kill ...
        assert granted_at >= end  # ... until its lease ran out, not before ...
        assert granted_at - end < timedelta(seconds=2)  # ... and then promptly free
        assert lease.slot == seat.slot
    finally:
        floating.lab.vendor.close()


@pytest.mark.slow
def test_a_server_killed_and_restarted_mid_session_loses_no_lease_and_hands_none_out_twice(
        floating: FloatingLab, stations: list[Workstation]) -> None:
    port = free_port()
    server = floating.process(workers=2, port=port)
    try:
        stations += [Workstation(floating, f"ws-{i}", server.url, hold=True, interval=0.5) for i in range(3)]
        held = {str(station.result()["lease_id"]) for station in stations}
        for station in stations:
            station.expect("renewed")
        server.kill()  # SIGKILL to the server and its workers, mid-session
        for station in stations:
            station.expect("error")  # the heartbeats notice ...
        server = floating.process(workers=2, port=port)  # ... and resume on the restarted server
        for station in stations:
            lease_id = station.expect("renewed").split()[1]
            assert lease_id in held
        report = floating.client(server.url, "observer").seats()
        assert report.used == 3 and {h.lease_id for h in report.holders} == held
        fourth = floating.client(server.url, "ws-3").request_lease()
        assert fourth.slot not in {h.slot for h in report.holders}
        with pytest.raises(NoSeatAvailableError):
            floating.client(server.url, "ws-4").request_lease()
        for station in stations:  # a graceful exit gives each seat back at once
            assert station.process.stdin is not None
            station.process.stdin.close()
            station.expect("released")
        assert [h.lease_id for h in floating.client(server.url, "observer").seats().holders] == [fourth.lease_id]
    finally:
        server.stop()


def test_a_borrowed_seat_works_with_the_server_stopped_ends_for_good_and_can_be_returned(
        floating: FloatingLab) -> None:
    clock = FakeClock(datetime.now(timezone.utc))  # the laptop's clock: starts right, then the test moves it
    port = free_port()
    with floating.process(port=port) as server:
        borrowed = floating.client(server.url, "laptop", clock=clock).borrow(timedelta(hours=12))
        other = floating.client(server.url, "laptop-2").borrow(timedelta(hours=1))
        assert floating.client(server.url, "observer").seats().used == 2
    url = server.url
    # the server is stopped: both borrowed seats work, also in a new process of the application
    reloaded = floating.client(url, "laptop", clock=clock).borrowed_lease()
    assert reloaded is not None and reloaded.lease_id == borrowed.lease_id and reloaded.local_check().ok
    with pytest.raises(FloatingServerUnreachableError):
        other.release()  # no server, no return: the seat stays with the laptop
    assert other.local_check().ok
    clock.advance(hours=12, minutes=1)  # (the fake clock stood still while the server's moved on a little)
    with pytest.raises(LeaseExpiredError):
        reloaded.local_check()
    clock.advance(hours=-11)  # the clock turned back to within the borrow
    with pytest.raises(ClockTamperedError):
        floating.client(url, "laptop", clock=clock).borrowed_lease().local_check()  # type: ignore[union-attr]
    with floating.process(port=port) as server:
        assert other.release() is True  # returned early: its seat is free at once
        report = floating.client(server.url, "observer").seats()
        assert [h.lease_id for h in report.holders] == [borrowed.lease_id]
