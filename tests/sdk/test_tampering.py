"""Tampering: whatever bytes a licensing file holds, a bad one is refused with a typed error.

For every artefact a device or the vendor consumes — the activation response, the activation
request, the refresh file, the deactivation request — and for every file of the local store —
``license.dat``, ``tombstones.dat``, ``.guard`` — a genuine file is built, then damaged in every
way a copy, an editor or an attacker can damage it: one byte replaced or bit-flipped anywhere,
cut short at any length, a byte inserted or deleted anywhere, bytes appended. Each damaged copy
must be refused with a :class:`licensing.LicenseError` (stable ``code`` from ``ERROR_CODES``, a
``message`` and a ``hint``), nothing else may escape, nothing may change (local store bytes,
vendor database), and the genuine file must still be accepted afterwards.

Three layers of evidence:

* exhaustive sweeps: every position of every genuine file, for four single-byte edits;
* Hypothesis: random single-byte edits, insertions, truncations and appended runs;
* a corpus of foreign inputs (empty, 10 MB, random binary, a PNG, a config file, JSON of other
  shapes, deep nesting, a file of the wrong kind, a file signed by another vendor, a folder,
  a missing path), and hand-crafted files that are validly signed but malformed inside.
"""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from licensing import (
    ERROR_CODES,
    LicenseError,
    LicenseFileError,
    LicenseID,
    LicenseManager,
)
from licensing.issuing import catalog
from licensing.issuing.issuer import ActivationAnswer, DeactivationReceipt
from licensing.issuing.models import AnsweredRequest, AuditEvent, Device
from licensing.issuing.models import License as VendorLicense
from licensing.issuing.workspace import VendorWorkspace
from licensing.wire import (
    ACTIVATION_REQUEST,
    ACTIVATION_RESPONSE,
    DEACTIVATION_REQUEST,
    LICENSE_REFRESH,
    Envelope,
    crypto,
    encode_device_signed,
    encode_signed,
)

from support.lab import PRODUCT, Lab
from support.whitebox import (
    GUARD_FILE,
    LICENSE_FILE,
    LOCK_FILE,
    TOMBSTONE_FILE,
    derive_store_key,
    device_identity,
    store_of,
)

#: every code a file that is not the genuine one may be refused with, as a file problem
FILE_CODES = frozenset(code for code, cls in ERROR_CODES.items() if issubclass(cls, LicenseFileError))
#: a request whose MAC was edited still parses and verifies (the MAC is outside the device
#: signature); the vendor then refuses it as made with a wrong product configuration
REQUEST_CODES = FILE_CODES | {"product_configuration"}

HYPOTHESIS = settings(max_examples=200, deadline=None, database=None)


# -- checking a refusal ------------------------------------------------------------------------


def check_typed(error: LicenseError) -> None:
    """The error is one of ours, with a published code, a message and a hint."""
    assert isinstance(error, LicenseError)
    assert isinstance(error.code, str) and error.code, f"{type(error).__name__} has no code"
    assert error.code in ERROR_CODES, f"{error.code!r} is not a published code"
    assert error.code == type(error).code, "a raise site changed the class's code"
    assert isinstance(error.message, str) and error.message.strip(), f"{error.code}: empty message"
    assert isinstance(error.hint, str) and error.hint.strip(), f"{error.code}: empty hint"
    assert error.to_dict() == {"code": error.code, "message": error.message, "hint": error.hint}
    assert error.code in str(error)


def refusal(action: Callable[[], object], allowed: frozenset[str] | set[str] | None = None,
            what: str = "input") -> LicenseError:
    """Run ``action``; it must raise a typed LicenseError (with a code in ``allowed``)."""
    try:
        outcome = action()
    except LicenseError as error:
        check_typed(error)
        if allowed is not None:
            assert error.code in allowed, (
                f"{what}: refused with {error.code!r} ({error.message}), expected one of {sorted(allowed)}")
        return error
    except Exception as error:  # noqa: BLE001 - exactly what must never happen
        raise AssertionError(f"{what}: an untyped {type(error).__name__} escaped: {error!r}") from error
    raise AssertionError(f"{what}: the damaged input was ACCEPTED (returned {outcome!r})")


# -- mutations ---------------------------------------------------------------------------------


def _replace(data: bytes, index: int, value: int) -> bytes:
    return data[:index] + bytes([value]) + data[index + 1:]


def sweep(genuine: bytes) -> Iterator[tuple[str, bytes]]:
    """Deterministic single edits at every position: bit flip, deletion, duplication, truncation."""
    for i, old in enumerate(genuine):
        yield f"xor 0x01 at {i}", _replace(genuine, i, old ^ 0x01)
        yield f"delete at {i}", genuine[:i] + genuine[i + 1:]
        yield f"duplicate at {i}", genuine[:i] + genuine[i:i + 1] + genuine[i:]
        yield f"truncate to {i}", genuine[:i]


@st.composite
def mutated(draw: st.DrawFn, genuine: bytes) -> tuple[str, bytes]:
    n = len(genuine)
    kind = draw(st.sampled_from(("replace", "flip", "truncate", "insert", "append", "delete")))
    if kind == "replace":
        i = draw(st.integers(0, n - 1))
        value = draw(st.integers(0, 255).filter(lambda b: b != genuine[i]))
        return f"replace {i} with {value:#04x}", _replace(genuine, i, value)
    if kind == "flip":
        i, bit = draw(st.integers(0, n - 1)), draw(st.integers(0, 7))
        return f"flip bit {bit} at {i}", _replace(genuine, i, genuine[i] ^ (1 << bit))
    if kind == "truncate":
        length = draw(st.integers(0, n - 1))
        return f"truncate to {length}", genuine[:length]
    if kind == "insert":
        i, value = draw(st.integers(0, n)), draw(st.integers(0, 255))
        return f"insert {value:#04x} at {i}", genuine[:i] + bytes([value]) + genuine[i:]
    if kind == "append":
        tail = draw(st.binary(min_size=1, max_size=64))
        return f"append {tail!r}", genuine + tail
    i = draw(st.integers(0, n - 1))
    return f"delete at {i}", genuine[:i] + genuine[i + 1:]


# -- snapshots ---------------------------------------------------------------------------------


def store_bytes(manager: LicenseManager) -> dict[str, bytes]:
    """Every file of the local store, byte for byte (the lock file aside)."""
    folder = manager.config.product_dir
    if not folder.is_dir():
        return {}
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file() and p.name != LOCK_FILE}


def vendor_snapshot(lab: Lab) -> tuple[Any, ...]:
    with lab.vendor.store.session() as session:
        return (
            session.scalar(select(func.count()).select_from(Device)),
            session.scalar(select(func.count()).select_from(Device).where(Device.active.is_(True))),
            session.scalar(select(func.count()).select_from(AnsweredRequest)),
            session.scalar(select(func.count()).select_from(AuditEvent)),
            tuple(session.execute(select(VendorLicense.id, VendorLicense.revision,
                                         VendorLicense.total_consumptions).order_by(VendorLicense.id))),
        )


def device_active(lab: Lab, device_id: str) -> bool:
    with lab.vendor.store.session() as session:
        return bool(session.get(Device, device_id).active)


