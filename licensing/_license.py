"""An activated license on this device: what it grants, whether it may be used now, and its use.

A :class:`License` is built only from vendor-signed bytes that were verified on load, and holds
their parsed terms in frozen dataclasses: there is no setter through which the in-memory license
could drift from what the vendor signed. A refresh replaces the whole snapshot at once.

``local_check()`` runs, in order: signature, product, hardware id, enabled, start and expiry,
consumption limits, tombstones, clock. :meth:`License.check_status` runs the same checks and
returns every outcome (for a status bar or a "why am I not licensed?" answer) without raising.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Union

from . import _crypto as crypto
from ._clock import clock_error
from ._context import LicenseContext
from ._errors import (
    ConsumptionLimitError,
    FeatureExpiredError,
    FeatureNotFoundError,
    GracePeriodExpiredError,
    LicenseDeactivatedError,
    LicenseDisabledError,
    LicenseError,
    LicenseExpiredError,
    LicenseNotStartedError,
    NotFloatingError,
    ProductMismatchError,
    RefreshOutdatedError,
    RequestReplayedError,
    ServerUnreachableError,
    SignatureMismatchError,
    UsageError,
)
from ._formats import (
    CONSUMPTION_SYNC,
    DEACTIVATION_FILE_NAME,
    DEACTIVATION_REQUEST,
    REFRESH_FILE_NAME,
    REFRESH_REQUEST,
    REFRESH_REQUEST_FILE_NAME,
    ActivationResponse,
    Feature,
    LicenseRefresh,
    LicenseTerms,
    encode_device_signed,
    format_time,
    read_artefact,
    write_artefact,
)
from ._fs import output_path
from ._leases import LeaseSigner
from ._results import CHECK_ORDER, CheckItem, HybridResult, LocalCheckResult
from ._storage import DeviceState, PendingSync

__all__ = ["License"]

SignedLicense = Union[ActivationResponse, LicenseRefresh]

class License:
    """A license activated on this device. Obtain one from :class:`~licensing.LicenseManager`."""

    def __init__(self, context: LicenseContext, signed: SignedLicense, state: DeviceState,
                 tombstones: frozenset[str]) -> None:
        self._context = context
        self._signed = signed
        self._state = state
        self._tombstones = tombstones
        self._deactivated = False
        self._persisted_high_water = state.high_water

    # -- what the vendor granted -------------------------------------------------------------

    @property
    def terms(self) -> LicenseTerms:
        return self._signed.license

    @property
    def key(self) -> str | None:
        return self.terms.key

    @property
    def user(self) -> str | None:
        return self.terms.user

    @property
    def license_type(self) -> str:
        return self.terms.license_type

    @property
    def device_id(self) -> str:
        return self._signed.device_id

    @property
    def hardware_id(self) -> str:
        return self._signed.hardware_id

    @property
    def enabled(self) -> bool:
        return self.terms.enabled

    @property
    def start(self) -> datetime | None:
        return self.terms.start

    @property
    def expires(self) -> datetime | None:
        return self.terms.expires

    @property
    def issued_at(self) -> datetime:
        return self._signed.issued_at

    @property
    def revision(self) -> int:
        return self.terms.revision

    @property
    def last_server_contact(self) -> datetime | None:
        """When the license server last confirmed this license; None for a license kept offline."""
        return self._state.last_online_check

    @property
    def max_activations(self) -> int:
        return self.terms.max_activations

    @property
    def total_activations(self) -> int:
        return self.terms.total_activations

    def days_remaining(self, now: datetime | None = None) -> int | None:
        """Whole days until expiry (0 on the last day, negative once expired); None if it never expires."""
        if self.expires is None:
            return None
        moment = now or self._context.now()
        return (self.expires - moment) // timedelta(days=1)

    @property
    def status(self) -> str:
        """One word for people: active, disabled, expired, deactivated, not-started."""
        if self._deactivated or self.device_id in self._tombstones:
            return "deactivated"
        now = self._context.now()
        if not self.enabled:
            return "disabled"
        if self.start is not None and now < self.start:
            return "not-started"
        if self.expires is not None and now >= self.expires:
            return "expired"
        return "active"

    def lease_signer(self) -> LeaseSigner:
        """What a floating server signs its leases with: this device's key, which the vendor certified.

        Only a floating license has one (``NotFloatingError`` otherwise); the private key stays
        inside the returned signer, which signs floating leases and nothing else.
        """
        if self.terms.floating is None:
            raise NotFloatingError(f"This is a {self.license_type} license, not a floating one: it cannot sign leases.")
        return LeaseSigner(crypto.Ed25519PrivateKey.from_private_bytes(self._state.device_key))  # type: ignore[arg-type]

    # -- features ----------------------------------------------------------------------------

    def features(self) -> tuple[Feature, ...]:
        return self.terms.features

    def feature(self, code: str) -> Feature:
        """The feature ``code``, or FeatureNotFoundError/FeatureExpiredError saying why not."""
        return feature_of(self.terms, code, self._context.now())

    def has_feature(self, code: str) -> bool:
        try:
            self.feature(code)
        except LicenseError:
            return False
        return True

    # -- consumption -------------------------------------------------------------------------

    @property
    def local_consumptions(self) -> int:
        return self._state.local_consumptions

    @property
    def total_consumptions(self) -> int:
        """Consumption the vendor has booked (reported by earlier deactivations or syncs)."""
        return self.terms.total_consumptions

    @property
    def max_consumptions(self) -> int | None:
        return self.terms.max_consumptions

    @property
    def allow_overages(self) -> bool:
        return self.terms.allow_overages

    @property
    def max_overages(self) -> int:
        return self.terms.max_overages

    def consumption_allowance(self) -> int | None:
        """The most consumption this license may reach, overages included; None for no limit."""
        if self.terms.max_consumptions is None:
            return None
        return self.terms.max_consumptions + (self.terms.max_overages if self.terms.allow_overages else 0)

    @property
    def remaining_consumptions(self) -> int | None:
        allowance = self.consumption_allowance()
        if allowance is None:
            return None
        return max(0, allowance - self.total_consumptions - self.local_consumptions)

    @property
    def overages(self) -> int:
        if self.terms.max_consumptions is None:
            return 0
        return max(0, self.total_consumptions + self.local_consumptions - self.terms.max_consumptions)

    def feature_consumptions(self, code: str) -> int:
        return self._state.feature_consumptions.get(code, 0)

    def add_local_consumption(self, count: int = 1) -> int:
        """Record ``count`` uses, durably, and return the new local total.

        The count is added to what is on disk under the cross-process lock, so two processes
        consuming at once never lose an update; a use that would pass the limit is refused
        and nothing is recorded.
        """
        _require_positive(count)
        if self.license_type != "consumption" or self.terms.max_consumptions is None:
            raise UsageError("This license does not count consumption, so there is nothing to record.",
                             hint="Only consumption licenses have uses to record.")
        self.local_check()
        allowance = self.consumption_allowance()

        def add(state: DeviceState) -> DeviceState:
            total = self.total_consumptions + state.local_consumptions + count
            if allowance is not None and total > allowance:
                left = max(0, allowance - self.total_consumptions - state.local_consumptions)
                raise ConsumptionLimitError(
                    f"Recording {_plural(count, 'more use')} would pass the license's limit of {allowance}; "
                    f"{left} left.")
            return replace(state, local_consumptions=state.local_consumptions + count)

        self._update_state(add)
        return self._state.local_consumptions

    def add_local_feature_consumption(self, code: str, count: int = 1) -> int:
        """Like :meth:`add_local_consumption`, for a feature with its own consumption limit."""
        _require_positive(count)
        self.local_check()
        feature = self.feature(code)

        def add(state: DeviceState) -> DeviceState:
            used = state.feature_consumptions.get(code, 0) + count
            if feature.max_consumptions is not None and feature.total_consumptions + used > feature.max_consumptions:
                raise ConsumptionLimitError(
                    f"The feature '{code}' would pass its limit of {feature.max_consumptions} uses.")
            return replace(state, feature_consumptions={**state.feature_consumptions, code: used})

        self._update_state(add)
        return self._state.feature_consumptions[code]

    # -- checks ------------------------------------------------------------------------------

    def check_status(self) -> LocalCheckResult:
        """Run every local check and report each outcome; never raises a license error."""
        now = self._context.now()
        items = tuple(CheckItem(name, error is None, error) for name, error in self._checks(now, fast=False))
        if items[CHECK_ORDER.index("clock")].ok:
            self._state = self._state.seen(now)  # in memory only: a status display never writes
        expired = tuple(f.code for f in self.terms.features if f.expires is not None and now >= f.expires)
        return LocalCheckResult(checked_at=now, items=items, expired_features=expired)

    def local_check(self) -> LocalCheckResult:
        """Check the license on this device without a network; raise the first failure.

        Every honest clock reading advances the high-water mark, whether or not the license
        passes — otherwise a license found expired could be revived by setting the clock back
        to before that check. The mark is written to disk at most once per
        ``Configuration.high_water_persist_interval``, not on every call.
        """
        now = self._context.now()
        rolled_back = clock_error(now, self._state.high_water, self._signed.issued_at,
                                  self._context.config.clock_tolerance)
        if rolled_back is None and not self._deactivated:
            self._advance_clock(now)
        for _name, error in self._checks(now, fast=True):
            if error is not None:
                raise error
        expired = tuple(f.code for f in self.terms.features if f.expires is not None and now >= f.expires)
        return LocalCheckResult(checked_at=now, items=tuple(CheckItem(n, True) for n in CHECK_ORDER),
                                expired_features=expired)

    def _checks(self, now: datetime, *, fast: bool) -> Iterator[tuple[str, LicenseError | None]]:
        """Yield (check name, error or None) in the documented order."""
        config = self._context.config
        terms = self.terms
        # The signature was verified when these bytes were loaded, and the terms are frozen.
        yield "signature", None
        yield "product", (None if self._signed.product == config.product else ProductMismatchError(
            "The local license belongs to another product."))
        yield "hardware_id", (None if self._signed.hardware_id == self._context.hardware_id else SignatureMismatchError(
            "The local license was activated on a different device.",
            hint="Activate this device with its own request file; licenses cannot be copied between devices."))
        if fast and terms.enabled and _within_dates(terms, now) and not self._over_limit():
            yield "enabled", None  # fast path: no error objects built when everything passes
            yield "validity", None
            yield "consumption", None
        else:
            yield "enabled", None if terms.enabled else LicenseDisabledError()
            yield "validity", _validity_error(terms, now)
            yield "consumption", (ConsumptionLimitError(
                f"The license has used {self.total_consumptions + self.local_consumptions} of its "
                f"{self.consumption_allowance()} allowed consumptions.") if self._over_limit() else None)
        yield "tombstone", (LicenseDeactivatedError() if self._deactivated or self.device_id in self._tombstones
                            else None)
        # The mark may already include ``now`` (local_check records it first): compare to the past only.
        yield "clock", clock_error(now, self._state.high_water, self._signed.issued_at, config.clock_tolerance)
        yield "server_contact", self._grace_error(now)

    def _grace_error(self, now: datetime) -> GracePeriodExpiredError | None:
        """A license confirmed online must hear from the server again within the grace period."""
        grace = self._context.config.grace_period
        last = self._state.last_online_check
        if grace is None or last is None or now - last <= grace:
            return None
        return GracePeriodExpiredError(
            f"This license last heard from the license server on {last:%Y-%m-%d}, more than "
            f"{_plural(grace.days, 'day')} ago.")

    def _over_limit(self) -> bool:
        allowance = self.consumption_allowance()
        return allowance is not None and self.total_consumptions + self.local_consumptions > allowance

    def _advance_clock(self, now: datetime) -> None:
        self._state = self._state.seen(now)
        persisted = self._persisted_high_water
        if persisted is None or now - persisted >= self._context.config.high_water_persist_interval:
            self._update_state(lambda state: state)

    # -- deactivation ------------------------------------------------------------------------

    def deactivate_offline(self, path: str | Path | None = None) -> Path:
        """Write ``ls_deactivation.req`` for the vendor, then remove the license from this device.

        The request carries the local consumption so the vendor can book it. The activation is
        added to the device's tombstones, so an old copy of the license file is refused later.
        """
        target = output_path(path, self._context.config.requests_dir, DEACTIVATION_FILE_NAME)
        with self._context.store.locked():
            state = self._current_state()
            write_artefact(target, self._device_request(DEACTIVATION_REQUEST, state))
            self._forget_locally(state)
        return target

    def deactivate(self) -> dict[str, Any]:
        """Deactivate online: the vendor frees the seat and books the consumption; returns the receipt.

        The lock is held across the (time-bounded) call so no use recorded meanwhile by another
        process can slip past the consumption report.
        """
        with self._context.store.locked():
            state = self._current_state()
            try:
                receipt = self._context.server.post_json("/deactivate", self._device_request(DEACTIVATION_REQUEST, state))
            except RequestReplayedError:  # answered before, but the answer was lost on the way back
                receipt = {"device_id": self.device_id, "already_deactivated": True}
            self._forget_locally(state)
        return receipt

    def deactivate_hybrid(self, path: str | Path | None = None) -> HybridResult:
        """Deactivate online when the server answers, else write the offline deactivation request."""
        reason = self._context.offline_reason()
        if reason is None:
            try:
                return HybridResult("online", "the license server answered", receipt=self.deactivate())
            except ServerUnreachableError:
                reason = "the license server stopped answering"
        return HybridResult("offline", reason, path=self.deactivate_offline(path))

    def _current_state(self) -> DeviceState:
        """The state on disk, provided this license is still the active one (lock held by the caller)."""
        state = self._context.store.read_state()
        if self._deactivated or state.device_id != self.device_id or state.device_key is None:
            raise LicenseDeactivatedError("This license is no longer active on this device.",
                                          hint="There is nothing to deactivate; activate again if you need it.")
        return state

    def _forget_locally(self, state: DeviceState) -> None:
        """Tombstone this activation and drop the license (the lock is held by the caller)."""
        store = self._context.store
        self._tombstones = store.add_tombstone(self.device_id)
        self._state = state.seen(self._context.now()).without_license()
        store.write_state(self._state)
        self._deactivated = True
        self._context.release(self)

    def _device_request(self, typ: str, state: DeviceState) -> bytes:
        """A request about this activation, signed with the device key (deactivation, report, refresh)."""
        config = self._context.config
        body = {
            "product": config.product,
            "api_key": config.api_key,
            "request_id": secrets.token_hex(16),
            "hardware_id": self._context.hardware_id,
            "device_id": self.device_id,
            "license_id": self.terms.license_id,
            "created_at": format_time(self._context.now()),
            "local_consumptions": state.local_consumptions,
            "feature_consumptions": dict(state.feature_consumptions),
        }
        device_key = crypto.Ed25519PrivateKey.from_private_bytes(state.device_key)  # type: ignore[arg-type]
        return encode_device_signed(typ, body, device_key, config.shared_key.encode("utf-8"))

    # -- refresh and online check -------------------------------------------------------------

    def update_offline(self, path: str | Path | None = None) -> License:
        """Apply ``license_refresh.lic``: newer terms from the vendor for this activation.

        Only a refresh for this product, device and activation, with a higher revision than
        the license already here, is accepted; an older or replayed one is refused.
        """
        source = output_path(path, self._context.config.requests_dir, REFRESH_FILE_NAME)
        self._apply_refresh(read_artefact(source), online=False)
        return self

    def create_refresh_request(self, path: str | Path | None = None) -> Path:
        """Write ``license_refresh.req``: the portal's self-service refresh page answers it."""
        target = output_path(path, self._context.config.requests_dir, REFRESH_REQUEST_FILE_NAME)
        with self._context.store.locked():
            write_artefact(target, self._device_request(REFRESH_REQUEST, self._current_state()))
        return target

    def check(self) -> License:
        """Check online: the server confirms the activation and sends the current terms.

        Newer terms replace the local copy; either way the moment counts as contact with the
        server (it restarts the grace period). Refusals are the vendor's typed errors.
        """
        request = self._device_request(REFRESH_REQUEST, self._current_state())
        self._apply_refresh(self._context.server.post("/check", request), online=True)
        return self

    def check_hybrid(self) -> HybridResult:
        """Check online when the server answers; otherwise run the local check (grace period applies)."""
        reason = self._context.offline_reason()
        if reason is None:
            try:
                self.check()
                return HybridResult("online", "the license server answered", license=self,
                                    check=self.local_check())
            except ServerUnreachableError:
                reason = "the license server stopped answering"
        return HybridResult("offline", reason, license=self, check=self.local_check())

    def sync_consumption(self) -> int:
        """Report local consumption to the server; return the uses still unreported (0 normally).

        The report is stored before it is sent and resent unchanged until acknowledged, so a
        lost answer never books the same uses twice (the server recognises the request id).
        """
        store = self._context.store
        with store.locked():
            state = self._current_state()
            pending = state.pending_sync
            if pending is None:
                if not state.local_consumptions and not any(state.feature_consumptions.values()):
                    return 0
                pending = PendingSync(self._device_request(CONSUMPTION_SYNC, state), state.local_consumptions,
                                      dict(state.feature_consumptions))
                store.write_state(replace(state, pending_sync=pending))
            answer = self._context.server.post("/consumption", pending.request)

            def booked(current: DeviceState) -> DeviceState:
                features = {code: used - pending.feature_consumptions.get(code, 0)
                            for code, used in current.feature_consumptions.items()}
                return replace(current, pending_sync=None,
                               local_consumptions=current.local_consumptions - pending.local_consumptions,
                               feature_consumptions={code: used for code, used in features.items() if used > 0})

            self._apply_refresh(answer, online=True, also=booked)
        return self._state.local_consumptions

    def _apply_refresh(self, data: bytes, *, online: bool,
                       also: Callable[[DeviceState], DeviceState] | None = None) -> None:
        """Verify vendor terms for this activation and adopt them.

        Offline refresh files must be newer than the license here; an online answer may carry
        the same revision (nothing changed), which still counts as contact with the server.
        """
        config = self._context.config
        envelope, refresh = self._context.open_vendor_file(data, LicenseRefresh)
        if refresh.device_id != self.device_id:
            raise SignatureMismatchError(
                "This refresh file was made for an earlier activation of this device.",
                hint="In the portal's Devices tab, download the refresh file of the current activation.")
        newer = refresh.license.revision > self.revision
        last_contact = self._state.last_online_check
        # A refresh file that changes nothing still proves contact with the vendor for a license
        # held to the grace period (its only way back when the device stays offline).
        renews_contact = last_contact is not None and refresh.issued_at > last_contact
        if not newer and not online and not renews_contact:
            raise RefreshOutdatedError(
                f"This refresh file holds revision {refresh.license.revision}, but the license here is "
                f"already at revision {self.revision}.")
        now = self._context.now()
        error = clock_error(now, self._state.high_water, refresh.issued_at, config.clock_tolerance)
        if error is not None:
            raise error

        def apply(state: DeviceState) -> DeviceState:
            updated = state if also is None else also(state)
            if newer:
                updated = replace(updated, license=envelope.raw)
                if refresh.reset_consumption:
                    updated = replace(updated, local_consumptions=0, feature_consumptions={})
            if online:
                updated = replace(updated, last_online_check=now)
            elif state.last_online_check is not None:  # fresh terms from the vendor count as contact
                updated = replace(updated, last_online_check=max(state.last_online_check, refresh.issued_at))
            return updated.seen(now)

        self._update_state(apply)
        if newer:
            self._signed = refresh

    # -- plumbing ----------------------------------------------------------------------------

    def _update_state(self, change: Callable[[DeviceState], DeviceState]) -> None:
        """Read-modify-write the local license file under the lock, then adopt the result."""
        store = self._context.store
        with store.locked():
            state = store.read_state()
            if state.device_id != self.device_id or self._deactivated:
                raise LicenseDeactivatedError("This license is no longer active on this device.")
            merged = change(state)
            if self._state.high_water is not None:
                merged = merged.seen(self._state.high_water)
            store.write_state(merged)
        self._state = merged
        self._persisted_high_water = merged.high_water

    def __repr__(self) -> str:
        who = self.key or self.user or f"#{self.terms.license_id}"
        return f"<License {who} {self.license_type} {self.status}>"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


