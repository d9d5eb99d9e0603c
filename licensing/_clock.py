"""UTC time and the clock-tamper rule.

Every time the toolkit handles is an aware UTC ``datetime``: time zones and daylight-saving
changes alter how a clock is *displayed*, not the instant it reports, so they can never trip
the check. What can trip it is the instant moving back.

The device remembers the latest instant it has seen (the high-water mark). A reading behind it
by more than the tolerance is refused. A smaller step back (an NTP correction, a dual-boot
machine) is forgiven *once*: the amount is added to the device's **skew**, which is added to
every later reading, so the license keeps running on the time it had already seen and gains
nothing — and since the amounts forgiven add up, repeated small set-backs soon exceed the
tolerance. A sliding window ("anything within ten minutes of the mark") would let a person keep
the clock in the last ten minutes before an expiry for ever.

The only way the mark moves *down* is a fresh, vendor-signed time (:func:`anchored`): an online
answer to the request just sent, or the portal's answer to this device's own refresh request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from ._errors import ClockTamperedError, ConfigurationError

__all__ = ["Clock", "system_clock", "utc_now", "Reading", "read_clock", "anchored", "server_time_error",
           "SERVER_TIME_WINDOW"]

Clock = Callable[[], datetime]

#: how far the device clock may be from the license server's signed time (at least; the tolerance if larger)
SERVER_TIME_WINDOW = timedelta(minutes=2)


def system_clock() -> datetime:
    return datetime.now(timezone.utc)


def utc_now(clock: Clock) -> datetime:
    """Read ``clock`` and normalise to UTC; a naive reading is a programming error, refused."""
    moment = clock()
    if not isinstance(moment, datetime) or moment.tzinfo is None or moment.utcoffset() is None:
        raise ConfigurationError("The configured clock returned a time without a time zone.",
                                 hint="Return an aware datetime, e.g. datetime.now(timezone.utc).")
    return moment.astimezone(timezone.utc)


@dataclass(frozen=True)
class Reading:
    """What one clock reading means for a license: the time to judge it by, and what to remember."""

    #: the device clock plus the skew, never earlier than what was seen; on a refusal, the device clock's
    #: own reading (so a license is judged as the person sees the date, and the clock is named as the fault)
    effective: datetime
    high_water: datetime
    skew: timedelta
    error: ClockTamperedError | None = None


def _duration(delta: timedelta) -> str:
    """A length of time as people say it: minutes, else hours, else days (rounded)."""
    for unit, size in (("day", timedelta(days=1)), ("hour", timedelta(hours=1))):
        if delta >= 2 * size:
            count = round(delta / size)
            return f"{count} {unit}s"
    minutes = max(1, round(delta / timedelta(minutes=1)))
    return f"{minutes} minute{'' if minutes == 1 else 's'}"


def read_clock(now: datetime, high_water: datetime | None, skew: timedelta, tolerance: timedelta,
               floor: datetime | None = None) -> Reading:
    """Judge the device clock ``now`` against the time already seen (``high_water``, and ``floor``:
    the vendor's signing time of the file in hand). Never raises: a refusal is ``Reading.error``."""
    latest = max((t for t in (high_water, floor) if t is not None), default=None)
    effective = now + skew
    if latest is None or effective >= latest:
        return Reading(effective, effective, skew)
    behind = latest - effective
    if behind > tolerance:
        error = ClockTamperedError(
            "This computer's clock reads {now}, but the license was already used at {seen} (UTC). "
            "The clock has been set back.".format(now=f"{now:%Y-%m-%d %H:%M} UTC", seen=f"{latest:%Y-%m-%d %H:%M}"))
        return Reading(effective, latest, skew, error)
    if skew + behind > tolerance:
        error = ClockTamperedError(
            f"This computer's clock has been set back again: {_duration(skew + behind)} in all since the license "
            f"last had the right time, more than the {_duration(tolerance)} allowed.")
        return Reading(effective, latest, skew, error)
    return Reading(latest, latest, skew + behind)


def server_time_error(now: datetime, signed: datetime, tolerance: timedelta) -> ClockTamperedError | None:
    """A fresh answer of the license server tells the time: the device clock must agree with it."""
    window = max(tolerance, SERVER_TIME_WINDOW)
    if abs(now - signed) <= window:
        return None
    direction = "ahead of" if now > signed else "behind"
    return ClockTamperedError(
        f"This computer's clock reads {now:%Y-%m-%d %H:%M} UTC, {_duration(abs(now - signed))} {direction} the "
        f"license server's time ({signed:%Y-%m-%d %H:%M} UTC).")


def anchored(now: datetime, signed: datetime) -> Reading:
    """Re-anchor on a fresh vendor-signed time: the mark becomes that time, whatever was seen before.

    Only for a time that provably answers this device's latest request (a fresh nonce): a copy
    of an older answer would otherwise wind the mark back.
    """
    skew = max(timedelta(0), signed - now)
    effective = now + skew
    return Reading(effective, effective, skew)
