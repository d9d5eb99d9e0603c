"""UTC time and the clock-tamper rule.

Every time the toolkit handles is an aware UTC ``datetime``: time zones and daylight-saving
changes alter how a clock is *displayed*, not the instant it reports, so they can never trip
the check. What can trip it is the instant moving back: the device remembers the latest instant
it has seen (a high-water mark) and refuses to run when the clock reads earlier than that by
more than a tolerance (NTP corrections and dual-boot machines step clocks by seconds or minutes).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from ._errors import ClockTamperedError, ConfigurationError

__all__ = ["Clock", "system_clock", "utc_now", "check_not_rolled_back", "clock_error"]

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(timezone.utc)


def utc_now(clock: Clock) -> datetime:
    """Read ``clock`` and normalise to UTC; a naive reading is a programming error, refused."""
    moment = clock()
    if not isinstance(moment, datetime) or moment.tzinfo is None or moment.utcoffset() is None:
        raise ConfigurationError("The configured clock returned a time without a time zone.",
                                 hint="Return an aware datetime, e.g. datetime.now(timezone.utc).")
    return moment.astimezone(timezone.utc)


def check_not_rolled_back(now: datetime, latest_seen: datetime | None, tolerance: timedelta) -> None:
    if latest_seen is not None and now < latest_seen - tolerance:
        raise ClockTamperedError(
            "This computer's clock reads {now}, but the license was already used at {seen} (UTC). "
            "The clock has been set back.".format(now=f"{now:%Y-%m-%d %H:%M} UTC", seen=f"{latest_seen:%Y-%m-%d %H:%M}"),
        )


def clock_error(now: datetime, high_water: datetime | None, issued_at: datetime | None,
                 tolerance: timedelta) -> ClockTamperedError | None:
    """The clock may not read earlier than a time already seen, nor than the vendor's signature."""
    latest = max((t for t in (high_water, issued_at) if t is not None), default=None)
    try:
        check_not_rolled_back(now, latest, tolerance)
    except ClockTamperedError as error:
        return error
    return None
