"""Seats of a floating license, end to end over HTTP on 127.0.0.1, with a clock the test can move.

The floating server runs in a thread of the test process (uvicorn, the real app) and shares the
test's settable clock, so a lease's end, a borrow's end and a clock set back are exercised without
waiting. The real-process scenarios (racing clients, SIGKILL, restarts) are in
``test_floating_processes.py``; attacks are in ``test_floating_tampering.py``.
"""

from __future__ import annotations

import sqlite3
import time
from datetime import timedelta

import pytest

from licensing import (
    ClockTamperedError,
    FeatureNotFoundError,
    FloatingServerUnreachableError,
    LeaseExpiredError,
    LeaseNotFoundError,
    LicenseDeactivatedError,
    LicenseError,
    NoSeatAvailableError,
    UsageError,
)
from licensing.issuing import catalog
from licensing.wire import REFRESH_FILE_NAME

from support.floating import FloatingLab, Interceptor
from support.lab import FakeClock

# -- taking, keeping and giving back a seat ---------------------------------------------------------


def test_a_seat_is_a_lease_checked_locally_renewed_and_given_back(floating: FloatingLab, url: str,
                                                                  clock: FakeClock) -> None:
    client = floating.client(url, "ws-1")
    lease = client.request_lease()
    assert not lease.borrowed and lease.slot == 0 and lease.seats == 2
    assert lease.license_type == "floating" and lease.key == floating.key
    assert lease.local_check().ok and lease.time_left() > timedelta(seconds=55)
    assert lease.has_feature("jokes") and not lease.has_feature("wordcount")
    with pytest.raises(FeatureNotFoundError):
        lease.feature("wordcount")

    clock.advance(seconds=50)
    first_end = lease.expires
    lease.renew()
    assert lease.expires > first_end and lease.local_check().ok

    report = client.seats()
    assert (report.total, report.used, report.free) == (2, 1, 1)
    assert report.holders[0].yours and report.holders[0].client == "user@ws-1" and not report.holders[0].borrowed

    assert lease.release() is True
    with pytest.raises(LeaseExpiredError):
        lease.local_check()
    assert client.seats().used == 0


def test_one_seat_per_workstation_and_never_more_than_n(floating: FloatingLab, url: str) -> None:
    first = floating.client(url, "ws-1")
    lease = first.request_lease()
    assert first.request_lease() is lease  # asking again: the same seat, renewed, the same object
    assert floating.client(url, "ws-1").request_lease().slot == lease.slot  # another process of ws-1 too
    other = floating.client(url, "ws-2").request_lease()
    assert {lease.slot, other.slot} == {0, 1}
    with pytest.raises(NoSeatAvailableError) as refused:
        floating.client(url, "ws-3").request_lease()
    assert refused.value.code == "no_seat_available" and "2 seats" in refused.value.message
    assert floating.client(url, "ws-3").seats().free == 0


def test_a_lease_that_is_not_renewed_frees_its_seat_when_it_runs_out_and_not_before(
        floating: FloatingLab, url: str, clock: FakeClock) -> None:
    gone = floating.client(url, "ws-1").request_lease()
    floating.client(url, "ws-2").request_lease()
    waiting = floating.client(url, "ws-3")
    clock.advance(seconds=59)
    with pytest.raises(NoSeatAvailableError):
        waiting.request_lease()
    clock.advance(seconds=1)
    assert waiting.request_lease().slot == gone.slot
    with pytest.raises(LeaseExpiredError):
        gone.local_check()
    with pytest.raises(LeaseNotFoundError):
        gone.renew()


def test_a_lost_server_leaves_the_lease_working_until_its_end_then_names_the_server_and_the_fix(
        floating: FloatingLab, clock: FakeClock) -> None:
    with floating.serving() as url:
        lease = floating.client(url, "ws-1").request_lease()
    # the server is gone (stopped); the lease still holds
    with pytest.raises(FloatingServerUnreachableError) as unreachable:
        lease.renew()
    assert url in unreachable.value.message and unreachable.value.code == "floating_server_unreachable"
    clock.advance(seconds=59)
    assert lease.local_check().ok
    clock.advance(seconds=1)
    with pytest.raises(LeaseExpiredError) as expired:
        lease.local_check()
    assert expired.value.code == "lease_expired"
    assert url in expired.value.message and "licensing-floating serve" in expired.value.hint
    status = lease.check_status()
    assert not status.ok and status.first_error is not None and status.first_error.code == "lease_expired"