# -- genuine files of every kind, for "right file, wrong place" -------------------------------


@dataclass
class SideFiles:
    """Genuine artefacts from another device of the same vendor, and from another vendor."""

    response: bytes
    refresh: bytes
    request: bytes
    deactivation: bytes
    other_vendor_response: bytes
    other_vendor_refresh: bytes
    other_vendor_request: bytes


def side_files(lab: Lab) -> SideFiles:
    key = lab.issue("perpetual", max_activations=5)
    manager = lab.manager("device-Z")
    request = manager.create_offline_activation_file(LicenseID.from_key(key))
    response = lab.respond(request)
    license = manager.activate_license_offline(response)
    with lab.vendor.store.session() as session:
        catalog.add_feature(session, lab.clock(), catalog.get_license(session, key), "side")
    refresh = lab.vendor.issuer.refresh(key, license.device_id)
    pending = lab.manager("device-Y").create_offline_activation_file(
        LicenseID.from_key(key), lab.root / "device-Y" / "pending.req").read_bytes()
    deactivation = license.deactivate_offline().read_bytes()

    # Another vendor, same product code, a device with the same hardware id as the tests use.
    other = VendorWorkspace.create(lab.root / "other-vendor", clock=lab.clock)
    try:
        with other.store.session() as session:
            catalog.add_product(session, lab.clock(), PRODUCT, "Chatbot")
            other_key = catalog.issue_license(session, lab.clock(), catalog.get_product(session, PRODUCT),
                                              catalog.LicenseSpec("perpetual")).key
        config = other.client_configuration(PRODUCT, data_dir=lab.root / "other-device" / "data",
                                            request_dir=lab.root / "other-device", hardware_id="device-A",
                                            clock=lab.clock)
        other_manager = LicenseManager(config)
        other_request = other_manager.create_offline_activation_file(LicenseID.from_key(other_key)).read_bytes()
        other_response = other.issuer.answer_activation(other_request).data
        other_path = lab.root / "other-device" / "ls_activation.lic"
        other_path.write_bytes(other_response)
        other_license = other_manager.activate_license_offline(other_path)
        with other.store.session() as session:
            catalog.add_feature(session, lab.clock(), catalog.get_license(session, other_key), "other")
            catalog.add_feature(session, lab.clock(), catalog.get_license(session, other_key), "more")
        other_refresh = other.issuer.refresh(other_key, other_license.device_id)
        other_request_2 = other_manager.create_offline_activation_file(
            LicenseID.from_key(other_key), lab.root / "other-device" / "second.req").read_bytes()
    finally:
        other.close()
    return SideFiles(response=response.read_bytes(), refresh=refresh, request=pending, deactivation=deactivation,
                     other_vendor_response=other_response, other_vendor_refresh=other_refresh,
                     other_vendor_request=other_request_2)


# -- targets: one genuine artefact and the consumer that must refuse its damaged copies -------


@dataclass
class Target:
    name: str
    genuine: bytes
    feed: Callable[[bytes], object]  # hand these bytes to the consumer
    snapshot: Callable[[], object]  # what must not change when a bad input is refused
    allowed: frozenset[str]  # codes a damaged copy may be refused with
    finish: Callable[[], None]  # the genuine file is still accepted afterwards (asserts inside)
    garbage_code: str | None = None  # the one code any foreign input gets (None: per case)
    envelope: bytes = b""  # a genuine signed file, the base of the JSON-shaped foreign inputs
    path_feed: Callable[[Path], object] | None = None  # consumers that are given a path
    wrong: Callable[[SideFiles], dict[str, tuple[bytes, str]]] = field(default=lambda side: {})


def _activation_response(lab: Lab) -> Target:
    key = lab.issue("perpetual", features=("jokes",))
    manager = lab.manager("device-A")
    request = manager.create_offline_activation_file(LicenseID.from_key(key))
    genuine_path = lab.respond(request, manager.config.requests_dir / "genuine.lic")
    bad = manager.config.requests_dir / "ls_activation.lic"

    def feed(data: bytes) -> object:
        bad.write_bytes(data)
        return manager.activate_license_offline(bad)

    def snapshot() -> object:
        return store_bytes(manager), manager.reload_license()

    def finish() -> None:
        license = manager.activate_license_offline(genuine_path)
        license.local_check()
        assert license.key == key and license.has_feature("jokes")
        assert LicenseManager(manager.config).reload_license().device_id == license.device_id

    def wrong(side: SideFiles) -> dict[str, tuple[bytes, str]]:
        return {"refresh file": (side.refresh, "wrong_file_type"),
                "activation request": (request.read_bytes(), "wrong_file_type"),
                "deactivation request": (side.deactivation, "wrong_file_type"),
                "response of another vendor": (side.other_vendor_response, "unknown_signing_key"),
                "response for another device": (side.response, "device_mismatch")}

    return Target("activation response", genuine_path.read_bytes(), feed, snapshot, FILE_CODES, finish,
                  path_feed=manager.activate_license_offline, wrong=wrong, envelope=genuine_path.read_bytes())


def _activation_request(lab: Lab) -> Target:
    key = lab.issue("perpetual", max_activations=1)
    manager = lab.manager("device-A")
    request = manager.create_offline_activation_file(LicenseID.from_key(key))
    genuine = request.read_bytes()

    def finish() -> None:
        before = vendor_snapshot(lab)
        answer = lab.vendor.issuer.answer(genuine)
        assert isinstance(answer, ActivationAnswer) and answer.license_key == key
        assert vendor_snapshot(lab)[1] == before[1] + 1
        response = manager.config.requests_dir / "ls_activation.lic"
        response.write_bytes(answer.data)
        manager.activate_license_offline(response).local_check()

    def wrong(side: SideFiles) -> dict[str, tuple[bytes, str]]:
        return {"activation response": (side.response, "wrong_file_type"),
                "refresh file": (side.refresh, "wrong_file_type"),
                "request made for another vendor": (side.other_vendor_request, "product_configuration")}

    return Target("activation request", genuine, lab.vendor.issuer.answer, lambda: vendor_snapshot(lab),
                  REQUEST_CODES, finish, wrong=wrong, envelope=genuine)


def _license_refresh(lab: Lab) -> Target:
    key = lab.issue("perpetual")
    manager = lab.manager("device-A")
    license = lab.activate(manager, key)
    response = (manager.config.requests_dir / "ls_activation.lic").read_bytes()
    with lab.vendor.store.session() as session:
        catalog.add_feature(session, lab.clock(), catalog.get_license(session, key), "jokes")
    genuine = lab.vendor.issuer.refresh(key, license.device_id)
    bad = manager.config.requests_dir / "license_refresh.lic"

    def feed(data: bytes) -> object:
        bad.write_bytes(data)
        return license.update_offline(bad)

    def snapshot() -> object:
        return license.revision, license.features(), store_bytes(manager)

    def finish() -> None:
        assert license.revision == 1 and not license.has_feature("jokes")
        path = manager.config.requests_dir / "genuine_refresh.lic"
        path.write_bytes(genuine)
        license.update_offline(path)
        assert license.revision == 2 and license.has_feature("jokes")
        assert LicenseManager(manager.config).reload_license().revision == 2

    def wrong(side: SideFiles) -> dict[str, tuple[bytes, str]]:
        return {"activation response": (response, "wrong_file_type"),
                "activation request": (side.request, "wrong_file_type"),
                "deactivation request": (side.deactivation, "wrong_file_type"),
                "refresh of another vendor": (side.other_vendor_refresh, "unknown_signing_key"),
                "refresh for another device": (side.refresh, "device_mismatch")}

    return Target("license refresh", genuine, feed, snapshot, FILE_CODES, finish,
                  path_feed=license.update_offline, wrong=wrong, envelope=genuine)


