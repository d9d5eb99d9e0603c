"""Every failure the toolkit reports, as one hierarchy under :class:`LicenseError`.

Each error carries a stable machine ``code`` (never changes once published: UIs, scripts and the
vendor's JSON output key on it), a ``message`` a person understands, and a ``hint`` that says
what to do about it. Nothing else escapes the public API: whatever bytes a file holds, a caller
sees one of these.

::

    LicenseError
    ├── UsageError                      invalid_argument
    ├── ConfigurationError              configuration_invalid
    │   └── ConfigurationTamperedError  configuration_tampered
    ├── LicenseFileError                (a file handed to us is unusable)
    │   ├── FileMissingError            file_not_found
    │   ├── FileTooLargeError           file_too_large
    │   ├── FileMalformedError          file_malformed
    │   ├── WrongFileTypeError          wrong_file_type
    │   ├── SignatureInvalidError       signature_invalid
    │   └── UnknownSigningKeyError      unknown_signing_key
    ├── BindingError                    (a genuine file that is not for us)
    │   ├── SignatureMismatchError      device_mismatch
    │   ├── ProductMismatchError        product_mismatch
    │   └── RequestMismatchError        request_mismatch
    ├── GuardError
    │   ├── GuardMissingError           guard_missing
    │   ├── GuardTamperedError          guard_tampered
    │   └── ResponseReusedError         response_already_used
    ├── LicenseStateError               (the license itself does not allow use)
    │   ├── NoLicenseError              no_license
    │   ├── LicenseDisabledError        license_disabled
    │   ├── LicenseExpiredError         license_expired
    │   ├── LicenseNotStartedError      license_not_started
    │   ├── LicenseDeactivatedError     license_deactivated
    │   ├── ConsumptionLimitError       consumption_limit
    │   ├── FeatureNotFoundError        feature_not_found
    │   ├── FeatureExpiredError         feature_expired
    │   ├── GracePeriodExpiredError     grace_period_expired
    │   └── LeaseExpiredError           lease_expired
    ├── ClockTamperedError              clock_tampered
    ├── RefreshOutdatedError            refresh_outdated
    ├── OnlineError
    │   ├── ServerUnreachableError      server_unreachable
    │   │   └── FloatingServerUnreachableError  floating_server_unreachable
    │   ├── ServerResponseError         server_error
    │   └── ServerAnswerMismatchError   answer_mismatch
    ├── FloatingError                   (seats of a floating license, at the customer's site)
    │   ├── NoSeatAvailableError        no_seat_available
    │   ├── LeaseNotFoundError          lease_not_found
    │   └── NotFloatingError            not_floating
    ├── StorageError                    storage_io
    │   ├── StorageCorruptError         storage_corrupt
    │   └── StorageLockedError          storage_locked
    └── VendorRefusal                   (the vendor will not answer a request)
        ├── MaxActivationsReachedError  max_activations_reached
        ├── VendorLicenseExpiredError   license_expired   (also a LicenseExpiredError)
        ├── VendorLicenseDisabledError  license_disabled  (also a LicenseDisabledError)
        ├── InvalidCredentialsError     invalid_credentials
        ├── ProductConfigurationError   product_configuration
        ├── FreeTierError               free_tier
        ├── OfflineNotSupportedError    offline_not_supported
        ├── RequestReplayedError        request_replayed
        ├── DeviceDisabledError         device_disabled
        ├── ProductNotFoundError        product_not_found
        ├── LicenseNotFoundError        license_not_found
        ├── DeviceNotFoundError         device_not_found
        ├── FloatingOnlyError           floating_only
        ├── DeviceAlreadyActivatedError device_already_activated
        ├── ReactivationLimitError      reactivation_limit
        ├── TooManyAttemptsError        too_many_attempts
        └── VendorInputError            vendor_input

Two codes are raised on both sides: the device finds a license expired or disabled, and the
vendor refuses to activate one for the same reason. They mean the same to a person, so the
vendor's classes are subclasses of the device's ones (``except LicenseExpiredError`` catches
both) and of :class:`VendorRefusal` (the vendor's wording and fix); :data:`ERROR_CODES` maps
each code to the one class every error bearing it is an instance of.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "LicenseError",
    "UsageError",
    "ConfigurationError",
    "ConfigurationTamperedError",
    "LicenseFileError",
    "FileMissingError",
    "FileTooLargeError",
    "FileMalformedError",
    "WrongFileTypeError",
    "SignatureInvalidError",
    "UnknownSigningKeyError",
    "BindingError",
    "SignatureMismatchError",
    "ProductMismatchError",
    "RequestMismatchError",
    "GuardError",
    "GuardMissingError",
    "GuardTamperedError",
    "ResponseReusedError",
    "LicenseStateError",
    "NoLicenseError",
    "LicenseDisabledError",
    "LicenseExpiredError",
    "LicenseNotStartedError",
    "LicenseDeactivatedError",
    "ConsumptionLimitError",
    "FeatureNotFoundError",
    "FeatureExpiredError",
    "GracePeriodExpiredError",
    "LeaseExpiredError",
    "ClockTamperedError",
    "RefreshOutdatedError",
    "OnlineError",
    "ServerUnreachableError",
    "ServerResponseError",
    "ServerAnswerMismatchError",
    "FloatingServerUnreachableError",
    "FloatingError",
    "NoSeatAvailableError",
    "LeaseNotFoundError",
    "NotFloatingError",
    "StorageError",
    "StorageCorruptError",
    "StorageLockedError",
    "DatabaseUnavailableError",
    "VendorRefusal",
    "MaxActivationsReachedError",
    "VendorLicenseExpiredError",
    "VendorLicenseDisabledError",
    "InvalidCredentialsError",
    "ProductConfigurationError",
    "FreeTierError",
    "OfflineNotSupportedError",
    "RequestReplayedError",
    "DeviceDisabledError",
    "ProductNotFoundError",
    "LicenseNotFoundError",
    "DeviceNotFoundError",
    "FloatingOnlyError",
    "DeviceAlreadyActivatedError",
    "ReactivationLimitError",
    "TooManyAttemptsError",
    "VendorInputError",
    "ERROR_CODES",
]


class LicenseError(Exception):
    """Base of every error the toolkit raises on purpose.

    Subclasses set ``code``, a default ``message`` and a default ``hint``; a raise site may
    override the message or hint with specifics (a path, a date) but never the code.
    """

    code: ClassVar[str] = "license_error"
    default_message: ClassVar[str] = "The licensing operation failed."
    default_hint: ClassVar[str] = "Try again; if it keeps failing, contact the software vendor."

    def __init__(self, message: str | None = None, *, hint: str | None = None, **details: object) -> None:
        self.message = message or self.default_message
        self.hint = hint or self.default_hint
        self.details = details
        super().__init__(self.message)

    def __str__(self) -> str:
        return f"{self.message} ({self.code}). Hint: {self.hint}"

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready view for scripts and APIs: code, message, hint."""
        return {"code": self.code, "message": self.message, "hint": self.hint}


