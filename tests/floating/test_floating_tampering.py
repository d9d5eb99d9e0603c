"""Attacks on floating seats: every one refused, typed, and nothing granted or stretched by it.

The attacker sits on the network (an HTTP man in the middle on 127.0.0.1, ``support.floating.
Interceptor``, in front of a real floating server), runs servers of its own (a rogue vendor's, or
a second genuine one), sends requests of its own, or holds the machine (``support.whitebox``).
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from licensing import (
    LicenseError,
    LicenseFileError,
    RequestMismatchError,
    SignatureInvalidError,
    SignatureMismatchError,
    StorageCorruptError,
    UnknownSigningKeyError,
)
from licensing.wire import FLOATING_API_PREFIX, LEASE_HEARTBEAT, LEASE_REQUEST, MAX_FILE_SIZE, Envelope, crypto

from support.floating import FloatingLab, Interceptor
from support.lab import FakeClock
from support.portal_server import send_huge_body
from support.whitebox import store_of

LEASE = FLOATING_API_PREFIX + "/lease"
HEARTBEAT = FLOATING_API_PREFIX + "/heartbeat"
RELEASE = FLOATING_API_PREFIX + "/release"
CERTIFICATE = FLOATING_API_PREFIX + "/certificate"


def _edited_payload(envelope_bytes: bytes, change: dict[str, object]) -> bytes:
    """The same envelope with fields of its payload changed, and the old signature kept."""
    envelope = Envelope.parse(envelope_bytes)
    payload = json.loads(envelope.payload)
    payload.update(change)
    edited = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("ascii")
    return Envelope(typ=envelope.typ, payload=edited, signature=envelope.signature, kid=envelope.kid,
                    mac=envelope.mac).encode()


# -- an edited lease ---------------------------------------------------------------------------------


@pytest.mark.parametrize("edit", [
    pytest.param(lambda lease: _edited_payload(lease, {"expires_at": "2099-01-01T00:00:00.000000Z"}), id="expiry"),
    pytest.param(lambda lease: _edited_payload(lease, {"slot": 1}), id="seat"),
    pytest.param(lambda lease: _edited_payload(lease, {"kind": "borrow"}), id="kind"),
    pytest.param(lambda lease: lease[:-20] + b"\n", id="truncated"),
    pytest.param(lambda lease: lease.replace(b'"signature":"', b'"signature":"A', 1), id="signature"),
    pytest.param(lambda lease: lease.replace(b"{", b"{ ", 1), id="layout"),
    pytest.param(lambda lease: b"\x00\xff" * 40, id="binary"),
])
def test_an_edited_lease_is_refused(floating: FloatingLab, url: str, edit: object) -> None:
    with Interceptor(url) as network:
        network.rewrite = lambda exchange: (200, edit(exchange.answer)) if exchange.path == LEASE else None  # type: ignore[operator]
        client = floating.client(network.url, "ws-1")
        with pytest.raises(LicenseFileError) as refused:
            client.request_lease()
    assert refused.value.code in {"signature_invalid", "file_malformed"}


def test_an_edited_heartbeat_answer_leaves_the_lease_as_it_was(floating: FloatingLab, url: str,
                                                               clock: FakeClock) -> None:
    with Interceptor(url) as network:
        lease = floating.client(network.url, "ws-1").request_lease()
        end = lease.expires
        network.rewrite = lambda exchange: ((200, _edited_payload(exchange.answer, {"expires_at": "2099-01-01T00:00:00.000000Z"}))
                                            if exchange.path == HEARTBEAT else None)
        with pytest.raises(SignatureInvalidError):
            lease.renew()
    assert lease.expires == end
    clock.advance(seconds=60)
    with pytest.raises(LicenseError):
        lease.local_check()


# -- a lease from another server, a server the vendor never certified -----------------------------------


def test_a_lease_from_another_floating_server_is_refused(floating: FloatingLab, url: str) -> None:
    other_site = floating.new_site("other-site", floating.issue(seats=5))
    with floating.serving(other_site) as other_url, Interceptor(other_url) as recorder:
        floating.client(recorder.url, "ws-1").request_lease()  # genuine, certified, for this workstation
        (their_lease,) = recorder.answers(LEASE)
    with Interceptor(url) as network:
        network.rewrite = lambda exchange: (200, their_lease) if exchange.path == LEASE else None
        with pytest.raises(UnknownSigningKeyError) as refused:
            floating.client(network.url, "ws-1").request_lease()
    assert "not signed by the floating server the vendor certified" in refused.value.message


def _rogue_vendor_site(tmp_path: Path, clock: FakeClock) -> FloatingLab:
    """Another vendor (its own keys) selling the same product code, with a floating server of its own."""
    return FloatingLab(tmp_path / "rogue", clock, seats=100, lease_seconds=86_400)


def test_a_floating_server_not_certified_by_the_vendor_is_refused(floating: FloatingLab, tmp_path: Path,
                                                                  clock: FakeClock) -> None:
    rogue = _rogue_vendor_site(tmp_path, clock)
    try:
        with rogue.serving() as rogue_url:
            with pytest.raises(UnknownSigningKeyError) as refused:
                floating.client(rogue_url, "ws-1").request_lease()  # trusts only the real vendor
    finally:
        rogue.lab.vendor.close()
    assert "not signed by this application's vendor" in refused.value.message


def test_leases_signed_by_a_key_the_vendor_never_certified_are_refused(floating: FloatingLab, url: str,
                                                                       tmp_path: Path, clock: FakeClock) -> None:
    """The genuine server's certificate, but leases from a rogue server's own key."""
    rogue = _rogue_vendor_site(tmp_path, clock)
    try:
        with rogue.serving() as rogue_url, Interceptor(rogue_url) as recorder:
            rogue.client(recorder.url, "ws-1").request_lease()
            (rogue_lease,) = recorder.answers(LEASE)
    finally:
        rogue.lab.vendor.close()
    with Interceptor(url) as network:
        network.rewrite = lambda exchange: (200, rogue_lease) if exchange.path == LEASE else None
        with pytest.raises(UnknownSigningKeyError):
            floating.client(network.url, "ws-1").request_lease()


def test_a_certificate_edited_to_name_another_key_is_refused(floating: FloatingLab, url: str) -> None:
    forged_key = crypto.b64encode(crypto.public_bytes(crypto.Ed25519PrivateKey.generate().public_key()))
    with Interceptor(url) as network:
        network.rewrite = lambda exchange: ((200, _edited_payload(exchange.answer.split(b"\n")[0] + b"\n",
                                                                  {"device_key": forged_key}))
                                            if exchange.path == CERTIFICATE else None)
        with pytest.raises(SignatureInvalidError):
            floating.client(network.url, "ws-1").request_lease()


# -- replayed answers and requests ------------------------------------------------------------------------


def test_a_replayed_heartbeat_answer_is_refused(floating: FloatingLab, url: str, clock: FakeClock) -> None:
    with Interceptor(url) as network:
        lease = floating.client(network.url, "ws-1").request_lease()
        lease.renew()
        clock.advance(seconds=30)
        lease.renew()
        end = lease.expires
        first, second = network.answers(HEARTBEAT)
        for replayed in (first, second, network.answers(LEASE)[0]):  # older answers, and the grant itself
            network.rewrite = lambda exchange, answer=replayed: (200, answer) if exchange.path == HEARTBEAT else None
            with pytest.raises(RequestMismatchError) as refused:
                lease.renew()
            assert refused.value.code == "request_mismatch"
            assert lease.expires == end  # nothing was stretched by it


def test_a_replayed_lease_answer_gives_no_fresh_seat(floating: FloatingLab, url: str) -> None:
    """A fake server answering every request with one recorded lease would keep a seat alive forever."""
    with Interceptor(url) as network:
        client = floating.client(network.url, "ws-1")
        client.request_lease().release()
        recorded = network.answers(LEASE)[0]
        network.rewrite = lambda exchange: (200, recorded) if exchange.path == LEASE else None
        with pytest.raises(RequestMismatchError):
            client.request_lease()


def test_a_lease_answer_made_for_another_workstation_is_refused(floating: FloatingLab, url: str) -> None:
    with Interceptor(url) as network:
        floating.client(network.url, "ws-2").request_lease()
        (theirs,) = network.answers(LEASE)
        network.rewrite = lambda exchange: (200, theirs) if exchange.path == LEASE else None
        with pytest.raises(SignatureMismatchError) as refused:
            floating.client(network.url, "ws-1").request_lease()
    assert refused.value.code == "device_mismatch"


def _refusal(url: str, path: str, body: bytes) -> tuple[int, str]:
    answer = httpx.post(url + path, content=body, headers={"Content-Type": "application/json"}, timeout=10)
    data = answer.json()
    assert data["ok"] is False and data["message"] and data["hint"]
    return answer.status_code, data["code"]


def test_a_huge_declared_body_is_refused_without_reading_it(url: str) -> None:
    head, closed = send_huge_body(url, LEASE)
    assert head.startswith(b"http/1.1 413") and b"connection: close" in head and closed


def test_replayed_and_forged_requests_are_refused_by_the_server(floating: FloatingLab, url: str) -> None:
    with Interceptor(url) as network:
        lease = floating.client(network.url, "ws-1").request_lease()
        lease.renew()
        grant_request = next(e.request for e in network.recorded if e.path == LEASE)
        heartbeat_request = next(e.request for e in network.recorded if e.path == HEARTBEAT)
    assert _refusal(url, LEASE, grant_request) == (409, "request_replayed")
    assert _refusal(url, HEARTBEAT, heartbeat_request) == (409, "request_replayed")  # an older sequence
    assert _refusal(url, LEASE, _edited_payload(grant_request, {"client": "mallory"})) == (400, "signature_invalid")
    assert _refusal(url, LEASE, heartbeat_request) == (415, "wrong_file_type")
    posing = heartbeat_request.replace(b'"typ":"lease-heartbeat"', b'"typ":"lease-request"')  # type confusion
    assert _refusal(url, LEASE, posing) in {(400, "file_malformed"), (400, "signature_invalid")}
    assert _refusal(url, LEASE, b"not a request") == (400, "file_malformed")
    assert _refusal(url, LEASE, b"{" * (MAX_FILE_SIZE + 10)) == (413, "file_too_large")
    assert _refusal(url, HEARTBEAT, grant_request)[1] == "wrong_file_type"
    # a release made by another workstation (its own key) for this workstation's seat
    intruder = floating.client(url, "ws-2")
    intruder.certificate()
    forged, _ = intruder._signed_request("lease-release", intruder.certificate(), lease_id=lease.lease_id,
                                         sequence=lease._held.grant.sequence)
    assert _refusal(url, RELEASE, forged) == (404, "lease_not_found")
    assert lease.local_check().ok and intruder.seats().used == 1


def test_a_request_made_for_one_server_is_refused_by_another(floating: FloatingLab, url: str) -> None:
    with Interceptor(url) as network:
        floating.client(network.url, "ws-1").request_lease()
        grant_request = next(e.request for e in network.recorded if e.path == LEASE)
    other_site = floating.new_site("other-site", floating.issue(seats=5))
    with floating.serving(other_site) as other_url:
        assert _refusal(other_url, LEASE, grant_request) == (400, "request_mismatch")


def test_a_request_with_another_products_keys_is_refused(floating: FloatingLab, url: str, tmp_path: Path,
                                                         clock: FakeClock) -> None:
    rogue = _rogue_vendor_site(tmp_path, clock)  # same product code, other api key and shared key
    try:
        client = rogue.client(url, "ws-1")
        certificate = floating.client(url, "ws-1").certificate()
        request, _ = client._signed_request(LEASE_REQUEST, certificate)
    finally:
        rogue.lab.vendor.close()
    assert _refusal(url, LEASE, request) == (403, "product_configuration")


def test_unknown_paths_and_methods_are_refused_in_words(url: str) -> None:
    assert httpx.get(url + "/nowhere").status_code == 404
    answer = httpx.get(url + LEASE)
    assert answer.status_code == 405 and answer.json()["ok"] is False
    assert httpx.post(url + HEARTBEAT, content=b"").json()["code"] == "file_malformed"


# -- the machine: a borrowed seat at rest -------------------------------------------------------------


def test_an_edited_borrowed_seat_on_disk_is_refused(floating: FloatingLab, url: str) -> None:
    floating.client(url, "laptop").borrow(timedelta(hours=2))
    stored = floating.data_dir("laptop") / "chatbot" / "floating.dat"
    data = bytearray(stored.read_bytes())
    data[len(data) // 2] ^= 0x01
    stored.write_bytes(bytes(data))
    with pytest.raises(StorageCorruptError):
        floating.client(url, "laptop").borrowed_lease()


def test_a_borrowed_seat_carried_to_another_computer_is_refused(floating: FloatingLab, url: str) -> None:
    """The attacker holds both machines' keys and re-seals the laptop's files for another computer."""
    laptop = floating.manager("laptop")
    laptop.floating(url).borrow(timedelta(hours=2))
    desktop = floating.manager("desktop")
    source, target = store_of(laptop), store_of(desktop)
    with source.locked(), target.locked():
        target.write_state(source.read_state())  # the laptop's device key, too
        record = source.read_floating()
        assert record is not None
        target.write_floating(record)
    with pytest.raises(SignatureMismatchError) as refused:
        desktop.floating(url).borrowed_lease()
    assert refused.value.code == "device_mismatch"


def test_a_borrowed_lease_signed_for_this_computer_but_edited_inside_the_store_is_refused(
        floating: FloatingLab, url: str) -> None:
    laptop = floating.manager("laptop")
    laptop.floating(url).borrow(timedelta(hours=2))
    store = store_of(laptop)
    with store.locked():
        record = store.read_floating()
        assert record is not None
        lease = record["borrow"]["lease"].encode("ascii")
        record["borrow"]["lease"] = _edited_payload(lease, {"expires_at": "2099-01-01T00:00:00.000000Z"}).decode()
        store.write_floating(record)
    with pytest.raises(StorageCorruptError):
        laptop.floating(url).borrowed_lease()


def test_the_lease_type_has_its_own_signature_domain() -> None:
    """A signature made over the same bytes for another artefact type never verifies as a lease."""
    key = crypto.Ed25519PrivateKey.generate()
    payload = b'{"typ":"floating-lease"}'
    for other in (LEASE_REQUEST, LEASE_HEARTBEAT, "activation-response", "license-refresh"):
        assert not crypto.verify(key.public_key(), "floating-lease", payload, crypto.sign(key, other, payload))



def test_a_workstation_name_cannot_smuggle_control_characters_into_the_seat_list(floating: FloatingLab,
                                                                                 url: str) -> None:
    floating.manager("ws-1").floating(url, client_name="mallory\x1b[2J\r\nseat 1 free" + "x" * 500).request_lease()
    (holder,) = floating.client(url, "observer").seats().holders
    assert holder.client.isprintable() and len(holder.client) <= 120 and holder.client.startswith("mallory?[2J")
