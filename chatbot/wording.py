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


# -- small talk and reminders ------------------------------------------------------------------

_SMALL_TALK: Mapping[str, str] = {
    "greet": "Hi! Ask me about your license or offline licensing, or say **help** for what I can do.",
    "thank": "You're welcome!",
}


def small_talk(act: str) -> str:
    return _SMALL_TALK.get(act, "")


def step_reminder(intent: str) -> str:
    """What is still to do, after small talk in the middle of a guided step."""
    if intent == "refresh_offline":
        return "When `license_refresh.lic` is in place, say **done** (or **refresh**)."
    return ("When `ls_activation.lic` from the portal is in place, say **done** (or **activate offline**) for "
            "step 2.")


# -- one fact of the license, in a line or two -----------------------------------------------------

_FACT_NAMES: Mapping[str, str] = {
    "activations": "activation count", "license_key": "license key", "license_type": "license type",
    "expiry": "expiry date", "feature": "features", "consumption": "use count", "last_check": "last check",
    "server_contact": "server contact",
}


def _capital(text: str) -> str:
    """The first letter upper-cased, the rest as it is (``str.capitalize`` would lower a key)."""
    return text[:1].upper() + text[1:]


def no_license_for(fact: str) -> str:
    what = _FACT_NAMES.get(fact, "license facts")
    return (f"There is no license on this device yet, so there is no {what} to show. Say **activate offline** to "
            "activate one.")


def device_ids(license_: License | None, hardware_id: str) -> str:
    """This device's ids: the vendor's activation id (what a refresh file is made for) and the hardware id."""
    hardware = f"this device's hardware id is {md_code(hardware_id)} (what a request file names)"
    if license_ is None:
        return (f"No license is activated here, so there is no activation id yet; {hardware}. The vendor gives "
                "the activation id when a license is activated.")
    return (f"This device's activation id is {device_id_md(license_)}: your vendor makes refresh files for it. "
            f"Its hardware id is {md_code(hardware_id)}.")


def activations(license_: License) -> str:
    left = max(0, license_.max_activations - license_.total_activations)
    return (f"{_capital(who(license_))} is activated on {license_.total_activations} of "
            f"{plural(license_.max_activations, 'device')}, so {plural(left, 'activation')} "
            f"{'is' if left == 1 else 'are'} left. (Offline, this is the count from your last response or refresh "
            "file.)")


def license_key(license_: License) -> str:
    if license_.key:
        return f"You are using license {md_code(license_.key)}."
    return f"You are using a user-based license, of user {md_code(license_.user or '?')} (it has no key)."


def license_type_sentence(license_: License) -> str:
    kind = license_.license_type
    detail = {
        "perpetual": "it never expires",
        "time-based": f"it is {until(license_.expires)}",
        "consumption": f"it counts uses: {uses(license_)}" if counts_uses(license_) else "it counts uses",
        "subscription": "it must be confirmed by the license server from time to time",
    }.get(kind, "")
    return f"Your license is **{kind}**" + (f": {detail}." if detail else ".")


def expiry_answer(license_: License) -> str:
    days = license_.days_remaining()
    if license_.expires is None:
        return "Your license never expires."
    return f"Your license is {license_expiry(license_.expires, days).replace('expires', 'valid until', 1)}."


def consumption_answer(license_: License) -> str:
    if not counts_uses(license_):
        return f"Your license is **{license_.license_type}**: it does not count uses, so none are used up."
    return f"{_capital(uses(license_)[:-1])}." + (
        f" (It includes {plural(license_.overages, 'overage')}.)" if license_.overages else "")


def feature_answer(license_: License, code: str, now: datetime) -> str:
    """Whether the feature ``code`` (as the user typed it) is on the license, and until when."""
    found = next((f for f in license_.features() if f.code == code or f.code.rstrip("s") == code.rstrip("s")), None)
    if found is None:
        codes = ", ".join(md_code(f.code) for f in license_.features()) or "none"
        return (f"No — {md_code(code)} is not on your license. It has: {codes}. Your vendor can add a feature with a "
                "refresh file.")
    if found.expires is not None and now >= found.expires:
        return f"{md_code(found.code)} is on your license but {feature_expiry(found.expires, now)}."
    ends = f", {feature_expiry(found.expires, now)}" if found.expires is not None else ", with no end date of its own"
    return f"Yes — {md_code(found.code)} is on your license{ends}."


def last_check(check: tuple[datetime, bool, str] | None) -> str:
    if check is None:
        return ("I have not run a check of this license in this conversation yet. Say **local check** to run one "
                "now.")
    moment, passed, what = check
    return (f"The last check ran at {at_time(moment)} (for {md_code(what)}) and "
            f"{'passed' if passed else 'did not pass'}. Say **local check** to run one now.")


def server_contact(license_: License, grace: timedelta | None, now: datetime) -> str:
    contact = license_.last_server_contact
    if contact is None:
        return ("This license has never talked to the license server: it was activated offline, so it needs no "
                "contact and has no grace period.")
    text = f"The license server last confirmed this license at {at_time(contact)}."
    if grace is None:
        return text
    left = contact + grace - now
    if left.total_seconds() <= 0:
        return f"{text} The grace period of {plural(grace.days, 'day')} is over: say **check online** once connected."
    return (f"{text} Without the server it stays usable for {plural(left.days, 'more day')} "
            f"(until {at_time(contact + grace)}).")
