"""The outcome of a hybrid operation: which route was taken (online or offline) and why.

The tutorial's hybrid code asks ``isOnline()`` and branches; the SDK does that branching for
the application and reports it, so a UI can say "activated online" or "the server cannot be
reached, so here is the request file to take to the portal".
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from ._license import License, LocalCheckResult

__all__ = ["HybridResult", "Route"]

Route = Literal["online", "offline"]


@dataclass(frozen=True)
class HybridResult:
    route: Route
    reason: str  # why this route, in words for people
    license: License | None = None  # activation, check
    path: Path | None = None  # the request file written on the offline route
    receipt: dict[str, Any] | None = None  # online deactivation
    check: LocalCheckResult | None = None  # the local check run on the offline route