class UsageError(LicenseError):
    code = "invalid_argument"
    default_message = "The operation was asked for with a value it cannot take."
    default_hint = "Check the value and try again."


class ConfigurationError(LicenseError):
    code = "configuration_invalid"
    default_message = "The licensing configuration is incomplete or invalid."
    default_hint = "Use the configuration file your vendor exported (licensing-portal product export-config)."


class ConfigurationTamperedError(ConfigurationError):
    """The configuration file differs from what the application pinned in its code: the trust anchor was edited."""

    code = "configuration_tampered"
    default_message = "The licensing configuration file was changed: it is not the one this application was built with."
    default_hint = "Reinstall the application, or restore the configuration file its vendor shipped; do not edit it."


# -- files -------------------------------------------------------------------------------------


class LicenseFileError(LicenseError):
    code = "file_error"
    default_message = "The file could not be used."
    default_hint = "Check that you picked the right file."


class FileMissingError(LicenseFileError):
    code = "file_not_found"
    default_message = "The file does not exist or cannot be read."
    default_hint = "Check the path; the file may have been moved, renamed or not copied yet."


class FileTooLargeError(LicenseFileError):
    code = "file_too_large"
    default_message = "The file is far larger than any licensing file; it is not one."
    default_hint = "Pick the file the licensing portal gave you (a few kilobytes)."


class FileMalformedError(LicenseFileError):
    code = "file_malformed"
    default_message = "The file is damaged or is not a licensing file."
    default_hint = "Copy the file again from its source; if it came by e-mail or USB, it may have been cut short."


class WrongFileTypeError(LicenseFileError):
    code = "wrong_file_type"
    default_message = "This is a licensing file, but not the kind needed here."
    default_hint = "Activation needs ls_activation.lic, a refresh needs license_refresh.lic, the portal needs a .req file."


class SignatureInvalidError(LicenseFileError):
    code = "signature_invalid"
    default_message = "The file's vendor signature does not match its contents: it was altered."
    default_hint = "Download a fresh copy from the licensing portal; do not edit licensing files."


