"""The online half and hybrid routing, against a real license server on 127.0.0.1.

The server is the real portal application (uvicorn) over the lab's vendor folder; the SDK talks
to it with its real HTTP client. The lab's clock is set to real time here, because the server
signs with the system clock and the SDK refuses answers signed "in its future".
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import text

from licensing import (
    DeviceDisabledError,
    GracePeriodExpiredError,
    LicenseError,
    LicenseExpiredError,
    LicenseID,
    LicenseManager,
    MaxActivationsReachedError,
    OfflineNotSupportedError,
    ServerUnreachableError,
    VendorLicenseExpiredError,
    VendorRefusal,
)
from licensing.issuing import catalog
from licensing.wire import Envelope

from support.lab import FakeClock, Lab
from support.pg_cluster import wait_for_lock_waiters
from support.portal_server import running_portal, send_huge_body
from support.signed_requests import activate_device, activation_request, check_request
from support.whitebox import store_of


def _portal(lab: Lab, **options: object) -> contextlib.AbstractContextManager[str]:
    return running_portal(lab.vendor.folder, database_url=lab.database_url, **options)


@pytest.fixture
def server(online_lab: Lab) -> Iterator[str]:
    with _portal(online_lab) as url:
        yield url


def _device(lab: Lab, url: str | None, device: str = "device-A", **overrides: object) -> LicenseManager:
    return lab.manager(device, server_url=url, **overrides)


def _active_devices(lab: Lab, key: str) -> int:
    with lab.vendor.store.session() as session:
        return catalog.active_devices(session, catalog.get_license(session, key))


# -- is_online ---------------------------------------------------------------------------------


def test_is_online_is_false_at_once_without_a_server(online_lab: Lab) -> None:
    manager = _device(online_lab, None)
    started = time.perf_counter()
    assert manager.is_online() is False
    assert time.perf_counter() - started < 0.05


def test_is_online_follows_the_server_and_never_hangs(online_lab: Lab) -> None:
    with _portal(online_lab) as url:
        manager = _device(online_lab, url)
        assert manager.is_online() is True
    fresh = _device(online_lab, url, "device-B")  # a new manager: no cached answer
    started = time.perf_counter()
    assert fresh.is_online() is False
    assert time.perf_counter() - started < 1.5


def test_a_server_that_accepts_but_never_answers_times_out(online_lab: Lab) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        manager = _device(online_lab, url, timeout=0.3)
        started = time.perf_counter()
        assert manager.is_online() is False
        with pytest.raises(ServerUnreachableError) as caught:
            manager.activate_license(LicenseID.from_key(online_lab.issue()))
        assert time.perf_counter() - started < 2.0
        assert "did not answer" in caught.value.message and caught.value.hint


# -- online activation, check, deactivation ----------------------------------------------------


def test_online_activation_then_local_checks_work_offline(online_lab: Lab, server: str) -> None:
    key = online_lab.issue("perpetual", features=("jokes",))
    manager = _device(online_lab, server)
    license = manager.activate_license(LicenseID.from_key(key))
    assert license.local_check().ok and license.has_feature("jokes")
    assert _active_devices(online_lab, key) == 1
    assert not (manager.config.product_dir / ".guard").exists()  # no guard needed online
    # The local copy is a verified vendor file, usable with no server at all.
    assert LicenseManager(manager.config.with_options(server_url=None)).reload_license().local_check().ok


def test_subscriptions_activate_online_but_not_offline(online_lab: Lab, server: str) -> None:
    key = online_lab.issue("subscription")
    offline = _device(online_lab, None, "device-B")
    with pytest.raises(OfflineNotSupportedError):
        online_lab.respond(offline.create_offline_activation_file(LicenseID.from_key(key)))
    license = _device(online_lab, server).activate_license(LicenseID.from_key(key))
    assert license.license_type == "subscription" and license.local_check().ok


def test_refusals_come_back_typed_from_the_server(online_lab: Lab, server: str) -> None:
    key = online_lab.issue(max_activations=1)
    _device(online_lab, server, "device-B").activate_license(LicenseID.from_key(key))
    with pytest.raises(MaxActivationsReachedError) as caught:
        _device(online_lab, server).activate_license(LicenseID.from_key(key))
    assert caught.value.code == "max_activations_reached" and "1 of its 1" in caught.value.message


def test_a_refusal_for_a_shared_code_comes_back_as_the_vendors_class(online_lab: Lab, server: str) -> None:
    """license_expired is raised on both sides; from the server it is the vendor's refusal (and still a
    LicenseExpiredError), so the application words it as one: ask the vendor, make a new request."""
    key = online_lab.issue("time-based", expires=online_lab.clock() - timedelta(days=1))
    with pytest.raises(VendorLicenseExpiredError) as caught:
        _device(online_lab, server).activate_license(LicenseID.from_key(key))
    assert isinstance(caught.value, LicenseExpiredError) and isinstance(caught.value, VendorRefusal)


def test_check_picks_up_the_vendors_changes(online_lab: Lab, server: str) -> None:
    key = online_lab.issue("perpetual", features=("jokes",))
    license = _device(online_lab, server).activate_license(LicenseID.from_key(key))
    assert license.check() is license  # nothing changed: same revision is fine online
    with online_lab.vendor.store.session() as session:
        catalog.add_feature(session, online_lab.clock(), catalog.get_license(session, key), "dice")
    license.check()
    assert license.has_feature("dice") and license.revision == 2


def test_check_reports_a_device_the_vendor_disabled(online_lab: Lab, server: str) -> None:
    key = online_lab.issue()
    license = _device(online_lab, server).activate_license(LicenseID.from_key(key))
    with online_lab.vendor.store.session() as session:
        catalog.set_device_enabled(session, online_lab.clock(), catalog.get_device(session, license.device_id), False)
    with pytest.raises(DeviceDisabledError) as caught:
        license.check()
    assert caught.value.code == "device_disabled"


def test_check_reports_a_device_the_vendor_reset(online_lab: Lab, server: str) -> None:
    key = online_lab.issue()
    license = _device(online_lab, server).activate_license(LicenseID.from_key(key))
    with online_lab.vendor.store.session() as session:
        catalog.reset_device(session, online_lab.clock(), catalog.get_device(session, license.device_id))
    with pytest.raises(LicenseError) as caught:
        license.check()
    assert caught.value.code == "device_not_found"


def test_checks_through_the_server_are_answered_or_refused_with_the_exact_reason(online_lab: Lab, server: str) -> None:
    """The server answers a check from one read and refuses what does not match it step by step:
    a check naming another license, another product's key, a device that is not there."""
    config = online_lab.config()
    key, other = online_lab.issue(), online_lab.issue()
    device = activate_device(config, key, online_lab.vendor.issuer.answer_activation)
    stranger = activate_device(config, other, online_lab.vendor.issuer.answer_activation)
    cases = {
        "ok": (check_request(config, device), 200, None),
        "another license": (check_request(config, dataclasses.replace(device, license_id=stranger.license_id)),
                            404, "device_not_found"),
        "no such device": (check_request(config, dataclasses.replace(device, device_id="dev_0000000000000000")),
                           404, "device_not_found"),
        "no such license": (check_request(config, dataclasses.replace(device, license_id=10**9)),
                            404, "license_not_found"),
        "another device's key": (check_request(config, dataclasses.replace(device, key=stranger.key)),
                                 400, "signature_invalid"),
    }
    for case, (body, status, code) in cases.items():
        answer = httpx.post(f"{server}/api/v1/check", content=body, headers={"X-Api-Key": config.api_key}, timeout=10)
        assert answer.status_code == status, (case, answer.text)
        if code is not None:
            assert answer.json()["code"] == code, case
        else:
            refreshed = json.loads(Envelope.parse(answer.content).payload)
            assert refreshed["device_id"] == device.device_id and refreshed["license"]["id"] == device.license_id


