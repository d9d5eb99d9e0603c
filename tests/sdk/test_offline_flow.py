"""The tutorial's offline flow through the real SDK and issuer: request, respond, activate, check,
refresh, deactivate — and every way each step is refused."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from licensing import (
    ClockTamperedError,
    ConfigurationError,
    ConsumptionLimitError,
    DeviceAlreadyActivatedError,
    FeatureExpiredError,
    FeatureNotFoundError,
    FileMissingError,
    GuardMissingError,
    GuardTamperedError,
    LicenseDeactivatedError,
    LicenseDisabledError,
    LicenseError,
    LicenseExpiredError,
    LicenseID,
    LicenseManager,
    LicenseNotStartedError,
    ProductMismatchError,
    RefreshOutdatedError,
    RequestMismatchError,
    ResponseReusedError,
    SignatureMismatchError,
    UsageError,
)
from licensing.issuing import catalog
from licensing.issuing.models import Device
from licensing.wire import Envelope

from support.lab import Lab


def _devices(lab: Lab, key: str) -> list[Device]:
    with lab.vendor.store.session() as session:
        return list(catalog.get_license(session, key).devices)


def _device_count(lab: Lab) -> int:
    with lab.vendor.store.session() as session:
        return session.query(Device).count()


# -- the happy path --------------------------------------------------------------------------


def test_request_lands_on_the_desktop_by_default_and_activation_reads_it_from_there(lab: Lab) -> None:
    key = lab.issue("perpetual", features=("jokes",))
    manager = lab.manager()
    request = manager.create_offline_activation_file(LicenseID.from_key(key.lower()))
    assert request == manager.config.requests_dir / "ls_activation.req"
    lab.respond(request)  # writes ls_activation.lic beside it: the default place
    license = manager.activate_license_offline()
    result = license.local_check()
    assert result.ok and [item.name for item in result.items][0] == "signature"
    assert license.key == key and license.license_type == "perpetual" and license.status == "active"
    assert license.has_feature("jokes") and not license.has_feature("dice")
    assert license.days_remaining() is None
    assert license.total_activations == 1 and license.max_activations == 1


def test_a_folder_as_path_means_the_default_file_name_inside_it(lab: Lab, tmp_path: Path) -> None:
    key = lab.issue()
    manager = lab.manager()
    usb = tmp_path / "usb stick"
    usb.mkdir()
    request = manager.create_offline_activation_file(LicenseID.from_key(key), usb)
    assert request == usb / "ls_activation.req"
    lab.respond(request)
    assert manager.activate_license_offline(usb).key == key


def test_request_holds_no_secret_in_clear_for_user_based_licenses(lab: Lab) -> None:
    lab.issue("perpetual", user="ann@example.com", password="s3cret-Pass")
    manager = lab.manager()
    request = manager.create_offline_activation_file(LicenseID.from_user("ann@example.com", "s3cret-Pass"))
    raw = request.read_bytes()
    assert b"s3cret-Pass" not in raw
    import base64
    payload = base64.b64decode(json.loads(raw)["payload"])
    assert b"s3cret-Pass" not in payload and b"ann@example.com" in payload
    lab.respond(request)
    license = manager.activate_license_offline()
    assert license.user == "ann@example.com" and license.key is None


def test_time_based_license_reports_days_left_and_expires_on_time(lab: Lab, clock) -> None:  # type: ignore[no-untyped-def]
    key = lab.issue("time-based", expires=clock() + timedelta(days=10, hours=1))
    license = lab.activate(lab.manager(), key)
    assert license.days_remaining() == 10
    clock.advance(days=10, hours=2)
    with pytest.raises(LicenseExpiredError) as caught:
        license.local_check()
    assert caught.value.code == "license_expired" and "expired" in caught.value.message
    assert license.status == "expired"


def test_consumption_is_recorded_durably_and_limited(lab: Lab) -> None:
    key = lab.issue("consumption", max_consumptions=3)
    manager = lab.manager()
    license = lab.activate(manager, key)
    assert license.add_local_consumption(2) == 2
    assert license.remaining_consumptions == 1
    with pytest.raises(ConsumptionLimitError) as caught:
        license.add_local_consumption(2)
    assert "1 left" in caught.value.message
    assert LicenseManager(manager.config).reload_license().local_consumptions == 2  # type: ignore[union-attr]
    assert license.add_local_consumption() == 3
    license.local_check()  # at the limit is still valid; only passing it is refused
    with pytest.raises(UsageError):
        license.add_local_consumption(0)
    with pytest.raises(UsageError):
        license.add_local_consumption(True)  # type: ignore[arg-type]


def test_overages_extend_the_consumption_allowance(lab: Lab) -> None:
    key = lab.issue("consumption", max_consumptions=2, allow_overages=True, max_overages=1)
    license = lab.activate(lab.manager(), key)
    license.add_local_consumption(3)
    assert license.overages == 1 and license.remaining_consumptions == 0
    with pytest.raises(ConsumptionLimitError):
        license.add_local_consumption(1)


def test_consumption_on_a_perpetual_license_is_a_clear_usage_error(lab: Lab) -> None:
    license = lab.activate(lab.manager(), lab.issue("perpetual"))
    with pytest.raises(UsageError) as caught:
        license.add_local_consumption()
    assert "does not count consumption" in caught.value.message


def test_feature_with_its_own_limit_and_expiry(lab: Lab, clock) -> None:  # type: ignore[no-untyped-def]
    key = lab.issue("perpetual")
    with lab.vendor.store.session() as session:
        lic = catalog.get_license(session, key)
        catalog.add_feature(session, clock(), lic, "jokes", max_consumptions=2)
        catalog.add_feature(session, clock(), lic, "dice", expires=clock() + timedelta(days=1))
    license = lab.activate(lab.manager(), key)
    assert license.add_local_feature_consumption("jokes") == 1
    assert license.add_local_feature_consumption("jokes") == 2
    with pytest.raises(ConsumptionLimitError):
        license.add_local_feature_consumption("jokes")
    with pytest.raises(FeatureNotFoundError):
        license.feature("convert")
    clock.advance(days=2)
    with pytest.raises(FeatureExpiredError):
        license.feature("dice")
    result = license.local_check()  # an expired feature does not void the whole license
    assert result.expired_features == ("dice",)
    assert not license.has_feature("dice") and license.has_feature("jokes")


# -- refresh ---------------------------------------------------------------------------------


def test_refresh_adds_a_feature_and_only_newer_refreshes_apply(lab: Lab, clock) -> None:  # type: ignore[no-untyped-def]
    key = lab.issue("time-based", features=("jokes",))
    manager = lab.manager()
    license = lab.activate(manager, key)
    older = lab.refresh_file(key, license.device_id, manager).read_bytes()  # same revision as the license
    with lab.vendor.store.session() as session:
        catalog.add_feature(session, clock(), catalog.get_license(session, key), "dice")
    path = lab.refresh_file(key, license.device_id, manager)
    newer = path.read_bytes()
    assert license.update_offline(path) is license
    assert license.has_feature("dice") and license.revision == 2
    assert manager.reload_license().has_feature("dice")  # type: ignore[union-attr]
    with pytest.raises(RefreshOutdatedError):  # replayed
        license.update_offline(path)
    path.write_bytes(older)
    with pytest.raises(RefreshOutdatedError):  # older
        license.update_offline(path)
    assert newer != older


def test_refresh_can_extend_an_expired_license_and_reset_consumption(lab: Lab, clock) -> None:  # type: ignore[no-untyped-def]
    key = lab.issue("consumption", max_consumptions=5, expires=clock() + timedelta(days=1))
    manager = lab.manager()
    license = lab.activate(manager, key)
    license.add_local_consumption(5)
    clock.advance(days=2)
    with pytest.raises(LicenseExpiredError):
        license.local_check()
    with lab.vendor.store.session() as session:
        catalog.extend_license(session, clock(), catalog.get_license(session, key), clock() + timedelta(days=30))
    license.update_offline(lab.refresh_file(key, license.device_id, manager, reset_consumption=True))
    license.local_check()
    assert license.local_consumptions == 0 and license.remaining_consumptions == 5


def test_refresh_for_another_device_or_activation_is_refused(lab: Lab) -> None:
    key = lab.issue("perpetual", max_activations=2)
    mine, theirs = lab.manager("device-A"), lab.manager("device-B")
    license = lab.activate(mine, key)
    other = lab.activate(theirs, key)
    path = lab.refresh_file(key, other.device_id, mine)
    with pytest.raises(SignatureMismatchError) as caught:
        license.update_offline(path)
    assert caught.value.code == "device_mismatch"


def test_a_refresh_file_is_not_an_activation_response(lab: Lab) -> None:
    key = lab.issue()
    manager = lab.manager()
    license = lab.activate(manager, key)
    path = lab.refresh_file(key, license.device_id, manager)
    with pytest.raises(LicenseError) as caught:
        manager.activate_license_offline(path)
    assert caught.value.code == "wrong_file_type"
    assert "refresh" in caught.value.message


# -- deactivation ----------------------------------------------------------------------------


def test_deactivation_removes_the_license_and_carries_consumption_to_the_vendor(lab: Lab) -> None:
    key = lab.issue("consumption", max_consumptions=10, max_activations=1)
    manager = lab.manager()
    license = lab.activate(manager, key)
    license.add_local_consumption(4)
    request = license.deactivate_offline()
    assert request == manager.config.requests_dir / "ls_deactivation.req"
    assert manager.get_current_license() is None and manager.reload_license() is None
    with pytest.raises(LicenseDeactivatedError):
        license.local_check()
    receipt = lab.vendor.issuer.answer(request.read_bytes())
    assert receipt.consumptions_booked == 4 and receipt.total_activations == 0  # type: ignore[union-attr]
    # The seat is free again, and the vendor's count carries into the next activation.
    again = lab.activate(manager, key)
    assert again.total_consumptions == 4 and again.remaining_consumptions == 6
    with pytest.raises(LicenseDeactivatedError):
        license.deactivate_offline()


def test_a_restored_copy_of_the_old_license_file_is_refused_after_deactivation(lab: Lab) -> None:
    key = lab.issue()
    manager = lab.manager()
    license = lab.activate(manager, key)
    store_file = manager.config.product_dir / "license.dat"
    backup = store_file.read_bytes()
    license.deactivate_offline()
    store_file.write_bytes(backup)
    restored = LicenseManager(manager.config).reload_license()
    assert restored is not None
    with pytest.raises(LicenseDeactivatedError) as caught:
        restored.local_check()
    assert caught.value.code == "license_deactivated"
    assert restored.check_status().first_error.code == "license_deactivated"  # type: ignore[union-attr]


def test_the_old_response_cannot_reactivate_after_deactivation_even_without_guard(lab: Lab) -> None:
    key = lab.issue(max_activations=1)
    manager = lab.manager(guard_file=False)
    request = manager.create_offline_activation_file(LicenseID.from_key(key))
    response = lab.respond(request)
    license = manager.activate_license_offline(response)
    license.deactivate_offline()
    with pytest.raises(ResponseReusedError):
        manager.activate_license_offline(response)


# -- the guard file and binding --------------------------------------------------------------


def test_guard_removed_edited_or_reused(lab: Lab) -> None:
    key = lab.issue(max_activations=5)
    manager = lab.manager()
    guard = manager.config.product_dir / ".guard"

    response = lab.respond(manager.create_offline_activation_file(LicenseID.from_key(key)))
    guard.unlink()
    with pytest.raises(GuardMissingError) as missing:
        manager.activate_license_offline(response)
    assert "create a new activation request" in missing.value.hint.lower()

    response = lab.respond(manager.create_offline_activation_file(LicenseID.from_key(key)))
    data = bytearray(guard.read_bytes())
    data[-1] ^= 1
    guard.write_bytes(bytes(data))
    with pytest.raises(GuardTamperedError):
        manager.activate_license_offline(response)

    response = lab.respond(manager.create_offline_activation_file(LicenseID.from_key(key)))
    manager.activate_license_offline(response)
    assert not guard.exists()  # consumed on success
    with pytest.raises(ResponseReusedError):
        manager.activate_license_offline(response)


def test_guard_from_another_device_is_refused(lab: Lab) -> None:
    key = lab.issue(max_activations=2)
    a, b = lab.manager("device-A"), lab.manager("device-B")
    response_a = lab.respond(a.create_offline_activation_file(LicenseID.from_key(key)))
    b.create_offline_activation_file(LicenseID.from_key(key))
    # Copy device B's guard over A's: it is sealed with B's key, so A cannot open it.
    (a.config.product_dir / ".guard").write_bytes((b.config.product_dir / ".guard").read_bytes())
    with pytest.raises(GuardTamperedError):
        a.activate_license_offline(response_a)


def test_response_for_another_device_is_a_signature_mismatch(lab: Lab) -> None:
    key = lab.issue(max_activations=2)
    a, b = lab.manager("device-A"), lab.manager("device-B")
    response_for_b = lab.respond(b.create_offline_activation_file(LicenseID.from_key(key)))
    a.create_offline_activation_file(LicenseID.from_key(key))
    with pytest.raises(SignatureMismatchError) as caught:
        a.activate_license_offline(response_for_b)
    assert caught.value.code == "device_mismatch"
    assert "different device" in caught.value.message and "request file on this device" in caught.value.hint


def test_response_for_an_earlier_request_is_refused(lab: Lab) -> None:
    key = lab.issue(max_activations=3)
    manager = lab.manager()
    first = lab.respond(manager.create_offline_activation_file(LicenseID.from_key(key)),
                        manager.config.requests_dir / "first.lic")
    manager.create_offline_activation_file(LicenseID.from_key(key))  # a newer request replaces the guard
    with pytest.raises(RequestMismatchError):
        manager.activate_license_offline(first)


def test_response_made_before_storage_was_cleared_is_refused(lab: Lab) -> None:
    key = lab.issue(max_activations=3)
    manager = lab.manager(guard_file=False)
    response = lab.respond(manager.create_offline_activation_file(LicenseID.from_key(key)))
    manager.clear_local_storage()
    with pytest.raises(RequestMismatchError):
        manager.activate_license_offline(response)


def test_response_for_another_product_is_refused(lab: Lab) -> None:
    with lab.vendor.store.session() as session:
        other = catalog.add_product(session, lab.clock(), "editor")
        key = catalog.issue_license(session, lab.clock(), other, catalog.LicenseSpec("perpetual")).key
    editor = LicenseManager(lab.vendor.client_configuration(
        "editor", data_dir=lab.root / "A" / "data", request_dir=lab.manager().config.requests_dir,
        hardware_id="device-A", clock=lab.clock))
    response = lab.respond(editor.create_offline_activation_file(LicenseID.from_key(key)))  # type: ignore[arg-type]
    with pytest.raises(ProductMismatchError):
        lab.manager().activate_license_offline(response)


# -- the vendor's refusals -------------------------------------------------------------------


@pytest.mark.parametrize(("setup", "code"), [
    ("max", "max_activations_reached"),
    ("expired", "license_expired"),
    ("disabled", "license_disabled"),
    ("wrong_key", "invalid_credentials"),
    ("wrong_password", "invalid_credentials"),
    ("wrong_product", "product_configuration"),
    ("wrong_api_key", "product_configuration"),
    ("wrong_shared_key", "product_configuration"),
    ("free_tier", "free_tier"),
    ("subscription", "offline_not_supported"),
    ("replay", "request_replayed"),
    ("device_disabled", "device_disabled"),
])
def test_every_vendor_refusal_has_its_code_and_changes_nothing(lab: Lab, clock, setup: str, code: str) -> None:  # type: ignore[no-untyped-def]
    license_id = None
    manager = lab.manager()
    if setup == "max":
        key = lab.issue(max_activations=1)
        lab.activate(lab.manager("device-B"), key)
    elif setup == "expired":
        key = lab.issue("time-based", expires=clock() + timedelta(days=1))
        clock.advance(days=2)
    elif setup == "disabled":
        key = lab.issue(enabled=False)
    elif setup == "wrong_key":
        key = "ABCD-EFGH-JKLM-NPQR"
    elif setup == "wrong_password":
        key = lab.issue(user="bob@example.com", password="right")
        license_id = LicenseID.from_user("bob@example.com", "wrong")
    elif setup == "free_tier":
        with lab.vendor.store.session() as session:
            catalog.get_product(session, "chatbot").free_tier = True
        key = lab.issue()
    elif setup == "subscription":
        key = lab.issue("subscription")
    else:
        key = lab.issue()
    if setup == "wrong_product":
        manager = LicenseManager(replace(manager.config, product="other"))
    elif setup == "wrong_api_key":
        manager = LicenseManager(replace(manager.config, api_key="not-the-key"))
    elif setup == "wrong_shared_key":
        manager = LicenseManager(replace(manager.config, shared_key="not-the-key"))
    request = manager.create_offline_activation_file(license_id or LicenseID.from_key(key))
    if setup == "replay":  # answered, and that activation has ended since: no longer answered again
        device_id = json.loads(Envelope.parse(lab.respond(request).read_bytes()).payload)["device_id"]
        with lab.vendor.store.session() as session:
            catalog.reset_device(session, clock(), catalog.get_device(session, device_id))
    if setup == "device_disabled":
        license = lab.activate(lab.manager(), key)
        with lab.vendor.store.session() as session:
            catalog.set_device_enabled(session, clock(), catalog.get_device(session, license.device_id), False)
        request = manager.create_offline_activation_file(LicenseID.from_key(key))
    before = _device_count(lab)
    with pytest.raises(LicenseError) as caught:
        lab.vendor.issuer.answer(request.read_bytes())
    assert caught.value.code == code
    assert caught.value.message and caught.value.hint
    assert _device_count(lab) == before


def test_the_same_copy_asking_again_keeps_its_one_seat(lab: Lab) -> None:
    key = lab.issue(max_activations=1)
    manager = lab.manager()
    first = lab.activate(manager, key)
    again = lab.activate(manager, key)  # e.g. the first answer was lost, and a new request was made
    assert again.total_activations == 1 and again.local_check().ok
    assert {d.id: d.active for d in _devices(lab, key)} == {first.device_id: False, again.device_id: True}


def test_storage_cleared_without_deactivating_needs_the_vendor_to_reset_the_device(lab: Lab) -> None:
    key = lab.issue(max_activations=1)
    manager = lab.manager()
    first = lab.activate(manager, key)
    manager.clear_local_storage()  # the device key went with it: this is another copy now
    with pytest.raises(DeviceAlreadyActivatedError) as caught:
        lab.activate(manager, key)
    assert first.device_id in caught.value.message and "reset" in caught.value.hint
    with lab.vendor.store.session() as session:
        catalog.reset_device(session, lab.clock(), catalog.get_device(session, first.device_id))
    license = lab.activate(manager, key)
    assert license.device_id != first.device_id and license.total_activations == 1
    assert sum(d.active for d in _devices(lab, key)) == 1


def test_deactivation_by_someone_else_is_refused(lab: Lab) -> None:
    key = lab.issue(max_activations=2)
    a = lab.manager("device-A")
    license = lab.activate(a, key)
    request = license.deactivate_offline()
    data = json.loads(request.read_bytes())
    # A forger re-signs a request naming device A with their own key: the vendor knows A's key.
    import base64

    from licensing.wire import DEACTIVATION_REQUEST, crypto, encode_device_signed
    payload = json.loads(base64.b64decode(data["payload"]))
    for field in ("typ", "v", "device_key"):
        payload.pop(field)
    payload["request_id"] = "f" * 32
    forged = encode_device_signed(DEACTIVATION_REQUEST, payload, crypto.Ed25519PrivateKey.generate(),
                                  a.config.shared_key.encode())
    with pytest.raises(LicenseError) as caught:
        lab.vendor.issuer.answer(forged)
    assert caught.value.code == "signature_invalid"
    assert any(d.active for d in _devices(lab, key))


# -- local checks ----------------------------------------------------------------------------


def test_local_check_order_and_structured_result(lab: Lab, clock) -> None:  # type: ignore[no-untyped-def]
    key = lab.issue("time-based", expires=clock() + timedelta(days=1))
    license = lab.activate(lab.manager(), key)
    clock.advance(days=3)
    status = license.check_status()
    assert [i.name for i in status.items] == ["signature", "product", "hardware_id", "enabled", "validity",
                                               "consumption", "tombstone", "clock", "server_contact"]
    assert not status.ok and status.first_error.code == "license_expired"  # type: ignore[union-attr]
    assert [i.name for i in status.items if not i.ok] == ["validity"]


def test_license_not_started_yet(lab: Lab, clock) -> None:  # type: ignore[no-untyped-def]
    key = lab.issue("time-based", start=clock() + timedelta(days=2), expires=clock() + timedelta(days=9))
    license = lab.activate(lab.manager(), key)
    with pytest.raises(LicenseNotStartedError):
        license.local_check()
    clock.advance(days=3)
    license.local_check()


def test_disabled_after_refresh(lab: Lab, clock) -> None:  # type: ignore[no-untyped-def]
    key = lab.issue()
    manager = lab.manager()
    license = lab.activate(manager, key)
    with lab.vendor.store.session() as session:
        catalog.set_enabled(session, clock(), catalog.get_license(session, key), False)
    license.update_offline(lab.refresh_file(key, license.device_id, manager))
    with pytest.raises(LicenseDisabledError):
        license.local_check()
    assert manager.reload_license().status == "disabled"  # type: ignore[union-attr]


def test_a_license_copied_to_another_device_fails_the_hardware_check(lab: Lab) -> None:
    key = lab.issue()
    a = lab.manager("device-A")
    lab.activate(a, key)
    # Same machine secret, other hardware id provider answer: simulate a copied data folder.
    copied = LicenseManager(replace(a.config, hardware_id_provider=lambda: "device-A"))
    assert copied.reload_license() is not None
    b = lab.manager("device-B")
    b_dir = b.config.product_dir
    b_dir.mkdir(parents=True, exist_ok=True)
    (b_dir / "license.dat").write_bytes((a.config.product_dir / "license.dat").read_bytes())
    with pytest.raises(LicenseError) as caught:
        b.reload_license()
    assert caught.value.code == "storage_corrupt"  # sealed with device A's key


# -- the clock -------------------------------------------------------------------------------


def test_clock_turned_back_past_the_tolerance(lab: Lab, clock) -> None:  # type: ignore[no-untyped-def]
    key = lab.issue("time-based", expires=clock() + timedelta(days=30))
    manager = lab.manager()
    license = lab.activate(manager, key)
    clock.advance(days=5)
    license.local_check()
    clock.advance(days=-2)
    with pytest.raises(ClockTamperedError) as caught:
        license.local_check()
    assert "clock" in caught.value.message.lower() and "clock" in caught.value.hint.lower()
    # The mark was persisted: a new process sees the same rollback.
    with pytest.raises(ClockTamperedError):
        LicenseManager(manager.config).reload_license().local_check()  # type: ignore[union-attr]
    clock.advance(days=2)
    license.local_check()


def test_small_clock_corrections_within_tolerance_pass(lab: Lab, clock) -> None:  # type: ignore[no-untyped-def]
    license = lab.activate(lab.manager(), lab.issue())
    clock.advance(hours=1)
    license.local_check()
    clock.advance(minutes=-5)
    license.local_check()


def test_clock_before_the_vendor_issued_the_license_is_refused(lab: Lab, clock) -> None:  # type: ignore[no-untyped-def]
    key = lab.issue()
    manager = lab.manager()
    request = manager.create_offline_activation_file(LicenseID.from_key(key))
    response = lab.respond(request)
    clock.advance(days=-3)
    with pytest.raises(ClockTamperedError):
        manager.activate_license_offline(response)


ZONES = ("America/New_York", "Asia/Kolkata", "Pacific/Chatham", "Europe/London", "Australia/Lord_Howe")


@pytest.mark.parametrize("zone", ZONES)
def test_time_zone_and_daylight_saving_changes_never_trip_the_clock(lab: Lab, clock, zone: str) -> None:  # type: ignore[no-untyped-def]
    from zoneinfo import ZoneInfo

    license = lab.activate(lab.manager(), lab.issue())
    # Real time moves on through the autumn and spring DST changes of both hemispheres, while the
    # machine's zone keeps changing: the wall-clock reading jumps back and forth by hours, the
    # instant never does.
    for start in (datetime(2026, 9, 20, tzinfo=timezone.utc), datetime(2027, 3, 1, tzinfo=timezone.utc)):
        for step in range(0, 24 * 50, 5):
            local_zone = ZoneInfo(zone if step % 2 else ZONES[step % len(ZONES)])
            clock.set((start + timedelta(hours=step)).astimezone(local_zone))
            license.local_check()
    # And a naive clock is a configuration error, not a silent local-time guess.
    clock.set(clock.now.astimezone(timezone.utc).replace(tzinfo=None))
    with pytest.raises(ConfigurationError):
        license.local_check()


def test_high_water_mark_is_not_written_on_every_check(lab: Lab, clock) -> None:  # type: ignore[no-untyped-def]
    manager = lab.manager()
    license = lab.activate(manager, lab.issue())
    store_file = manager.config.product_dir / "license.dat"
    before = store_file.stat().st_mtime_ns, store_file.read_bytes()
    for _ in range(50):
        clock.advance(seconds=1)
        license.local_check()
    assert (store_file.stat().st_mtime_ns, store_file.read_bytes()) == before
    clock.advance(seconds=60)
    license.local_check()
    assert store_file.read_bytes() != before[1]


# -- memory versus disk (the tutorial's "common problems") -----------------------------------


def test_get_current_license_is_memory_first_and_reload_reads_disk(lab: Lab) -> None:
    manager = lab.manager()
    license = lab.activate(manager, lab.issue())
    assert manager.get_current_license() is license
    # Another process clears the storage behind this manager's back.
    LicenseManager(manager.config).clear_local_storage()
    assert manager.get_current_license() is license  # memory first, as the tutorial warns
    assert manager.reload_license() is None  # the disk says otherwise
    assert manager.get_current_license() is None  # and reload updated the memory


def test_clear_local_storage_also_forgets_the_license_in_memory(lab: Lab) -> None:
    manager = lab.manager()
    lab.activate(manager, lab.issue())
    manager.clear_local_storage()
    assert manager.get_current_license() is None
    assert not (manager.config.product_dir / "license.dat").exists()


def test_a_fresh_manager_loads_from_disk(lab: Lab) -> None:
    manager = lab.manager()
    license = lab.activate(manager, lab.issue())
    loaded = LicenseManager(manager.config).get_current_license()
    assert loaded is not None and loaded is not license and loaded.key == license.key
    loaded.local_check()


# -- bad input to the SDK itself -------------------------------------------------------------


def test_missing_response_file_is_a_typed_error_with_the_path(lab: Lab, tmp_path: Path) -> None:
    manager = lab.manager()
    with pytest.raises(FileMissingError) as caught:
        manager.activate_license_offline(tmp_path / "nowhere.lic")
    assert "nowhere.lic" in caught.value.message and caught.value.code == "file_not_found"


@pytest.mark.parametrize("bad", ["", "ABCD", "ABCD-EFGH-IJKL", "ABCD-EFGH-IJKL-MNOP-QRST", None, 42])
def test_malformed_keys_are_refused_before_any_file_is_written(bad: object) -> None:
    with pytest.raises(UsageError):
        LicenseID.from_key(bad)  # type: ignore[arg-type]


def test_password_never_shows_in_repr() -> None:
    assert "hunter2" not in repr(LicenseID.from_user("ann", "hunter2"))


def test_products_never_share_storage(lab: Lab) -> None:
    manager = lab.manager()
    lab.activate(manager, lab.issue())
    other = LicenseManager(replace(manager.config, product="editor"))
    assert other.config.product_dir != manager.config.product_dir
    assert other.reload_license() is None


def test_a_folder_under_an_unknown_users_home_is_a_configuration_error(lab: Lab) -> None:
    with pytest.raises(ConfigurationError) as caught:
        lab.config(data_dir="~no-such-user-here/licenses")
    assert "full path" in caught.value.hint


# -- features agree with the local check --------------------------------------------------------


def test_has_feature_is_false_on_an_expired_license(lab: Lab, clock) -> None:  # type: ignore[no-untyped-def]
    license = lab.activate(lab.manager(), lab.issue("time-based", features=("jokes",),
                                                     expires=clock() + timedelta(days=3)))
    assert license.has_feature("jokes")
    clock.advance(days=4)
    assert not license.has_feature("jokes")
    with pytest.raises(LicenseExpiredError):
        license.feature("jokes")


def test_has_feature_is_false_when_the_clock_was_set_back(lab: Lab, clock) -> None:  # type: ignore[no-untyped-def]
    license = lab.activate(lab.manager(), lab.issue("perpetual", features=("jokes",)))
    clock.advance(days=5)
    license.local_check()
    clock.advance(days=-3)
    assert not license.has_feature("jokes")
    with pytest.raises(ClockTamperedError):
        license.feature("jokes")
    clock.advance(days=3)
    assert license.has_feature("jokes")
