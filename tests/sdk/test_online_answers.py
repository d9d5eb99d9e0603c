"""Answers of the license server are bound to the request they answer, and carry the vendor's time.

The attacker here sits on the network: a relay on 127.0.0.1 captures the real server's answers,
and a fake server on 127.0.0.1 replays them later (``support.relay``). The license server is the
real portal on the lab's clock, so the vendor's signed time and the device's clock are the
test's to move.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest

from licensing import (
    ClockTamperedError,
    GracePeriodExpiredError,
    LicenseDeactivatedError,
    LicenseError,
    LicenseID,
    LicenseManager,
)
from licensing.issuing import catalog

from support.lab import FakeClock, Lab
from support.portal_server import running_portal
from support.relay import recording_relay, replaying_server


@pytest.fixture
def server(lab: Lab) -> Iterator[str]:
    """The real license server, signing with the lab's clock."""
    with running_portal(lab.vendor.folder, workspace=lab.vendor) as url:
        yield url


def _disable_license_and_device(lab: Lab, key: str, device_id: str) -> None:
    with lab.vendor.store.session() as session:
        license = catalog.get_license(session, key)
        catalog.set_enabled(session, lab.clock(), license, False)
        catalog.set_device_enabled(session, lab.clock(), catalog.get_device(session, device_id), False)


