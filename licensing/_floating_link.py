"""The HTTP link from a workstation to a floating server, and what its seat list says.

Every call is bounded by the configuration's timeout, and every failure is typed and names the
server: ``floating_server_unreachable`` for the network, the server's own refusal (its ``code``
kept, as for the vendor's license server) otherwise. The bodies are the signed envelopes of
``_leases``; only the seat list is plain JSON (it is for display, and trusted no further).
"""

from __future__ import annotations

import getpass
import json
import socket
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import httpx

from ._errors import FloatingServerUnreachableError, ServerResponseError, UsageError
from ._formats import LEASE_HEARTBEAT, LEASE_RELEASE, LEASE_REQUEST, parse_time
from ._online import _refusal
from ._version import __version__

__all__ = ["FloatingLink", "SeatHolder", "SeatsReport", "API_PREFIX", "ENDPOINTS", "checked_server_url",
           "default_client_name"]

#: where the floating server's endpoints live (``licensing.floating.app`` serves them)
API_PREFIX = "/floating/v1"
#: the endpoint each workstation request goes to
ENDPOINTS = {LEASE_REQUEST: "/lease", LEASE_HEARTBEAT: "/heartbeat", LEASE_RELEASE: "/release"}
_MAX_ANSWER = 256 * 1024


@dataclass(frozen=True)
class SeatHolder:
    """One seat in use: who holds it, and until when by the server's clock."""

    slot: int
    lease_id: str
    client: str
    holder: str  # the key id of the holder's device key
    borrowed: bool
    expires: datetime
    yours: bool  # held by this workstation


@dataclass(frozen=True)
class SeatsReport:
    """How many seats the floating license has, how many are free, and who holds the others."""

    server_url: str
    total: int
    holders: tuple[SeatHolder, ...]
    server_time: datetime

    @property
    def used(self) -> int:
        return len(self.holders)

    @property
    def free(self) -> int:
        return max(0, self.total - self.used)


class FloatingLink:
    """A small blocking HTTP client for one floating server; every failure is typed and names it."""

    def __init__(self, url: str, timeout: float) -> None:
        self.url = url
        self._client = httpx.Client(base_url=url + API_PREFIX, timeout=httpx.Timeout(timeout), trust_env=False,
                                    headers={"User-Agent": f"offline-licensing/{__version__}"})

    def get(self, endpoint: str) -> bytes:
        return self._send("GET", endpoint, None)

    def post(self, endpoint: str, body: bytes) -> bytes:
        return self._send("POST", endpoint, body)

    def _send(self, method: str, endpoint: str, body: bytes | None) -> bytes:
        try:
            answer = self._client.request(method, endpoint, content=body,
                                          headers=None if body is None else {"Content-Type": "application/json"})
        except httpx.TimeoutException:
            raise FloatingServerUnreachableError(f"The floating server at {self.url} did not answer in time.") from None
        except httpx.HTTPError as exc:
            raise FloatingServerUnreachableError(
                f"The floating server at {self.url} cannot be reached ({type(exc).__name__}).") from None
        if len(answer.content) > _MAX_ANSWER:
            raise ServerResponseError(f"The floating server at {self.url} sent an answer far too large to be a lease.")
        if answer.status_code == 200:
            return answer.content
        raise _refusal(answer.status_code, answer.content)

    def seats(self, own_kid: str) -> SeatsReport:
        """The seat list; ``own_kid`` (this workstation's key id) marks its own seat."""
        try:
            data = json.loads(self.get("/seats"))
            holders = tuple(SeatHolder(slot=int(h["slot"]), lease_id=str(h["lease_id"]), client=str(h["client"]),
                                       holder=str(h["holder"]), borrowed=h["kind"] == "borrow",
                                       expires=parse_time(h["expires_at"]), yours=h["holder"] == own_kid)
                            for h in data["holders"])
            return SeatsReport(server_url=self.url, total=int(data["seats"]), holders=holders,
                               server_time=parse_time(data["server_time"]))
        except (ValueError, KeyError, TypeError, AttributeError):
            raise ServerResponseError(f"The floating server at {self.url} sent a seat list this application "
                                      "cannot read.") from None

    def close(self) -> None:
        self._client.close()


def checked_server_url(text: str) -> str:
    """A floating server's address as the application gave it, checked (``invalid_argument`` if not one)."""
    parts = urlsplit(text.strip()) if isinstance(text, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise UsageError(f"{text!r} is not the address of a floating server.",
                         hint="Give its URL, e.g. http://licenses.example.lan:8470 (ask your administrator).")
    return text.strip().rstrip("/")


def default_client_name() -> str:
    """How a workstation appears in seat lists unless the application names it: user@host."""
    try:
        return f"{getpass.getuser()}@{socket.gethostname()}"
    except (OSError, KeyError, ImportError):  # no user name in some containers
        return socket.gethostname() or "workstation"
