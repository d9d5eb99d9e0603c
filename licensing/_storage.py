"""The device's local license storage: encrypted, authenticated, atomic, and locked across processes.

One folder per product holds:

* ``license.dat`` — the *local license file*: the vendor-signed bytes of the current license
  (a response or a refresh), verbatim, with what the device must remember beside it (its
  device key, the clock high-water mark, local consumption). One file, so that activating,
  refreshing and consuming are each a single atomic write. The vendor signature inside is
  re-verified on every load; the AEAD layer makes any edit fail early.
* ``tombstones.dat`` — the activations this device has deactivated. It lives apart from the
  license, is only ever added to, and survives ``clear_local_storage``, so that restoring an old
  copy of ``license.dat`` after a deactivation is caught.
* ``.guard`` — the pending activation request (the tutorial's hidden guard file).
* ``floating.dat`` — this workstation's side of floating licenses: its key for leases, a borrowed
  lease carried away from the site, a return not yet told to the server (see ``_floating``).
* ``.lock`` — the cross-process lock taken around every read-modify-write.

A second trace lives in another folder (``Configuration.trace_dir``, by default another tree
than the data folder, chosen by platform): the clock's high-water mark and skew, the tombstones,
and per activation its consumption counters and newest license terms. Every write goes to the
trace first, then to the data folder; every read takes the maximum of both (commercial SDKs do
the same with their hidden copies). So restoring an old copy of the data folder — or of the
trace — brings back neither an earlier time, nor spent uses, nor a deactivated or older license.
The trace never *creates* a license: a data folder without ``license.dat`` has none.

Every file is sealed with a key derived (HKDF) from the device secret and the product, and its
product and role are bound in as associated data, so one product's files never open as another's
and a state file cannot pose as a license file. Writes go to a temporary file, are fsync'ed,
renamed over the old one, and the folder is fsync'ed: a crash leaves the old file or the new one.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import filelock

from . import _crypto as crypto
from ._errors import LicenseError, StorageCorruptError, StorageError, StorageLockedError
from ._formats import Envelope, format_time, parse_time
from ._fs import atomic_write, fsync_dir

__all__ = ["LocalStore", "DeviceState", "PendingRequest", "PendingRefresh", "PendingSync", "derive_store_key",
           "LICENSE_FILE", "TOMBSTONE_FILE", "GUARD_FILE", "LOCK_FILE", "FLOATING_FILE", "TRACE_SUFFIX"]

_MAGIC = b"OLS1"
LICENSE_FILE = "license.dat"
TOMBSTONE_FILE = "tombstones.dat"
GUARD_FILE = ".guard"
LOCK_FILE = ".lock"
FLOATING_FILE = "floating.dat"
TRACE_SUFFIX = ".trace"
#: the trace keeps the counters of this many recent activations (older ones are long deactivated)
_TRACED_ACTIVATIONS = 16


def derive_store_key(device_secret: bytes, product: str) -> bytes:
    """A per-device, per-product key. HKDF, not a password KDF: the input is already a secret."""
    return crypto.hkdf(device_secret, salt=b"offline-licensing/store/" + product.encode("utf-8"),
                       info=b"offline-licensing/store-key/v1")


@dataclass(frozen=True)
class PendingRequest:
    """What the guard file remembers about the last activation request made on this device."""

    request_id: str
    nonce: str
    hardware_id: str
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {"request_id": self.request_id, "nonce": self.nonce, "hardware_id": self.hardware_id,
                "created_at": format_time(self.created_at)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PendingRequest:
        return cls(request_id=str(data["request_id"]), nonce=str(data["nonce"]),
                   hardware_id=str(data["hardware_id"]), created_at=parse_time(data["created_at"]))


def _count(value: Any) -> int:
    if type(value) is not int or value < 0:
        raise ValueError("not a count")
    return value


def _counts(value: Any) -> dict[str, int]:
    if not isinstance(value, dict):
        raise TypeError("not a mapping of counts")
    return {str(code): _count(used) for code, used in value.items()}


@dataclass(frozen=True)
class PendingSync:
    """A consumption report on its way to the server: the exact bytes and what they report."""

    request: bytes
    local_consumptions: int
    feature_consumptions: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {"request": self.request.decode("ascii"), "local_consumptions": self.local_consumptions,
                "feature_consumptions": dict(self.feature_consumptions)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PendingSync:
        return cls(request=data["request"].encode("ascii"), local_consumptions=_count(data["local_consumptions"]),
                   feature_consumptions=_counts(data["feature_consumptions"]))

    def sent(self) -> tuple[str, str | None]:
        """The request id and nonce the server's answer to this report must repeat."""
        try:
            doc = json.loads(Envelope.parse(self.request).payload)
            request_id, nonce = doc["request_id"], doc.get("nonce")
            if not isinstance(request_id, str) or not (nonce is None or isinstance(nonce, str)):
                raise TypeError("request id")
        except (LicenseError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
            raise StorageCorruptError("The pending consumption report in the local license file is damaged.") from None
        return request_id, nonce


@dataclass(frozen=True)
class PendingRefresh:
    """The refresh request this device made last, and the high-water mark when it made it.

    The portal's answer to it carries the vendor's signed time; it re-anchors the clock (after a
    clock that ran far ahead) only while the mark has not moved since the request was made.
    """

    request_id: str
    nonce: str
    high_water: datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {"request_id": self.request_id, "nonce": self.nonce,
                "high_water": None if self.high_water is None else format_time(self.high_water)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PendingRefresh:
        water = data["high_water"]
        if not isinstance(data["request_id"], str) or not isinstance(data["nonce"], str):
            raise TypeError("pending refresh")
        return cls(request_id=data["request_id"], nonce=data["nonce"],
                   high_water=None if water is None else parse_time(water))


@dataclass(frozen=True)
class DeviceState:
    """The local license file's contents: the signed license and what the device remembers."""

    license: bytes | None = None  # the vendor-signed envelope, verbatim
    #: the activation response this license came from (its signed hardware components bind it here);
    #: the same bytes as ``license`` until a refresh replaces the terms
    activation: bytes | None = None
    device_key: bytes | None = None  # the device's Ed25519 private key (raw)
    device_id: str | None = None  # the vendor's id of the current activation
    high_water: datetime | None = None
    local_consumptions: int = 0
    feature_consumptions: dict[str, int] = field(default_factory=dict)
    used_requests: frozenset[str] = frozenset()
    #: when the license was last confirmed by the license server (online activation or check)
    last_online_check: datetime | None = None
    #: a consumption report sent but not yet acknowledged: resent as-is, so it is booked once
    pending_sync: PendingSync | None = None
    #: the clock set-backs forgiven so far, added to every reading (see licensing._clock)
    clock_skew: timedelta = timedelta(0)
    pending_refresh: PendingRefresh | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "license": None if self.license is None else self.license.decode("ascii"),
            "activation": None if self.activation is None else self.activation.decode("ascii"),
            "device_key": None if self.device_key is None else crypto.b64encode(self.device_key),
            "device_id": self.device_id,
            "high_water": None if self.high_water is None else format_time(self.high_water),
            "local_consumptions": self.local_consumptions,
            "feature_consumptions": dict(self.feature_consumptions),
            "used_requests": sorted(self.used_requests),
            "last_online_check": None if self.last_online_check is None else format_time(self.last_online_check),
            "pending_sync": None if self.pending_sync is None else self.pending_sync.to_dict(),
            "clock_skew_us": self.clock_skew // timedelta(microseconds=1),
            "pending_refresh": None if self.pending_refresh is None else self.pending_refresh.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DeviceState:
        """Rebuild the state, refusing (ValueError/TypeError/KeyError) any value it could not have held."""
        signed, key, water = data["license"], data["device_key"], data["high_water"]
        online, pending, device_id = data["last_online_check"], data["pending_sync"], data["device_id"]
        device_key = None if key is None else crypto.b64decode_strict(key)
        if device_key is not None and len(device_key) != 32:
            raise ValueError("device key of the wrong size")
        if device_id is not None and not isinstance(device_id, str):
            raise TypeError("device id")
        used = data["used_requests"]
        if not isinstance(used, list) or not all(isinstance(r, str) for r in used):
            raise TypeError("used requests")
        # absent in files written before hardware components and the clock skew existed
        refresh, activation = data.get("pending_refresh"), data.get("activation")
        if activation is not None and not isinstance(activation, str):
            raise TypeError("activation")
        return cls(
            license=None if signed is None else signed.encode("ascii"),
            activation=None if activation is None else activation.encode("ascii"),
            device_key=device_key,
            device_id=device_id,
            high_water=None if water is None else parse_time(water),
            local_consumptions=_count(data["local_consumptions"]),
            feature_consumptions=_counts(data["feature_consumptions"]),
            used_requests=frozenset(used),
            last_online_check=None if online is None else parse_time(online),
            pending_sync=None if pending is None else PendingSync.from_dict(pending),
            clock_skew=_skew(data.get("clock_skew_us", 0)),
            pending_refresh=None if refresh is None else PendingRefresh.from_dict(refresh),
        )

    def seen(self, moment: datetime) -> DeviceState:
        """Advance the high-water mark (it never moves back)."""
        if self.high_water is not None and moment <= self.high_water:
            return self
        return replace(self, high_water=moment)

    def clocked(self, high_water: datetime, skew: timedelta) -> DeviceState:
        """Set the mark and the skew as a clock reading left them (a re-anchoring may lower both)."""
        if (high_water, skew) == (self.high_water, self.clock_skew):
            return self
        return replace(self, high_water=high_water, clock_skew=skew)

    def without_license(self) -> DeviceState:
        return replace(self, license=None, activation=None, device_id=None, local_consumptions=0, feature_consumptions={},
                       last_online_check=None, pending_sync=None, pending_refresh=None)


def _skew(value: Any) -> timedelta:
    return timedelta(microseconds=_count(value))


def _license_revision(signed: bytes | None) -> int | None:
    """The revision inside a stored vendor file, read without verifying (the manager verifies what it keeps)."""
    if signed is None:
        return None
    try:
        revision = json.loads(Envelope.parse(signed).payload)["license"]["revision"]
    except (LicenseError, ValueError, KeyError, TypeError, RecursionError):
        return None
    return revision if type(revision) is int else None


@dataclass(frozen=True)
class _Traced:
    """What the trace keeps of one activation: its counters and its newest license terms."""

    device_id: str
    license: bytes | None
    local_consumptions: int
    feature_consumptions: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {"device_id": self.device_id, "license": None if self.license is None else self.license.decode("ascii"),
                "local_consumptions": self.local_consumptions, "feature_consumptions": dict(self.feature_consumptions)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> _Traced:
        signed = data["license"]
        if not isinstance(data["device_id"], str) or not (signed is None or isinstance(signed, str)):
            raise TypeError("traced activation")
        return cls(device_id=data["device_id"], license=None if signed is None else signed.encode("ascii"),
                   local_consumptions=_count(data["local_consumptions"]),
                   feature_consumptions=_counts(data["feature_consumptions"]))

    def floor_of(self, state: DeviceState) -> DeviceState:
        """``state`` with nothing lower than this trace: counters at least as high, terms at least as new."""
        features = {code: max(used, self.feature_consumptions.get(code, 0))
                    for code, used in state.feature_consumptions.items()}
        features.update({code: used for code, used in self.feature_consumptions.items() if code not in features})
        signed = state.license
        if self.license is not None and self.license != state.license:  # an older copy was restored (rare)
            newer, held = _license_revision(self.license), _license_revision(state.license)
            if newer is not None and held is not None and newer > held:
                signed = self.license
        return replace(state, license=signed, local_consumptions=max(state.local_consumptions, self.local_consumptions),
                       feature_consumptions=features)


@dataclass(frozen=True)
class _Trace:
    high_water: datetime | None = None
    clock_skew: timedelta = timedelta(0)
    tombstones: frozenset[str] = frozenset()
    activations: tuple[_Traced, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"high_water": None if self.high_water is None else format_time(self.high_water),
                "clock_skew_us": self.clock_skew // timedelta(microseconds=1),
                "tombstones": sorted(self.tombstones), "activations": [a.to_dict() for a in self.activations]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> _Trace:
        water, tombstones, activations = data["high_water"], data["tombstones"], data["activations"]
        if not isinstance(tombstones, list) or not all(isinstance(t, str) for t in tombstones) \
                or not isinstance(activations, list):
            raise TypeError("trace")
        return cls(high_water=None if water is None else parse_time(water), clock_skew=_skew(data["clock_skew_us"]),
                   tombstones=frozenset(tombstones), activations=tuple(_Traced.from_dict(a) for a in activations))

    def floor_of(self, state: DeviceState) -> DeviceState:
        merged = state.seen(self.high_water) if self.high_water is not None else state
        merged = replace(merged, clock_skew=max(state.clock_skew, self.clock_skew))
        traced = next((a for a in self.activations if a.device_id == state.device_id), None)
        return merged if traced is None or state.license is None else traced.floor_of(merged)

    def recording(self, state: DeviceState) -> _Trace:
        """This trace after ``state`` was written: its clock as is (a re-anchoring lowers it), its activation last."""
        activations = self.activations
        if state.device_id is not None and state.license is not None:
            current = _Traced(state.device_id, state.license, state.local_consumptions,
                              dict(state.feature_consumptions))
            activations = (*(a for a in activations if a.device_id != state.device_id), current)
        return replace(self, high_water=state.high_water, clock_skew=state.clock_skew,
                       activations=activations[-_TRACED_ACTIVATIONS:])


class LocalStore:
    """The files of one product on one device. Methods raise only :class:`StorageError` types."""

    def __init__(self, folder: Path, key: bytes, product: str, *, trace_folder: Path,
                 lock_timeout: float = 10.0) -> None:
        self.folder = folder
        self._key = key
        self._product = product.encode("utf-8")
        self._lock = filelock.FileLock(str(folder / LOCK_FILE), timeout=lock_timeout)
        # One trace per device identity and product: named by a MAC, so it says nothing about either.
        self.trace_path = trace_folder / (crypto.mac(key, "trace-file", self._product)[:12].hex() + TRACE_SUFFIX)

    # -- locking -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the cross-process lock (re-entrant within a process)."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._lock.acquire()
        except filelock.Timeout:
            raise StorageLockedError() from None
        except OSError as exc:
            raise StorageError(f"Cannot use the data folder {self.folder}: {exc.strerror or exc}.") from None
        try:
            yield
        finally:
            self._lock.release()

    # -- sealed files ------------------------------------------------------------------------

    def _aad(self, role: str) -> bytes:
        return _MAGIC + b"\x00" + role.encode("ascii") + b"\x00" + self._product

    def _seal(self, role: str, plaintext: bytes) -> bytes:
        return _MAGIC + crypto.aead_encrypt(self._key, plaintext, self._aad(role))

    def _read_sealed(self, name: str, role: str) -> bytes | None:
        path = self.folder / name
        return self._open_sealed(path, role)

    def _open_sealed(self, path: Path, role: str) -> bytes | None:
        try:
            blob = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StorageError(f"Cannot read {path}: {exc.strerror or exc}.") from None
        if not blob.startswith(_MAGIC):
            raise StorageCorruptError(f"The local file {path.name} is not a license storage file.")
        try:
            return crypto.aead_decrypt(self._key, blob[len(_MAGIC):], self._aad(role))
        except crypto.InvalidTag:
            raise StorageCorruptError(
                f"The local file {path.name} was altered, damaged, or belongs to another device or product.",
            ) from None

    def _write_sealed(self, name: str, role: str, plaintext: bytes) -> None:
        atomic_write(self.folder / name, self._seal(role, plaintext))

    def _remove(self, name: str) -> None:
        try:
            (self.folder / name).unlink()
        except FileNotFoundError:
            return
        except OSError as exc:
            raise StorageError(f"Cannot remove {self.folder / name}: {exc.strerror or exc}.") from None
        fsync_dir(self.folder)

    def _write_json(self, name: str, role: str, data: dict[str, Any]) -> None:
        self._write_sealed(name, role, _json_bytes(data))

    def _read_json(self, name: str, role: str) -> dict[str, Any] | None:
        return _json_object(self._read_sealed(name, role), name)

    # -- the second trace --------------------------------------------------------------------

    def _read_trace(self) -> _Trace:
        damaged = StorageCorruptError(f"The license trace {self.trace_path} (the second copy of what this device "
                                      "has used) was altered or damaged.")
        try:
            data = _json_object(self._open_sealed(self.trace_path, "trace"), "trace")
            return _Trace() if data is None else _Trace.from_dict(data)
        except (StorageCorruptError, KeyError, TypeError, ValueError, AttributeError, UnicodeError):
            raise damaged from None

    def _write_trace(self, trace: _Trace) -> None:
        # The file is fsync'ed (a power cut never leaves it torn), its folder is not: at worst the trace
        # comes back a few writes behind the data folder, which the maximum of both then covers.
        atomic_write(self.trace_path, self._seal("trace", _json_bytes(trace.to_dict())), sync_folder=False)

    # -- the local license file --------------------------------------------------------------

    def read_state(self) -> DeviceState:
        """The local license file, raised to the trace's floor (the maximum of both places)."""
        return self._state_over(self._read_trace())

    def read_state_and_tombstones(self) -> tuple[DeviceState, frozenset[str]]:
        """Both, reading the trace once (what loading a license needs)."""
        trace = self._read_trace()
        return self._state_over(trace), self._tombstones_over(trace)

    def _state_over(self, trace: _Trace) -> DeviceState:
        data = self._read_json(LICENSE_FILE, "license")
        if data is None:
            return trace.floor_of(DeviceState())
        try:
            state = DeviceState.from_dict(data)
        except (KeyError, TypeError, ValueError, AttributeError, UnicodeError):
            raise StorageCorruptError("The local license file holds unreadable data.") from None
        return trace.floor_of(state)

    def write_state(self, state: DeviceState) -> None:
        """Write ``state`` (read with :meth:`read_state`, then changed): to the trace first, then the data folder."""
        self._write_trace(self._read_trace().recording(state))
        self._write_json(LICENSE_FILE, "license", state.to_dict())

    # -- tombstones --------------------------------------------------------------------------

    def read_tombstones(self) -> frozenset[str]:
        """The deactivated activations: those of the data folder and of the trace."""
        return self._tombstones_over(self._read_trace())

    def _tombstones_over(self, trace: _Trace) -> frozenset[str]:
        data = self._read_json(TOMBSTONE_FILE, "tombstones")
        traced = trace.tombstones
        if data is None:
            return traced
        ids = data.get("device_ids")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise StorageCorruptError("The local list of deactivated licenses holds unreadable data.")
        return frozenset(ids) | traced

    def add_tombstone(self, device_id: str) -> frozenset[str]:
        """Record a deactivated activation (in the trace, then the data folder); call with the lock held."""
        ids = self.read_tombstones() | {device_id}
        trace = self._read_trace()
        self._write_trace(replace(trace, tombstones=trace.tombstones | ids))
        self._write_json(TOMBSTONE_FILE, "tombstones", {"device_ids": sorted(ids)})
        return ids

    # -- guard file --------------------------------------------------------------------------

    def guard_exists(self) -> bool:
        return (self.folder / GUARD_FILE).exists()

    def read_guard(self) -> PendingRequest | None:
        """The pending request; StorageCorruptError when the guard was edited."""
        data = self._read_json(GUARD_FILE, "guard")
        if data is None:
            return None
        try:
            return PendingRequest.from_dict(data)
        except (KeyError, TypeError, ValueError):
            raise StorageCorruptError("The guard file holds unreadable data.") from None

    def write_guard(self, pending: PendingRequest) -> None:
        self._write_json(GUARD_FILE, "guard", pending.to_dict())

    def remove_guard(self) -> None:
        self._remove(GUARD_FILE)

    # -- floating seats ----------------------------------------------------------------------

    def read_floating(self) -> dict[str, Any] | None:
        """The workstation's floating record (parsed by ``_floating``); None when there is none."""
        return self._read_json(FLOATING_FILE, "floating")

    def write_floating(self, data: dict[str, Any]) -> None:
        """Replace the floating record; call with the lock held."""
        self._write_json(FLOATING_FILE, "floating", data)

    # -- everything --------------------------------------------------------------------------

    def wipe(self) -> None:
        """Remove the license, any pending request, and the floating record (a borrowed seat with it).

        Tombstones stay (they hold no license, and dropping them would let an old copy of the
        license file come back), and so do the lock file (others may be waiting on it) and the
        trace — unless the trace is damaged: then clearing is the way to start again.
        """
        for name in (LICENSE_FILE, GUARD_FILE, FLOATING_FILE):
            self._remove(name)
        try:
            self._read_trace()
        except StorageCorruptError:
            try:
                self.trace_path.unlink()
            except OSError as exc:
                raise StorageError(f"Cannot remove {self.trace_path}: {exc.strerror or exc}.") from None


def _json_bytes(data: dict[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _json_object(plaintext: bytes | None, name: str) -> dict[str, Any] | None:
    if plaintext is None:
        return None
    try:
        data = json.loads(plaintext)
        if not isinstance(data, dict):
            raise ValueError("not an object")
    except (ValueError, RecursionError):
        raise StorageCorruptError(f"The local file {name} holds unreadable data.") from None
    return data