def test_a_captured_check_answer_cannot_renew_the_grace_period(lab: Lab, clock: FakeClock, server: str) -> None:
    """The issue's attack: one real /check answer, replayed after the vendor disabled license and device."""
    key = lab.issue()
    manager = lab.manager(server_url=server)
    license = manager.activate_license(LicenseID.from_key(key))
    with recording_relay(server) as relay:
        LicenseManager(manager.config.with_options(server_url=relay.url)).reload_license().check()  # type: ignore[union-attr]
    captured = relay.answers["/api/v1/check"][-1]
    assert captured[0] == 200
    _disable_license_and_device(lab, key, license.device_id)

    with replaying_server({"/api/v1/check": captured}) as fake:
        device = LicenseManager(manager.config.with_options(server_url=fake)).reload_license()
        assert device is not None
        renewed = 0
        for _ in range(200 // 6):
            clock.advance(days=6)
            try:
                device.check()
                renewed += 1
            except LicenseError as refused:
                assert refused.code == "answer_mismatch" and "request" in refused.message
        assert renewed == 0, f"the replayed answer renewed the grace period {renewed} times"
    with pytest.raises(GracePeriodExpiredError):
        device.local_check()


def test_an_answer_to_another_request_of_the_same_device_is_refused(lab: Lab, server: str) -> None:
    """Even a fresh answer is refused when it answers another request than the one just sent."""
    key = lab.issue()
    manager = lab.manager(server_url=server)
    manager.activate_license(LicenseID.from_key(key))
    with recording_relay(server) as relay:
        LicenseManager(manager.config.with_options(server_url=relay.url)).reload_license().check()  # type: ignore[union-attr]
    with replaying_server({"/api/v1/check": relay.answers["/api/v1/check"][-1]}) as fake:
        device = LicenseManager(manager.config.with_options(server_url=fake)).reload_license()
        with pytest.raises(LicenseError) as caught:
            device.check()  # type: ignore[union-attr]
        assert caught.value.code == "answer_mismatch"


def test_a_replayed_consumption_answer_cannot_refill_uses(lab: Lab, server: str) -> None:
    """The answer to an earlier report, replayed for a later one, would take its uses off the local count."""
    key = lab.issue("consumption", max_consumptions=10)
    manager = lab.manager(server_url=server)
    license = manager.activate_license(LicenseID.from_key(key))
    license.add_local_consumption(5)
    with recording_relay(server) as relay:
        relayed = LicenseManager(manager.config.with_options(server_url=relay.url)).reload_license()
        assert relayed is not None and relayed.sync_consumption() == 0
    captured = relay.answers["/api/v1/consumption"][-1]
    device = LicenseManager(manager.config.with_options(server_url=server)).reload_license()
    assert device is not None
    device.add_local_consumption(5)  # 10 used: 5 booked at the vendor, 5 here
    with replaying_server({"/api/v1/consumption": captured}) as fake:
        cut_off = LicenseManager(manager.config.with_options(server_url=fake)).reload_license()
        assert cut_off is not None
        with pytest.raises(LicenseError) as caught:
            cut_off.sync_consumption()
        assert caught.value.code == "answer_mismatch"
        assert cut_off.local_consumptions == 5 and cut_off.remaining_consumptions == 0
        with pytest.raises(LicenseError):
            cut_off.add_local_consumption(1)


@pytest.mark.parametrize("forged", ["receipt", "already deactivated"])
def test_a_forged_deactivation_answer_keeps_the_license_and_its_uses(lab: Lab, server: str, forged: str) -> None:
    """A fake server must not make the device forget uses the vendor never booked (a refill on re-activation)."""
    key = lab.issue("consumption", max_consumptions=10)
    manager = lab.manager(server_url=server)
    license = manager.activate_license(LicenseID.from_key(key))
    license.add_local_consumption(8)
    if forged == "receipt":
        answer = (200, json.dumps({"ok": True, "license": key, "device_id": license.device_id,
                                   "consumptions_booked": 8, "feature_consumptions_booked": {},
                                   "total_activations": 0, "max_activations": 1,
                                   "deactivated_at": "2026-06-01T12:00:00.000000Z"}).encode())
    else:
        answer = (409, json.dumps({"ok": False, "code": "request_replayed", "message": "This device is already "
                                   "deactivated.", "hint": "Nothing to do: the activation is already free."}).encode())
    with replaying_server({"/api/v1/deactivate": answer}) as fake:
        victim = LicenseManager(manager.config.with_options(server_url=fake)).reload_license()
        assert victim is not None
        with pytest.raises(LicenseError) as caught:
            victim.deactivate()
        # a made-up receipt is no signed receipt; a made-up refusal is passed on, and changes nothing
        assert caught.value.code in {"answer_mismatch", "request_replayed"}
    kept = LicenseManager(manager.config).reload_license()
    assert kept is not None and kept.local_check().ok and kept.local_consumptions == 8
    # ...and the real server still deactivates it, booking the 8 uses.
    receipt = LicenseManager(manager.config.with_options(server_url=server)).reload_license().deactivate()  # type: ignore[union-attr]
    assert receipt["consumptions_booked"] == 8
    assert LicenseManager(manager.config).reload_license() is None
    with pytest.raises(LicenseDeactivatedError):
        kept.add_local_consumption(1)


def test_the_last_server_contact_is_the_vendors_signed_time(lab: Lab, clock: FakeClock, server: str) -> None:
    key = lab.issue()
    vendor_time = clock()
    # The device's clock runs 5 minutes ahead of the vendor (within the tolerance).
    device_clock = lambda: clock() + timedelta(minutes=5)  # noqa: E731
    manager = lab.manager(server_url=server, clock=device_clock)
    license = manager.activate_license(LicenseID.from_key(key))
    assert license.last_server_contact == vendor_time
    clock.advance(days=3)
    license.check()
    assert license.last_server_contact == vendor_time + timedelta(days=3)


def test_an_answer_whose_time_is_far_from_the_device_clock_is_refused(lab: Lab, clock: FakeClock,
                                                                      server: str) -> None:
    """A device clock a day off the vendor's: the answer is not taken as contact, and the user is told why."""
    key = lab.issue()
    license = lab.manager(server_url=server).activate_license(LicenseID.from_key(key))
    ahead = LicenseManager(lab.config(server_url=server, clock=lambda: clock() + timedelta(days=1))).reload_license()
    assert ahead is not None
    with pytest.raises(ClockTamperedError) as caught:
        ahead.check()
    assert "license server" in caught.value.message
    assert ahead.last_server_contact == license.last_server_contact
