"""Dates and spans a vendor types (the CLI's --expires, the admin pages' date fields), read one way everywhere.

``YYYY-MM-DD`` is a whole day in UTC: an expiry is valid *through* that day (it ends at 00:00 UTC
of the next day), a start is valid *from* 00:00 UTC of that day. A full ISO 8601 time must carry
its time zone: a bare local time would mean a different instant on every vendor's machine.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

from .. import VendorInputError

__all__ = ["parse_date", "parse_start_date", "parse_duration", "DATE_HELP", "DURATION_HELP"]

_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SPAN = re.compile(r"^(\d{1,9})\s*([smhd]?)$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3_600, "d": 86_400}
_DAY_AND_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d")
DURATION_HELP = "a whole number with s, m, h or d (seconds, minutes, hours, days), e.g. 5m or 7d"
DATE_HELP = ("use YYYY-MM-DD (valid through that day, UTC) or a full ISO 8601 time with a zone, "
             "e.g. 2026-12-31T18:00:00+02:00")


def _refuse(message: str) -> VendorInputError:
    return VendorInputError(message, hint="Type the date as YYYY-MM-DD, e.g. 2026-12-31.")


def _parse_moment(text: str, *, end_of_day: bool) -> datetime:
    value = text.strip()
    try:
        if _DAY.match(value):
            try:
                day = date.fromisoformat(value)
            except ValueError:
                raise _refuse(f"{text!r} is not a real calendar date; {DATE_HELP}") from None
            moment = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
            return moment + timedelta(days=1) if end_of_day else moment
        if not _DAY_AND_TIME.match(value):
            raise _refuse(f"{text!r} is not a date; {DATE_HELP}")
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise _refuse(f"{text!r} is not a valid date and time; {DATE_HELP}") from None
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise _refuse(f"{text!r} has no time zone; add one (Z for UTC, or e.g. +02:00), or give just the day "
                          "YYYY-MM-DD")
        return moment.astimezone(timezone.utc)
    except OverflowError:
        raise _refuse(f"{text!r} is out of the range of dates this tool handles") from None


def parse_date(text: str) -> datetime:
    """An expiry: ``YYYY-MM-DD`` is valid through that day (ends at 00:00 UTC of the next day)."""
    return _parse_moment(text, end_of_day=True)


def parse_start_date(text: str) -> datetime:
    """A start: ``YYYY-MM-DD`` is valid from 00:00 UTC of that day."""
    return _parse_moment(text, end_of_day=False)


def parse_duration(text: str) -> int:
    """A span (a floating license's lease length, its longest borrow) as whole seconds: ``90``, ``5m``, ``7d``."""
    match = _SPAN.match(text.strip().lower())
    if match is None:
        raise VendorInputError(f"{text!r} is not a length of time; use {DURATION_HELP}.",
                               hint="Type e.g. 5m for five minutes or 7d for a week.")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