@pytest.mark.parametrize("online_lab", ["postgresql"], indirect=True)
def test_checks_are_answered_while_activations_wait_for_a_locked_license(online_lab: Lab, server: str) -> None:
    """Reads have threads of their own: more writes than the server has database threads, all waiting
    for one license's lock, must not hold up a check about another license."""
    config = online_lab.config()
    crowded, other = online_lab.issue(max_activations=100), online_lab.issue()
    device = activate_device(config, other, online_lab.vendor.issuer.answer_activation)
    writes = [activation_request(config, crowded) for _ in range(24)]  # the portal has 16 database threads
    headers = {"X-Api-Key": config.api_key}
    with online_lab.vendor.store.engine.connect() as holder, concurrent.futures.ThreadPoolExecutor(24) as pool:
        holder.execute(text("SELECT id FROM licenses WHERE key = :key FOR UPDATE"), {"key": crowded})
        activations = [pool.submit(httpx.post, f"{server}/api/v1/activate", content=body, headers=headers, timeout=60)
                       for body in writes]
        wait_for_lock_waiters(online_lab.vendor.store.engine, 1)
        time.sleep(0.5)  # the other activations reach the server and take its database threads meanwhile
        started = time.monotonic()
        check = httpx.post(f"{server}/api/v1/check", content=check_request(config, device), headers=headers, timeout=10)
        waited = time.monotonic() - started
        holder.rollback()
        answered = [future.result() for future in activations]
    assert check.status_code == 200 and waited < 5, (check.status_code, waited)
    assert [answer.status_code for answer in answered] == [200] * len(writes)
    assert _active_devices(online_lab, crowded) == len(writes)


