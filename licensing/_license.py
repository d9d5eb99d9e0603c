"""An activated license on this device: what it grants, whether it may be used now, and its use.

A :class:`License` is built only from vendor-signed bytes that were verified on load, and holds
their parsed terms in frozen dataclasses: there is no setter through which the in-memory license
could drift from what the vendor signed. A refresh replaces the whole snapshot at once.

``local_check()`` runs, in order: signature, product, hardware id (the machine id and the
identity components signed at activation), enabled, start and expiry, consumption limits,
tombstones, clock, server contact. :meth:`License.check_status` runs the same checks and returns
every outcome (for a status bar or a "why am I not licensed?" answer) without raising. Time is
judged on the *effective* time of :mod:`licensing._clock` (the device clock plus the set-backs
already forgiven), and :meth:`License.has_feature` answers only what ``local_check()`` allows.

Answers of the license server are accepted only for the request just sent (its id and nonce
signed in), and their signed time — never the device clock — is the time of the last contact.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Union

from . import _crypto as crypto
from ._clock import Reading, read_clock, server_time_error
from ._context import LicenseContext
from ._errors import (
    ConsumptionLimitError,
    GracePeriodExpiredError,
    LicenseDeactivatedError,
    LicenseDisabledError,
    LicenseError,
    NotFloatingError,
    ProductMismatchError,
    RefreshOutdatedError,
    ServerAnswerMismatchError,
    ServerUnreachableError,
    SignatureMismatchError,
    UsageError,
)
from ._formats import (
    CONSUMPTION_SYNC,
    DEACTIVATION_FILE_NAME,
    DEACTIVATION_RECEIPT,
    DEACTIVATION_REQUEST,
    REFRESH_FILE_NAME,
    REFRESH_REQUEST,
    REFRESH_REQUEST_FILE_NAME,
    Feature,
    LicenseRefresh,
    LicenseTerms,
    SignedDeactivation,
    encode_device_signed,
    format_time,
    open_signed,
    read_artefact,
    write_artefact,
)
from ._fs import output_path
from ._leases import LeaseSigner
from ._license_rules import SignedLicense, binding_error, feature_of, refresh_clock, validity_error, within_dates
from ._results import CHECK_ORDER, CheckItem, HybridResult, LocalCheckResult
from ._storage import DeviceState, PendingRefresh, PendingSync

__all__ = ["License"]

#: (request id, nonce) of a request this device sent, which the vendor's answer must repeat
Sent = tuple[str, Union[str, None]]


class License:
    """A license activated on this device. Obtain one from :class:`~licensing.LicenseManager`.

    ``activation`` is the vendor-signed response this activation began with: the identity
    components it signed must still (mostly) be this machine's, whatever newer terms followed.
    (For a license refreshed by an earlier version, whose response is gone, that refresh.)
    """

    def __init__(self, context: LicenseContext, signed: SignedLicense, state: DeviceState,
                 tombstones: frozenset[str], activation: SignedLicense | None = None) -> None:
        self._context = context
        self._signed = signed
        self._state = state
        self._tombstones = tombstones
        self._deactivated = False
        self._persisted_high_water = state.high_water
        self._activation = activation
        self._binding_error = binding_error(context, signed, activation)

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
        moment = now or self._read_clock().effective
        return (self.expires - moment) // timedelta(days=1)

    @property
    def status(self) -> str:
        """One word for people: active, disabled, expired, deactivated, not-started."""
        if self._deactivated or self.device_id in self._tombstones:
            return "deactivated"
        now = self._read_clock().effective
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
        """The feature ``code`` of a license that passes :meth:`local_check` (whose error it raises
        first), or FeatureNotFoundError/FeatureExpiredError saying why not."""
        return feature_of(self.terms, code, self.local_check().checked_at)

    def has_feature(self, code: str) -> bool:
        """True only when :meth:`local_check` passes and the license grants ``code`` now."""
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
        feature = self.feature(code)  # runs the local check first

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
        reading = self._read_clock()
        items = tuple(CheckItem(name, error is None, error) for name, error in self._checks(reading, fast=False))
        if reading.error is None:  # in memory only: a status display never writes
            self._state = self._state.clocked(reading.high_water, reading.skew)
        return LocalCheckResult(checked_at=reading.effective, items=items,
                                expired_features=self._expired_features(reading.effective))

    def local_check(self) -> LocalCheckResult:
        """Check the license on this device without a network; raise the first failure.

        Every honest clock reading advances the high-water mark, whether or not the license
        passes — otherwise a license found expired could be revived by setting the clock back
        to before that check. On the happy path the mark is written to disk at most once per
        ``Configuration.high_water_persist_interval``; a failed check, and a set-back forgiven
        within the tolerance, are written at once.
        """
        reading = self._read_clock()
        if reading.error is None and not self._deactivated:
            self._remember(reading)
        for _name, error in self._checks(reading, fast=True):
            if error is not None:
                if reading.error is None and not self._deactivated and \
                        self._state.high_water != self._persisted_high_water:
                    self._update_state(lambda state: state)
                raise error
        return LocalCheckResult(checked_at=reading.effective, items=tuple(CheckItem(n, True) for n in CHECK_ORDER),
                                expired_features=self._expired_features(reading.effective))

    def _read_clock(self) -> Reading:
        return read_clock(self._context.now(), self._state.high_water, self._state.clock_skew,
                          self._context.config.clock_tolerance, floor=self._signed.issued_at)

    def _expired_features(self, now: datetime) -> tuple[str, ...]:
        return tuple(f.code for f in self.terms.features if f.expires is not None and now >= f.expires)

    def _checks(self, reading: Reading, *, fast: bool) -> Iterator[tuple[str, LicenseError | None]]:
        """Yield (check name, error or None) in the documented order, judged at the effective time."""
        config = self._context.config
        terms = self.terms
        now = reading.effective
        # The signature was verified when these bytes were loaded, and the terms are frozen.
        yield "signature", None
        yield "product", (None if self._signed.product == config.product else ProductMismatchError(
            "The local license belongs to another product."))
        yield "hardware_id", self._binding_error
        if fast and terms.enabled and within_dates(terms, now) and not self._over_limit():
            yield "enabled", None  # fast path: no error objects built when everything passes
            yield "validity", None
            yield "consumption", None
        else:
            yield "enabled", None if terms.enabled else LicenseDisabledError()
            yield "validity", validity_error(terms, now)
            yield "consumption", (ConsumptionLimitError(
                f"The license has used {self.total_consumptions + self.local_consumptions} of its "
                f"{self.consumption_allowance()} allowed consumptions.") if self._over_limit() else None)
        yield "tombstone", (LicenseDeactivatedError() if self._deactivated or self.device_id in self._tombstones
                            else None)
        yield "clock", reading.error
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

    def _remember(self, reading: Reading) -> None:
        """Keep what an honest reading taught: the mark moves on; a forgiven set-back is written at once."""
        forgiven = reading.skew != self._state.clock_skew
        self._state = self._state.clocked(reading.high_water, reading.skew)
        persisted = self._persisted_high_water
        if forgiven or persisted is None or \
                reading.high_water - persisted >= self._context.config.high_water_persist_interval:
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
            write_artefact(target, self._device_request(DEACTIVATION_REQUEST, state)[0])
            self._forget_locally(state)
        return target

    def deactivate(self) -> dict[str, Any]:
        """Deactivate online: the vendor frees the seat and books the consumption; returns the receipt.

        The license is removed here only on the vendor's signed receipt for this very request
        (its id and nonce, and the uses it booked): an answer that is not one — a forged
        receipt, a refusal the network made up — leaves the license and its uses in place. The
        lock is held across the (time-bounded) call so no use recorded meanwhile by another
        process can slip past the consumption report.
        """
        with self._context.store.locked():
            state = self._current_state()
            request, sent = self._device_request(DEACTIVATION_REQUEST, state)
            receipt = self._context.server.post_json("/deactivate", request)
            self._check_receipt(receipt, sent, state)
            self._forget_locally(state)
        return receipt

    def _check_receipt(self, receipt: dict[str, Any], sent: Sent, state: DeviceState) -> None:
        signed = receipt.get("receipt")
        if not isinstance(signed, str):
            raise ServerAnswerMismatchError("The license server's answer carries no signed receipt for this "
                                            "deactivation, so the license stays on this device.")
        _, doc = open_signed(signed.encode("ascii", "replace"), DEACTIVATION_RECEIPT, self._context.config.trusted_keys)
        proof = SignedDeactivation.from_payload(doc)
        if ((proof.request_id, proof.nonce) != sent or proof.device_id != self.device_id
                or proof.hardware_id != self._context.hardware_id or proof.product != self._context.config.product):
            raise ServerAnswerMismatchError()
        if not proof.already_deactivated and (proof.consumptions_booked, proof.feature_consumptions_booked) != \
                (state.local_consumptions, {code: used for code, used in state.feature_consumptions.items() if used}):
            raise ServerAnswerMismatchError("The license server's receipt books other uses than this device "
                                            "reported, so the license stays on this device.")

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

    def _device_request(self, typ: str, state: DeviceState) -> tuple[bytes, tuple[str, str]]:
        """A request about this activation, signed with the device key (deactivation, report, refresh),
        and the id and fresh nonce the vendor's answer must repeat."""
        config = self._context.config
        sent = (secrets.token_hex(16), secrets.token_hex(16))
        body = {
            "product": config.product,
            "api_key": config.api_key,
            "request_id": sent[0],
            "nonce": sent[1],
            "hardware_id": self._context.hardware_id,
            "device_id": self.device_id,
            "license_id": self.terms.license_id,
            "created_at": format_time(self._context.now()),
            "local_consumptions": state.local_consumptions,
            "feature_consumptions": dict(state.feature_consumptions),
        }
        device_key = crypto.Ed25519PrivateKey.from_private_bytes(state.device_key)  # type: ignore[arg-type]
        return encode_device_signed(typ, body, device_key, config.shared_key.encode("utf-8")), sent

    # -- refresh and online check -------------------------------------------------------------

    def update_offline(self, path: str | Path | None = None) -> License:
        """Apply ``license_refresh.lic``: newer terms from the vendor for this activation.

        Only a refresh for this product, device and activation, with a higher revision than
        the license already here, is accepted; an older or replayed one is refused. The portal's
        answer to this device's own refresh request (:meth:`create_refresh_request`) is accepted
        at any revision, and its signed time re-anchors the clock after a clock that ran ahead,
        provided nothing was checked since the request was made.
        """
        source = output_path(path, self._context.config.requests_dir, REFRESH_FILE_NAME)
        self._apply_refresh(read_artefact(source), sent=None)
        return self

    def create_refresh_request(self, path: str | Path | None = None) -> Path:
        """Write ``license_refresh.req``: the portal's self-service refresh page answers it."""
        target = output_path(path, self._context.config.requests_dir, REFRESH_REQUEST_FILE_NAME)
        with self._context.store.locked():
            request, (request_id, nonce) = self._device_request(REFRESH_REQUEST, self._current_state())
            write_artefact(target, request)
            self._update_state(lambda current: replace(
                current, pending_refresh=PendingRefresh(request_id, nonce, current.high_water)))
        return target

    def check(self) -> License:
        """Check online: the server confirms the activation and sends the current terms.

        Newer terms replace the local copy; either way the vendor's signed time counts as contact
        with the server (it restarts the grace period) and re-anchors the clock. Only the answer
        to this very request is taken (ServerAnswerMismatchError otherwise), and only when the
        device clock agrees with the server's (ClockTamperedError otherwise). Refusals are the
        vendor's typed errors.
        """
        request, sent = self._device_request(REFRESH_REQUEST, self._current_state())
        self._apply_refresh(self._context.server.post("/check", request), sent=sent)
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
        Only the answer to that report takes its uses off the local count.
        """
        store = self._context.store
        with store.locked():
            state = self._current_state()
            pending = state.pending_sync
            if pending is None:
                if not state.local_consumptions and not any(state.feature_consumptions.values()):
                    return 0
                request, _sent = self._device_request(CONSUMPTION_SYNC, state)
                pending = PendingSync(request, state.local_consumptions, dict(state.feature_consumptions))
                store.write_state(replace(state, pending_sync=pending))
            answer = self._context.server.post("/consumption", pending.request)

            def booked(current: DeviceState) -> DeviceState:
                features = {code: used - pending.feature_consumptions.get(code, 0)
                            for code, used in current.feature_consumptions.items()}
                return replace(current, pending_sync=None,
                               local_consumptions=current.local_consumptions - pending.local_consumptions,
                               feature_consumptions={code: used for code, used in features.items() if used > 0})

            self._apply_refresh(answer, sent=pending.sent(), also=booked)
        return self._state.local_consumptions

    def _apply_refresh(self, data: bytes, *, sent: Sent | None,
                       also: Callable[[DeviceState], DeviceState] | None = None) -> None:
        """Verify vendor terms for this activation and adopt them.

        ``sent``: the online request this answers (the answer must repeat its id and nonce, and
        its signed time must agree with the device clock); None for a file carried by hand.
        Offline refresh files must be newer than the license here, unless they answer this
        device's own refresh request or renew the contact of a license held to the grace period;
        an online answer may carry the same revision (nothing changed), which still counts as
        contact with the server.
        """
        config = self._context.config
        envelope, refresh = self._context.open_vendor_file(data, LicenseRefresh)
        if refresh.device_id != self.device_id:
            raise SignatureMismatchError(
                "This refresh file was made for an earlier activation of this device.",
                hint="In the portal's Devices tab, download the refresh file of the current activation.")
        now = self._context.now()
        if sent is not None:
            if not refresh.answers(*sent):
                raise ServerAnswerMismatchError()
            disagreement = server_time_error(now, refresh.issued_at, config.clock_tolerance)
            if disagreement is not None:
                raise disagreement
        newer = refresh.license.revision > self.revision

        def apply(state: DeviceState) -> DeviceState:
            asked = state.pending_refresh
            ours = sent is None and asked is not None and refresh.answers(asked.request_id, asked.nonce)
            last_contact = state.last_online_check
            # A refresh file that changes nothing still proves contact with the vendor for a license
            # held to the grace period (its only way back when the device stays offline).
            renews_contact = last_contact is not None and refresh.issued_at > last_contact
            if not newer and sent is None and not ours and not renews_contact:
                raise RefreshOutdatedError(
                    f"This refresh file holds revision {refresh.license.revision}, but the license here is "
                    f"already at revision {self.revision}.")
            updated = state if also is None else also(state)
            if newer:
                # The activation response stays beside newer terms: its signed components bind the license here.
                kept = updated.activation or (state.license if self._activation is self._signed else None)
                updated = replace(updated, license=envelope.raw, activation=kept)
                if refresh.reset_consumption:
                    updated = replace(updated, local_consumptions=0, feature_consumptions={})
            if sent is not None or last_contact is not None:  # fresh terms from the vendor count as contact
                updated = replace(updated, last_online_check=max(last_contact or refresh.issued_at, refresh.issued_at))
            if ours:
                updated = replace(updated, pending_refresh=None)
            reading = refresh_clock(refresh, now, state, online=sent is not None, ours=ours,
                                     tolerance=config.clock_tolerance)
            return updated.clocked(reading.high_water, reading.skew)

        self._update_state(apply)
        if newer:
            self._signed = refresh

    # -- plumbing ----------------------------------------------------------------------------

    def _update_state(self, change: Callable[[DeviceState], DeviceState]) -> None:
        """Read-modify-write the local license file under the lock, then adopt the result.

        The clock this process has seen (the mark, the skew) joins what is on disk before
        ``change`` runs, so ``change`` may still re-anchor it (lower it, on a vendor's fresh time).
        """
        store = self._context.store
        with store.locked():
            state = store.read_state()
            if state.device_id != self.device_id or self._deactivated:
                raise LicenseDeactivatedError("This license is no longer active on this device.")
            seen = state.seen(self._state.high_water) if self._state.high_water is not None else state
            merged = change(replace(seen, clock_skew=max(seen.clock_skew, self._state.clock_skew)))
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