def _deactivation_request(lab: Lab) -> Target:
    key = lab.issue("consumption", max_consumptions=10)
    manager = lab.manager("device-A")
    license = lab.activate(manager, key)
    license.add_local_consumption(2)
    device_id = license.device_id
    genuine = license.deactivate_offline().read_bytes()

    def finish() -> None:
        assert device_active(lab, device_id)
        receipt = lab.vendor.issuer.answer(genuine)
        assert isinstance(receipt, DeactivationReceipt) and receipt.consumptions_booked == 2
        assert not device_active(lab, device_id)

    def wrong(side: SideFiles) -> dict[str, tuple[bytes, str]]:
        return {"activation response": (side.response, "wrong_file_type"),
                "refresh file": (side.refresh, "wrong_file_type")}

    return Target("deactivation request", genuine, lab.vendor.issuer.answer,
                  lambda: (vendor_snapshot(lab), device_active(lab, device_id)), REQUEST_CODES, finish, wrong=wrong,
                  envelope=genuine)


def _load_and_check(manager: LicenseManager) -> object:
    """What a new process does with the store: load the license from disk and check it."""
    found = LicenseManager(manager.config).reload_license()
    if found is not None:
        found.local_check()
    return found


def _store_file(lab: Lab, manager: LicenseManager, name: str) -> tuple[Path, bytes]:
    path = manager.config.product_dir / name
    return path, path.read_bytes()


def _license_dat(lab: Lab) -> Target:
    key = lab.issue("consumption", max_consumptions=10)
    manager = lab.manager("device-A")
    lab.activate(manager, key).add_local_consumption(3)
    manager.create_offline_activation_file(LicenseID.from_key(key))  # a .guard to swap in below
    path, genuine = _store_file(lab, manager, LICENSE_FILE)
    response = (manager.config.requests_dir / "ls_activation.lic").read_bytes()

    def feed(data: bytes) -> object:
        path.write_bytes(data)
        try:
            return _load_and_check(manager)
        finally:
            path.write_bytes(genuine)

    def snapshot() -> object:
        found = LicenseManager(manager.config).reload_license()
        return store_bytes(manager), found.local_consumptions, found.device_id

    def finish() -> None:
        license = LicenseManager(manager.config).reload_license()
        license.local_check()
        assert license.local_consumptions == 3
        assert license.add_local_consumption(1) == 4

    def wrong(side: SideFiles) -> dict[str, tuple[bytes, str]]:
        return {"guard file in its place": (_sealed_sibling(lab, GUARD_FILE), "storage_corrupt"),
                "activation response in its place": (response, "storage_corrupt"),
                "license.dat of another device": (_other_device_file(lab, LICENSE_FILE), "storage_corrupt")}

    return Target("license.dat", genuine, feed, snapshot, frozenset({"storage_corrupt"}), finish,
                  garbage_code="storage_corrupt", wrong=wrong, envelope=response)


def _tombstones_dat(lab: Lab) -> Target:
    key = lab.issue("perpetual", max_activations=1)
    manager = lab.manager("device-A")
    first = lab.activate(manager, key)
    old_copy = (manager.config.product_dir / LICENSE_FILE).read_bytes()
    lab.vendor.issuer.answer(first.deactivate_offline().read_bytes())
    lab.activate(manager, key)
    path, genuine = _store_file(lab, manager, TOMBSTONE_FILE)
    response = (manager.config.requests_dir / "ls_activation.lic").read_bytes()

    def feed(data: bytes) -> object:
        path.write_bytes(data)
        try:
            return _load_and_check(manager)
        finally:
            path.write_bytes(genuine)

    def finish() -> None:
        LicenseManager(manager.config).reload_license().local_check()
        # The tombstones still work: an old copy of the deactivated license stays dead.
        current = (manager.config.product_dir / LICENSE_FILE).read_bytes()
        (manager.config.product_dir / LICENSE_FILE).write_bytes(old_copy)
        try:
            refusal(LicenseManager(manager.config).reload_license().local_check, {"license_deactivated"})
        finally:
            (manager.config.product_dir / LICENSE_FILE).write_bytes(current)

    def wrong(side: SideFiles) -> dict[str, tuple[bytes, str]]:
        return {"license file in its place": (_sealed_sibling(lab, LICENSE_FILE), "storage_corrupt"),
                "activation response in its place": (response, "storage_corrupt"),
                "tombstones.dat of another device": (_other_device_file(lab, TOMBSTONE_FILE), "storage_corrupt")}

    return Target("tombstones.dat", genuine, feed, lambda: store_bytes(manager), frozenset({"storage_corrupt"}),
                  finish, garbage_code="storage_corrupt", wrong=wrong, envelope=response)


def _guard(lab: Lab) -> Target:
    key = lab.issue("perpetual")
    manager = lab.manager("device-A")
    response = lab.respond(manager.create_offline_activation_file(LicenseID.from_key(key)))
    path, genuine = _store_file(lab, manager, GUARD_FILE)

    def feed(data: bytes) -> object:
        path.write_bytes(data)
        try:
            return LicenseManager(manager.config).activate_license_offline(response)
        finally:
            path.write_bytes(genuine)

    def finish() -> None:
        license = LicenseManager(manager.config).activate_license_offline(response)
        license.local_check()
        assert not path.exists(), "a used guard must be removed"

    def wrong(side: SideFiles) -> dict[str, tuple[bytes, str]]:
        return {"license file in its place": (_sealed_sibling(lab, LICENSE_FILE), "guard_tampered"),
                "activation response in its place": (response.read_bytes(), "guard_tampered"),
                "guard of another device": (_other_device_file(lab, GUARD_FILE), "guard_tampered")}

    return Target(".guard", genuine, feed, lambda: store_bytes(manager), frozenset({"guard_tampered"}), finish,
                  garbage_code="guard_tampered", wrong=wrong, envelope=response.read_bytes())


def _sealed_sibling(lab: Lab, name: str) -> bytes:
    """Another genuine sealed file of device-A (a role swap must not open)."""
    folder = lab.config("device-A").product_dir
    if not (folder / name).exists():
        raise AssertionError(f"device-A has no {name} to swap in")
    return (folder / name).read_bytes()


def _other_device_file(lab: Lab, name: str) -> bytes:
    """``name`` as device-B writes it: genuine, but sealed with another device's key."""
    key = lab.issue("perpetual", max_activations=2)
    manager = lab.manager("device-B")
    first = lab.activate(manager, key)
    if name == TOMBSTONE_FILE:
        first.deactivate_offline()
    if name == GUARD_FILE:
        manager.create_offline_activation_file(LicenseID.from_key(key))
    return (manager.config.product_dir / name).read_bytes()