def test_a_live_lease_is_timed_from_the_request_by_this_computer_whatever_the_two_clocks_say(
        floating: FloatingLab, clock: FakeClock) -> None:
    """The workstation's clock is a day ahead of the server's: the lease still lasts its length."""
    ahead = FakeClock(clock() + timedelta(days=1))
    with floating.serving() as url:
        lease = floating.client(url, "ws-1", clock=ahead).request_lease()
        assert lease.local_check().ok and timedelta(seconds=55) < lease.time_left() <= timedelta(seconds=60)
        ahead.advance(seconds=61)
        with pytest.raises(LeaseExpiredError):
            lease.local_check()


@pytest.mark.slow
def test_a_live_lease_ends_by_the_monotonic_clock_even_when_the_wall_clock_stands_still(
        floating: FloatingLab) -> None:
    """Timed by the monotonic clock too, so holding the wall clock back keeps no lease alive."""
    short = floating.issue(seats=1, lease_seconds=2, max_borrow_seconds=0)
    site = floating.new_site("short-site", short)
    with floating.serving(site) as short_url:
        lease = floating.client(short_url, "ws-1").request_lease()
        time.sleep(2.1)  # real time passes; the test clock does not move
        with pytest.raises(LeaseExpiredError):
            lease.local_check()


def test_the_heartbeat_keeps_the_seat_and_stops_when_asked(floating: FloatingLab, url: str) -> None:
    lease = floating.client(url, "ws-1").request_lease()
    heartbeat = lease.start_heartbeat(interval=0.05)
    assert lease.start_heartbeat() is heartbeat  # one heartbeat per lease
    deadline = time.monotonic() + 10
    while heartbeat.renewals < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert heartbeat.renewals >= 3 and heartbeat.last_error is None
    heartbeat.stop()
    assert not heartbeat.running
    count = heartbeat.renewals
    time.sleep(0.2)
    assert heartbeat.renewals == count


def test_the_heartbeat_reports_failures_and_takes_the_seat_again_when_the_server_forgot_it(
        floating: FloatingLab, clock: FakeClock) -> None:
    errors: list[LicenseError] = []
    with floating.serving() as url:
        client = floating.client(url, "ws-1")
        lease = client.request_lease()
        forgotten = lease.lease_id
        floating.open_site()._free_every_seat()  # the administrator freed every seat
        heartbeat = lease.start_heartbeat(interval=0.05, on_error=errors.append)
        deadline = time.monotonic() + 10
        while lease.lease_id == forgotten and time.monotonic() < deadline:
            time.sleep(0.02)
        assert lease.lease_id != forgotten and lease.local_check().ok  # a new seat, the same Lease object
    while not errors and time.monotonic() < deadline:  # the server is gone now
        time.sleep(0.02)
    heartbeat.stop()
    assert errors and all(e.code == "floating_server_unreachable" for e in errors)
    assert heartbeat.last_error is not None


@pytest.mark.slow
def test_once_the_lease_ended_the_heartbeat_retries_at_its_interval_not_in_a_busy_loop(
        floating: FloatingLab, clock: FakeClock) -> None:
    """Retrying sooner is for keeping a lease that still holds; an ended one is retaken at the normal pace."""
    errors: list[LicenseError] = []
    with floating.serving() as url:
        lease = floating.client(url, "ws-1").request_lease()
    clock.advance(minutes=2)  # the server is gone, and the lease has ended
    heartbeat = lease.start_heartbeat(interval=0.5, on_error=errors.append)
    time.sleep(2.0)
    heartbeat.stop()
    assert 1 <= len(errors) <= 5, len(errors)  # about one try per interval (the busy loop made 30)


def test_leaving_a_with_block_gives_the_seat_back_at_once(floating: FloatingLab, url: str) -> None:
    client = floating.client(url, "ws-1")
    with client.hold_seat(interval=0.05) as lease:
        assert lease.local_check().ok and client.seats().used == 1
    assert lease.released and client.seats().used == 0
    assert lease.release() is True  # twice is harmless