class UnknownSigningKeyError(LicenseFileError):
    code = "unknown_signing_key"
    default_message = "The file was signed by a key this application does not trust."
    default_hint = "The file may come from another vendor, or your application needs an update with the vendor's new key."


# -- binding -----------------------------------------------------------------------------------


class BindingError(LicenseError):
    code = "binding_error"
    default_message = "The file is genuine but was not made for this use."
    default_hint = "Create a new request on this device and upload that one."


class SignatureMismatchError(BindingError):
    """The tutorial's name for a response made for another device (hardware id differs)."""

    code = "device_mismatch"
    default_message = "This license file was made for a different device than this one."
    default_hint = (
        "Create the request file on this device, upload that request to the portal, "
        "and use the response it gives back here."
    )


class ProductMismatchError(BindingError):
    code = "product_mismatch"
    default_message = "This file belongs to a different product."
    default_hint = "Check that you uploaded the request of this application and picked its response."


class RequestMismatchError(BindingError):
    code = "request_mismatch"
    default_message = "This response answers a different activation request than the one this device made last."
    default_hint = "Upload the newest ls_activation.req from this device to the portal and use the response it gives."


# -- guard file --------------------------------------------------------------------------------


class GuardError(LicenseError):
    code = "guard_error"
    default_message = "The guard file that protects offline activation is not usable."
    default_hint = "Create a new activation request and upload it again."


class GuardMissingError(GuardError):
    code = "guard_missing"
    default_message = "No pending activation request was found on this device (its guard file is missing)."
    default_hint = "Create a new activation request on this device, upload it, and use the new response."


class GuardTamperedError(GuardError):
    code = "guard_tampered"
    default_message = "The guard file of the pending activation request was altered or damaged."
    default_hint = "Create a new activation request on this device, upload it, and use the new response."


class ResponseReusedError(GuardError):
    code = "response_already_used"
    default_message = "This response file was already used; each one activates only once."
    default_hint = "To activate again, create a new activation request and upload it."


# -- license state -----------------------------------------------------------------------------


class LicenseStateError(LicenseError):
    code = "license_state"
    default_message = "The license does not allow use right now."
    default_hint = "Contact the software vendor."


class NoLicenseError(LicenseStateError):
    code = "no_license"
    default_message = "No license is activated on this device."
    default_hint = "Activate a license: online with its key, or offline with a request and response file."


class LicenseDisabledError(LicenseStateError):
    code = "license_disabled"
    default_message = "The license is disabled."
    default_hint = "Ask your vendor to enable it, then apply the refresh file they give you."


class LicenseExpiredError(LicenseStateError):
    code = "license_expired"
    default_message = "The license has expired."
    default_hint = "Ask your vendor to extend it, then apply the refresh file they give you."


class LicenseNotStartedError(LicenseStateError):
    code = "license_not_started"
    default_message = "The license is not valid yet: its start date is in the future."
    default_hint = "Wait until the start date, or check that this computer's date is right."


class LicenseDeactivatedError(LicenseStateError):
    code = "license_deactivated"
    default_message = "This license was deactivated on this device; a copy of the old license file cannot bring it back."
    default_hint = "Activate again with a new request file."


class ConsumptionLimitError(LicenseStateError):
    code = "consumption_limit"
    default_message = "The license has used up all its allowed consumptions."
    default_hint = "Ask your vendor to raise the limit or reset consumption, then apply their refresh file."


class FeatureNotFoundError(LicenseStateError):
    code = "feature_not_found"
    default_message = "The license does not include this feature."
    default_hint = "Ask your vendor to add the feature, then apply the refresh file they give you."


class FeatureExpiredError(LicenseStateError):
    code = "feature_expired"
    default_message = "This feature of the license has expired."
    default_hint = "Ask your vendor to extend the feature, then apply the refresh file they give you."


class GracePeriodExpiredError(LicenseStateError):
    code = "grace_period_expired"
    default_message = "This license must check in with the license server now and then, and it has not for too long."
    default_hint = "Connect to the internet and say 'check online' (license.check()); it works again once the server answers."


class LeaseExpiredError(LicenseStateError):
    """A seat of a floating license ran out: not renewed in time (server lost), or a borrow ended."""

    code = "lease_expired"
    default_message = "Your seat of the floating license has run out."
    default_hint = (
        "Check that the floating server at your site is running and reachable (licensing-floating serve), "
        "then take a seat again."
    )


class ClockTamperedError(LicenseError):
    code = "clock_tampered"
    default_message = "This computer's clock is set earlier than a time the license has already seen."
    default_hint = (
        "Set the system clock to the correct date and time (turn on automatic time), then try again. "
        "Time zones do not matter; only the real time does."
    )


