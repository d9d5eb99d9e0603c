"""Offline-first software licensing: signed request/response files, local checks, clock-tamper defence.

Typical use in an application::

    from licensing import Configuration, LicenseManager, LicenseID, LicenseError

    manager = LicenseManager(Configuration.from_file("licensing.json"))
    manager.create_offline_activation_file(LicenseID.from_key("ABCD-1234-EFGH-5678"))
    # ... the user uploads ls_activation.req to the portal and brings back ls_activation.lic ...
    license = manager.activate_license_offline()
    license.local_check()

A floating license is served by a floating server at the customer's site instead::

    with manager.floating("http://licenses.example.lan:8470").hold_seat() as lease:
        lease.local_check()          # a seat, kept by a background heartbeat, given back on exit

Every failure is a :class:`LicenseError` with a stable ``code``, a ``message`` and a ``hint``;
``ERROR_CODES`` maps each code to its class.

Layering: this module is the whole public surface an application needs. The modules behind it
are private (``_manager``, ``_license``, ``_storage`` ...). :mod:`licensing.wire` is the public
lower layer the issuing side builds on (envelopes, file types and names, time, primitives), and
:mod:`licensing.issuing` is the vendor's side; nothing here imports either.
"""

from ._config import Configuration
from ._errors import *  # noqa: F403 - the hierarchy is part of the public API
from ._errors import __all__ as _error_names
from ._floating import FloatingClient
from ._floating_link import SeatHolder, SeatsReport
from ._formats import Feature, FloatingTerms, LicenseTerms
from ._lease import Heartbeat, Lease
from ._license import License
from ._manager import LicenseID, LicenseManager
from ._results import CheckItem, HybridResult, LocalCheckResult
from ._version import __version__

__all__ = [
    "Configuration",
    "LicenseManager",
    "LicenseID",
    "License",
    "LicenseTerms",
    "Feature",
    "LocalCheckResult",
    "CheckItem",
    "HybridResult",
    "FloatingClient",
    "Lease",
    "Heartbeat",
    "SeatsReport",
    "SeatHolder",
    "FloatingTerms",
    "__version__",
    *_error_names,
]