TARGETS: dict[str, Callable[[Lab], Target]] = {
    "activation-response": _activation_response,
    "activation-request": _activation_request,
    "license-refresh": _license_refresh,
    "deactivation-request": _deactivation_request,
    "license.dat": _license_dat,
    "tombstones.dat": _tombstones_dat,
    "guard": _guard,
}


# -- 1. every position, deterministic -----------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("target_name", TARGETS)
def test_every_single_byte_edit_is_refused(lab: Lab, target_name: str) -> None:
    target = TARGETS[target_name](lab)
    before = target.snapshot()
    seen: dict[str, int] = {}
    count = 0
    for what, data in sweep(target.genuine):
        error = refusal(lambda: target.feed(data), target.allowed, f"{target.name}: {what}")
        seen[error.code] = seen.get(error.code, 0) + 1
        count += 1
    assert count == 4 * len(target.genuine)
    assert target.snapshot() == before, f"{target.name}: a refused input changed state"
    # The sweep reaches every layer, not just the parser: edits inside the base64 payload get as far
    # as the signature check, edits of a request's MAC as far as the vendor's product check.
    assert set(seen) <= target.allowed
    assert set(seen) >= DEEPEST.get(target_name, set(target.allowed)), f"{target.name}: only {seen}"
    target.finish()


DEEPEST = {
    "activation-response": {"file_malformed", "signature_invalid"},
    "license-refresh": {"file_malformed", "signature_invalid"},
    "activation-request": {"file_malformed", "signature_invalid", "product_configuration"},
    "deactivation-request": {"file_malformed", "signature_invalid", "product_configuration"},
}


# -- 2. random edits (Hypothesis) ---------------------------------------------------------------


@pytest.mark.parametrize("target_name", TARGETS)
def test_random_damage_is_refused(lab: Lab, target_name: str) -> None:
    target = TARGETS[target_name](lab)
    before = target.snapshot()

    @HYPOTHESIS
    @given(mutation=mutated(target.genuine))
    def damaged_copy_is_refused(mutation: tuple[str, bytes]) -> None:
        what, data = mutation
        assert data != target.genuine
        refusal(lambda: target.feed(data), target.allowed, f"{target.name}: {what}")
        assert target.snapshot() == before, f"{target.name}: refusing {what} changed state"

    damaged_copy_is_refused()
    target.finish()


# -- 3. foreign inputs ---------------------------------------------------------------------------

TEN_MB = 10 * 1024 * 1024
PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4"
       b"\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


def _envelope_like(genuine: bytes, **changes: Any) -> bytes:
    outer = json.loads(genuine)
    outer.update(changes)
    return json.dumps({k: v for k, v in outer.items() if v is not None}, sort_keys=True,
                      separators=(",", ":")).encode() + b"\n"


#: name -> (builder(lab, target), the code a licensing *file* consumer answers with)
CORPUS: dict[str, tuple[Callable[[Lab, Target], bytes], str]] = {
    "empty": (lambda lab, t: b"", "file_malformed"),
    "10 MB": (lambda lab, t: b"A" * TEN_MB, "file_too_large"),
    "just over the size cap": (lambda lab, t: t.genuine + b" " * (64 * 1024), "file_too_large"),
    "random binary": (lambda lab, t: random.Random(20260601).randbytes(4096), "file_malformed"),
    "PNG image": (lambda lab, t: PNG, "file_malformed"),
    "configuration file": (lambda lab, t: json.dumps(lab.config().to_file_dict(), indent=2).encode(),
                           "file_malformed"),
    "{}": (lambda lab, t: b"{}", "file_malformed"),
    "JSON array": (lambda lab, t: b"[1, 2, 3]", "file_malformed"),
    "JSON null": (lambda lab, t: b"null", "file_malformed"),
    "JSON string": (lambda lab, t: b'"offline-licensing"', "file_malformed"),
    "JSON number": (lambda lab, t: b"1e999", "file_malformed"),
    "huge integer": (lambda lab, t: b"9" * 20000, "file_malformed"),
    "envelope with number fields": (lambda lab, t: _envelope_like(t.envelope, typ=1, payload=2), "file_malformed"),
    "envelope with an extra field": (lambda lab, t: _envelope_like(t.envelope, alg="none"), "file_malformed"),
    "envelope without signature": (lambda lab, t: _envelope_like(t.envelope, signature=None), "file_malformed"),
    "envelope of an unknown kind": (lambda lab, t: _envelope_like(t.envelope, typ="license-key-dump"), "file_malformed"),
    "payload not base64": (lambda lab, t: _envelope_like(t.envelope, payload="@@not base64@@"), "file_malformed"),
    "deep nesting 100k": (lambda lab, t: b"[" * 100_000 + b"]" * 100_000, "file_too_large"),
    "deep nesting 30k": (lambda lab, t: b"[" * 30_000 + b"]" * 30_000, "file_malformed"),
    "deep nesting inside the envelope": (
        lambda lab, t: b'{"format":"offline-licensing","typ":' + b"[" * 20_000 + b"]" * 20_000 + b"}",
        "file_malformed"),
    "UTF-8 BOM in front": (lambda lab, t: b"\xef\xbb\xbf" + t.genuine, "file_malformed"),
    "CRLF line end": (lambda lab, t: t.envelope.rstrip(b"\n") + b"\r\n", "file_malformed"),
    "no line end": (lambda lab, t: t.envelope.rstrip(b"\n"), "file_malformed"),
    "pretty-printed": (lambda lab, t: json.dumps(json.loads(t.envelope), indent=2).encode(), "file_malformed"),
    "keys reordered": (lambda lab, t: json.dumps(dict(reversed(json.loads(t.envelope).items())),
                                                 separators=(",", ":")).encode() + b"\n", "file_malformed"),
    "UTF-16": (lambda lab, t: t.envelope.decode("ascii").encode("utf-16"), "file_malformed"),
    "twice": (lambda lab, t: t.genuine + t.genuine, "file_malformed"),
    "NUL bytes": (lambda lab, t: b"\x00" * 1024, "file_malformed"),
}


@pytest.mark.parametrize("case", CORPUS)
@pytest.mark.parametrize("target_name", TARGETS)
def test_foreign_input_is_refused(lab: Lab, target_name: str, case: str) -> None:
    target = TARGETS[target_name](lab)
    build, file_code = CORPUS[case]
    data = build(lab, target)
    assert data != target.genuine
    before = target.snapshot()
    expected = target.garbage_code or file_code
    refusal(lambda: target.feed(data), {expected}, f"{target.name}: {case}")
    assert target.snapshot() == before
    target.finish()


@pytest.mark.parametrize("target_name", TARGETS)
def test_genuine_file_of_the_wrong_kind_or_origin_is_refused(lab: Lab, target_name: str) -> None:
    target = TARGETS[target_name](lab)
    side = side_files(lab)
    cases = target.wrong(side)
    assert cases, "every target has wrong-file cases"
    before = target.snapshot()
    for what, (data, code) in cases.items():
        refusal(lambda: target.feed(data), {code}, f"{target.name}: {what}")
        assert target.snapshot() == before, f"{target.name}: refusing {what} changed state"
    target.finish()