class RefreshOutdatedError(LicenseError):
    code = "refresh_outdated"
    default_message = "This refresh file is not newer than the license already on this device."
    default_hint = "Download a new refresh file from the portal's Devices tab."


class StorageError(LicenseError):
    code = "storage_io"
    default_message = "The local license storage could not be read or written."
    default_hint = "Check that the data folder exists and is writable, and that the disk is not full."


class StorageCorruptError(StorageError):
    code = "storage_corrupt"
    default_message = "The local license storage is damaged or was edited, so it cannot be trusted."
    default_hint = "Clear the local license storage and activate again (your vendor can issue a new response)."


class StorageLockedError(StorageError):
    code = "storage_locked"
    default_message = "Another program is holding the local license storage for too long."
    default_hint = "Close other copies of the application and try again."


class DatabaseUnavailableError(StorageError):
    """The vendor's server lost its connection to its database (a restart, a network cut): it reconnects by itself."""

    code = "database_unavailable"
    default_message = "The license server lost its connection to its database."
    default_hint = "Send the request again in a moment: the server reconnects by itself. If it keeps happening, " \
                   "the vendor should check the database server."


# -- the license server ------------------------------------------------------------------------


class OnlineError(LicenseError):
    code = "online_error"
    default_message = "Talking to the license server failed."
    default_hint = "Try again later, or use the offline path (request and response files)."


class ServerUnreachableError(OnlineError):
    code = "server_unreachable"
    default_message = "The license server cannot be reached."
    default_hint = "Check the internet connection, or use the offline path: create a request file and take it to the portal."


class ServerResponseError(OnlineError):
    code = "server_error"
    default_message = "The license server answered with something this application cannot use."
    default_hint = "Try again in a few minutes; if it persists, tell the vendor (their server may be misconfigured)."


class ServerAnswerMismatchError(OnlineError):
    """A signed answer that is not the answer to the request just sent: replayed, or from someone else's exchange."""

    code = "answer_mismatch"
    default_message = ("The answer that came back does not belong to the request this application just sent: "
                       "it was replayed or redirected on the way.")
    default_hint = ("Check that the application reaches the vendor's own license server (no proxy or redirect in "
                    "between) and try again; nothing was changed on this device.")
class FloatingServerUnreachableError(ServerUnreachableError):
    """The customer's own floating server (not the vendor's license server) cannot be reached."""

    code = "floating_server_unreachable"
    default_message = "The floating license server at your site cannot be reached."
    default_hint = (
        "Check that the floating server is running (licensing-floating serve) and that this computer can reach "
        "its address; ask your administrator if it moved."
    )


# -- floating licenses -------------------------------------------------------------------------


class FloatingError(LicenseError):
    code = "floating_error"
    default_message = "The floating license server refused the request."
    default_hint = "Ask your administrator to look at the floating server (licensing-floating status)."


class NoSeatAvailableError(FloatingError):
    code = "no_seat_available"
    default_message = "Every seat of the floating license is in use."
    default_hint = (
        "Wait until someone closes the application (seats() shows who holds them), or ask your administrator "
        "for more seats."
    )


class LeaseNotFoundError(FloatingError):
    code = "lease_not_found"
    default_message = "The floating server no longer knows this seat: it ran out or was given back."
    default_hint = "Take a seat again."


class NotFloatingError(FloatingError):
    code = "not_floating"
    default_message = "This license is not a floating license, so it cannot serve seats."
    default_hint = "Activate the floating server with a floating license key (issued with --type floating)."


# -- vendor refusals ---------------------------------------------------------------------------


class VendorRefusal(LicenseError):
    """The vendor will not issue what a request asks for. Shown to people as-is by the portal."""

    code = "vendor_refusal"
    default_message = "The vendor refused the request."
    default_hint = "Contact the software vendor."


class MaxActivationsReachedError(VendorRefusal):
    code = "max_activations_reached"
    default_message = "This license is already active on as many devices as it allows."
    default_hint = "Deactivate it on a device you no longer use (upload its ls_deactivation.req), or ask the vendor for more activations."


class VendorLicenseExpiredError(VendorRefusal, LicenseExpiredError):
    code = "license_expired"
    default_message = "The license has expired, so it cannot be activated."
    default_hint = "Ask the vendor to extend the license, then create a new request."


class VendorLicenseDisabledError(VendorRefusal, LicenseDisabledError):
    code = "license_disabled"
    default_message = "The license is disabled, so it cannot be activated."
    default_hint = "Ask the vendor to enable the license, then upload the request again."


