"""How the bot words licenses: dates, counts, who a license belongs to, what a refresh changed.

Small pure functions shared by the conversation engine (:mod:`chatbot.bot`) and its help
topics, so every reply words the same fact the same way.

Expiry dates follow the vendor's own wording: ``licensing-portal license extend KEY --expires
2026-12-31`` prints "valid through 2026-12-31" and stores the instant the license stops working,
2027-01-01 00:00 UTC. A moment exactly at midnight UTC is therefore shown as "valid through" the
day before; any other moment is shown with its time, in UTC.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, time, timedelta, timezone
from pathlib import Path

from licensing import License, LicenseTerms

from .explain import md_code

__all__ = [
    "CHECK_WORDS",
    "at_time",
    "changes",
    "counts_uses",
    "days_left",
    "device_id_md",
    "expired_features_note",
    "expiry_sentence",
    "feature_expiry",
    "feature_expiry_sentence",
    "is_midnight",
    "license_expiry",
    "path_md",
    "plural",
    "until",
    "uses",
    "who",
]

#: the local checks, in words (``License.check_status`` item names)
CHECK_WORDS: Mapping[str, str] = {
    "signature": "vendor signature", "product": "product", "hardware_id": "device", "enabled": "enabled",
    "validity": "dates", "consumption": "consumption", "tombstone": "not deactivated", "clock": "clock",
    "server_contact": "server contact"}


def plural(count: int, word: str, many: str | None = None) -> str:
    """``count`` and the word agreeing with it: "1 use", "3 uses", "2 devices"."""
    return f"{count} {word if count == 1 else many or word + 's'}"


# -- dates -------------------------------------------------------------------------------------


def is_midnight(moment: datetime) -> bool:
    """Exactly 00:00 UTC: the end of a "valid through" day."""
    return moment.astimezone(timezone.utc).timetz().replace(tzinfo=None) == time(0)


def at_time(moment: datetime) -> str:
    """A moment for people: "2026-07-01 12:00 UTC"."""
    return f"{moment.astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC"


def _last_day(moment: datetime) -> str:
    return f"{moment.astimezone(timezone.utc) - timedelta(days=1):%Y-%m-%d}"


def until(moment: datetime | None) -> str:
    """The end of a validity, to follow "is"/"was": "valid through 2026-12-31", "valid until 2026-07-01 12:00 UTC"."""
    if moment is None:
        return "valid with no end date"
    return f"valid through {_last_day(moment)}" if is_midnight(moment) else f"valid until {at_time(moment)}"


def license_expiry(expires: datetime | None, days: int | None) -> str:
    """The license's expiry for a report line: "valid through 2026-12-31 (213 days left)"."""
    if expires is None:
        return "never expires"
    if days is not None and days < 0:
        return f"expired (it was {until(expires)})" if is_midnight(expires) else f"expired on {at_time(expires)}"
    left = f" ({days_left(days)})" if days is not None else ""
    return f"valid through {_last_day(expires)}{left}" if is_midnight(expires) else f"expires {at_time(expires)}{left}"


def feature_expiry(expires: datetime, now: datetime) -> str:
    """A feature's own expiry: "valid through 2026-12-31", "until 2026-06-03 12:00 UTC", "expired …"."""
    if now >= expires:
        return f"expired (it was {until(expires)})" if is_midnight(expires) else f"expired {at_time(expires)}"
    return f"valid through {_last_day(expires)}" if is_midnight(expires) else f"until {at_time(expires)}"


def _now_ends(expires: datetime | None) -> str:
    """After a refresh: "now never expires", "is now valid through 2026-12-31", "now expires … UTC"."""
    if expires is None:
        return "now never expires"
    return f"is now valid through {_last_day(expires)}" if is_midnight(expires) else f"now expires {at_time(expires)}"


def expiry_sentence(expires: datetime) -> str:
    """Why a license stopped, dated: "The license was valid through 2026-12-31." """
    if is_midnight(expires):
        return f"The license was valid through {_last_day(expires)}."
    return f"The license expired on {at_time(expires)}."


def feature_expiry_sentence(code: str, expires: datetime) -> str:
    if is_midnight(expires):
        return f"The feature {md_code(code)} was valid through {_last_day(expires)}."
    return f"The feature {md_code(code)} expired on {at_time(expires)}."


def days_left(days: int | None) -> str:
    if days is None:
        return "never expires"
    if days < 0:
        return "expired"
    return "last day" if days == 0 else f"{plural(days, 'day')} left"


# -- the license ---------------------------------------------------------------------------------


def who(license_: License) -> str:
    if license_.key:
        return f"license {md_code(license_.key)}"
    return f"the license of user {md_code(license_.user or '?')}"


def device_id_md(license_: License) -> str:
    """This device's activation id at the vendor (what a refresh file is made for), as code."""
    return md_code(license_.device_id)


def counts_uses(license_: License) -> bool:
    return license_.license_type == "consumption" and license_.max_consumptions is not None


def uses(license_: License) -> str:
    used = license_.total_consumptions + license_.local_consumptions
    return f"{used} of {license_.consumption_allowance()} uses used, {license_.remaining_consumptions} left."


def path_md(path: Path | str) -> str:
    return md_code(str(path), limit=4096)


def expired_features_note(codes: Sequence[str]) -> str:
    if not codes:
        return ""
    return (f"\n\nNote: {', '.join(md_code(c) for c in codes)} expired — the skills that need "
            f"{'it' if len(codes) == 1 else 'them'} are locked until a refresh file extends "
            f"{'it' if len(codes) == 1 else 'them'}.")


def changes(before: LicenseTerms, after: LicenseTerms, used_before: int, used_after: int) -> list[str]:
    """What a refresh changed, in words."""
    found = []
    old = {f.code: f for f in before.features}
    new = {f.code: f for f in after.features}
    if added := [c for c in new if c not in old]:
        found.append("new " + ("feature" if len(added) == 1 else "features") + ": "
                     + ", ".join(md_code(c) for c in added))
    if removed := [c for c in old if c not in new]:
        found.append("removed: " + ", ".join(md_code(c) for c in removed))
    for code in (c for c in new if c in old and old[c].expires != new[c].expires):
        found.append(f"{md_code(code)} {_now_ends(new[code].expires)}")
    if before.expires != after.expires:
        found.append(f"the license {_now_ends(after.expires)}")
    if before.enabled != after.enabled:
        found.append("the license is " + ("enabled again" if after.enabled else "**disabled** by the vendor"))
    if before.max_activations != after.max_activations:
        found.append(f"activations allowed: {before.max_activations} → {after.max_activations}")
    if before.max_consumptions != after.max_consumptions:
        found.append(f"uses allowed: {before.max_consumptions} → {after.max_consumptions}")
    if used_after < used_before or after.total_consumptions < before.total_consumptions:
        found.append("the use count was reset")
    return found
