"""Every licensing error in plain words: what happened, and what to do about it.

The engine's errors already carry a ``message`` and a ``hint``; this module adds the context a
person who never read the tutorial needs — *why* it happens and the chatbot command that fixes
it — for every stable code in :data:`licensing._errors.ERROR_CODES`. It covers the tutorial's
"Reasons why the request file may not generate a license file" (maximum activations, expired or
disabled license, wrong credentials, wrong product configuration, free tier, subscription
offline) and its "Common problems" (memory versus disk, a response made for another device,
vendor-side changes that an offline device never sees).

Two codes exist on both sides: ``license_expired`` and ``license_disabled`` are raised by the
vendor when it refuses a request, and by the device when a license it holds stops working; the
fix differs (a new request versus a refresh file), so each side has its own wording.

It also owns the two helpers that make any text safe to embed in the bot's Markdown
(:func:`md_code`, :func:`md_escape`): error messages quote paths and keys a user typed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from licensing import LicenseError, VendorRefusal

__all__ = [
    "Explanation",
    "explain",
    "explain_code",
    "skill_refusal",
    "has_specific_explanation",
    "EXPLAINED_CODES",
    "REQUEST_REFUSAL_CODES",
    "MEMORY_VS_DISK",
    "VENDOR_CHANGES_OFFLINE",
    "md_code",
    "md_escape",
]


@dataclass(frozen=True)
class Explanation:
    """One failure for people. ``suggestions`` are chatbot commands that help next."""

    code: str
    title: str
    what_happened: str
    how_to_fix: str
    suggestions: tuple[str, ...] = ()

    def markdown(self) -> str:
        return f"**{self.title}**\n\n{self.what_happened}\n\n**What to do:** {self.how_to_fix}"


@dataclass(frozen=True)
class _Entry:
    title: str
    why: str
    fix: str
    suggestions: tuple[str, ...] = ()
    #: the "why" to use after a message the raise site wrote, when ``why`` would repeat what it says
    why_after_message: str | None = None


_REFRESH_FIX = "send a refresh file (`license_refresh.lic`), then say **refresh**."
_NEW_REQUEST_FIX = ("Create a new activation request on this device (say **activate offline**), upload it at the "
                    "Offline Licensing Portal, and use the response it gives back.")

#: The tutorial's "Common problems": get_current_license() answers from memory first.
MEMORY_VS_DISK = (
    "I keep the license in memory once it is loaded, as the SDK's `get_current_license()` does: it looks in "
    "memory first and only reads the disk when nothing is loaded. So if another program removes or changes the "
    "license file, I keep using the copy in memory until you say **reload** (which, like `reload_license()`, "
    "always reads the disk), clear the local storage, or restart the chatbot."
)

#: The tutorial's "Common problems": vendor-side changes never reach an offline device by themselves.
VENDOR_CHANGES_OFFLINE = (
    "Changes made at the vendor — disabling or resetting a device, disabling a license — are not seen by an "
    "offline device, even by checks: the license here stays as it was until a refresh file (or a new activation) "
    "brings the change."
)

_DEVICE: Mapping[str, _Entry] = MappingProxyType({
    "license_error": _Entry(
        "A licensing problem",
        "The licensing operation failed for a reason this application did not name.",
        "Try again; if it keeps failing, contact the software vendor.", ("status",)),
    "invalid_argument": _Entry(
        "That value cannot be used",
        "The operation was given a value it cannot take, such as a license key in the wrong shape or a number "
        "of uses below 1.",
        "Check what you typed: license keys look like `ABCD-1234-EFGH-5678`, and counts are whole numbers of at "
        "least 1.", ("help",)),
    "configuration_invalid": _Entry(
        "The application's licensing configuration is wrong",
        "The configuration the vendor exported for this application (product code, vendor keys, API key, shared "
        "key) is missing, incomplete or damaged, so no license could be verified.",
        "Start the chatbot with the configuration file your vendor exported "
        "(`licensing-portal product export-config PRODUCT -o FILE`), for example by setting `CHATBOT_CONFIG` "
        "to its path."),
    "configuration_tampered": _Entry(
        "The licensing configuration file was changed",
        "The configuration file holds the vendor keys every license is checked against, so this application "
        "pins it: what it holds now is not what was pinned (a key added, an address or a key changed). A "
        "license signed with a key someone slipped into the file would otherwise pass as genuine.",
        "Restore the configuration file your vendor shipped (or reinstall the application); for the demo vendor, "
        "delete its folder and start again to build a new one. Do not edit the file."),
    "file_error": _Entry(
        "That file cannot be used",
        "The file handed to me is not usable for this step.",
        "Check that you picked the right file: `ls_activation.lic` activates, `license_refresh.lic` refreshes, "
        "and the `.req` files I write go to the portal."),
    "file_not_found": _Entry(
        "File not found",
        "There is no readable file at that place: it may not have been copied back yet, or it has another name.",
        "Check the path, or put the file in the default place and ask again. The portal's answer is named "
        "`ls_activation.lic`, a refresh file `license_refresh.lic`."),
    "file_too_large": _Entry(
        "That is not a licensing file",
        "Licensing files are a few kilobytes; this one is far larger, so it is something else.",
        "Pick the file the Offline Licensing Portal gave you."),
    "file_malformed": _Entry(
        "The file is damaged or is not a licensing file",
        "It could not be read as a licensing file: it may have been cut short while copied (e-mail, USB stick), "
        "or it is another kind of file.",
        "Copy the file again from its source, or download it again from the portal."),
    "wrong_file_type": _Entry(
        "Wrong kind of licensing file",
        "This is a genuine licensing file, but not the kind this step needs — for example a request where a "
        "response was expected.",
        "Activation needs the portal's response `ls_activation.lic`, a refresh needs `license_refresh.lic`, and "
        "the portal needs the `.req` files this application writes."),
    "signature_invalid": _Entry(
        "The file was altered",
        "The vendor's signature does not match the file's contents, so it was changed after the vendor signed "
        "it. Such a file is never trusted.",
        "Download a fresh copy from the Offline Licensing Portal, and do not edit licensing files."),
    "unknown_signing_key": _Entry(
        "Signed by a key this application does not trust",
        "The file is signed, but not with a vendor key in this application's configuration: it is another "
        "vendor's file, or the vendor has moved to a new key.",
        "Check that the file is for this application; if the vendor changed keys, update the application's "
        "configuration."),
    "binding_error": _Entry(
        "The file was not made for this use",
        "The file is genuine, but it was made for another device, product or request.",
        _NEW_REQUEST_FIX, ("activate offline",)),
    "device_mismatch": _Entry(
        "Made for another device",
        "Response and refresh files are bound to the hardware id of the device that made the request, and this "
        "one names a different device. This is the most common reason why activating or refreshing offline "
        "fails.",
        "Use the response to a request made *on this device*: say **activate offline** here, upload that "
        "request, and bring its `ls_activation.lic` back. For a refresh, download the refresh file of this "
        "device from the portal's Devices tab.", ("activate offline",),
        why_after_message="Response and refresh files work only on the device they were made for (they name its "
        "hardware id). This is the most common reason why activating or refreshing offline fails."),
    "product_mismatch": _Entry(
        "The file belongs to another product",
        "It was made for a different program than this chatbot.",
        "Upload this application's request and use the response the portal gives for it."),
    "request_mismatch": _Entry(
        "The response answers a different request",
        "It answers another activation request than the one this device made last — an older request, or one "
        "made before the local storage was cleared.",
        "Upload the newest `ls_activation.req` from this device and use the response to it, or create a new "
        "request (say **activate offline**).", ("activate offline",)),
    "guard_error": _Entry(
        "The pending request cannot be verified",
        "The hidden guard file that remembers this device's activation request is not usable.",
        _NEW_REQUEST_FIX, ("activate offline",)),
    "guard_missing": _Entry(
        "No pending request on this device",
        "When a request is created, a hidden guard file remembers it, and a response is accepted only for that "
        "request. The guard file is gone: it was deleted, the local storage was cleared, or the request was made "
        "on another computer.",
        _NEW_REQUEST_FIX, ("activate offline",)),
    "guard_tampered": _Entry(
        "The guard file was altered",
        "The hidden guard file that remembers the pending request was edited or damaged, so the response cannot "
        "be matched to a request safely.",
        _NEW_REQUEST_FIX, ("activate offline",)),
    "response_already_used": _Entry(
        "This response was already used",
        "Each `ls_activation.lic` activates once, and this one has been used on this device before.",
        "To activate again, create a new request (say **activate offline**) and upload it.", ("activate offline",)),
    "license_state": _Entry(
        "The license does not allow use right now",
        "The license on this device does not allow use at the moment.",
        "Say **status** to see which check fails.", ("status",)),
    "no_license": _Entry(
        "No license is activated on this device",
        "Until one is, the skills stay locked.",
        "Activate one: online with its key (`activate ABCD-1234-EFGH-5678`), or offline in two steps — say "
        "**activate offline**, upload the request file I write at the portal, then bring back "
        "`ls_activation.lic`.", ("activate offline", "help offline")),
    "license_disabled": _Entry(
        "The license is disabled",
        "The vendor disabled this license, and a refresh file brought that change to this device.",
        "Ask your vendor to enable it again and " + _REFRESH_FIX, ("refresh",)),
    "license_expired": _Entry(
        "The license has expired",
        "Its expiry date has passed (compared with this computer's clock, in UTC).",
        "Ask your vendor to extend it and " + _REFRESH_FIX, ("refresh",)),
    "license_not_started": _Entry(
        "The license is not valid yet",
        "Its start date is still in the future.",
        "Wait until the start date; if that date has passed, check this computer's date and time."),
    "license_deactivated": _Entry(
        "The license was deactivated on this device",
        "After a deactivation, an old copy of the license file cannot bring the license back.",
        "Activate again with a new request (say **activate offline**).", ("activate offline",)),
    "consumption_limit": _Entry(
        "All uses are used up",
        "This consumption license allows a fixed number of uses, and they have all been recorded.",
        "Ask your vendor to raise the limit or reset the consumption and " + _REFRESH_FIX, ("refresh",)),
    "feature_not_found": _Entry(
        "The license does not include this feature",
        "Each skill needs its own feature on the license.",
        "Ask your vendor for a refresh file that adds it, then say **refresh**.", ("refresh", "features")),
    "feature_expired": _Entry(
        "This feature has expired",
        "The feature has its own expiry date, and it has passed.",
        "Ask your vendor to extend the feature and " + _REFRESH_FIX, ("refresh", "features")),
    "grace_period_expired": _Entry(
        "Too long without the license server",
        "This license was confirmed online and has to hear from the license server again within its grace "
        "period; that period is over.",
        "Connect to the internet and say **check online**; if this computer stays offline, ask your vendor for "
        "a refresh file and say **refresh**.", ("check online", "refresh"),
        why_after_message="It was confirmed online, so it has to hear from the license server again within its "
        "grace period; that period is over."),
    "clock_tampered": _Entry(
        "It's this computer's clock",
        "The clock reads earlier than a time the license has already seen, so the clock was set back (licenses "
        "refuse to run then, or an expiring license could be stretched forever). Time zones do not matter: only "
        "the real time, in UTC, is compared. Nothing is wrong with the license itself.",
        "Set the system date and time correctly (turn on automatic time), then say **status** again.",
        ("status",),
        why_after_message="Licenses refuse to run then, or an expiring license could be stretched forever. Time "
        "zones do not matter: only the real time, in UTC, is compared. Nothing is wrong with the license itself."),
    "refresh_outdated": _Entry(
        "That refresh file is not newer than your license",
        "It was applied before, or it is an older download.",
        "Download a new refresh file from the portal's Devices tab, then say **refresh**.", ("refresh",)),
    "online_error": _Entry(
        "Talking to the license server failed",
        "The exchange with the license server did not complete.",
        "Try again later, or use the offline path (say **activate offline**).", ("activate offline",)),
    "server_unreachable": _Entry(
        "The license server cannot be reached",
        "No answer came from the license server: this computer is offline or behind a firewall, or the server "
        "is down.",
        "Check the connection — or work offline: **activate offline** writes a request file you can carry to a "
        "computer with internet.", ("activate offline", "am I online?")),
    "server_error": _Entry(
        "The license server gave an answer this application cannot use",
        "The server answered, but not with something valid.",
        "Try again in a few minutes; if it keeps happening, tell your vendor."),
    "answer_mismatch": _Entry(
        "That answer was not for this request",
        "Each request to the license server carries a fresh random number, and the vendor signs it into the "
        "answer. The answer that came back names another request: it was an old answer replayed, or it was "
        "redirected on the way. Nothing was changed on this device.",
        "Check that you reach the vendor's own license server (no proxy or redirect in between) and try again "
        "— say **check online**; if it keeps happening, tell your vendor.", ("check online", "am I online?")),
    "storage_io": _Entry(
        "The license storage cannot be read or written",
        "The folder where this application keeps its license is not accessible.",
        "Check that the data folder exists and is writable, and that the disk is not full."),
    "storage_corrupt": _Entry(
        "The local license storage is damaged",
        "It failed its integrity check (edited, or damaged on disk), so it cannot be trusted.",
        "Say **clear storage**, then activate again (say **activate offline**). If the vendor answers that this "
        "computer already has an activation, ask them to reset this device first.", ("clear storage",)),
    "storage_locked": _Entry(
        "The license storage is busy",
        "Another copy of this application holds the license storage for too long.",
        "Close other copies of the application and try again."),
    "database_unavailable": _Entry(
        "The license server is reconnecting to its database",
        "The vendor's server answered, but it had just lost its connection to its database (a restart, or a "
        "network cut on the vendor's side). Nothing was changed; it reconnects by itself.",
        "Try again in a moment — say **check online**; if it keeps happening, tell your vendor.",
        ("check online",)),
    "vendor_refusal": _Entry(
        "The vendor refused the request",
        "The vendor will not issue a license file for this request.",
        "Contact your software vendor."),
    "max_activations_reached": _Entry(
        "No activations left on this license",
        "Total activations have reached the maximum: the license is already active on as many devices as it "
        "allows.",
        "Deactivate it on a device you no longer use (**deactivate offline** there, then upload its "
        "`ls_deactivation.req`), or ask your vendor for more activations."),
    "invalid_credentials": _Entry(
        "Wrong license key or credentials",
        "The vendor has no license with this key, or the user name or password is wrong (incorrect license "
        "credentials).",
        "Check the key, or the user name and password, your vendor sent (keys look like `ABCD-1234-EFGH-5678`), "
        "then create a new request with the right one (say **activate offline**).", ("activate offline",)),
    "product_configuration": _Entry(
        "Wrong product configuration",
        "The request was made with a product configuration the vendor does not recognise: a wrong product "
        "code, API key or shared key.",
        "This application needs the configuration file the vendor exported for this product; ask your vendor "
        "for it."),
    "free_tier": _Entry(
        "Offline licensing is not on the vendor's free tier",
        "The vendor's licensing account is on the free tier, which does not include offline licensing.",
        "Tell your vendor: they need to upgrade their licensing account."),
    "offline_not_supported": _Entry(
        "Subscription licenses cannot be activated offline",
        "Offline activation works for perpetual, time-based and consumption licenses, not for subscriptions.",
        "Activate this license online on a connected computer (`activate ABCD-1234-EFGH-5678`), or ask your "
        "vendor for a perpetual, time-based or consumption license."),
    "request_replayed": _Entry(
        "That request was already answered",
        "Each request file can be answered once, and this one was uploaded before.",
        "If you still have the `ls_activation.lic` the portal gave you the first time, use that: put it in the "
        "folder of the request and say **activate offline**. Otherwise create a new request on the device (say "
        "**activate offline** with your key) and upload that one.", ("activate offline",)),
    "device_disabled": _Entry(
        "This device was disabled by the vendor",
        "A disabled device cannot activate or deactivate until the vendor enables it again. "
        + VENDOR_CHANGES_OFFLINE,
        "Ask your vendor to enable the device again."),
    "product_not_found": _Entry(
        "No such product at the vendor",
        "The vendor has no product with this code.",
        "Check the product code (`licensing-portal product list`)."),
    "license_not_found": _Entry(
        "No such license at the vendor",
        "The vendor has no license with this key.",
        "Check the license key."),
    "device_not_found": _Entry(
        "The vendor does not know this device",
        "This device is not (or no longer) activated on the license at the vendor — for example the vendor reset "
        "it. " + VENDOR_CHANGES_OFFLINE,
        "Activate again with a new request (say **activate offline**).", ("activate offline",)),
    "floating_error": _Entry(
        "The floating license server refused",
        "The license server at your site (the floating server) answered with a refusal of its own.",
        "Ask your administrator to look at the floating server (`licensing-floating status`)."),
    "no_seat_available": _Entry(
        "Every seat is taken",
        "A floating license lets only so many computers use the application at once, and all of its seats are "
        "in use or borrowed right now.",
        "Wait for a seat to free up (ask **how many seats are free?**), or ask your administrator for more seats.",
        ("how many seats are free?",)),
    "lease_expired": _Entry(
        "Your seat ran out",
        "A seat from the floating server lasts a short time and is kept alive by heartbeats; the server did not "
        "answer in time, or a borrowed seat reached its end.",
        "Make sure the floating server runs and can be reached, then take a seat again (say **get a seat**).",
        ("get a seat",)),
    "lease_not_found": _Entry(
        "The floating server no longer knows this seat",
        "The seat was released, or it ran out while this computer was away, so the server gave it up.",
        "Take a seat again (say **get a seat**).", ("get a seat",)),
    "floating_server_unreachable": _Entry(
        "The floating server cannot be reached",
        "Seats of a floating license come from a license server on your site's network, and it did not answer.",
        "Check that the floating server runs and that its address is right; a borrowed seat keeps working "
        "meanwhile."),
    "floating_only": _Entry(
        "This is a floating license",
        "Computers do not activate a floating license themselves: they take a seat from your site's floating "
        "server, which the vendor activated once.",
        "Ask your administrator for the floating server's address, then say **get a seat**.", ("get a seat",)),
    "not_floating": _Entry(
        "This license is not a floating license",
        "Only a license issued as floating can serve seats from a floating server.",
        "Use a key your vendor issued as a floating license."),
    "device_already_activated": _Entry(
        "This computer already has an activation of this license",
        "The vendor already bound this license to this computer for another copy of the license data (for example "
        "one made before the storage was cleared, or a copied folder). One computer holds one activation, so the "
        "vendor does not hand out a second.",
        "Use the copy that is already activated. If it is gone (storage cleared, disk replaced), ask your vendor "
        "to reset this device on their side, then activate again (say **activate offline**).",
        ("activate offline",)),
    "reactivation_limit": _Entry(
        "This license was activated again too often",
        "The vendor limits how many times one license may be activated again in a period, so that a license "
        "cannot be copied by activating it over and over.",
        "Wait a while and try again, or ask your vendor: they can see every activation in their audit log."),
    "too_many_attempts": _Entry(
        "Too many wrong passwords",
        "Several wrong passwords were tried for this user name recently, so the vendor locks it for a few "
        "minutes; this stops anyone from guessing the password.",
        "Wait the few minutes the message names, then try again with the right password (say **activate "
        "offline** or **activate online**).", ("activate offline",)),
    "vendor_input": _Entry(
        "A vendor command got an invalid value",
        "The value given to the vendor command is not one it accepts.",
        "Run the command with `--help` to see what it accepts."),
})

# The same codes, refused by the vendor when it answers a request (the fix is a new request).
_VENDOR: Mapping[str, _Entry] = MappingProxyType({
    "license_expired": _Entry(
        "The license has expired, so the vendor will not activate it",
        "The vendor refuses requests for a license whose expiry date has passed.",
        "Ask your vendor to extend the license, then create a new request (say **activate offline**).",
        ("activate offline",)),
    "license_disabled": _Entry(
        "The license is disabled, so the vendor will not activate it",
        "The vendor has disabled this license.",
        "Ask your vendor to enable it, then create a new request (say **activate offline**).",
        ("activate offline",)),
})

#: every code with its own wording (tests check each ERROR_CODES entry is here)
EXPLAINED_CODES: frozenset[str] = frozenset(_DEVICE)

#: the tutorial's "Reasons why the request file may not generate a license file", as vendor codes, with
#: the reasons DESIGN §2 adds (a subscription offline, a replayed request, a disabled device)
REQUEST_REFUSAL_CODES: tuple[str, ...] = (
    "max_activations_reached", "license_expired", "license_disabled", "invalid_credentials",
    "product_configuration", "free_tier", "offline_not_supported", "request_replayed", "device_disabled",
)


def has_specific_explanation(code: str) -> bool:
    return code in _DEVICE


def explain(error: LicenseError, *, message: str | None = None) -> Explanation:
    """The explanation of ``error``: what happened and why, and the fix.

    A message or hint the raise site wrote for this case (not the class default) names the
    specifics — a path, a date, a count — so it is kept: the message before the table's "why",
    the hint instead of the table's fix. An unknown code still gets the error's own words.
    ``message`` (Markdown) replaces the error's own message, for a caller that words the
    specifics better (the bot dates an expiry the way the vendor does).
    """
    specific = message is not None or error.message != type(error).default_message
    text = message if message is not None else md_escape(error.message)
    entry = (_VENDOR.get(error.code) if isinstance(error, VendorRefusal) else None) or _DEVICE.get(error.code)
    if entry is None:
        return Explanation(error.code, f"Licensing problem ({error.code})", text, md_escape(error.hint))
    what = f"{text} {entry.why_after_message or entry.why}" if specific else entry.why
    fix = md_escape(error.hint) if error.hint != type(error).default_hint else entry.fix
    return Explanation(error.code, entry.title, what, fix, entry.suggestions)


def explain_code(code: str, *, at_vendor: bool = False) -> Explanation:
    """Explain a bare code (pasted from the portal or ``licensing-portal --json``).

    ``at_vendor`` picks the vendor's wording for the codes both sides use.
    """
    error_class = _class_for(code, at_vendor=at_vendor)
    if error_class is not None:
        return explain(error_class())
    entry = _DEVICE.get(code)
    if entry is None:
        return Explanation(code, f"Licensing problem ({md_code(code)})", "This code is not one I know.",
                           "Say **status** to see what is wrong on this device, or ask your vendor.", ("status",))
    return Explanation(code, entry.title, entry.why, entry.fix, entry.suggestions)


def _class_for(code: str, *, at_vendor: bool) -> type[LicenseError] | None:
    """The error class raising ``code`` on the wanted side (vendor or device), else any side."""
    found: list[type[LicenseError]] = []
    pending: list[type[LicenseError]] = [LicenseError]
    while pending:
        cls = pending.pop()
        if cls.code == code:
            found.append(cls)
        pending.extend(cls.__subclasses__())
    preferred = [cls for cls in found if issubclass(cls, VendorRefusal) == at_vendor]
    candidates = preferred or found
    return candidates[0] if candidates else None


def skill_refusal(skill_title: str, feature: str, error: LicenseError, *, message: str | None = None) -> Explanation:
    """Why a skill will not run, with the feature named (the user asked for the skill, not a check).

    ``message`` (Markdown) replaces the error's own message, as in :func:`explain`.
    """
    feature_md = md_code(feature)
    if error.code == "feature_not_found":
        return Explanation(error.code, f"Your license has no {feature_md} feature",
                           f"To {skill_title}, the license needs the {feature_md} feature, and the license on this "
                           "device does not include it.",
                           "Ask your vendor for a refresh file that adds it, then say **refresh**.",
                           ("refresh", "features"))
    if error.code == "feature_expired":
        return Explanation(error.code, f"Your license's {feature_md} feature has expired",
                           message if message is not None else md_escape(error.message),
                           "Ask your vendor to extend it and " + _REFRESH_FIX, ("refresh", "features"))
    base = explain(error, message=message)
    return Explanation(base.code, f"I can't {skill_title} right now: {base.title[0].lower()}{base.title[1:]}",
                       base.what_happened, base.how_to_fix, base.suggestions)


# -- Markdown safety ----------------------------------------------------------------------------

_INVISIBLE = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}
_BACKTICKS = re.compile(r"`+")
_MD_SPECIAL = re.compile(r"([\\`*\[\]<>|~])")
_UNDERSCORE_EDGE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_LINE_START = re.compile(r"^([#+\-=>]|\d+(?=[.)]))")


def _visible(text: str) -> str:
    """One line, every control or format character shown as U+FFFD (they can hide or reorder text)."""
    return "".join(" " if ch in "\r\n\t" else ("\ufffd" if unicodedata.category(ch) in _INVISIBLE else ch)
                   for ch in text)


def md_code(text: str, limit: int = 80) -> str:
    """``text`` as an inline code span: rendered literally whatever it holds, cut to ``limit`` chars."""
    clean = _visible(text)
    if len(clean) > limit:
        clean = clean[: limit - 1] + "…"
    if not clean.strip():
        return "(nothing)"
    fence = "`" * (max((len(run) for run in _BACKTICKS.findall(clean)), default=0) + 1)
    pad = " " if clean[0] == "`" or clean[-1] == "`" or (clean[0] == " " and clean[-1] == " ") else ""
    return f"{fence}{pad}{clean}{pad}{fence}"


def md_escape(text: str) -> str:
    """``text`` as plain Markdown: no emphasis, link, HTML, table or heading can come out of it.

    Underscores inside words (``ls_activation.lic``, ``invalid_credentials``) cannot start
    emphasis in CommonMark, so they stay unescaped and readable.
    """
    escaped = _MD_SPECIAL.sub(r"\\\1", _visible(text))
    escaped = _UNDERSCORE_EDGE.sub(r"\\_", escaped)
    return _LINE_START.sub(_escape_line_start, escaped)


def _escape_line_start(match: re.Match[str]) -> str:
    """A leading "#", "-", "1." would make a heading or a list: escape its punctuation."""
    token = match.group(1)
    return token + "\\" if token[0].isdigit() else "\\" + token
