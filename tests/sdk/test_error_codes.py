"""Each stable code names one kind of failure: ``ERROR_CODES[code]`` is the class every error with it is.

Two codes are raised on both sides: ``license_expired`` and ``license_disabled`` mean the same
thing to a person whether the device finds it or the vendor refuses a request for it. The
vendor's classes are subclasses of the device's (and of :class:`VendorRefusal`), so
``except LicenseExpiredError`` catches both, and the table maps each code to the one class
every error bearing it is an instance of.
"""

from __future__ import annotations

import pytest

import licensing
from licensing import (
    ERROR_CODES,
    LicenseDisabledError,
    LicenseError,
    LicenseExpiredError,
    VendorLicenseDisabledError,
    VendorLicenseExpiredError,
    VendorRefusal,
)


def _every_class() -> list[type[LicenseError]]:
    exported = (getattr(licensing, name) for name in licensing.__all__)
    return [cls for cls in exported if isinstance(cls, type) and issubclass(cls, LicenseError)]


def test_every_class_is_an_instance_of_the_class_its_code_maps_to() -> None:
    for cls in _every_class():
        assert issubclass(cls, ERROR_CODES[cls.code]), (cls.__name__, cls.code, ERROR_CODES[cls.code].__name__)


@pytest.mark.parametrize(("code", "device", "vendor"), [
    ("license_expired", LicenseExpiredError, VendorLicenseExpiredError),
    ("license_disabled", LicenseDisabledError, VendorLicenseDisabledError),
])
def test_the_shared_codes_map_to_the_devices_class_which_the_vendors_refines(
        code: str, device: type[LicenseError], vendor: type[LicenseError]) -> None:
    assert ERROR_CODES[code] is device
    assert issubclass(vendor, device) and issubclass(vendor, VendorRefusal)
    with pytest.raises(device):
        raise vendor()
    assert vendor.default_hint != device.default_hint  # the fix differs: a new request versus a refresh