def test_a_release_the_server_cannot_hear_still_ends_the_lease_here(floating: FloatingLab) -> None:
    with floating.serving() as url:
        lease = floating.client(url, "ws-1").request_lease()
    assert lease.release() is False
    with pytest.raises(LeaseExpiredError):
        lease.local_check()


# -- borrowing ----------------------------------------------------------------------------------------


def test_a_borrowed_seat_works_without_the_server_across_restarts_until_its_end(
        floating: FloatingLab, clock: FakeClock) -> None:
    with floating.serving() as url:
        borrowed = floating.client(url, "laptop").borrow(timedelta(days=2))
        assert borrowed.borrowed and borrowed.expires == clock() + timedelta(days=2)
        assert floating.client(url, "ws-1").seats().used == 1  # it counts against N while away
    clock.advance(days=1)
    again = floating.client("http://127.0.0.1:9", "laptop").borrowed_lease()  # a new process, no server
    assert again is not None and again.lease_id == borrowed.lease_id and again.local_check().ok
    assert again.has_feature("dice")
    with pytest.raises(UsageError):
        again.renew()  # a borrow needs no heartbeat
    clock.advance(days=1)
    with pytest.raises(LeaseExpiredError) as ended:
        again.local_check()
    assert "borrowed" in ended.value.message and url in ended.value.message


def test_an_ended_borrow_stays_ended_when_the_clock_is_turned_back(floating: FloatingLab, clock: FakeClock) -> None:
    with floating.serving() as url:
        floating.client(url, "laptop").borrow(timedelta(days=1))
    clock.advance(days=1, minutes=1)
    with pytest.raises(LeaseExpiredError):
        floating.client(url, "laptop").borrowed_lease().local_check()  # type: ignore[union-attr]
    clock.advance(days=-1)  # back to within the borrow
    fresh = floating.client(url, "laptop").borrowed_lease()  # a new process reads the mark from disk
    assert fresh is not None
    with pytest.raises(ClockTamperedError):
        fresh.local_check()


def test_borrowing_is_bounded_by_the_license_and_one_at_a_time(floating: FloatingLab, url: str) -> None:
    client = floating.client(url, "laptop")
    with pytest.raises(UsageError, match="at most 3 days"):
        client.borrow(timedelta(days=4))
    with pytest.raises(UsageError):
        client.borrow(timedelta(0))
    client.borrow(timedelta(days=1))
    with pytest.raises(UsageError, match="already borrowed"):
        client.borrow(timedelta(hours=1))
    assert client.request_lease().borrowed  # a seat is a seat: the borrowed one


def test_a_live_seat_becomes_the_borrow_and_its_heartbeat_stops(floating: FloatingLab, url: str) -> None:
    client = floating.client(url, "laptop")
    lease = client.request_lease()
    heartbeat = lease.start_heartbeat(interval=0.05)
    borrowed = client.borrow(timedelta(hours=8))
    assert borrowed is lease and lease.borrowed and lease.slot == 0
    heartbeat.stop()
    assert client.seats().used == 1


def test_returning_a_borrow_early_frees_the_seat_and_an_old_copy_cannot_bring_it_back(
        floating: FloatingLab, url: str) -> None:
    laptop = floating.client(url, "laptop")
    borrowed = laptop.borrow(timedelta(days=1))
    saved = (floating.data_dir("laptop") / "chatbot" / "floating.dat").read_bytes()
    assert laptop.return_borrowed() is True
    assert borrowed.released and laptop.seats().used == 0 and laptop.borrowed_lease() is None
    with pytest.raises(UsageError, match="no borrowed seat"):
        laptop.return_borrowed()
    (floating.data_dir("laptop") / "chatbot" / "floating.dat").write_bytes(saved)  # restore the old copy
    with pytest.raises(LicenseDeactivatedError):
        floating.client(url, "laptop").borrowed_lease()


def test_a_borrow_is_given_back_only_while_the_server_answers(floating: FloatingLab, clock: FakeClock) -> None:
    with floating.serving() as url:
        borrowed = floating.client(url, "laptop").borrow(timedelta(days=1))
    with pytest.raises(FloatingServerUnreachableError):
        borrowed.release()
    assert not borrowed.released and borrowed.local_check().ok  # nothing changed: still usable


