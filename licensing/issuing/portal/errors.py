"""HTTP status codes for :class:`~licensing._errors.LicenseError`: one mapping for the pages and the API.

The portal's pages and the JSON API (``/api/v1``) answer a refused or failed request with the
status below, and always with the error's plain ``message`` and ``hint`` (a page for people,
``{"ok": false, "code", "message", "hint"}`` for programs) — never a traceback.

======  ==============================================================================  ===========================
status  meaning                                                                         errors (stable ``code``)
======  ==============================================================================  ===========================
400     the file or form value is unusable: empty, damaged, truncated, altered,         ``file_malformed``,
        signed by an unknown key, made for another device or product, bad form input   ``signature_invalid``,
                                                                                        ``unknown_signing_key``,
                                                                                        ``file_not_found`` (no file
                                                                                        chosen), binding and guard
                                                                                        errors, ``invalid_argument``,
                                                                                        ``vendor_input``,
                                                                                        ``clock_tampered``
403     the vendor refuses: license disabled or expired, wrong credentials, wrong      ``license_disabled``,
        product configuration, free-tier account, subscription asked offline,          ``license_expired``,
        device disabled; also the license-side state errors of the SDK                 ``invalid_credentials``,
                                                                                        ``product_configuration``,
                                                                                        ``free_tier``,
                                                                                        ``offline_not_supported``,
                                                                                        ``device_disabled``
404     the product, license or device named does not exist                             ``product_not_found``,
                                                                                        ``license_not_found``,
                                                                                        ``device_not_found``,
                                                                                        ``no_license``
409     the request conflicts with what already happened: all activations in use,      ``max_activations_reached``,
        the request was already answered (replay), a response already used, a refresh  ``request_replayed``,
        not newer than the license, another copy already activated on this machine     ``response_already_used``,
                                                                                        ``refresh_outdated``,
                                                                                        ``device_already_activated``
413     the upload is larger than any licensing file (``MAX_FILE_SIZE``, 64 KiB)       ``file_too_large``
429     too many password checks for this user or license, or too many re-activations   ``too_many_attempts``,
        of this license, in the vendor's window (with ``Retry-After``)                  ``reactivation_limit``
415     a licensing file of the wrong kind (a response where a request is expected,     ``wrong_file_type``
        a deactivation request on the activation page, not a ``.req`` file)
500     the vendor's own configuration or storage failed (not the uploader's fault)    ``configuration_invalid``,
                                                                                        ``storage_io``,
                                                                                        ``storage_corrupt``
503     the database is busy for too long: try again in a moment                       ``storage_locked``
======  ==============================================================================  ===========================

Anything else derived from :class:`~licensing._errors.LicenseError` is a 400. The first matching
class in :data:`STATUS_BY_CLASS` (most specific first) wins, so a new subclass inherits its
parent's status until it is listed here.
"""

from __future__ import annotations

from ... import (
    BindingError,
    ClockTamperedError,
    ConfigurationError,
    DatabaseUnavailableError,
    DeviceAlreadyActivatedError,
    DeviceDisabledError,
    DeviceNotFoundError,
    FileTooLargeError,
    FreeTierError,
    GuardError,
    InvalidCredentialsError,
    LicenseError,
    LicenseFileError,
    LicenseNotFoundError,
    LicenseStateError,
    MaxActivationsReachedError,
    NoLicenseError,
    OfflineNotSupportedError,
    ProductConfigurationError,
    ProductNotFoundError,
    ReactivationLimitError,
    RefreshOutdatedError,
    RequestReplayedError,
    ResponseReusedError,
    StorageError,
    StorageLockedError,
    TooManyAttemptsError,
    UsageError,
    VendorInputError,
    VendorLicenseDisabledError,
    VendorLicenseExpiredError,
    WrongFileTypeError,
)

__all__ = ["status_for", "headers_for", "STATUS_BY_CLASS", "DEFAULT_STATUS"]

DEFAULT_STATUS = 400

#: (error class, status), most specific first; :func:`status_for` takes the first match.
STATUS_BY_CLASS: tuple[tuple[type[LicenseError], int], ...] = (
    (FileTooLargeError, 413),
    (WrongFileTypeError, 415),
    (LicenseFileError, 400),
    (MaxActivationsReachedError, 409),
    (RequestReplayedError, 409),
    (ResponseReusedError, 409),
    (RefreshOutdatedError, 409),
    (DeviceAlreadyActivatedError, 409),
    (TooManyAttemptsError, 429),
    (ReactivationLimitError, 429),
    (ProductNotFoundError, 404),
    (LicenseNotFoundError, 404),
    (DeviceNotFoundError, 404),
    (NoLicenseError, 404),
    (VendorLicenseDisabledError, 403),
    (VendorLicenseExpiredError, 403),
    (InvalidCredentialsError, 403),
    (ProductConfigurationError, 403),
    (FreeTierError, 403),
    (OfflineNotSupportedError, 403),
    (DeviceDisabledError, 403),
    (LicenseStateError, 403),
    (VendorInputError, 400),
    (UsageError, 400),
    (BindingError, 400),
    (GuardError, 400),
    (ClockTamperedError, 400),
    (StorageLockedError, 503),
    (DatabaseUnavailableError, 503),
    (StorageError, 500),
    (ConfigurationError, 500),
)


def status_for(error: LicenseError) -> int:
    """The HTTP status for ``error`` (see the table in this module's docstring)."""
    for cls, status in STATUS_BY_CLASS:
        if isinstance(error, cls):
            return status
    return DEFAULT_STATUS


def headers_for(error: LicenseError) -> dict[str, str]:
    """Extra response headers for ``error``: ``Retry-After`` when it says how long to wait."""
    wait = error.details.get("retry_after")
    return {"Retry-After": str(wait)} if isinstance(wait, int) and wait > 0 else {}
