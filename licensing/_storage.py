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
from datetime import datetime
from pathlib import Path
from typing import Any

import filelock

from . import _crypto as crypto
from ._errors import StorageCorruptError, StorageError, StorageLockedError
from ._formats import format_time, parse_time
from ._fs import atomic_write, fsync_dir

__all__ = ["LocalStore", "DeviceState", "PendingRequest", "PendingSync", "derive_store_key",
           "LICENSE_FILE", "TOMBSTONE_FILE", "GUARD_FILE", "LOCK_FILE", "FLOATING_FILE"]

_MAGIC = b"OLS1"
LICENSE_FILE = "license.dat"
TOMBSTONE_FILE = "tombstones.dat"
GUARD_FILE = ".guard"
LOCK_FILE = ".lock"
FLOATING_FILE = "floating.dat"


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


@dataclass(frozen=True)
class DeviceState:
    """The local license file's contents: the signed license and what the device remembers."""

    license: bytes | None = None  # the vendor-signed envelope, verbatim
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

    def to_dict(self) -> dict[str, Any]:
        return {
            "license": None if self.license is None else self.license.decode("ascii"),
            "device_key": None if self.device_key is None else crypto.b64encode(self.device_key),
            "device_id": self.device_id,
            "high_water": None if self.high_water is None else format_time(self.high_water),
            "local_consumptions": self.local_consumptions,
            "feature_consumptions": dict(self.feature_consumptions),
            "used_requests": sorted(self.used_requests),
            "last_online_check": None if self.last_online_check is None else format_time(self.last_online_check),
            "pending_sync": None if self.pending_sync is None else self.pending_sync.to_dict(),
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
        return cls(
            license=None if signed is None else signed.encode("ascii"),
            device_key=device_key,
            device_id=device_id,
            high_water=None if water is None else parse_time(water),
            local_consumptions=_count(data["local_consumptions"]),
            feature_consumptions=_counts(data["feature_consumptions"]),
            used_requests=frozenset(used),
            last_online_check=None if online is None else parse_time(online),
            pending_sync=None if pending is None else PendingSync.from_dict(pending),
        )

    def seen(self, moment: datetime) -> DeviceState:
        """Advance the high-water mark (it never moves back)."""
        if self.high_water is not None and moment <= self.high_water:
            return self
        return replace(self, high_water=moment)

    def without_license(self) -> DeviceState:
        return replace(self, license=None, device_id=None, local_consumptions=0, feature_consumptions={},
                       last_online_check=None, pending_sync=None)


class LocalStore:
    """The files of one product on one device. Methods raise only :class:`StorageError` types."""

    def __init__(self, folder: Path, key: bytes, product: str, *, lock_timeout: float = 10.0) -> None:
        self.folder = folder
        self._key = key
        self._product = product.encode("utf-8")
        self._lock = filelock.FileLock(str(folder / LOCK_FILE), timeout=lock_timeout)

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
        self._write_sealed(name, role, json.dumps(data, sort_keys=True, separators=(",", ":")).encode("utf-8"))

    def _read_json(self, name: str, role: str) -> dict[str, Any] | None:
        plaintext = self._read_sealed(name, role)
        if plaintext is None:
            return None
        try:
            data = json.loads(plaintext)
            if not isinstance(data, dict):
                raise ValueError("not an object")
        except (ValueError, RecursionError):
            raise StorageCorruptError(f"The local file {name} holds unreadable data.") from None
        return data

    # -- the local license file --------------------------------------------------------------

    def read_state(self) -> DeviceState:
        data = self._read_json(LICENSE_FILE, "license")
        if data is None:
            return DeviceState()
        try:
            return DeviceState.from_dict(data)
        except (KeyError, TypeError, ValueError, AttributeError, UnicodeError):
            raise StorageCorruptError("The local license file holds unreadable data.") from None

    def write_state(self, state: DeviceState) -> None:
        self._write_json(LICENSE_FILE, "license", state.to_dict())

    # -- tombstones --------------------------------------------------------------------------

    def read_tombstones(self) -> frozenset[str]:
        data = self._read_json(TOMBSTONE_FILE, "tombstones")
        if data is None:
            return frozenset()
        ids = data.get("device_ids")
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise StorageCorruptError("The local list of deactivated licenses holds unreadable data.")
        return frozenset(ids)

    def add_tombstone(self, device_id: str) -> frozenset[str]:
        """Record a deactivated activation; call with the lock held."""
        ids = self.read_tombstones() | {device_id}
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
        license file come back), and so does the lock file (others may be waiting on it).
        """
        for name in (LICENSE_FILE, GUARD_FILE, FLOATING_FILE):
            self._remove(name)
