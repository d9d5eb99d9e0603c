"""What ``floating.dat`` holds: a seat borrowed from a floating server, and returns not yet delivered.

The record lives in the local store beside the license (sealed with the same device-and-product
key, written atomically under the same lock: see ``_storage``); ``_floating`` reads and writes
it. The signed bytes are kept verbatim and verified again on every load.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._errors import StorageCorruptError

__all__ = ["Borrow", "PendingReturn", "FloatingRecord"]


@dataclass(frozen=True)
class Borrow:
    """A borrowed seat: the lease and the certificate it is checked against, and where to give it back."""

    lease: bytes  # the server-signed lease, verbatim
    certificate: bytes  # the server's certificate, verbatim
    server_url: str


@dataclass(frozen=True)
class PendingReturn:
    """A borrow given back here whose return the server has not confirmed yet."""

    request: bytes  # the signed release, resent as-is until the server hears it
    server_url: str
    lease_id: str


@dataclass(frozen=True)
class FloatingRecord:
    borrow: Borrow | None = None
    pending_returns: tuple[PendingReturn, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        borrow = self.borrow
        return {
            "borrow": None if borrow is None else {"lease": borrow.lease.decode("ascii"),
                                                   "certificate": borrow.certificate.decode("ascii"),
                                                   "server_url": borrow.server_url},
            "pending_returns": [{"request": p.request.decode("ascii"), "server_url": p.server_url,
                                 "lease_id": p.lease_id} for p in self.pending_returns],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> FloatingRecord:
        if data is None:
            return cls()
        try:
            borrow = data["borrow"]
            returns = data["pending_returns"]
            if not isinstance(returns, list):
                raise TypeError("pending returns")
            return cls(
                borrow=None if borrow is None else Borrow(borrow["lease"].encode("ascii"),
                                                           borrow["certificate"].encode("ascii"),
                                                           str(borrow["server_url"])),
                pending_returns=tuple(PendingReturn(p["request"].encode("ascii"), str(p["server_url"]),
                                                     str(p["lease_id"])) for p in returns),
            )
        except (KeyError, TypeError, AttributeError, UnicodeError):
            raise StorageCorruptError("The local record of floating seats holds unreadable data.") from None