def test_online_deactivation_frees_the_seat_and_books_consumption(online_lab: Lab, server: str) -> None:
    key = online_lab.issue("consumption", max_consumptions=10)
    manager = _device(online_lab, server)
    license = manager.activate_license(LicenseID.from_key(key))
    license.add_local_consumption(4)
    receipt = license.deactivate()
    assert receipt["consumptions_booked"] == 4 and receipt["total_activations"] == 0
    assert manager.get_current_license() is None and manager.reload_license() is None
    assert _active_devices(online_lab, key) == 0
    again = manager.activate_license(LicenseID.from_key(key))
    assert again.total_consumptions == 4 and again.remaining_consumptions == 6


# -- consumption reports -----------------------------------------------------------------------


def test_consumption_report_books_uses_and_keeps_counting(online_lab: Lab, server: str) -> None:
    key = online_lab.issue("consumption", max_consumptions=10)
    license = _device(online_lab, server).activate_license(LicenseID.from_key(key))
    assert license.sync_consumption() == 0  # nothing to report
    license.add_local_consumption(3)
    assert license.sync_consumption() == 0
    assert license.total_consumptions == 3 and license.local_consumptions == 0
    assert license.remaining_consumptions == 7
    license.add_local_consumption(2)
    license.sync_consumption()
    assert license.total_consumptions == 5


def test_a_report_whose_answer_was_lost_is_resent_and_booked_once(online_lab: Lab, server: str) -> None:
    key = online_lab.issue("consumption", max_consumptions=10)
    manager = _device(online_lab, server)
    license = manager.activate_license(LicenseID.from_key(key))
    license.add_local_consumption(3)
    # The network drops: the report is stored before sending and stays pending.
    dead = LicenseManager(manager.config.with_options(server_url="http://127.0.0.1:9"))
    cut_off = dead.reload_license()
    with pytest.raises(ServerUnreachableError):
        cut_off.sync_consumption()  # type: ignore[union-attr]
    pending = store_of(dead).read_state().pending_sync
    assert pending is not None and pending.local_consumptions == 3
    # Suppose the server had booked it and only its answer was lost.
    online_lab.vendor.issuer.answer_consumption_report(pending.request)
    assert LicenseManager(manager.config).reload_license().sync_consumption() == 0  # type: ignore[union-attr]
    with online_lab.vendor.store.session() as session:
        assert catalog.get_license(session, key).total_consumptions == 3  # booked once, not twice


# -- hybrid routing and the grace period -------------------------------------------------------


def test_hybrid_activation_goes_online_when_the_server_answers(online_lab: Lab, server: str) -> None:
    result = _device(online_lab, server).activate_hybrid(LicenseID.from_key(online_lab.issue()))
    assert result.route == "online" and result.license is not None and result.path is None