def _require_positive(count: int) -> None:
    if type(count) is not int or count < 1:
        raise UsageError(f"The number of uses must be a whole number of at least 1, not {count!r}.")


def feature_of(terms: LicenseTerms, code: str, now: datetime) -> Feature:
    """The feature ``code`` of ``terms`` usable at ``now``; FeatureNotFoundError/FeatureExpiredError if not."""
    found = next((f for f in terms.features if f.code == code), None)
    if found is None:
        raise FeatureNotFoundError(f"The license does not include the feature '{code}'.")
    if found.expires is not None and now >= found.expires:
        raise FeatureExpiredError(f"The feature '{code}' expired on {found.expires:%Y-%m-%d}.")
    return found


def _within_dates(terms: LicenseTerms, now: datetime) -> bool:
    return (terms.start is None or now >= terms.start) and (terms.expires is None or now < terms.expires)


def _validity_error(terms: LicenseTerms, now: datetime) -> LicenseError | None:
    if terms.start is not None and now < terms.start:
        return LicenseNotStartedError(f"The license starts on {terms.start:%Y-%m-%d %H:%M} UTC.")
    if terms.expires is not None and now >= terms.expires:
        return LicenseExpiredError(f"The license expired on {terms.expires:%Y-%m-%d %H:%M} UTC.")
    return None
