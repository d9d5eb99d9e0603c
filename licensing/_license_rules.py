"""The rules a license's signed terms are judged by, shared by a license and a floating lease.

Whether the terms are bound to this machine (its hardware id and the components signed at
activation), whether they are within their dates, which feature is usable now, and what the clock
becomes after a refresh: pure functions of the terms, the device's state and the time, so that
:mod:`licensing._license` and :mod:`licensing._floating` judge the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Union

from ._clock import Reading, anchored, read_clock
from ._context import LicenseContext
from ._errors import (
    FeatureExpiredError,
    FeatureNotFoundError,
    LicenseError,
    LicenseExpiredError,
    LicenseNotStartedError,
    SignatureMismatchError,
)
from ._formats import ActivationResponse, Feature, LicenseRefresh, LicenseTerms
from ._hardware import components_match
from ._storage import DeviceState

__all__ = ["SignedLicense", "binding_error", "feature_of", "refresh_clock", "validity_error", "within_dates"]

SignedLicense = Union[ActivationResponse, LicenseRefresh]


def binding_error(context: LicenseContext, signed: SignedLicense,
                   activation: SignedLicense | None) -> SignatureMismatchError | None:
    """Is this license bound to this machine: its hardware id, and the components signed at activation?"""
    if signed.hardware_id != context.hardware_id:
        return SignatureMismatchError(
            "The local license was activated on a different device.",
            hint="Activate this device with its own request file; licenses cannot be copied between devices.")
    recorded = _signed_components(signed, activation)
    if recorded is None:
        return SignatureMismatchError(
            "This device no longer holds the activation response these license terms continue, so it cannot "
            "confirm that the license belongs to this computer.",
            hint="Create a new activation request on this computer and use the response the vendor gives.")
    if not components_match(recorded, context.components):
        return SignatureMismatchError(
            "This computer has changed too much since the license was activated (or the license was copied "
            "from another computer): more of its hardware differs than the license allows.",
            hint="Create a new activation request on this computer and use the response the vendor gives.")
    return None


def _signed_components(signed: SignedLicense, activation: SignedLicense | None) -> Mapping[str, str] | None:
    """The components the vendor signed for this activation; None when the proof of them is missing.

    Terms name the activation they continue (its request id): its response must be here. A
    license activated, or last refreshed, by an earlier version names none and carries none: it
    is bound by the machine id alone (every file the vendor signs for a newer activation names
    it, so stripping the response from a newer license cannot pass for that).
    """
    continues = signed.activation_request_id if isinstance(signed, LicenseRefresh) else signed.request_id
    if isinstance(activation, ActivationResponse) and continues in (None, activation.request_id):
        return activation.components
    earlier_version = isinstance(activation, LicenseRefresh) and activation.activation_request_id is None
    return {} if earlier_version or (activation is None and continues is None) else None


def refresh_clock(refresh: LicenseRefresh, now: datetime, state: DeviceState, *, online: bool, ours: bool,
                   tolerance: timedelta) -> Reading:
    """The clock after a refresh: re-anchored on the vendor's time when that time is provably fresh.

    Fresh means: an online answer to the request just sent (its time already agrees with the
    device clock), or the portal's answer to this device's latest refresh request while the mark
    has not moved since that request was made (a refresh kept aside while the license was in use
    would otherwise wind the clock back) and the device clock is not behind the vendor's time.
    Otherwise the vendor's time only counts as a time seen, and a clock behind it is refused.
    """
    asked = state.pending_refresh
    unmoved = ours and asked is not None and asked.high_water == state.high_water
    if online or (unmoved and now + tolerance >= refresh.issued_at):
        return anchored(now, refresh.issued_at)
    reading = read_clock(now, state.high_water, state.clock_skew, tolerance, floor=refresh.issued_at)
    if reading.error is not None:
        raise reading.error
    return reading


def feature_of(terms: LicenseTerms, code: str, now: datetime) -> Feature:
    """The feature ``code`` of ``terms`` usable at ``now``; FeatureNotFoundError/FeatureExpiredError if not."""
    found = next((f for f in terms.features if f.code == code), None)
    if found is None:
        raise FeatureNotFoundError(f"The license does not include the feature '{code}'.")
    if found.expires is not None and now >= found.expires:
        raise FeatureExpiredError(f"The feature '{code}' expired on {found.expires:%Y-%m-%d}.")
    return found


def within_dates(terms: LicenseTerms, now: datetime) -> bool:
    return (terms.start is None or now >= terms.start) and (terms.expires is None or now < terms.expires)


def validity_error(terms: LicenseTerms, now: datetime) -> LicenseError | None:
    if terms.start is not None and now < terms.start:
        return LicenseNotStartedError(f"The license starts on {terms.start:%Y-%m-%d %H:%M} UTC.")
    if terms.expires is not None and now >= terms.expires:
        return LicenseExpiredError(f"The license expired on {terms.expires:%Y-%m-%d %H:%M} UTC.")
    return None