def test_hybrid_activation_falls_back_to_the_request_file(online_lab: Lab) -> None:
    key = online_lab.issue()
    result = _device(online_lab, None).activate_hybrid(LicenseID.from_key(key))
    assert result.route == "offline" and result.reason == "no license server is configured"
    assert result.path is not None and result.path.name == "ls_activation.req"


def test_hybrid_falls_back_when_the_server_stops_midway(online_lab: Lab) -> None:
    key = online_lab.issue(max_activations=2)
    with _portal(online_lab) as url:
        manager = _device(online_lab, url)
        license = manager.activate_license(LicenseID.from_key(key))
        assert manager.is_online()  # cached "online" for a few seconds...
    result = manager.activate_hybrid(LicenseID.from_key(key))  # ...but the server is gone now
    assert result.route == "offline" and result.path is not None
    checked = license.check_hybrid()
    assert checked.route == "offline" and checked.check is not None and checked.check.ok
    gone = license.deactivate_hybrid()
    assert gone.route == "offline" and gone.path is not None and gone.path.name == "ls_deactivation.req"


def test_grace_period_for_a_license_that_cannot_reach_its_server(online_lab: Lab, clock: FakeClock) -> None:
    key = online_lab.issue()
    with _portal(online_lab, clock=clock) as url:  # the server signs with the test's clock, as the device reads it
        manager = _device(online_lab, url)
        license = manager.activate_license(LicenseID.from_key(key))
    clock.advance(days=6)
    assert license.check_hybrid().route == "offline"  # within the 7-day grace period
    clock.advance(days=2)
    with pytest.raises(GracePeriodExpiredError) as caught:
        license.local_check()
    assert "license server" in caught.value.message and "check online" in caught.value.hint
    assert license.check_status().first_error.code == "grace_period_expired"  # type: ignore[union-attr]
    with _portal(online_lab, clock=clock) as url:
        back = LicenseManager(manager.config.with_options(server_url=url)).reload_license()
        assert back is not None
        back.check()  # contact restores it
        back.local_check()
        assert back.last_server_contact == clock()  # the vendor's signed time


def test_offline_activated_licenses_never_need_the_network(online_lab: Lab, clock: FakeClock) -> None:
    license = online_lab.activate(_device(online_lab, None), online_lab.issue())
    clock.advance(days=400)
    license.local_check()


# -- the API itself ----------------------------------------------------------------------------


def _request_bytes(lab: Lab, key: str, device: str = "device-Z") -> bytes:
    return lab.manager(device).create_offline_activation_file(LicenseID.from_key(key)).read_bytes()


def _api_key(lab: Lab) -> str:
    return lab.config().api_key


@pytest.mark.parametrize(("headers", "body", "status", "code"), [
    ({}, "request", 403, "product_configuration"),
    ({"X-Api-Key": "wrong"}, "request", 403, "product_configuration"),
    ({"X-Api-Key": "KEY"}, b"", 400, "file_malformed"),
    ({"X-Api-Key": "KEY"}, b"\x00\xff" * 100, 400, "file_malformed"),
    ({"X-Api-Key": "KEY"}, b"{" * 100_000, 413, "file_too_large"),
    ({"X-Api-Key": "KEY"}, b'{"format":"offline-licensing"}', 400, "file_malformed"),
])
def test_malformed_api_requests_get_a_clear_4xx(online_lab: Lab, server: str, headers: dict[str, str],
                                                 body: bytes | str, status: int, code: str) -> None:
    key = online_lab.issue()
    content = _request_bytes(online_lab, key) if body == "request" else body
    headers = {k: (_api_key(online_lab) if v == "KEY" else v) for k, v in headers.items()}
    answer = httpx.post(f"{server}/api/v1/activate", content=content, headers=headers, timeout=5)
    assert answer.status_code == status
    data = answer.json()
    assert data["ok"] is False and data["code"] == code and data["message"] and data["hint"]
    assert _active_devices(online_lab, key) == 0
    assert httpx.get(f"{server}/api/v1/ping", timeout=5).json()["ok"] is True  # still serving


