"""What a :class:`~licensing.License` needs from the manager that made it, and nothing more.

A license used to call back into :class:`~licensing.LicenseManager`'s private methods, so the
two modules imported each other. The manager now builds one :class:`LicenseContext` (the
settings, this device, its storage, the license server) and hands it to every license it
makes; the checks shared by both — is a vendor file for this product and device, is the online
route open — live here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from ._clock import utc_now
from ._config import Configuration
from ._errors import ProductMismatchError, SignatureMismatchError
from ._formats import ACTIVATION_RESPONSE, LICENSE_REFRESH, ActivationResponse, Envelope, LicenseRefresh, open_signed
from ._online import LicenseServer
from ._storage import LocalStore

__all__ = ["LicenseContext"]

SignedT = TypeVar("SignedT", ActivationResponse, LicenseRefresh)


@dataclass(frozen=True, eq=False)
class LicenseContext:
    config: Configuration
    hardware_id: str
    #: this device's other identity components (name -> HMAC), compared with those signed at activation
    components: Mapping[str, str]
    store: LocalStore
    server: LicenseServer
    #: called when a license is deactivated, so the manager stops holding it in memory
    release: Callable[[object], None]

    def now(self) -> datetime:
        return utc_now(self.config.clock)

    def open_vendor_file(self, data: bytes, kind: type[SignedT]) -> tuple[Envelope, SignedT]:
        """Verify a vendor file (response or refresh) and that it was made for this product and device."""
        typ = ACTIVATION_RESPONSE if kind is ActivationResponse else LICENSE_REFRESH
        envelope, doc = open_signed(data, typ, self.config.trusted_keys)
        signed = kind.from_payload(doc)
        what = "response" if typ == ACTIVATION_RESPONSE else "refresh"
        if signed.product != self.config.product:
            raise ProductMismatchError(f"This {what} file belongs to another product.")
        if signed.hardware_id != self.hardware_id:
            if typ == ACTIVATION_RESPONSE:
                raise SignatureMismatchError()
            raise SignatureMismatchError("This refresh file was made for a different device than this one.",
                                         hint="In the portal's Devices tab, download the refresh file of this device.")
        return envelope, signed

    def offline_reason(self) -> str | None:
        """None when the online route is open, else why not (for HybridResult.reason)."""
        if not self.server.configured:
            return "no license server is configured"
        if not self.server.is_online():
            return "the license server cannot be reached"
        return None
