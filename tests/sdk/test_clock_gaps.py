"""The clock rule's gaps: a failed check must leave its mark, the tolerance is spent once, and a
clock that ran far ahead has a way back that does not reopen the hole.

The rule (README, "Clock"): the device keeps the latest time it has seen. A clock behind it by
at most the tolerance is forgiven *once*: the time it would gain is added back to every later
reading (the license keeps running on the time already seen), and the amounts forgiven add up,
so repeated small set-backs soon exceed the tolerance. Only a fresh, vendor-signed time — an
online check, or the portal's answer to this device's refresh request — re-anchors the mark.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from licensing import ClockTamperedError, LicenseError, LicenseManager
from licensing.issuing import catalog

from support.lab import FakeClock, Lab
from support.portal_server import running_portal


def _expiring(lab: Lab, clock: FakeClock, days: int = 30):  # type: ignore[no-untyped-def]
    manager = lab.manager()
    license = lab.activate(manager, lab.issue("time-based", expires=clock() + timedelta(days=days)))
    return manager, license


# -- (a) a failed check writes the mark at once -----------------------------------------------


def test_an_expired_check_followed_by_a_small_rollback_is_still_expired(lab: Lab, clock: FakeClock) -> None:
    manager, license = _expiring(lab, clock)
    clock.set(license.expires + timedelta(seconds=30))  # type: ignore[operator]
    with pytest.raises(LicenseError) as caught:
        license.local_check()
    assert caught.value.code == "license_expired"
    clock.advance(minutes=-1)  # a minute back: before the expiry again
    with pytest.raises(LicenseError) as caught:
        LicenseManager(manager.config).reload_license().local_check()  # type: ignore[union-attr]
    assert caught.value.code == "license_expired"
    assert not LicenseManager(manager.config).reload_license().has_feature("anything")  # type: ignore[union-attr]


def test_a_failed_check_is_written_to_disk_at_once(lab: Lab, clock: FakeClock) -> None:
    manager, license = _expiring(lab, clock)
    store_file = manager.config.product_dir / "license.dat"
    clock.set(license.expires - timedelta(seconds=10))  # type: ignore[operator]
    license.local_check()  # the mark is written (a minute has passed since the last write)...
    before = store_file.read_bytes()
    clock.advance(seconds=11)  # ...and ten seconds later the license has expired
    with pytest.raises(LicenseError):
        license.local_check()
    assert store_file.read_bytes() != before


# -- (b) the tolerance is a one-time allowance ------------------------------------------------


@pytest.mark.slow
def test_repeated_small_rollbacks_cannot_hold_off_the_expiry(lab: Lab, clock: FakeClock) -> None:
    """The issue's measurement: 480 checks kept valid in the ten minutes before expiry.

    The application checks once a minute; whenever the clock nears the expiry, it is set back by
    nine minutes (inside the ten-minute tolerance, every time).
    """
    manager, license = _expiring(lab, clock)
    expires = license.expires
    clock.set(expires - timedelta(minutes=10))  # type: ignore[operator]
    passed = 0
    for _ in range(480):
        clock.advance(minutes=1)
        if clock() >= expires - timedelta(seconds=30):  # type: ignore[operator]
            clock.advance(minutes=-9)
        try:
            license.local_check()
            passed += 1
        except LicenseError:
            pass
    assert passed <= 10  # the nine real minutes left, and not one more
    with pytest.raises(LicenseError):
        LicenseManager(manager.config).reload_license().local_check()  # type: ignore[union-attr]


def test_a_frozen_clock_is_beyond_any_offline_check(lab: Lab, clock: FakeClock) -> None:
    """Said plainly in the README: a clock that reads the same instant at every check cannot be caught
    offline (a tool that makes the application see a fixed date does just that)."""
    _, license = _expiring(lab, clock)
    frozen = license.expires - timedelta(minutes=9)  # type: ignore[operator]
    for _ in range(100):
        clock.set(frozen)
        license.local_check()


def test_the_tolerance_is_spent_once_not_renewed(lab: Lab, clock: FakeClock) -> None:
    manager, license = _expiring(lab, clock, days=300)
    clock.advance(days=1)
    license.local_check()
    clock.advance(minutes=-6)  # forgiven: within the 10-minute tolerance
    license.local_check()
    clock.advance(minutes=30)
    license.local_check()
    clock.advance(minutes=-6)  # another 6: 12 minutes forgiven in all, more than the tolerance
    with pytest.raises(ClockTamperedError):
        license.local_check()
    with pytest.raises(ClockTamperedError):  # and it was written down at once
        LicenseManager(manager.config).reload_license().local_check()  # type: ignore[union-attr]


def test_a_forgiven_rollback_gains_no_time(lab: Lab, clock: FakeClock) -> None:
    """Five minutes forgiven before the expiry: the license still ends when real time reaches it."""
    _, license = _expiring(lab, clock)
    clock.set(license.expires - timedelta(minutes=1))  # type: ignore[operator]
    license.local_check()
    clock.advance(minutes=-5)
    license.local_check()  # forgiven
    clock.advance(minutes=1, seconds=1)  # one minute of real time later the license has expired
    with pytest.raises(LicenseError) as caught:
        license.local_check()
    assert caught.value.code == "license_expired"


def test_honest_small_corrections_within_the_tolerance_still_pass(lab: Lab, clock: FakeClock) -> None:
    _, license = _expiring(lab, clock, days=300)
    for _ in range(3):
        clock.advance(hours=5)
        license.local_check()
        clock.advance(seconds=-90)  # an NTP step back now and then
        license.local_check()


# -- (c) a clock set a year ahead and back ----------------------------------------------------


@pytest.fixture
def server(lab: Lab) -> Iterator[str]:
    with running_portal(lab.vendor.folder, workspace=lab.vendor) as url:
        yield url


def _locked_out(lab: Lab, clock: FakeClock, **overrides: object):  # type: ignore[no-untyped-def]
    """A perpetual license whose device clock ran a year ahead once (and was checked then)."""
    manager = lab.manager(**overrides)
    license = lab.activate(manager, lab.issue("perpetual"))
    real = clock()
    clock.advance(days=365)
    license.local_check()
    clock.set(real + timedelta(hours=1))
    with pytest.raises(ClockTamperedError):
        license.local_check()
    return manager, license


def test_an_online_check_re_anchors_the_clock_after_a_year_ahead(lab: Lab, clock: FakeClock, server: str) -> None:
    manager, license = _locked_out(lab, clock, server_url=server)
    license.check()  # the vendor's signed time, answering this very request
    license.local_check()
    assert LicenseManager(manager.config).reload_license().local_check().ok  # type: ignore[union-attr]
    clock.advance(days=-2)  # and the hole stays closed
    with pytest.raises(ClockTamperedError):
        license.local_check()


def test_a_refresh_answering_this_devices_request_re_anchors_offline(lab: Lab, clock: FakeClock) -> None:
    manager, license = _locked_out(lab, clock)
    request = license.create_refresh_request()
    answer = request.with_name("license_refresh.lic")
    answer.write_bytes(lab.vendor.issuer.answer_refresh_request(request.read_bytes()))
    license.update_offline(answer)
    license.local_check()
    assert LicenseManager(manager.config).reload_license().local_check().ok  # type: ignore[union-attr]


def test_an_old_refresh_answer_kept_aside_does_not_re_anchor(lab: Lab, clock: FakeClock) -> None:
    """A refresh obtained while the clock was right cannot later wind the mark back."""
    manager = lab.manager()
    key = lab.issue("time-based", expires=clock() + timedelta(days=30))
    license = lab.activate(manager, key)
    request = license.create_refresh_request()
    kept = request.with_name("kept_refresh.lic")
    kept.write_bytes(lab.vendor.issuer.answer_refresh_request(request.read_bytes()))
    clock.advance(days=40)
    with pytest.raises(LicenseError):
        license.local_check()  # expired, and the device has seen day 40
    clock.advance(days=-39)
    with pytest.raises(ClockTamperedError):
        license.update_offline(kept)
    reloaded = LicenseManager(manager.config).reload_license()
    assert reloaded is not None and not reloaded.check_status().ok
    assert reloaded.check_status().items[-2].error.code == "clock_tampered"  # type: ignore[union-attr]


def test_a_vendor_refresh_not_asked_for_by_this_device_does_not_re_anchor(lab: Lab, clock: FakeClock) -> None:
    """The Devices tab's refresh answers no request of the device: it is not proof of the time now."""
    manager, license = _locked_out(lab, clock)
    key = license.key
    with lab.vendor.store.session() as session:
        catalog.add_feature(session, lab.clock(), catalog.get_license(session, key), "dice")  # type: ignore[arg-type]
    with pytest.raises(ClockTamperedError):
        license.update_offline(lab.refresh_file(key, license.device_id, manager))  # type: ignore[arg-type]