def test_a_response_posted_as_a_request_is_the_wrong_file_type(online_lab: Lab, server: str) -> None:
    key = online_lab.issue(max_activations=2)
    response = online_lab.respond(online_lab.manager("device-Y").create_offline_activation_file(LicenseID.from_key(key)))
    answer = httpx.post(f"{server}/api/v1/activate", content=response.read_bytes(),
                        headers={"X-Api-Key": _api_key(online_lab)}, timeout=5)
    assert answer.status_code == 415 and answer.json()["code"] == "wrong_file_type"


def test_openapi_schema_documents_the_api(server: str) -> None:
    schema = httpx.get(f"{server}/api/v1/openapi.json", timeout=5).json()
    for path in ("/api/v1/ping", "/api/v1/health", "/api/v1/activate", "/api/v1/check", "/api/v1/deactivate",
                 "/api/v1/consumption", "/api/v1/refresh"):
        assert path in schema["paths"]
    assert "requestBody" in schema["paths"]["/api/v1/activate"]["post"]


# -- activation counting under concurrency (SQLite and PostgreSQL) -----------------------------


def _race(lab: Lab, url: str, key: str, devices: int) -> tuple[list[LicenseManager], int]:
    """Activate from many devices at once; return the winners and the number refused."""
    managers = [_device(lab, url, f"racer-{n}") for n in range(devices)]
    barrier = threading.Barrier(devices)

    def attempt(manager: LicenseManager) -> bool:
        barrier.wait()
        try:
            manager.activate_license(LicenseID.from_key(key))
        except MaxActivationsReachedError:
            return False
        return True

    with concurrent.futures.ThreadPoolExecutor(devices) as pool:
        won = list(pool.map(attempt, managers))
    return [m for m, ok in zip(managers, won) if ok], won.count(False)


@pytest.mark.slow
def test_simultaneous_activations_never_exceed_the_maximum(online_lab: Lab) -> None:
    key = online_lab.issue(max_activations=4)
    with _portal(online_lab, workers=2) as url:
        winners, refused = _race(online_lab, url, key, 12)
    assert (len(winners), refused) == (4, 8)
    assert _active_devices(online_lab, key) == 4


def test_the_api_answers_unknown_paths_and_methods_itself_in_json(server: str) -> None:
    """Everything under /api/ is the API's: JSON refusals with a code, never a portal page or a cookie."""
    cases = [("GET", "/api/v1/nowhere", 404, "not_found"), ("GET", "/api/v2/check", 404, "not_found"),
             ("GET", "/api/v1/check", 405, "method_not_allowed"), ("POST", "/api/v1/ping", 405, "method_not_allowed"),
             ("DELETE", "/api/v1/activate", 405, "method_not_allowed")]
    for method, path, status, code in cases:
        answer = httpx.request(method, server + path, timeout=5)
        assert answer.status_code == status, (method, path)
        body = answer.json()
        assert body["ok"] is False and body["code"] == code and body["message"] and body["hint"], body
        assert answer.headers["x-content-type-options"] == "nosniff" and "set-cookie" not in answer.headers
        if status == 405:
            assert answer.headers["allow"] in ("GET, HEAD", "POST")
    ping = httpx.get(server + "/api/v1/ping", timeout=5)
    assert ping.headers["cache-control"] == "no-store" and "content-security-policy" not in ping.headers
    head = httpx.head(server + "/api/v1/ping", timeout=5)
    assert head.status_code == 200 and head.content == b"" and head.headers["content-length"] == str(len(ping.content))


def test_a_huge_declared_body_is_refused_without_reading_it(server: str) -> None:
    head, closed = send_huge_body(server, "/api/v1/activate")
    assert head.startswith(b"http/1.1 413") and b"connection: close" in head and closed


def test_api_refusal_bodies_are_json_objects_for_every_endpoint(online_lab: Lab, server: str) -> None:
    for endpoint in ("activate", "check", "refresh", "deactivate", "consumption"):
        answer = httpx.post(f"{server}/api/v1/{endpoint}", content=b"not json",
                            headers={"X-Api-Key": _api_key(online_lab)}, timeout=5)
        assert answer.status_code == 400, endpoint
        assert set(json.loads(answer.content)) == {"ok", "code", "message", "hint"}