PATH_TARGETS = ("activation-response", "license-refresh")


@pytest.mark.parametrize("target_name", PATH_TARGETS)
def test_folders_and_missing_paths_are_refused(lab: Lab, target_name: str, tmp_path: Path) -> None:
    target = TARGETS[target_name](lab)
    assert target.path_feed is not None
    before = target.snapshot()
    folder = tmp_path / "a folder"
    folder.mkdir()
    named_folder = tmp_path / "nested"
    (named_folder / "ls_activation.lic").mkdir(parents=True)
    (named_folder / "license_refresh.lic").mkdir(parents=True)
    a_file = tmp_path / "plain.txt"
    a_file.write_text("hello")
    cases = {
        "a folder without the default file": folder,
        "a folder whose default name is a folder": named_folder,
        "a folder given by its full name": named_folder / "ls_activation.lic",
        "a missing file": tmp_path / "nowhere" / "ls_activation.lic",
        "a path through a file": a_file / "ls_activation.lic",
        "a name with spaces and unicode that does not exist": tmp_path / "répertoire vide" / "licence é.lic",
    }
    for what, path in cases.items():
        refusal(lambda: target.path_feed(path), {"file_not_found"}, f"{target.name}: {what}")
    assert target.snapshot() == before
    target.finish()


def test_default_paths_with_nothing_there_are_refused(lab: Lab) -> None:
    manager = lab.manager("device-A")
    refusal(manager.activate_license_offline, {"file_not_found"}, "no ls_activation.lic on the desktop")
    license = lab.activate(manager, lab.issue("perpetual"))
    (manager.config.requests_dir / "ls_activation.lic").unlink()
    refusal(license.update_offline, {"file_not_found"}, "no license_refresh.lic on the desktop")
    license.local_check()


def _long_name(folder: Path) -> Path:
    return folder / ("x" * 5000)


def _nul_byte(folder: Path) -> str:
    return str(folder / "a\x00b.lic")


IMPOSSIBLE_PATHS = {"over-long file name": _long_name, "NUL byte in the path": _nul_byte}


@pytest.mark.parametrize("target_name", PATH_TARGETS)
def test_path_with_a_nul_byte_is_refused(lab: Lab, target_name: str, tmp_path: Path) -> None:
    target = TARGETS[target_name](lab)
    before = target.snapshot()
    refusal(lambda: target.path_feed(_nul_byte(tmp_path)), {"file_not_found"}, f"{target.name}: NUL byte")
    assert target.snapshot() == before
    target.finish()


@pytest.mark.parametrize("target_name", PATH_TARGETS)
def test_over_long_path_is_refused(lab: Lab, target_name: str, tmp_path: Path) -> None:
    target = TARGETS[target_name](lab)
    before = target.snapshot()
    refusal(lambda: target.path_feed(_long_name(tmp_path)), {"file_not_found"}, f"{target.name}: long name")
    assert target.snapshot() == before
    target.finish()


@pytest.mark.parametrize("case", IMPOSSIBLE_PATHS)
@pytest.mark.parametrize("writer", ["activation request", "deactivation request"])
def test_impossible_output_paths_are_refused(lab: Lab, tmp_path: Path, writer: str, case: str) -> None:
    manager = lab.manager("device-A")
    key = lab.issue("perpetual")
    path = IMPOSSIBLE_PATHS[case](tmp_path)
    if writer == "activation request":
        refusal(lambda: manager.create_offline_activation_file(LicenseID.from_key(key), path), {"storage_io"}, case)
        assert not (manager.config.product_dir / GUARD_FILE).exists(), "a guard for a request never written"
    else:
        license = lab.activate(manager, key)
        before = store_bytes(manager)
        refusal(lambda: license.deactivate_offline(path), {"storage_io"}, case)
        assert store_bytes(manager) == before
        license.local_check()  # nothing was deactivated


def test_a_refused_request_write_keeps_the_pending_request(lab: Lab, tmp_path: Path) -> None:
    manager = lab.manager("device-A")
    license_id = LicenseID.from_key(lab.issue("perpetual"))
    response = lab.respond(manager.create_offline_activation_file(license_id))  # uploaded, answer on its way
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder")
    before = store_bytes(manager)
    refusal(lambda: manager.create_offline_activation_file(license_id, blocker / "sub" / "ls_activation.req"),
            {"storage_io"}, "a request file under a plain file")
    assert store_bytes(manager) == before, "the refused write replaced the pending request's guard"
    manager.activate_license_offline(response).local_check()


@pytest.mark.parametrize("name", [LICENSE_FILE, TOMBSTONE_FILE, GUARD_FILE])
def test_store_file_replaced_by_a_folder_is_a_storage_error(lab: Lab, name: str) -> None:
    key = lab.issue("perpetual", max_activations=2)
    manager = lab.manager("device-A")
    lab.activate(manager, key).deactivate_offline()  # leaves tombstones.dat
    response = lab.respond(manager.create_offline_activation_file(LicenseID.from_key(key)))  # leaves .guard
    path = manager.config.product_dir / name
    saved = path.read_bytes()
    path.unlink()
    path.mkdir()
    try:
        if name == GUARD_FILE:
            refusal(lambda: LicenseManager(manager.config).activate_license_offline(response),
                    {"storage_io", "guard_tampered"}, f"{name} is a folder")
        else:
            refusal(lambda: LicenseManager(manager.config).reload_license(), {"storage_io"}, f"{name} is a folder")
    finally:
        path.rmdir()
        path.write_bytes(saved)
    LicenseManager(manager.config).activate_license_offline(response).local_check()


def test_missing_store_files_mean_what_they_say(lab: Lab) -> None:
    key = lab.issue("perpetual")
    manager = lab.manager("device-A")
    response = lab.respond(manager.create_offline_activation_file(LicenseID.from_key(key)))
    guard = manager.config.product_dir / GUARD_FILE
    saved = guard.read_bytes()
    guard.unlink()
    refusal(lambda: LicenseManager(manager.config).activate_license_offline(response), {"guard_missing"},
            "the guard file was deleted")
    guard.write_bytes(saved)
    LicenseManager(manager.config).activate_license_offline(response).local_check()
    (manager.config.product_dir / LICENSE_FILE).unlink()
    assert LicenseManager(manager.config).reload_license() is None  # no license: not an error
    # Deleting license.dat also forgets the device key: the old response cannot be replayed.
    refusal(lambda: LicenseManager(manager.config).activate_license_offline(response), {"request_mismatch"},
            "replaying the response after deleting license.dat")


# -- 4. validly signed, malformed inside --------------------------------------------------------
#
# A request is signed by the device key it names, so anyone can make one: the portal must answer
# every such upload with a typed refusal and leave its database unchanged.


