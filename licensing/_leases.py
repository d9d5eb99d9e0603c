"""The artefacts of floating licenses: what a workstation and the floating server at its site exchange.

A floating license is activated by one *floating server* at the customer's site, as a device:
its activation response, signed by the vendor, names the server's own public key
(``device_key``) and the floating terms (seats, lease length, longest borrow). Workstations then
take *leases* from that server, signed with that certified key. The chain a workstation checks::

    vendor key (pinned in the Configuration)
      └─ signs the server's activation response (+ a later refresh)  → the server's key, N seats
           └─ signs each lease                                         → this workstation, this nonce

Four artefact types, each with its own domain-separation prefix (``crypto.sign`` puts the type
in front of the signed bytes), in the same envelopes as every other licensing file:

=====================  =========================  ====================================================
type                   signed by                  what it is
=====================  =========================  ====================================================
``lease-request``      the workstation's key      ask for a seat, or to borrow one (``borrow_seconds``)
``lease-heartbeat``    the workstation's key      renew a lease; names the lease and its sequence
``lease-release``      the workstation's key      give a seat back (a lease, or a borrow returned early)
``floating-lease``     the certified server key   the answer that holds a seat: a grant, a renewal or a
                                                  borrow, bound to the request's id and nonce
=====================  =========================  ====================================================

Requests are device-signed like activation requests (the workstation's own Ed25519 key plus an
HMAC with the product's shared key, which the server holds too as a device of the product).
Nothing here does I/O: the server (``licensing.floating``) and the client (``_floating``) do.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from . import _crypto as crypto
from ._errors import (
    FileMalformedError,
    FileTooLargeError,
    NotFloatingError,
    ProductMismatchError,
    SignatureMismatchError,
    UnknownSigningKeyError,
)
from ._formats import (
    ACTIVATION_RESPONSE,
    FLOATING_LEASE,
    LEASE_HEARTBEAT,
    LEASE_RELEASE,
    LEASE_REQUEST,
    LICENSE_REFRESH,
    MAX_FILE_SIZE,
    ActivationResponse,
    FloatingTerms,
    LicenseRefresh,
    LicenseTerms,
    _Reader,
    encode_signed,
    open_signed,
)

__all__ = [
    "LEASE_REQUEST",
    "LEASE_HEARTBEAT",
    "LEASE_RELEASE",
    "FLOATING_LEASE",
    "FLOATING_REQUESTS",
    "LEASE_KINDS",
    "MAX_CLIENT_NAME",
    "LeaseAsk",
    "LeaseGrant",
    "ServerCertificate",
    "LeaseSigner",
    "encode_certificate",
    "open_certificate",
    "format_span",
]

FLOATING_REQUESTS = frozenset({LEASE_REQUEST, LEASE_HEARTBEAT, LEASE_RELEASE})
#: a live lease (kept by heartbeats) or a borrow (carried away until its end)
LEASE_KINDS = ("lease", "borrow")
#: how long the name a workstation shows in ``seats()`` may be (longer names are cut)
MAX_CLIENT_NAME = 120


@dataclass(frozen=True)
class LeaseAsk:
    """A workstation's request to the floating server (any of the three request types).

    ``server`` is the key id of the floating server the request is meant for, so that a request
    captured at one server is refused by another. ``lease_id`` and ``sequence`` name the lease a
    heartbeat or release is about; a request about an older sequence is a replay.
    """

    typ: str
    product: str
    api_key: str
    request_id: str
    nonce: str
    hardware_id: str
    device_key: str
    created_at: datetime
    client: str
    server: str
    borrow_seconds: int = 0
    lease_id: str | None = None
    sequence: int | None = None

    @classmethod
    def from_payload(cls, typ: str, doc: dict[str, Any]) -> LeaseAsk:
        r = _Reader(doc, "request")
        about_a_lease = typ != LEASE_REQUEST
        return cls(typ=typ, product=r.get("product", str), api_key=r.get("api_key", str),
                   request_id=r.get("request_id", str), nonce=r.get("nonce", str),
                   hardware_id=r.get("hardware_id", str), device_key=r.get("device_key", str),
                   created_at=r.time("created_at"), client=_shown(r.get("client", str)),
                   server=r.get("server", str), borrow_seconds=r.count("borrow_seconds", optional=True) or 0,
                   lease_id=r.get("lease_id", str, optional=not about_a_lease),
                   sequence=r.count("sequence", optional=not about_a_lease))


def _shown(name: str) -> str:
    """A workstation's name as seat lists show it: printable characters only, and not too long."""
    return "".join(c if c.isprintable() else "?" for c in name[:MAX_CLIENT_NAME]) or "?"