def test_a_return_the_server_did_not_hear_is_sent_with_the_next_request(floating: FloatingLab, url: str) -> None:
    with Interceptor(url) as network:
        laptop = floating.client(network.url, "laptop")
        borrowed = laptop.borrow(timedelta(days=1))
        network.cut = lambda path: path.endswith("/release")
        assert borrowed.release() is False  # the return was lost on the way
        assert laptop.borrowed_lease() is None  # ... but the borrow is gone from the laptop at once
        assert laptop.seats().used == 1  # and the server still counts it
        network.cut = None
        lease = laptop.request_lease()  # the next request delivers the return first
        assert not lease.borrowed and lease.lease_id != borrowed.lease_id
        assert [(h.yours, h.borrowed) for h in laptop.seats().holders] == [(True, False)]


def test_the_borrow_is_refused_when_this_clock_is_behind_the_servers(floating: FloatingLab, clock: FakeClock) -> None:
    behind = FakeClock(clock() - timedelta(hours=1))
    with floating.serving() as url:
        with pytest.raises(ClockTamperedError) as refused:
            floating.client(url, "laptop", clock=behind).borrow(timedelta(days=1))
    assert "floating server" in refused.value.message


# -- the vendor's side of it --------------------------------------------------------------------------


def test_the_vendors_refresh_changes_the_seats_of_a_running_server(floating: FloatingLab, url: str,
                                                                   clock: FakeClock) -> None:
    floating.client(url, "ws-1").request_lease()
    floating.client(url, "ws-2").request_lease()
    with pytest.raises(NoSeatAvailableError):
        floating.client(url, "ws-3").request_lease()
    site = floating.open_site()
    device_id = site.license().device_id
    with floating.lab.vendor.store.session() as session:
        catalog.set_floating(session, clock(), catalog.get_license(session, floating.key), seats=3)
    refresh = floating.root / REFRESH_FILE_NAME
    refresh.write_bytes(floating.lab.vendor.issuer.refresh(floating.key, device_id))
    site.apply_refresh(refresh)
    time.sleep(0.6)  # the running server looks at its license files twice a second
    third = floating.client(url, "ws-3").request_lease()
    assert third.slot == 2 and third.seats == 3


def test_a_disabled_floating_license_hands_out_no_seat(floating: FloatingLab, url: str, clock: FakeClock) -> None:
    site = floating.open_site()
    device_id = site.license().device_id
    with floating.lab.vendor.store.session() as session:
        catalog.set_enabled(session, clock(), catalog.get_license(session, floating.key), False)
    refresh = floating.root / REFRESH_FILE_NAME
    refresh.write_bytes(floating.lab.vendor.issuer.refresh(floating.key, device_id))
    site.apply_refresh(refresh)
    time.sleep(0.6)  # the running server looks at its license files twice a second
    with pytest.raises(LicenseError) as refused:  # the server's own check, its code kept across HTTP
        floating.client(url, "ws-1").request_lease()
    assert refused.value.code == "license_disabled"


# -- a power cut that lost the last renewals -----------------------------------------------------------


def test_a_restart_after_renewals_were_lost_hands_no_seat_out_twice(floating: FloatingLab, clock: FakeClock) -> None:
    """Renewals are not fsync'ed; a power cut may undo the last ones. A restarted server holds
    every seat it knows for one more lease length, and accepts the heartbeat that is ahead of it."""
    network = Interceptor("http://127.0.0.1:9")  # the server's address, which survives its restart
    try:
        with floating.serving() as first:
            network.upstream = first
            lease = floating.client(network.url, "ws-1").request_lease()
            clock.advance(seconds=50)
            lease.renew()  # the workstation now relies on its seat until +110 s
        with sqlite3.connect(floating.site / "leases.db") as db:  # the disk lost that renewal
            db.execute("UPDATE leases SET sequence = 1, held_until = expires_at - 50000000, "
                       "expires_at = expires_at - 50000000")
        clock.advance(seconds=20)  # +70 s: by the record on disk, the seat has been free for 10 s
        with floating.serving() as restarted:
            network.upstream = restarted
            assert floating.client(network.url, "ws-2").request_lease().slot == 1
            with pytest.raises(NoSeatAvailableError):
                floating.client(network.url, "ws-3").request_lease()  # ws-1's seat is held, not handed out
            lease.renew()  # a sequence ahead of the record: accepted, not taken for a replay
            assert lease.local_check().ok and lease.slot == 0
    finally:
        network.close()