def _request_body(lab: Lab) -> tuple[dict[str, Any], LicenseManager, str]:
    key = lab.issue("perpetual", max_activations=2)
    manager = lab.manager("device-A")
    request = manager.create_offline_activation_file(LicenseID.from_key(key))
    doc = json.loads(base64.b64decode(json.loads(request.read_bytes())["payload"]))
    return {k: v for k, v in doc.items() if k not in ("typ", "v", "device_key")}, manager, key


def _device_signed(lab: Lab, typ: str, body: dict[str, Any]) -> bytes:
    config = lab.config("device-A")
    return encode_device_signed(typ, body, crypto.Ed25519PrivateKey.generate(), config.shared_key.encode())


def _raw_request(payload: bytes, typ: str = ACTIVATION_REQUEST, mac: bytes | None = b"\x00" * 32) -> bytes:
    return Envelope(typ=typ, payload=payload, signature=b"\x00" * 64, mac=mac).encode()


def _signed_payload(lab: Lab, payload: bytes, typ: str = ACTIVATION_REQUEST) -> bytes:
    device_key = crypto.Ed25519PrivateKey.generate()
    return Envelope(typ=typ, payload=payload, signature=crypto.sign(device_key, typ, payload),
                    mac=crypto.mac(lab.config("device-A").shared_key.encode(), typ, payload)).encode()


def _deactivation_body(lab: Lab, body: dict[str, Any], **changes: Any) -> dict[str, Any]:
    result = {"product": body["product"], "api_key": body["api_key"], "request_id": "r" * 32,
              "hardware_id": body["hardware_id"], "device_id": "dev_0000000000000000", "license_id": 1,
              "created_at": body["created_at"], "local_consumptions": 0, "feature_consumptions": {}}
    result.update(changes)
    return result


OUT_OF_RANGE_TIME = "0001-01-01T00:00:00+01:00"  # a valid ISO time whose UTC instant is before year 1

CRAFTED_REQUESTS: dict[str, tuple[Callable[[Lab, dict[str, Any]], bytes], str]] = {
    "payload not JSON": (lambda lab, b: _signed_payload(lab, b"not json at all"), "file_malformed"),
    "payload deeply nested": (lambda lab, b: _signed_payload(lab, b"[" * 20_000 + b"]" * 20_000), "file_malformed"),
    "payload a list": (lambda lab, b: _signed_payload(lab, b"[]"), "file_malformed"),
    "payload of another version": (lambda lab, b: _signed_payload(lab, json.dumps(
        {"typ": ACTIVATION_REQUEST, "v": 2}).encode()), "file_malformed"),
    "no device key": (lambda lab, b: _raw_request(json.dumps({"typ": ACTIVATION_REQUEST, "v": 1}).encode()),
                      "file_malformed"),
    "device key not base64": (lambda lab, b: _raw_request(json.dumps(
        {"typ": ACTIVATION_REQUEST, "v": 1, "device_key": "%%%"}).encode()), "file_malformed"),
    "device key of the wrong length": (lambda lab, b: _raw_request(json.dumps(
        {"typ": ACTIVATION_REQUEST, "v": 1, "device_key": "AAAA"}).encode()), "file_malformed"),
    "signature not by the named key": (lambda lab, b: _raw_request(json.dumps(
        {"typ": ACTIVATION_REQUEST, "v": 1, "device_key": base64.b64encode(b"\x01" * 32).decode()}).encode()),
        "signature_invalid"),
    "no MAC": (lambda lab, b: _raw_request(b"{}", mac=None), "file_malformed"),
    "only the signed header": (lambda lab, b: _device_signed(lab, ACTIVATION_REQUEST, {}), "file_malformed"),
    "request id a number": (lambda lab, b: _device_signed(lab, ACTIVATION_REQUEST, {**b, "request_id": 7}),
                            "file_malformed"),
    "credentials a list": (lambda lab, b: _device_signed(lab, ACTIVATION_REQUEST, {**b, "credentials": []}),
                           "file_malformed"),
    "created_at a number": (lambda lab, b: _device_signed(lab, ACTIVATION_REQUEST, {**b, "created_at": 5}),
                            "file_malformed"),
    "created_at not a time": (lambda lab, b: _device_signed(lab, ACTIVATION_REQUEST, {**b, "created_at": "soon"}),
                              "file_malformed"),
    "created_at without zone": (lambda lab, b: _device_signed(
        lab, ACTIVATION_REQUEST, {**b, "created_at": "2026-06-01T12:00:00"}), "file_malformed"),
    "wrong API key": (lambda lab, b: _device_signed(lab, ACTIVATION_REQUEST, {**b, "api_key": "wrong"}),
                      "product_configuration"),
    "unknown product": (lambda lab, b: _device_signed(lab, ACTIVATION_REQUEST, {**b, "product": "other"}),
                        "product_configuration"),
    "wrong shared key": (lambda lab, b: encode_device_signed(
        ACTIVATION_REQUEST, b, crypto.Ed25519PrivateKey.generate(), b"not the shared key"), "product_configuration"),
    "unknown license key": (lambda lab, b: _device_signed(
        lab, ACTIVATION_REQUEST, {**b, "credentials": {"key": "AAAA-BBBB-CCCC-DDDD"}}), "invalid_credentials"),
    "garbage sealed password": (lambda lab, b: _device_signed(lab, ACTIVATION_REQUEST, {
        **b, "credentials": {"user": "bob", "password": {"epk": "AAAA", "ct": "%%"}}}), "invalid_credentials"),
    "password box with a non-ASCII request id": (lambda lab, b: _device_signed(lab, ACTIVATION_REQUEST, {
        **b, "request_id": "é", "credentials": {"user": "bob", "password": {"epk": "x", "ct": "y"}}}),
        "invalid_credentials|file_malformed"),
    "huge license key": (lambda lab, b: _device_signed(lab, ACTIVATION_REQUEST, {
        **b, "credentials": {"key": "A" * 60_000}}), "file_too_large"),
    "deactivation of an unknown license": (lambda lab, b: _device_signed(
        lab, DEACTIVATION_REQUEST, _deactivation_body(lab, b, license_id=999)), "license_not_found"),
    "deactivation of an unknown device": (lambda lab, b: _device_signed(
        lab, DEACTIVATION_REQUEST, _deactivation_body(lab, b)), "device_not_found"),
    "deactivation with negative usage": (lambda lab, b: _device_signed(
        lab, DEACTIVATION_REQUEST, _deactivation_body(lab, b, local_consumptions=-5)), "file_malformed"),
    "deactivation with bad feature usage": (lambda lab, b: _device_signed(
        lab, DEACTIVATION_REQUEST, _deactivation_body(lab, b, feature_consumptions={"x": True})), "file_malformed"),
    # A device key that is not a string (parsed before the signature is checked, so anyone can send it).
    "device key a number": (lambda lab, b: _raw_request(json.dumps(
        {"typ": ACTIVATION_REQUEST, "v": 1, "device_key": 5}).encode()), "file_malformed"),
    "device key a list": (lambda lab, b: _raw_request(json.dumps(
        {"typ": ACTIVATION_REQUEST, "v": 1, "device_key": []}).encode()), "file_malformed"),
    # A non-ASCII API key is compared as bytes: simply not the product's key.
    "non-ASCII API key": (lambda lab, b: _device_signed(lab, ACTIVATION_REQUEST, {**b, "api_key": "clé"}),
                          "product_configuration"),
    # A valid ISO time whose UTC instant falls outside datetime's range.
    "created_at out of range": (lambda lab, b: _device_signed(
        lab, ACTIVATION_REQUEST, {**b, "created_at": OUT_OF_RANGE_TIME}), "file_malformed"),
    "deactivation created_at out of range": (lambda lab, b: _device_signed(
        lab, DEACTIVATION_REQUEST, _deactivation_body(lab, b, created_at=OUT_OF_RANGE_TIME)), "file_malformed"),
    # Ids and counts are capped at 2**63-1 (SQLite's INTEGER) when the request is read.
    "deactivation license id beyond 64 bits": (lambda lab, b: _device_signed(
        lab, DEACTIVATION_REQUEST, _deactivation_body(lab, b, license_id=10**30)), "file_malformed"),
}

