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

from . import _crypto as crypto
from ._clock import anchored, read_clock, server_time_error
from ._config import Configuration
from ._context import LicenseContext
from ._errors import (
    ClockTamperedError,
    ConfigurationError,
    GuardMissingError,
    GuardTamperedError,
    LicenseDeactivatedError,
    LicenseFileError,
    OfflineNotSupportedError,
    RequestMismatchError,
    ResponseReusedError,
    ServerAnswerMismatchError,
    ServerUnreachableError,
    StorageCorruptError,
    UnknownSigningKeyError,
    UsageError,
)
from ._floating import FloatingClient
from ._formats import (
    ACTIVATION_REQUEST,
    ACTIVATION_REQUEST_FILE_NAME,
    ACTIVATION_RESPONSE,
    ACTIVATION_RESPONSE_FILE_NAME,
    FLOATING_SERVER_ROLE,
    LICENSE_REFRESH,
    ActivationResponse,
    LicenseRefresh,
    encode_device_signed,
    format_time,
    open_signed,
    read_artefact,
    write_artefact,
)
from ._fs import output_path
from ._hardware import device_identity
from ._license import License
from ._online import LicenseServer
from ._results import HybridResult
from ._storage import DeviceState, LocalStore, PendingRequest, derive_store_key

__all__ = ["LicenseManager", "LicenseID"]

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
        identity = device_identity(config.product, config.raw_hardware_id(), config.hardware_components())
        self.hardware_id = identity.hardware_id
        self._store = LocalStore(config.product_dir, derive_store_key(identity.secret, config.product),
                                 config.product, trace_folder=config.product_trace_dir,
                                 lock_timeout=config.lock_timeout)
        self._server = LicenseServer(config)
        self._context = LicenseContext(config, self.hardware_id, identity.components, self._store, self._server,
                                       self._forget)
        self._current: License | None = None

    def now(self) -> datetime:
        """The time by the configured clock, in UTC (the time every check of this manager uses)."""
        return self._context.now()

    def has_pending_request(self) -> bool:
        """Is an activation request waiting for its response (the guard file remembers one)?"""
        return self._store.guard_exists()

    def close(self) -> None:
        """Close the connection to the license server, if one was opened. The manager stays usable."""
        self._server.close()

    def __enter__(self) -> LicenseManager:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- step 1: the request -----------------------------------------------------------------

    def create_offline_activation_file(self, license_id: LicenseID, path: str | Path | None = None, *,
                                       floating_server: bool = False) -> Path:
        """Write ``ls_activation.req`` (default: on the desktop) and remember it in the guard file.

        ``floating_server=True`` is for a floating license server at a customer's site (the
        ``licensing-floating`` command): the request says so, and the vendor answers it only for a
        floating license — and answers a floating license only to such a request.
        """
        target = output_path(path, self.config.requests_dir, ACTIVATION_REQUEST_FILE_NAME)
        with self._store.locked():
            data, pending = self._activation_request(license_id, floating_server=floating_server)
            write_artefact(target, data)  # first: if it cannot be written, the earlier request stays valid
            if self.config.guard_file:
                self._store.write_guard(pending)
        return target

    def _activation_request(self, license_id: LicenseID, *,
                            floating_server: bool = False) -> tuple[bytes, PendingRequest]:
        """A signed activation request and what to remember about it. Call with the lock held."""
        if not isinstance(license_id, LicenseID):
            raise UsageError("Name the license with LicenseID.from_key(...) or LicenseID.from_user(...).")
        config = self.config
        now = self.now()
        request_id, nonce = secrets.token_hex(16), secrets.token_hex(16)
        state = self._store.read_state()
        if state.device_key is None:
            state = replace(state, device_key=crypto.private_bytes(crypto.Ed25519PrivateKey.generate()))
            self._store.write_state(state)
        body = {
            "product": config.product,
            "api_key": config.api_key,
            "request_id": request_id,
            "nonce": nonce,
            "hardware_id": self.hardware_id,
            "created_at": format_time(now),
            "credentials": self._credentials(license_id, request_id),
        }
        if floating_server:
            body["role"] = FLOATING_SERVER_ROLE
        if self._context.components:  # signed back into the response: what else this machine is
            body["hardware_components"] = dict(self._context.components)
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
        source = output_path(path, self.config.requests_dir, ACTIVATION_RESPONSE_FILE_NAME)
        return self._accept_activation(read_artefact(source), pending=None)

    def _accept_activation(self, data: bytes, *, pending: PendingRequest | None) -> License:
        """Verify a response and make it the local license.

        ``pending`` is the request just sent online (the answer came straight back: it must
        answer that request, and its signed time — which must agree with the device clock — is the
        time of contact and re-anchors the clock); offline, the guard file says which request the
        response must answer.
        """
        config = self.config
        envelope, response = self._context.open_vendor_file(data, ActivationResponse)
        if response.license.license_type == "subscription" and pending is None:
            raise OfflineNotSupportedError()
        now = self.now()
        if pending is not None:
            if (pending.request_id, pending.nonce) != (response.request_id, response.nonce):
                raise ServerAnswerMismatchError()
            disagreement = server_time_error(now, response.issued_at, config.clock_tolerance)
            if disagreement is not None:
                raise disagreement
        with self._store.locked():
            state, tombstones = self._store.read_state_and_tombstones()
            self._check_response_is_ours(response, state, tombstones)
            if pending is None and config.guard_file:
                self._check_guard(response, now)
            if pending is not None:
                reading = anchored(now, response.issued_at)
            else:
                reading = read_clock(now, state.high_water, state.clock_skew, config.clock_tolerance,
                                     floor=response.issued_at)
                if reading.error is not None:
                    raise reading.error
            state = DeviceState(license=envelope.raw, activation=envelope.raw, device_key=state.device_key,
                                device_id=response.device_id, high_water=reading.high_water,
                                clock_skew=reading.skew, used_requests=state.used_requests | {response.request_id},
                                last_online_check=response.issued_at if pending is not None else None)
            self._store.write_state(state)
            if pending is None and config.guard_file:
                self._store.remove_guard()
        self._current = License(self._context, response, state, tombstones, response)
        return self._current

    def is_online(self, *, fresh: bool = False) -> bool:
        """Does the license server answer right now? Never raises; bounded by the timeout.

        The answer is reused for a few seconds (a UI may ask on every keystroke); ``fresh=True``
        asks the server again, e.g. when the user says the network is back.
        """
        if fresh:
            self._server.forget_online_state()
        return self._server.is_online()

    def activate_license(self, license_id: LicenseID) -> License:
        """Activate online: the same signed request and response as offline, carried by HTTP."""
        with self._store.locked():
            data, pending = self._activation_request(license_id)
        return self._accept_activation(self._server.post("/activate", data), pending=pending)

    def activate_hybrid(self, license_id: LicenseID, path: str | Path | None = None) -> HybridResult:
        """Activate online when the server answers; otherwise write the offline request file.

        The result says which route was taken and why, so the application can tell its user
        ("activated online" / "take this file to the portal").
        """
        reason = self._context.offline_reason()
        if reason is None:
            try:
                return HybridResult("online", "the license server answered",
                                    license=self.activate_license(license_id))
            except ServerUnreachableError:
                reason = "the license server stopped answering"
        return HybridResult("offline", reason, path=self.create_offline_activation_file(license_id, path))

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
            pending = self._store.read_guard()
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

    # -- floating licenses -------------------------------------------------------------------

    def floating(self, server_url: str, *, client_name: str | None = None) -> FloatingClient:
        """This device as a workstation of the floating server at ``server_url`` (take, keep, borrow seats).

        ``client_name`` is how the seat list shows this workstation (default: user@host).
        """
        return FloatingClient(self._context, server_url, client_name=client_name)

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
        with self._store.locked():
            state, tombstones = self._store.read_state_and_tombstones()
        if state.license is None:
            self._current = None
            return None
        signed = self._verified(state.license)
        activation = signed if state.activation in (None, state.license) else self._verified(state.activation)
        if signed.device_id != state.device_id or activation.device_id != state.device_id:
            raise StorageCorruptError("The local license file is inconsistent with this device's records.")
        self._current = License(self._context, signed, state, tombstones, activation)
        return self._current

    def _verified(self, stored: bytes) -> ActivationResponse | LicenseRefresh:
        """A vendor file kept in the local license file, verified again (signature and format)."""
        try:
            envelope, doc = open_signed(stored, frozenset({ACTIVATION_RESPONSE, LICENSE_REFRESH}),
                                        self.config.trusted_keys)
            return (ActivationResponse.from_payload(doc) if envelope.typ == ACTIVATION_RESPONSE
                    else LicenseRefresh.from_payload(doc))
        except UnknownSigningKeyError:
            raise  # accurate as it is: the application no longer trusts the key that signed it
        except LicenseFileError:
            raise StorageCorruptError("The local license file holds a license that fails verification: it was altered.",
                                      ) from None

    def clear_local_storage(self) -> None:
        """Remove the local license and any pending request, and forget the license in memory.

        This does not tell the vendor anything: the activation still counts there. To free the
        activation, deactivate first (``license.deactivate_offline()``).
        """
        with self._store.locked():
            self._store.wipe()
        self._current = None

    def _forget(self, license_: object) -> None:
        if self._current is license_:
            self._current = None
