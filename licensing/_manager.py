"""The entry point an application uses: request, activate, load and forget licenses on this device.

The offline activation is the tutorial's three steps: :meth:`LicenseManager.create_offline_activation_file`
writes ``ls_activation.req`` (and the guard file), a person carries it to the vendor's portal,
and :meth:`LicenseManager.activate_license_offline` accepts the ``ls_activation.lic`` that comes
back — only if it is genuine, for this product, this device, and the request made last.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from . import _crypto as crypto
from ._clock import utc_now
from ._config import Configuration
from ._errors import (
    ClockTamperedError,
    ConfigurationError,
    GuardMissingError,
    GuardTamperedError,
    LicenseDeactivatedError,
    LicenseFileError,
    OfflineNotSupportedError,
    ProductMismatchError,
    RequestMismatchError,
    ResponseReusedError,
    ServerUnreachableError,
    SignatureMismatchError,
    StorageCorruptError,
    UnknownSigningKeyError,
    UsageError,
)
from ._formats import (
    ACTIVATION_REQUEST,
    ACTIVATION_RESPONSE,
    LICENSE_REFRESH,
    ActivationResponse,
    Envelope,
    LicenseRefresh,
    encode_device_signed,
    format_time,
    open_signed,
    read_artefact,
    write_artefact,
)
from ._hardware import device_identity
from ._hybrid import HybridResult
from ._license import License, _clock_error, _output_path
from ._online import LicenseServer
from ._storage import DeviceState, LocalStore, PendingRequest, derive_store_key

__all__ = ["LicenseManager", "LicenseID", "ACTIVATION_REQUEST_FILE_NAME", "ACTIVATION_RESPONSE_FILE_NAME"]

ACTIVATION_REQUEST_FILE_NAME = "ls_activation.req"
ACTIVATION_RESPONSE_FILE_NAME = "ls_activation.lic"
SignedT = TypeVar("SignedT", ActivationResponse, LicenseRefresh)
_KEY_PATTERN = re.compile(r"^[A-Z0-9]{4}(-[A-Z0-9]{4}){3}$")


@dataclass(frozen=True, repr=False)
class LicenseID:
    """Names a license: by key (``XXXX-XXXX-XXXX-XXXX``) or by user name and password."""

    key: str | None = None
    username: str | None = None
    password: str | None = None

    @classmethod
    def from_key(cls, key: str) -> LicenseID:
        normalised = key.strip().upper() if isinstance(key, str) else ""
        if not _KEY_PATTERN.match(normalised):
            raise UsageError(f"{key!r} is not a license key; keys look like ABCD-1234-EFGH-5678.",
                             hint="Copy the key exactly as your vendor sent it.")
        return cls(key=normalised)

    @classmethod
    def from_user(cls, username: str, password: str) -> LicenseID:
        if not isinstance(username, str) or not username.strip() or not isinstance(password, str) or not password:
            raise UsageError("A user-based license needs both a user name and a password.")
        return cls(username=username.strip(), password=password)

    def __repr__(self) -> str:  # never show the password
        return f"LicenseID(key={self.key!r})" if self.key else f"LicenseID(username={self.username!r})"


class LicenseManager:
    """Licensing for one product on this device. Cheap to create; reads nothing until asked."""

    def __init__(self, config: Configuration) -> None:
        if not isinstance(config, Configuration):
            raise ConfigurationError("LicenseManager needs a licensing.Configuration.")
        self.config = config
        identity = device_identity(config.product, config.raw_hardware_id())
        self.hardware_id = identity.hardware_id
        self.store = LocalStore(config.product_dir, derive_store_key(identity.secret, config.product),
                                config.product, lock_timeout=config.lock_timeout)
        self.server = LicenseServer(config)
        self._current: License | None = None

    # -- step 1: the request -----------------------------------------------------------------

    def create_offline_activation_file(self, license_id: LicenseID, path: str | Path | None = None) -> Path:
        """Write ``ls_activation.req`` (default: on the desktop) and remember it in the guard file."""
        target = _output_path(path, self.config.requests_dir, ACTIVATION_REQUEST_FILE_NAME)
        with self.store.locked():
            data, pending = self._activation_request(license_id)
            write_artefact(target, data)  # first: if it cannot be written, the earlier request stays valid
            if self.config.guard_file:
                self.store.write_guard(pending)
        return target

    def _activation_request(self, license_id: LicenseID) -> tuple[bytes, PendingRequest]:
        """A signed activation request and what to remember about it. Call with the lock held."""
        if not isinstance(license_id, LicenseID):
            raise UsageError("Name the license with LicenseID.from_key(...) or LicenseID.from_user(...).")
        config = self.config
        now = utc_now(config.clock)
        request_id, nonce = secrets.token_hex(16), secrets.token_hex(16)
        state = self.store.read_state()
        if state.device_key is None:
            state = replace(state, device_key=crypto.private_bytes(crypto.Ed25519PrivateKey.generate()))
            self.store.write_state(state)
        body = {
            "product": config.product,
            "api_key": config.api_key,
            "request_id": request_id,
            "nonce": nonce,
            "hardware_id": self.hardware_id,
            "created_at": format_time(now),
            "credentials": self._credentials(license_id, request_id),
        }
        device_key = crypto.Ed25519PrivateKey.from_private_bytes(state.device_key)  # type: ignore[arg-type]
        data = encode_device_signed(ACTIVATION_REQUEST, body, device_key, config.shared_key.encode("utf-8"))
        return data, PendingRequest(request_id, nonce, self.hardware_id, now)

    def _credentials(self, license_id: LicenseID, request_id: str) -> dict[str, object]:
        if license_id.key is not None:
            return {"key": license_id.key}
        if self.config.encryption_key is None:
            raise ConfigurationError("User-based licenses need the vendor's encryption key in the configuration.",
                                     hint="Use the configuration file exported by the vendor, which includes it.")
        sealed = crypto.seal(self.config.encryption_key, (license_id.password or "").encode("utf-8"),
                             aad=request_id.encode("ascii"))
        return {"user": license_id.username, "password": sealed}

    # -- step 3: the response ----------------------------------------------------------------

    def activate_license_offline(self, path: str | Path | None = None) -> License:
        """Activate from ``ls_activation.lic`` (default: on the desktop) and return the license."""
        source = _output_path(path, self.config.requests_dir, ACTIVATION_RESPONSE_FILE_NAME)
        return self._accept_activation(read_artefact(source), pending=None)

    def _accept_activation(self, data: bytes, *, pending: PendingRequest | None) -> License:
        """Verify a response and make it the local license.

        ``pending`` is the request just sent online (the answer came straight back); offline,
        the guard file says which request the response must answer.
        """
        config = self.config
        envelope, response = self._open_for_this_device(data, ActivationResponse)
        if response.license.license_type == "subscription" and pending is None:
            raise OfflineNotSupportedError()
        now = utc_now(config.clock)
        with self.store.locked():
            state = self.store.read_state()
            tombstones = self.store.read_tombstones()
            self._check_response_is_ours(response, state, tombstones)
            if pending is not None:
                if (pending.request_id, pending.nonce) != (response.request_id, response.nonce):
                    raise RequestMismatchError("The license server answered a different request than the one sent.")
            elif config.guard_file:
                self._check_guard(response, now)
            clock_error = _clock_error(now, state.high_water, response.issued_at, config.clock_tolerance)
            if clock_error is not None:
                raise clock_error
            state = DeviceState(license=envelope.raw, device_key=state.device_key, device_id=response.device_id,
                                high_water=state.high_water, used_requests=state.used_requests | {response.request_id},
                                last_online_check=now if pending is not None else None)
            state = state.seen(now)
            self.store.write_state(state)
            if pending is None and config.guard_file:
                self.store.remove_guard()
        self._current = License(self, response, state, tombstones)
        return self._current

    def _open_for_this_device(self, data: bytes, kind: type[SignedT]) -> tuple[Envelope, SignedT]:
        """Verify a vendor file (response or refresh) and that it was made for this product and device."""
        typ = ACTIVATION_RESPONSE if kind is ActivationResponse else LICENSE_REFRESH
        envelope, doc = open_signed(data, typ, self.config.trusted_keys)
        signed = kind.from_payload(doc)
        what = "response" if typ == ACTIVATION_RESPONSE else "refresh"
        if signed.product != self.config.product:
            raise ProductMismatchError(f"This {what} file belongs to another product.")
        if signed.hardware_id != self.hardware_id:
            if typ == ACTIVATION_RESPONSE:
                raise SignatureMismatchError()
            raise SignatureMismatchError("This refresh file was made for a different device than this one.",
                                         hint="In the portal's Devices tab, download the refresh file of this device.")
        return envelope, signed

    # -- online and hybrid -------------------------------------------------------------------

    def is_online(self) -> bool:
        """Does the license server answer right now? Never raises; bounded by the timeout; cached briefly."""
        return self.server.is_online()

    def activate_license(self, license_id: LicenseID) -> License:
        """Activate online: the same signed request and response as offline, carried by HTTP."""
        with self.store.locked():
            data, pending = self._activation_request(license_id)
        return self._accept_activation(self.server.post("/activate", data), pending=pending)

    def activate_hybrid(self, license_id: LicenseID, path: str | Path | None = None) -> HybridResult:
        """Activate online when the server answers; otherwise write the offline request file.

        The result says which route was taken and why, so the application can tell its user
        ("activated online" / "take this file to the portal").
        """
        reason = self._offline_reason()
        if reason is None:
            try:
                return HybridResult("online", "the license server answered",
                                    license=self.activate_license(license_id))
            except ServerUnreachableError:
                reason = "the license server stopped answering"
        return HybridResult("offline", reason, path=self.create_offline_activation_file(license_id, path))

    def _offline_reason(self) -> str | None:
        """None when the online route is open, else why not (for HybridResult.reason)."""
        if not self.server.configured:
            return "no license server is configured"
        if not self.is_online():
            return "the license server cannot be reached"
        return None

    def _check_response_is_ours(self, response: ActivationResponse, state: DeviceState,
                                tombstones: frozenset[str]) -> None:
        if response.request_id in state.used_requests:
            raise ResponseReusedError()
        if response.device_id in tombstones:
            raise LicenseDeactivatedError("This response belongs to an activation that was deactivated on this device.")
        own_key = (None if state.device_key is None else crypto.b64encode(crypto.public_bytes(
            crypto.Ed25519PrivateKey.from_private_bytes(state.device_key).public_key())))
        if own_key != response.device_key:
            raise RequestMismatchError(
                "This response answers a request made before this device's license storage was cleared.",
                hint="Create a new activation request on this device and upload that one.")

    def _check_guard(self, response: ActivationResponse, now: datetime) -> None:
        try:
            pending = self.store.read_guard()
        except StorageCorruptError:
            raise GuardTamperedError() from None
        if pending is None:
            raise GuardMissingError()
        if pending.hardware_id != self.hardware_id:
            raise GuardTamperedError("The guard file was made on another device.")
        if pending.created_at > now + self.config.clock_tolerance:
            raise ClockTamperedError("The pending request was created later than this computer's clock now reads.")
        if pending.request_id != response.request_id or pending.nonce != response.nonce:
            raise RequestMismatchError()

    # -- memory and disk ---------------------------------------------------------------------

    def get_current_license(self) -> License | None:
        """The license held in memory, else the one on disk (the tutorial's "memory first").

        As in the tutorial, a license held in memory is returned even if its file was removed
        from disk behind this manager's back; use :meth:`reload_license` to read the disk.
        """
        if self._current is not None:
            return self._current
        return self.reload_license()

    def reload_license(self) -> License | None:
        """Always read the local license file from disk, verify it again, and hold it in memory."""
        with self.store.locked():
            state = self.store.read_state()
            tombstones = self.store.read_tombstones()
        if state.license is None:
            self._current = None
            return None
        try:
            envelope, doc = open_signed(state.license, frozenset({ACTIVATION_RESPONSE, LICENSE_REFRESH}),
                                        self.config.trusted_keys)
            signed = (ActivationResponse.from_payload(doc) if envelope.typ == ACTIVATION_RESPONSE
                      else LicenseRefresh.from_payload(doc))
        except UnknownSigningKeyError:
            raise  # accurate as it is: the application no longer trusts the key that signed it
        except LicenseFileError:
            raise StorageCorruptError("The local license file holds a license that fails verification: it was altered.",
                                      ) from None
        if signed.device_id != state.device_id:
            raise StorageCorruptError("The local license file is inconsistent with this device's records.")
        self._current = License(self, signed, state, tombstones)
        return self._current

    def clear_local_storage(self) -> None:
        """Remove the local license and any pending request, and forget the license in memory.

        This does not tell the vendor anything: the activation still counts there. To free the
        activation, deactivate first (``license.deactivate_offline()``).
        """
        with self.store.locked():
            self.store.wipe()
        self._current = None

    def _forget(self, license_: License) -> None:
        if self._current is license_:
            self._current = None