@pytest.mark.parametrize("known", [False, True], ids=["license unseen", "license already activated"])
@pytest.mark.parametrize("case", CRAFTED_REQUESTS)
def test_crafted_request_is_refused_without_a_trace(lab: Lab, case: str, known: bool) -> None:
    """``license already activated``: the issuer has answered for this license before, and keeps which
    license its key opens; the product's keys must still be checked on every request."""
    body, manager, key = _request_body(lab)
    if known:
        lab.activate(lab.manager("device-B"), key)
    build, code = CRAFTED_REQUESTS[case]
    data = build(lab, body)
    before = vendor_snapshot(lab)
    expected = set(code.split("|"))  # "a|b": either code is right
    refusal(lambda: lab.vendor.issuer.answer(data), expected, case)
    assert vendor_snapshot(lab) == before, f"{case}: the refused request changed the vendor database"
    # The vendor still answers the device's genuine request.
    genuine = (manager.config.requests_dir / "ls_activation.req").read_bytes()
    assert isinstance(lab.vendor.issuer.answer(genuine), ActivationAnswer)


# Vendor-signed files can only be malformed inside if the vendor's own key signs them; they must
# still be refused cleanly (a buggy portal version, a key used by a test tool).


def _signed_by_vendor(lab: Lab, typ: str, body: dict[str, Any] | bytes, kid: str | None = None) -> bytes:
    keys = lab.vendor.keys
    if isinstance(body, bytes):
        return Envelope(typ=typ, payload=body, signature=crypto.sign(keys.active_signing_key, typ, body),
                        kid=keys.active_kid).encode()
    return encode_signed(typ, body, keys.active_signing_key, kid or keys.active_kid)


def _response_body(lab: Lab) -> tuple[dict[str, Any], LicenseManager]:
    manager = lab.manager("device-A")
    request = manager.create_offline_activation_file(LicenseID.from_key(lab.issue("perpetual")))
    answer = lab.vendor.issuer.answer_activation(request.read_bytes())
    doc = json.loads(base64.b64decode(json.loads(answer.data)["payload"]))
    return {k: v for k, v in doc.items() if k not in ("typ", "v", "kid")}, manager


CRAFTED_RESPONSES: dict[str, tuple[Callable[[Lab, dict[str, Any]], bytes], str]] = {
    "payload not JSON": (lambda lab, b: _signed_by_vendor(lab, ACTIVATION_RESPONSE, b"garbage"), "file_malformed"),
    "payload deeply nested": (lambda lab, b: _signed_by_vendor(
        lab, ACTIVATION_RESPONSE, b"[" * 20_000 + b"]" * 20_000), "file_malformed"),
    "payload of another kind inside": (lambda lab, b: _signed_by_vendor(lab, ACTIVATION_RESPONSE, json.dumps(
        {**b, "typ": LICENSE_REFRESH, "v": 1, "kid": lab.vendor.keys.active_kid}).encode()), "file_malformed"),
    "another kid inside": (lambda lab, b: _signed_by_vendor(lab, ACTIVATION_RESPONSE, json.dumps(
        {**b, "typ": ACTIVATION_RESPONSE, "v": 1, "kid": "0000000000000000"}).encode()), "signature_invalid"),
    "license section a list": (lambda lab, b: _signed_by_vendor(lab, ACTIVATION_RESPONSE, {**b, "license": []}),
                               "file_malformed"),
    "unknown license type": (lambda lab, b: _signed_by_vendor(lab, ACTIVATION_RESPONSE, {
        **b, "license": {**b["license"], "type": "forever"}}), "file_malformed"),
    "negative activations": (lambda lab, b: _signed_by_vendor(lab, ACTIVATION_RESPONSE, {
        **b, "license": {**b["license"], "max_activations": -1}}), "file_malformed"),
    "enabled as a number": (lambda lab, b: _signed_by_vendor(lab, ACTIVATION_RESPONSE, {
        **b, "license": {**b["license"], "enabled": 1}}), "file_malformed"),
    "feature not an object": (lambda lab, b: _signed_by_vendor(lab, ACTIVATION_RESPONSE, {
        **b, "license": {**b["license"], "features": [5]}}), "file_malformed"),
    "issued_at not a time": (lambda lab, b: _signed_by_vendor(lab, ACTIVATION_RESPONSE, {**b, "issued_at": "x"}),
                             "file_malformed"),
    # Valid ISO times whose UTC instant falls outside datetime's range (before year 1, after 9999).
    "issued_at out of range": (lambda lab, b: _signed_by_vendor(
        lab, ACTIVATION_RESPONSE, {**b, "issued_at": OUT_OF_RANGE_TIME}), "file_malformed"),
    "expiry out of range": (lambda lab, b: _signed_by_vendor(lab, ACTIVATION_RESPONSE, {
        **b, "license": {**b["license"], "expires": "9999-12-31T23:59:59-01:00"}}), "file_malformed"),
}


@pytest.mark.parametrize("case", CRAFTED_RESPONSES)
def test_vendor_signed_but_malformed_response_is_refused(lab: Lab, case: str) -> None:
    body, manager = _response_body(lab)
    build, code = CRAFTED_RESPONSES[case]
    path = manager.config.requests_dir / "crafted.lic"
    path.write_bytes(build(lab, body))
    before = store_bytes(manager)
    refusal(lambda: manager.activate_license_offline(path), {code}, case)
    assert store_bytes(manager) == before


# The local store is sealed with a key derived from the machine id. Whoever can read that id can
# seal any plaintext; the SDK must still refuse what it cannot use with a typed error.


def _seal_into(manager: LicenseManager, name: str, role: str, plaintext: bytes) -> None:
    identity = device_identity(manager.config.product, manager.config.raw_hardware_id())
    key = derive_store_key(identity.secret, manager.config.product)
    aad = b"OLS1\x00" + role.encode() + b"\x00" + manager.config.product.encode()
    (manager.config.product_dir / name).write_bytes(b"OLS1" + crypto.aead_encrypt(key, plaintext, aad))