@dataclass(frozen=True)
class LeaseGrant:
    """A lease as the server signed it: one seat, for one workstation key, until ``expires_at``.

    ``issued_at`` and ``expires_at`` are the *server's* clock. A workstation times a live lease
    from the moment it sent the request, for ``expires_at - issued_at`` (so the two clocks never
    need to agree); a borrow, which outlives the process, ends at ``expires_at`` by the
    workstation's clock, checked against its high-water mark (see ``_floating``).
    """

    product: str
    server_device_id: str
    license_id: int
    revision: int  # of the server's license when it signed: newer than a workstation's certificate means
    #              the vendor sent the server a refresh (more seats...), so the certificate is read again
    lease_id: str
    slot: int
    kind: str
    sequence: int
    hardware_id: str
    holder_key: str
    request_id: str
    nonce: str
    client: str
    issued_at: datetime
    expires_at: datetime

    @classmethod
    def from_payload(cls, doc: dict[str, Any]) -> LeaseGrant:
        r = _Reader(doc, "lease")
        grant = cls(product=r.get("product", str), server_device_id=r.get("server_device_id", str),
                    license_id=r.count("license_id"), revision=r.count("revision"),
                    lease_id=r.get("lease_id", str), slot=r.count("slot"),
                    kind=r.get("kind", str), sequence=r.count("sequence"), hardware_id=r.get("hardware_id", str),
                    holder_key=r.get("holder_key", str), request_id=r.get("request_id", str),
                    nonce=r.get("nonce", str), client=r.get("client", str), issued_at=r.time("issued_at"),
                    expires_at=r.time("expires_at"))
        if grant.kind not in LEASE_KINDS:
            raise r._fail("kind")
        if grant.expires_at <= grant.issued_at:
            raise r._fail("expires_at")
        return grant

    @property
    def seconds(self) -> float:
        """How long the lease lasts from the moment it was issued."""
        return (self.expires_at - self.issued_at).total_seconds()

    @property
    def borrowed(self) -> bool:
        return self.kind == "borrow"


@dataclass(frozen=True)
class ServerCertificate:
    """A floating server as the vendor certified it: its key, its activation, the newest terms."""

    data: bytes  # the envelopes, verbatim (the activation response, then any refresh)
    server_key: crypto.Ed25519PublicKey
    kid: str
    device_id: str
    terms: LicenseTerms
    issued_at: datetime  # the vendor's signing time of the newest of the two

    @property
    def floating(self) -> FloatingTerms:
        assert self.terms.floating is not None  # open_certificate refuses any other license
        return self.terms.floating

    @property
    def trusted(self) -> Mapping[str, crypto.Ed25519PublicKey]:
        """The one key a lease from this server may be signed with."""
        return {self.kid: self.server_key}


def encode_certificate(activation: bytes, refresh: bytes | None = None) -> bytes:
    """The certificate a floating server hands out: its activation response, then its newest refresh."""
    return activation + (refresh or b"")


def open_certificate(data: bytes, trusted_keys: Mapping[str, crypto.Ed25519PublicKey],
                     product: str) -> ServerCertificate:
    """Verify a floating server's certificate against the vendor keys an application pins.

    Refused, typed: a certificate not signed by the vendor (``unknown_signing_key``), altered
    (``signature_invalid``, ``file_malformed``), for another product (``product_mismatch``), a
    refresh of another device (``device_mismatch``), or a license that is not floating
    (``not_floating``).
    """
    if len(data) > 2 * MAX_FILE_SIZE:
        raise FileTooLargeError("The floating server sent a certificate far larger than any license.")
    lines = data.split(b"\n")
    if lines[-1] != b"" or len(lines) not in (2, 3):
        raise FileMalformedError("The floating server's certificate is damaged (it is not one or two licensing files).")
    try:
        _, doc = open_signed(lines[0] + b"\n", ACTIVATION_RESPONSE, trusted_keys)
        activation = ActivationResponse.from_payload(doc)
        terms, issued_at = activation.license, activation.issued_at
        if len(lines) == 3:
            _, doc = open_signed(lines[1] + b"\n", LICENSE_REFRESH, trusted_keys)
            refresh = LicenseRefresh.from_payload(doc)
            if (refresh.device_id, refresh.hardware_id) != (activation.device_id, activation.hardware_id):
                raise SignatureMismatchError("The floating server's refresh file was made for another server.",
                                             hint="The floating server must apply its own refresh files.")
            if refresh.license.revision > terms.revision:
                terms, issued_at = refresh.license, refresh.issued_at
    except UnknownSigningKeyError:
        raise UnknownSigningKeyError(
            "The floating server's certificate was not signed by this application's vendor, so its key cannot "
            "be trusted.", hint="Use the floating server your administrator set up with this product's license.",
        ) from None
    if activation.product != product:
        raise ProductMismatchError("The floating server serves another product than this application.")
    if terms.floating is None:
        raise NotFloatingError(f"The floating server's license is a {terms.license_type} license, not a floating one.")
    try:
        server_key = crypto.ed25519_public_from_b64(activation.device_key)
    except ValueError:
        raise FileMalformedError("The floating server's certificate names no valid server key.") from None
    return ServerCertificate(data=data, server_key=server_key, kid=crypto.key_id(server_key),
                             device_id=activation.device_id, terms=terms, issued_at=issued_at)


class LeaseSigner:
    """Signs leases with a floating server's own device key (which the vendor certified).

    Obtained from the server's :class:`~licensing.License` (``license.lease_signer()``), so the
    private key never leaves the SDK's sealed storage. It signs floating leases and nothing
    else: the type is fixed here, and the domain prefix keeps a lease from posing as any other file.
    """

    def __init__(self, private_key: crypto.Ed25519PrivateKey) -> None:
        self._key = private_key
        self.public_key = private_key.public_key()
        self.kid = crypto.key_id(self.public_key)
        self.public_key_b64 = crypto.b64encode(crypto.public_bytes(self.public_key))

    def sign(self, body: Mapping[str, Any]) -> bytes:
        return encode_signed(FLOATING_LEASE, body, self._key, self.kid)

    def __repr__(self) -> str:
        return f"LeaseSigner(kid={self.kid})"


def format_span(seconds: float) -> str:
    """A length of time for people, in its largest whole unit: "5 minutes", "7 days", "90 seconds"."""
    whole = int(seconds)
    for unit, size in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if whole >= size and whole % size == 0:
            count = whole // size
            return f"{count} {unit}" + ("" if count == 1 else "s")
    return f"{whole} second" + ("" if whole == 1 else "s")
