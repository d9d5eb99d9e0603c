"""What checks and hybrid calls report: plain frozen records, no behaviour.

They live apart from :mod:`licensing._license` and :mod:`licensing._manager` so that both can
return them (and a UI can type them) without importing each other.

The tutorial's hybrid code asks ``isOnline()`` and branches; the SDK does that branching for
the application and reports it in a :class:`HybridResult`, so a UI can say "activated online"
or "the server cannot be reached, so here is the request file to take to the portal".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ._errors import LicenseError

if TYPE_CHECKING:
    from ._license import License

__all__ = ["CheckItem", "LocalCheckResult", "HybridResult", "Route", "CHECK_ORDER"]

Route = Literal["online", "offline"]

CHECK_ORDER = ("signature", "product", "hardware_id", "enabled", "validity", "consumption", "tombstone", "clock",
               "server_contact")


@dataclass(frozen=True)
class CheckItem:
    name: str
    ok: bool
    error: LicenseError | None = None


@dataclass(frozen=True)
class LocalCheckResult:
    """Every local check and its outcome, in the order ``local_check()`` runs them."""

    checked_at: datetime
    items: tuple[CheckItem, ...]
    expired_features: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return all(item.ok for item in self.items)

    @property
    def first_error(self) -> LicenseError | None:
        return next((item.error for item in self.items if item.error is not None), None)


@dataclass(frozen=True)
class HybridResult:
    route: Route
    reason: str  # why this route, in words for people
    license: License | None = None  # activation, check
    path: Path | None = None  # the request file written on the offline route
    receipt: dict[str, Any] | None = None  # online deactivation
    check: LocalCheckResult | None = None  # the local check run on the offline route