@pytest.fixture
def sealed_world(lab: Lab) -> tuple[LicenseManager, dict[str, Any], Path]:
    key = lab.issue("consumption", max_consumptions=10, max_activations=2)
    manager = lab.manager("device-A")
    first = lab.activate(manager, key)
    first.deactivate_offline()  # tombstones.dat
    lab.activate(manager, key)
    state = json.loads(store_of(manager)._read_sealed(LICENSE_FILE, "license"))
    response = lab.respond(manager.create_offline_activation_file(LicenseID.from_key(key)))  # .guard
    return manager, state, response


def test_seal_helper_matches_the_store(sealed_world: tuple[LicenseManager, dict[str, Any], Path]) -> None:
    """Guard for the forged cases below: a re-sealed genuine state must load (else they prove nothing)."""
    manager, state, _ = sealed_world
    _seal_into(manager, LICENSE_FILE, "license", json.dumps({**state, "local_consumptions": 4}).encode())
    assert LicenseManager(manager.config).reload_license().local_consumptions == 4


FORGED_STATE: dict[str, tuple[str, str, Callable[[dict[str, Any]], bytes], str]] = {
    # name: (file, role, plaintext builder, expected code)
    "license: not JSON": (LICENSE_FILE, "license", lambda s: b"\xff\xfe garbage", "storage_corrupt"),
    "license: a list": (LICENSE_FILE, "license", lambda s: b"[]", "storage_corrupt"),
    "license: missing fields": (LICENSE_FILE, "license", lambda s: b"{}", "storage_corrupt"),
    "license: count a string": (LICENSE_FILE, "license",
                                lambda s: json.dumps({**s, "local_consumptions": "x"}).encode(), "storage_corrupt"),
    "license: count of 5000 digits": (LICENSE_FILE, "license", lambda s: json.dumps(
        {**s, "local_consumptions": 0}).encode().replace(b'"local_consumptions": 0', b'"local_consumptions": '
                                                         + b"9" * 5000), "storage_corrupt"),
    "license: feature usage a list": (LICENSE_FILE, "license",
                                      lambda s: json.dumps({**s, "feature_consumptions": []}).encode(),
                                      "storage_corrupt"),
    "license: high water a number": (LICENSE_FILE, "license", lambda s: json.dumps({**s, "high_water": 5}).encode(),
                                     "storage_corrupt"),
    "license: device key not base64": (LICENSE_FILE, "license",
                                       lambda s: json.dumps({**s, "device_key": "%%"}).encode(), "storage_corrupt"),
    "license: signed bytes altered": (LICENSE_FILE, "license", lambda s: json.dumps(
        {**s, "license": s["license"].replace('"payload":"', '"payload":"AAAA', 1)}).encode(), "storage_corrupt"),
    "license: device id of another activation": (LICENSE_FILE, "license",
                                                 lambda s: json.dumps({**s, "device_id": "dev_x"}).encode(),
                                                 "storage_corrupt"),
    "tombstones: ids a number": (TOMBSTONE_FILE, "tombstones", lambda s: b'{"device_ids": 5}', "storage_corrupt"),
    "tombstones: not JSON": (TOMBSTONE_FILE, "tombstones", lambda s: b"\x00", "storage_corrupt"),
    "license: deeply nested JSON": (LICENSE_FILE, "license", lambda s: b"[" * 100_000 + b"]" * 100_000,
                                    "storage_corrupt"),
    "tombstones: deeply nested JSON": (TOMBSTONE_FILE, "tombstones", lambda s: b"[" * 100_000 + b"]" * 100_000,
                                       "storage_corrupt"),
    "license: high water out of range": (LICENSE_FILE, "license", lambda s: json.dumps(
        {**s, "high_water": OUT_OF_RANGE_TIME}).encode(), "storage_corrupt"),
    # A stored license that is not an envelope is damage to the store, not a file for the user to copy again.
    "license: stored license not an envelope": (LICENSE_FILE, "license", lambda s: json.dumps(
        {**s, "license": "abc"}).encode(), "storage_corrupt"),
    "license: device key of the wrong length": (LICENSE_FILE, "license",
                                                lambda s: json.dumps({**s, "device_key": "AAAA"}).encode(),
                                                "storage_corrupt"),
    "license: negative count": (LICENSE_FILE, "license",
                                lambda s: json.dumps({**s, "local_consumptions": -100}).encode(), "storage_corrupt"),
    "license: fractional count": (LICENSE_FILE, "license",
                                  lambda s: json.dumps({**s, "local_consumptions": 1.5}).encode(), "storage_corrupt"),
    "license: used requests a string": (LICENSE_FILE, "license",
                                        lambda s: json.dumps({**s, "used_requests": "abc"}).encode(),
                                        "storage_corrupt"),
}


@pytest.mark.parametrize("case", FORGED_STATE)
def test_forged_local_state_is_refused(sealed_world: tuple[LicenseManager, dict[str, Any], Path],
                                       case: str) -> None:
    manager, state, _ = sealed_world
    name, role, build, code = FORGED_STATE[case]
    _seal_into(manager, name, role, build(state))
    before = store_bytes(manager)

    refusal(lambda: _load_and_check(manager), {code}, case)
    assert store_bytes(manager) == before, f"{case}: refusing the forged state rewrote the store"


FORGED_GUARDS: dict[str, tuple[Callable[[dict[str, Any]], bytes], str]] = {
    # name: (plaintext builder, expected code)
    "not JSON": (lambda g: b"nope", "guard_tampered"),
    "missing fields": (lambda g: json.dumps({"nonce": "x"}).encode(), "guard_tampered"),
    "created_at a list": (lambda g: json.dumps({**g, "created_at": []}).encode(), "guard_tampered"),
    "another request": (lambda g: json.dumps({**g, "request_id": "0" * 32}).encode(), "request_mismatch"),
    "made on another device": (lambda g: json.dumps({**g, "hardware_id": "f" * 32}).encode(), "guard_tampered"),
    "deeply nested": (lambda g: b"[" * 100_000 + b"]" * 100_000, "guard_tampered"),
    "created_at out of range": (lambda g: json.dumps({**g, "created_at": OUT_OF_RANGE_TIME}).encode(),
                                "guard_tampered"),
}


@pytest.mark.parametrize("case", FORGED_GUARDS)
def test_forged_guard_is_refused(sealed_world: tuple[LicenseManager, dict[str, Any], Path], case: str) -> None:
    manager, _, response = sealed_world
    guard = json.loads(store_of(manager)._read_sealed(GUARD_FILE, "guard"))
    build, code = FORGED_GUARDS[case]
    _seal_into(manager, GUARD_FILE, "guard", build(guard))
    before = store_bytes(manager)
    refusal(lambda: LicenseManager(manager.config).activate_license_offline(response), {code}, case)
    assert store_bytes(manager) == before


def test_forged_device_key_of_wrong_length_is_refused(
        sealed_world: tuple[LicenseManager, dict[str, Any], Path], tmp_path: Path) -> None:
    manager, state, _ = sealed_world
    _seal_into(manager, LICENSE_FILE, "license", json.dumps({**state, "device_key": "AAAA"}).encode())
    fresh = LicenseManager(manager.config)
    refusal(lambda: fresh.create_offline_activation_file(LicenseID.from_key("AAAA-BBBB-CCCC-DDDD"),
                                                         tmp_path / "x.req"), {"storage_corrupt"}, "short device key")
