"""Answers are idempotent by request id, and the seat count stays exact, on SQLite and PostgreSQL.

A client whose answer was lost (the server was killed mid-request, the connection dropped) sends
the same request again. It must get the same answer back, never a second seat, a second booking
or a "replayed" refusal; while a *different* request that reuses an answered id, or a request
whose activation has ended since, is still refused. Here the issuer is called directly, the way
every front (portal page, JSON API, ``respond``) calls it; ``test_failover.py`` does the same
through HAProxy with a server killed.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from sqlalchemy import func, select, text

from licensing import LicenseError, LicenseID, LicenseManager, RequestReplayedError, ServerUnreachableError
from licensing.issuing import catalog
from licensing.issuing.issuer import ActivationAnswer
from licensing.issuing.models import AnsweredRequest, Device, License
from licensing.issuing.workspace import VendorWorkspace
from licensing.wire import ACTIVATION_REQUEST, Envelope, crypto, encode_device_signed

from support.lab import Lab
from support.pg_cluster import wait_for_lock_waiters
from support.whitebox import store_of


@pytest.fixture
def lab(online_lab: Lab) -> Lab:
    """The lab on SQLite, then on PostgreSQL."""
    return online_lab


def seats(lab: Lab, key: str) -> tuple[int, int]:
    """The kept seat count and the count of active device rows: always equal."""
    with lab.vendor.store.session() as session:
        license = catalog.get_license(session, key)
        counted = session.scalar(select(func.count()).select_from(Device).where(
            Device.license_id == license.id, Device.active.is_(True)))
        return license.active_devices, counted or 0


def rows(lab: Lab) -> tuple[int, int]:
    with lab.vendor.store.session() as session:
        return (session.scalar(select(func.count()).select_from(Device)) or 0,
                session.scalar(select(func.count()).select_from(AnsweredRequest)) or 0)


def request_for(lab: Lab, device: str, key: str) -> bytes:
    return lab.manager(device).create_offline_activation_file(LicenseID.from_key(key)).read_bytes()


def test_the_same_activation_request_gets_the_same_file_and_one_seat(lab: Lab) -> None:
    key = lab.issue(max_activations=3)
    data = request_for(lab, "device-A", key)
    first = lab.vendor.issuer.answer_activation(data)
    assert first.first_answered_at is None
    for _ in range(3):
        again = lab.vendor.issuer.answer_activation(data)
        assert again.data == first.data and again.device_id == first.device_id
        assert again.first_answered_at is not None and again.total_activations == 1
    assert seats(lab, key) == (1, 1) and rows(lab) == (1, 1)


def test_the_same_request_sent_at_once_from_many_threads_makes_one_device(lab: Lab) -> None:
    """Retries that overlap the first attempt (a client that gave up too early): one seat, one answer."""
    key = lab.issue(max_activations=3)
    data = request_for(lab, "device-A", key)
    start = threading.Barrier(8)
    answers: list[bytes | Exception] = []

    def send() -> None:
        start.wait()
        try:
            answers.append(lab.vendor.issuer.answer_activation(data).data)
        except Exception as error:  # noqa: BLE001 - recorded and asserted below
            answers.append(error)

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(answers) == 8 and all(isinstance(answer, bytes) for answer in answers), answers
    assert len(set(answers)) == 1
    assert seats(lab, key) == (1, 1) and rows(lab) == (1, 1)


def test_another_request_reusing_an_answered_id_is_a_replay(lab: Lab) -> None:
    key = lab.issue(max_activations=3)
    data = request_for(lab, "device-A", key)
    lab.vendor.issuer.answer_activation(data)
    # Someone who saw the request file makes their own, for their own machine, under its request id.
    body = json.loads(Envelope.parse(data).payload)
    for name in ("typ", "v", "device_key"):
        body.pop(name)
    body["hardware_id"] = "another-machine"
    shared = lab.config().shared_key.encode("utf-8")
    forged = encode_device_signed(ACTIVATION_REQUEST, body, crypto.Ed25519PrivateKey.generate(), shared)
    with pytest.raises(RequestReplayedError):
        lab.vendor.issuer.answer_activation(forged)
    assert seats(lab, key) == (1, 1) and rows(lab) == (1, 1)


def test_a_request_whose_activation_has_ended_is_a_replay(lab: Lab) -> None:
    key = lab.issue(max_activations=3)
    manager = lab.manager("device-A")
    data = manager.create_offline_activation_file(LicenseID.from_key(key)).read_bytes()
    response = manager.config.requests_dir / "ls_activation.lic"
    response.write_bytes(lab.vendor.issuer.answer_activation(data).data)
    license = manager.activate_license_offline(response)
    lab.vendor.issuer.answer_deactivation(license.deactivate_offline().read_bytes())
    with pytest.raises(RequestReplayedError, match="ended since"):
        lab.vendor.issuer.answer_activation(data)
    assert seats(lab, key) == (0, 0)


def test_a_deactivation_sent_again_gets_the_same_receipt_and_frees_one_seat(lab: Lab) -> None:
    key = lab.issue("consumption", max_consumptions=10, max_activations=3)
    lab.activate(lab.manager("device-B"), key)
    license = lab.activate(lab.manager("device-A"), key)
    license.add_local_consumption(4)
    data = license.deactivate_offline().read_bytes()
    first = lab.vendor.issuer.answer_deactivation(data)
    again = lab.vendor.issuer.answer_deactivation(data)
    assert again.first_answered_at is not None and first.first_answered_at is None
    assert again.to_dict() == first.to_dict() and first.total_activations == 1
    assert seats(lab, key) == (1, 1)
    with lab.vendor.store.session() as session:
        assert catalog.get_license(session, key).total_consumptions == 4  # booked once


def test_a_consumption_report_sent_again_is_booked_once(lab: Lab) -> None:
    key = lab.issue("consumption", max_consumptions=10)
    manager = lab.manager("device-A", server_url="http://127.0.0.1:9")  # nothing listens: the report stays pending
    license = lab.activate(manager, key)
    license.add_local_consumption(3)
    with pytest.raises(ServerUnreachableError):
        license.sync_consumption()
    pending = store_of(manager).read_state().pending_sync
    assert pending is not None
    answers = [lab.vendor.issuer.answer_consumption_report(pending.request) for _ in range(3)]
    with lab.vendor.store.session() as session:
        assert catalog.get_license(session, key).total_consumptions == 3
    totals = {json.loads(Envelope.parse(answer).payload)["license"]["total_consumptions"] for answer in answers}
    assert totals == {3}


def test_the_kept_seat_count_follows_every_way_a_seat_is_taken_or_freed(lab: Lab) -> None:
    key = lab.issue(max_activations=4)
    a = lab.activate(lab.manager("device-A"), key)
    lab.activate(lab.manager("device-B"), key)
    assert seats(lab, key) == (2, 2)
    lab.activate(lab.manager("device-B"), key)  # the copy that holds the activation asks again: one seat
    assert seats(lab, key) == (2, 2)
    lab.vendor.issuer.answer_deactivation(a.deactivate_offline().read_bytes())
    assert seats(lab, key) == (1, 1)
    c = lab.activate(lab.manager("device-C"), key)
    with lab.vendor.store.session() as session:
        catalog.reset_device(session, lab.clock(), catalog.get_device(session, c.device_id))
    with lab.vendor.store.session() as session:  # resetting twice frees one seat
        catalog.reset_device(session, lab.clock(), catalog.get_device(session, c.device_id))
    assert seats(lab, key) == (1, 1)
    for device in ("device-D", "device-E", "device-F"):
        lab.activate(lab.manager(device), key)
    assert seats(lab, key) == (4, 4)
    with pytest.raises(LicenseError, match="4 of its 4"):
        lab.activate(lab.manager("device-G"), key)
    with lab.vendor.store.session() as session:
        assert session.scalar(select(License.active_devices).where(License.key == key)) == 4


def test_unknown_devices_and_licenses_are_refused_before_anything_is_written(lab: Lab) -> None:
    key = lab.issue(max_activations=2)
    manager: LicenseManager = lab.manager("device-A")
    license = lab.activate(manager, key)
    data = license.deactivate_offline().read_bytes()
    with lab.vendor.store.session() as session:
        catalog.reset_device(session, lab.clock(), catalog.get_device(session, license.device_id))
    before = rows(lab)
    with pytest.raises(RequestReplayedError, match="already deactivated"):
        lab.vendor.issuer.answer_deactivation(data)
    assert rows(lab) == before and seats(lab, key) == (0, 0)


def _racing_on_a_locked_license(lab: Lab, key: str, requests: list[bytes]) -> list[Any]:
    """Send ``requests`` to two servers on one PostgreSQL database while the license's row is locked.

    Both servers wait for the lock; it is released once both wait. Under READ COMMITTED a
    statement that waited for a row lock sees the locked row anew but the rows it joined as they
    were before the wait: what one server committed must still be seen by the other.
    """
    other = VendorWorkspace.open(lab.vendor.folder, clock=lab.clock, database_url=lab.database_url)
    outcomes: list[Any] = []

    def send(issuer: Any, data: bytes) -> None:
        try:
            outcomes.append(issuer.answer_activation(data))
        except Exception as error:  # noqa: BLE001 - recorded and asserted by the caller
            outcomes.append(error)

    try:
        with lab.vendor.store.engine.connect() as holder:
            holder.execute(text("SELECT id FROM licenses WHERE key = :key FOR UPDATE"), {"key": key})
            threads = [threading.Thread(target=send, args=(issuer, data))
                       for issuer, data in zip((lab.vendor.issuer, other.issuer), requests)]
            for thread in threads:
                thread.start()
            wait_for_lock_waiters(lab.vendor.store.engine, 2)
            holder.rollback()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        other.close()
    return outcomes


@pytest.mark.parametrize("online_lab", ["postgresql"], indirect=True)
def test_the_same_request_sent_to_two_servers_at_once_gets_the_first_answer_on_both(lab: Lab) -> None:
    """The second server must find the first one's answer and hand it out again, not fail on its primary key."""
    key = lab.issue(max_activations=3)
    data = request_for(lab, "device-A", key)
    answers = _racing_on_a_locked_license(lab, key, [data, data])
    assert len(answers) == 2 and all(isinstance(answer, ActivationAnswer) for answer in answers), answers
    assert answers[0].data == answers[1].data
    assert seats(lab, key) == (1, 1) and rows(lab) == (1, 1)


@pytest.mark.parametrize("online_lab", ["postgresql"], indirect=True)
def test_two_copies_on_one_machine_sent_to_two_servers_at_once_get_one_activation(lab: Lab) -> None:
    """The second server must see the device the first one just added on that machine, and refuse its copy."""
    key = lab.issue(max_activations=3)
    copies = [lab.manager(f"folder-{n}", hardware_id="one-machine").create_offline_activation_file(
        LicenseID.from_key(key)).read_bytes() for n in range(2)]
    outcomes = _racing_on_a_locked_license(lab, key, copies)
    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["ActivationAnswer", "DeviceAlreadyActivatedError"]
    assert seats(lab, key) == (1, 1) and rows(lab) == (1, 1)