class InvalidCredentialsError(VendorRefusal):
    code = "invalid_credentials"
    default_message = "The license key, user name or password in the request is not right."
    default_hint = "Check the key or credentials you were given and create a new request."


class ProductConfigurationError(VendorRefusal):
    code = "product_configuration"
    default_message = "The request was made with a wrong product configuration (product code, API key or shared key)."
    default_hint = "The application's licensing configuration does not match the vendor's product; ask the vendor for the right configuration file."


class FreeTierError(VendorRefusal):
    code = "free_tier"
    default_message = "Offline licensing is not available for a vendor account on the free tier."
    default_hint = "The vendor needs to upgrade their licensing account."


class OfflineNotSupportedError(VendorRefusal):
    code = "offline_not_supported"
    default_message = "Subscription licenses cannot be activated offline."
    default_hint = "Activate this license online, or ask the vendor for a perpetual, time-based or consumption license."


class RequestReplayedError(VendorRefusal):
    code = "request_replayed"
    default_message = "This request file was already answered; each request can be used once."
    default_hint = "Create a new request on the device and upload that one."


class DeviceDisabledError(VendorRefusal):
    code = "device_disabled"
    default_message = "This device was disabled by the vendor."
    default_hint = "Ask the vendor to enable the device again."


class ProductNotFoundError(VendorRefusal):
    code = "product_not_found"
    default_message = "No such product exists."
    default_hint = "List the products with 'licensing-portal product list'."


class LicenseNotFoundError(VendorRefusal):
    code = "license_not_found"
    default_message = "No such license exists."
    default_hint = "Check the license key."


class DeviceNotFoundError(VendorRefusal):
    code = "device_not_found"
    default_message = "No such device is activated on this license."
    default_hint = "List the license's devices to find the right id."


class FloatingOnlyError(VendorRefusal):
    code = "floating_only"
    default_message = (
        "This is a floating license: it is activated by the floating server at your site, "
        "and each computer takes a seat from that server."
    )
    default_hint = "Ask your administrator for the floating server's address, or use a license key of another type."


class DeviceAlreadyActivatedError(VendorRefusal):
    code = "device_already_activated"
    default_message = ("This machine already holds an activation of this license, made by another copy of the "
                       "application's data.")
    default_hint = ("Use the copy that is already activated, or deactivate it there first (its "
                    "ls_deactivation.req); if that copy is lost, ask the vendor to reset the device.")


class ReactivationLimitError(VendorRefusal):
    code = "reactivation_limit"
    default_message = "This license was activated again too many times recently."
    default_hint = "Wait and try again later, or ask the vendor, who can see every activation in the audit log."


class TooManyAttemptsError(VendorRefusal):
    """Credential checks are rate-limited; ``details["retry_after"]`` holds the seconds to wait."""

    code = "too_many_attempts"
    default_message = "Too many wrong passwords were tried for this license recently, so it is locked for a while."
    default_hint = "Wait a few minutes, then try again with the right password (or ask the vendor)."


class VendorInputError(VendorRefusal):
    code = "vendor_input"
    default_message = "The vendor command was given an invalid value."
    default_hint = "Run the command with --help to see what it accepts."


def _classes() -> list[type[LicenseError]]:
    found: list[type[LicenseError]] = []
    pending: list[type[LicenseError]] = [LicenseError]
    while pending:
        cls = pending.pop()
        if cls not in found:
            found.append(cls)
            pending.extend(cls.__subclasses__())
    return found


def _all_codes() -> dict[str, type[LicenseError]]:
    """Each code mapped to the class every error bearing it is an instance of; two unrelated classes
    sharing a code is a mistake in this module, refused at import."""
    codes: dict[str, type[LicenseError]] = {}
    for cls in _classes():
        known = codes.setdefault(cls.code, cls)
        if issubclass(known, cls):
            codes[cls.code] = cls
        elif not issubclass(cls, known):
            raise TypeError(f"{cls.__name__} and {known.__name__} share the code {cls.code!r} but neither is the other's base")
    return codes


def refusal_class(code: str) -> type[LicenseError] | None:
    """The class for a vendor's refusal with ``code``: the vendor's own where one refines the code's class."""
    base = ERROR_CODES.get(code)
    if base is None:
        return None
    refined = [cls for cls in _classes() if cls.code == code and issubclass(cls, VendorRefusal)]
    return refined[0] if refined else base


#: Every stable code, mapped to the class every error with that code is an instance of: the table the docs print.
ERROR_CODES: dict[str, type[LicenseError]] = _all_codes()
