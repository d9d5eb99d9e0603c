"""The files that travel between a device and the vendor, and the documents inside them.

Every artefact is an *envelope*: one line of canonical JSON holding the artefact type, the exact
payload bytes (base64) and their signature. The payload is itself JSON and repeats, inside the
signed bytes, the type (``typ``), the format version (``v``) and, for vendor files, the signing
key's id (``kid``). Signatures cover a per-type domain prefix plus the payload bytes exactly as
shipped, so nothing is ever re-serialised before it is verified.

Why canonical envelopes: a verifier that accepted any JSON spelling of the same envelope would
let a byte of a file change (a space, a base64 padding bit) without anyone noticing; we promise
that *any* change to *any* byte is refused, so the outer form is checked to be the one we write.

Who signs what:

* vendor files (activation response, license refresh, deactivation receipt): the vendor's
  Ed25519 key, picked by the verifier from its pinned keys by ``kid`` (never from the file);
* device files (activation and deactivation requests): the device's own Ed25519 key, plus an
  HMAC with the product's shared key so the vendor can tell a wrong product configuration.

Every request carries a fresh ``request_id`` and ``nonce``; a vendor file that answers a request
(an activation response, the refresh that answers a refresh request or a consumption report, an
online deactivation receipt) repeats both inside the signed bytes, so the device can refuse an
answer that is not the answer to the request it just made.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, overload

from . import _crypto as crypto
from ._errors import (
    FileMalformedError,
    FileMissingError,
    FileTooLargeError,
    SignatureInvalidError,
    UnknownSigningKeyError,
    WrongFileTypeError,
)
from ._fs import atomic_write

__all__ = [
    "ACTIVATION_REQUEST",
    "ACTIVATION_RESPONSE",
    "LICENSE_REFRESH",
    "DEACTIVATION_REQUEST",
    "REFRESH_REQUEST",
    "CONSUMPTION_SYNC",
    "DEACTIVATION_RECEIPT",
    "FORMAT_VERSION",
    "MAX_FILE_SIZE",
    "LICENSE_TYPES",
    "VENDOR_SIGNED",
    "DEVICE_SIGNED",
    "ACTIVATION_REQUEST_FILE_NAME",
    "ACTIVATION_RESPONSE_FILE_NAME",
    "DEACTIVATION_FILE_NAME",
    "REFRESH_FILE_NAME",
    "REFRESH_REQUEST_FILE_NAME",
    "FLOATING_SERVER_ROLE",
    "Envelope",
    "Feature",
    "FloatingTerms",
    "LicenseTerms",
    "ActivationRequest",
    "ActivationResponse",
    "LicenseRefresh",
    "DeviceRequest",
    "SignedDeactivation",
    "read_artefact",
    "write_artefact",
    "encode_signed",
    "open_signed",
    "encode_device_signed",
    "open_device_signed",
    "format_time",
    "parse_time",
]

FORMAT_VERSION = 1
ENVELOPE_FORMAT = "offline-licensing"
MAX_FILE_SIZE = 64 * 1024
MAX_COUNT = 2**63 - 1  # ids and counts must fit the vendor database's 64-bit integers

ACTIVATION_REQUEST = "activation-request"
ACTIVATION_RESPONSE = "activation-response"
LICENSE_REFRESH = "license-refresh"
DEACTIVATION_REQUEST = "deactivation-request"
REFRESH_REQUEST = "refresh-request"
CONSUMPTION_SYNC = "consumption-sync"
#: floating licenses: a workstation's requests to the floating server, and the server's lease (see _leases)
LEASE_REQUEST = "lease-request"
LEASE_HEARTBEAT = "lease-heartbeat"
LEASE_RELEASE = "lease-release"
FLOATING_LEASE = "floating-lease"
DEACTIVATION_RECEIPT = "deactivation-receipt"

#: the tutorial's default file names (on the desktop, or the home folder where there is none)
ACTIVATION_REQUEST_FILE_NAME = "ls_activation.req"
ACTIVATION_RESPONSE_FILE_NAME = "ls_activation.lic"
DEACTIVATION_FILE_NAME = "ls_deactivation.req"
REFRESH_FILE_NAME = "license_refresh.lic"
REFRESH_REQUEST_FILE_NAME = "license_refresh.req"

_FILE_NAMES = {
    ACTIVATION_REQUEST: f"an activation request ({ACTIVATION_REQUEST_FILE_NAME})",
    ACTIVATION_RESPONSE: f"an activation response ({ACTIVATION_RESPONSE_FILE_NAME})",
    LICENSE_REFRESH: f"a license refresh file ({REFRESH_FILE_NAME})",
    DEACTIVATION_REQUEST: f"a deactivation request ({DEACTIVATION_FILE_NAME})",
    REFRESH_REQUEST: f"a refresh request ({REFRESH_REQUEST_FILE_NAME})",
    CONSUMPTION_SYNC: "a consumption report",
    LEASE_REQUEST: "a request for a floating seat",
    LEASE_HEARTBEAT: "a floating seat's heartbeat",
    LEASE_RELEASE: "a floating seat's release",
    FLOATING_LEASE: "a floating seat's lease",
    DEACTIVATION_RECEIPT: "a deactivation receipt",
}
VENDOR_SIGNED = frozenset({ACTIVATION_RESPONSE, LICENSE_REFRESH, DEACTIVATION_RECEIPT})
DEVICE_SIGNED = frozenset({ACTIVATION_REQUEST, DEACTIVATION_REQUEST, REFRESH_REQUEST, CONSUMPTION_SYNC})

LICENSE_TYPES = ("perpetual", "time-based", "consumption", "subscription", "floating")
#: the ``role`` an activation request names when a floating server (not an application) activates
FLOATING_SERVER_ROLE = "floating-server"


# -- time --------------------------------------------------------------------------------------


def format_time(moment: datetime) -> str:
    """UTC, ISO 8601 with a ``Z``; refuses naive datetimes (they are the root of clock bugs)."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    """Parse an aware ISO 8601 time to UTC; ValueError for anything else (including out of range)."""
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("time without zone")
    try:
        return moment.astimezone(timezone.utc)
    except OverflowError:
        raise ValueError("time out of range") from None


# -- envelopes ---------------------------------------------------------------------------------


def _canonical(obj: Mapping[str, Any]) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


@dataclass(frozen=True)
class Envelope:
    """A parsed (not yet verified) artefact: the exact bytes plus their parts."""

    typ: str
    payload: bytes
    signature: bytes
    kid: str | None = None
    mac: bytes | None = None
    raw: bytes = field(default=b"", repr=False)

    def encode(self) -> bytes:
        outer: dict[str, str] = {
            "format": ENVELOPE_FORMAT,
            "typ": self.typ,
            "payload": crypto.b64encode(self.payload),
            "signature": crypto.b64encode(self.signature),
        }
        if self.kid is not None:
            outer["kid"] = self.kid
        if self.mac is not None:
            outer["mac"] = crypto.b64encode(self.mac)
        return _canonical(outer) + b"\n"

    @classmethod
    def parse(cls, data: bytes) -> Envelope:
        """Parse an envelope, refusing anything that is not byte-for-byte one we would write."""
        if len(data) > MAX_FILE_SIZE:
            raise FileTooLargeError()
        try:
            outer = json.loads(data.decode("ascii"))
            if not isinstance(outer, dict) or outer.get("format") != ENVELOPE_FORMAT:
                raise ValueError("not an envelope")
            allowed = {"format", "typ", "payload", "signature", "kid", "mac"}
            if set(outer) - allowed or not all(isinstance(v, str) for v in outer.values()):
                raise ValueError("unexpected envelope fields")
            envelope = cls(
                typ=outer["typ"],
                payload=crypto.b64decode_strict(outer["payload"]),
                signature=crypto.b64decode_strict(outer["signature"]),
                kid=outer.get("kid"),
                mac=crypto.b64decode_strict(outer["mac"]) if "mac" in outer else None,
                raw=data,
            )
        except (ValueError, KeyError, UnicodeDecodeError, RecursionError) as exc:
            raise FileMalformedError(
                "The file is damaged or is not a licensing file (it could not be read as one).",
            ) from exc
        if envelope.encode() != data:
            raise FileMalformedError("The file was altered: its layout is not the one the licensing tools write.")
        return envelope


def read_artefact(path: str | os.PathLike[str]) -> bytes:
    """Read a licensing file with a size cap, mapping every OS error to a typed one."""
    target = Path(path)
    try:
        with target.open("rb") as handle:
            data = handle.read(MAX_FILE_SIZE + 1)
    except (FileNotFoundError, NotADirectoryError):
        raise FileMissingError(f"There is no file at {target}.") from None
    except IsADirectoryError:
        raise FileMissingError(f"{target} is a folder, not a file.",
                               hint="Give the path of the file itself, including its name.") from None
    except OSError as exc:
        raise FileMissingError(f"The file {target} cannot be read: {exc.strerror or exc}.",
                               hint="Check the file's permissions and that its drive is still attached.") from None
    except ValueError:  # e.g. a NUL character in the path
        raise FileMissingError(f"{str(target)!r} is not a usable file path.") from None
    if len(data) > MAX_FILE_SIZE:
        raise FileTooLargeError(f"{target} is larger than {MAX_FILE_SIZE // 1024} KiB, so it is not a licensing file.")
    if not data:
        raise FileMalformedError(f"{target} is empty.",
                                 hint="The copy may have failed; copy the file again from its source.")
    return data


def write_artefact(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write a file meant to be carried to the other side (a request or a response) atomically."""
    target = Path(path)
    atomic_write(target, data, mode=0o644)
    return target


def _describe(typ: str) -> str:
    return _FILE_NAMES.get(typ, "a licensing file of another kind")


def _expect_type(envelope: Envelope, expected: frozenset[str]) -> None:
    if envelope.typ not in expected:
        wanted = " or ".join(sorted(_describe(t) for t in expected))
        if envelope.typ in _FILE_NAMES:
            raise WrongFileTypeError(f"This file is {_describe(envelope.typ)}, but {wanted} is needed here.")
        raise FileMalformedError("This file is not a licensing file of a kind this version knows.")


def _payload_dict(envelope: Envelope) -> dict[str, Any]:
    try:
        doc = json.loads(envelope.payload.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise FileMalformedError() from exc
    if not isinstance(doc, dict) or doc.get("typ") != envelope.typ or doc.get("v") != FORMAT_VERSION:
        raise FileMalformedError("The file's contents do not match its declared kind or version.")
    return doc


def encode_signed(typ: str, body: Mapping[str, Any], key: crypto.Ed25519PrivateKey, kid: str) -> bytes:
    """Vendor side: sign a document of type ``typ``; ``typ``, ``v`` and ``kid`` go inside the signed bytes."""
    payload = _canonical({**body, "typ": typ, "v": FORMAT_VERSION, "kid": kid})
    return Envelope(typ=typ, payload=payload, signature=crypto.sign(key, typ, payload), kid=kid).encode()


def open_signed(data: bytes, expected: frozenset[str] | str,
                trusted_keys: Mapping[str, crypto.Ed25519PublicKey]) -> tuple[Envelope, dict[str, Any]]:
    """Client side: parse and verify a vendor-signed file against the pinned keys.

    The key is chosen by ``kid`` among the application's trusted keys, so a file cannot bring
    its own key; the algorithm is the one of that pinned key (Ed25519), never a file field.
    """
    expected_types = frozenset({expected}) if isinstance(expected, str) else expected
    envelope = Envelope.parse(data)
    _expect_type(envelope, expected_types)
    key = trusted_keys.get(envelope.kid or "")
    if key is None:
        raise UnknownSigningKeyError()
    if not crypto.verify(key, envelope.typ, envelope.payload, envelope.signature):
        raise SignatureInvalidError()
    doc = _payload_dict(envelope)
    if doc.get("kid") != envelope.kid:
        raise SignatureInvalidError("The file names a different signing key inside than outside: it was altered.")
    return envelope, doc


def encode_device_signed(typ: str, body: Mapping[str, Any], device_key: crypto.Ed25519PrivateKey,
                         shared_key: bytes) -> bytes:
    """Device side: sign a request with the device key and MAC it with the product's shared key."""
    payload = _canonical({
        **body,
        "typ": typ,
        "v": FORMAT_VERSION,
        "device_key": crypto.b64encode(crypto.public_bytes(device_key.public_key())),
    })
    return Envelope(typ=typ, payload=payload, signature=crypto.sign(device_key, typ, payload),
                    mac=crypto.mac(shared_key, typ, payload)).encode()


def open_device_signed(data: bytes, expected: str) -> tuple[Envelope, dict[str, Any]]:
    """Vendor side: parse a request and check it is intact (signed by the key it names).

    Whether that key is the one the vendor bound to the device, and whether the MAC matches the
    product's shared key, is for the issuer to decide: it alone knows the product and devices.
    """
    envelope = Envelope.parse(data)
    _expect_type(envelope, frozenset({expected}))
    if envelope.mac is None:
        raise FileMalformedError("The request carries no product authentication code.")
    doc = _payload_dict(envelope)
    try:
        device_key = crypto.ed25519_public_from_b64(str(doc["device_key"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise FileMalformedError("The request names no valid device key.") from exc
    if not crypto.verify(device_key, envelope.typ, envelope.payload, envelope.signature):
        raise SignatureInvalidError("The request file was altered after the device created it.",
                                    hint="Create a new request on the device and upload it unchanged.")
    return envelope, doc


# -- documents ---------------------------------------------------------------------------------


class _Reader:
    """Typed access to an untrusted JSON object; any mismatch becomes FileMalformedError."""

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, dict):
            raise FileMalformedError(f"The file's {where} section is not an object.")
        self.data = data
        self.where = where

    def _fail(self, name: str) -> FileMalformedError:
        return FileMalformedError(f"The file's {self.where} has a missing or invalid '{name}'.")

    def get(self, name: str, kind: type | tuple[type, ...], *, optional: bool = False) -> Any:
        value = self.data.get(name)
        if value is None and optional:
            return None
        # bool is an int in Python; a count must not be True.
        if not isinstance(value, kind) or (isinstance(value, bool) and bool not in _as_tuple(kind)):
            raise self._fail(name)
        return value

    @overload
    def count(self, name: str) -> int: ...

    @overload
    def count(self, name: str, *, optional: bool) -> int | None: ...

    def count(self, name: str, *, optional: bool = False) -> int | None:
        """A non-negative integer that fits a 64-bit database column."""
        value = self.get(name, int, optional=optional)
        if value is not None and not 0 <= value <= MAX_COUNT:
            raise self._fail(name)
        return value

    def counts(self, name: str) -> dict[str, int]:
        """A mapping of names to counts (uses per feature)."""
        found = self.get(name, dict)
        if not all(isinstance(k, str) and type(v) is int and 0 <= v <= MAX_COUNT for k, v in found.items()):
            raise self._fail(name)
        return dict(found)

    def components(self) -> dict[str, str]:
        """The optional ``hardware_components``: component name -> its HMAC (hex)."""
        found = self.get("hardware_components", dict, optional=True) or {}
        if len(found) > 32 or not all(isinstance(k, str) and isinstance(v, str) and len(k) <= 64 and len(v) <= 128
                                      for k, v in found.items()):
            raise self._fail("hardware_components")
        return dict(found)

    @overload
    def time(self, name: str) -> datetime: ...

    @overload
    def time(self, name: str, *, optional: bool) -> datetime | None: ...

    def time(self, name: str, *, optional: bool = False) -> datetime | None:
        value = self.get(name, str, optional=optional)
        if value is None:
            return None
        try:
            return parse_time(value)
        except ValueError:
            raise self._fail(name) from None


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _time_or_none(moment: datetime | None) -> str | None:
    return None if moment is None else format_time(moment)


@dataclass(frozen=True)
class Feature:
    code: str
    name: str
    expires: datetime | None = None
    max_consumptions: int | None = None
    total_consumptions: int = 0

    @classmethod
    def from_dict(cls, data: Any) -> Feature:
        r = _Reader(data, "feature")
        return cls(code=r.get("code", str), name=r.get("name", str), expires=r.time("expires", optional=True),
                   max_consumptions=r.count("max_consumptions", optional=True),
                   total_consumptions=r.count("total_consumptions") or 0)

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "name": self.name, "expires": _time_or_none(self.expires),
                "max_consumptions": self.max_consumptions, "total_consumptions": self.total_consumptions}


@dataclass(frozen=True)
class FloatingTerms:
    """What a floating license grants its server: seats at once, how long a lease lasts, how long a borrow."""

    seats: int
    lease_seconds: int
    max_borrow_seconds: int

    @classmethod
    def from_dict(cls, data: Any) -> FloatingTerms:
        r = _Reader(data, "floating")
        terms = cls(seats=r.count("seats"), lease_seconds=r.count("lease_seconds"),
                    max_borrow_seconds=r.count("max_borrow_seconds"))
        if terms.seats < 1 or terms.lease_seconds < 1:
            raise r._fail("seats" if terms.seats < 1 else "lease_seconds")
        return terms

    def to_dict(self) -> dict[str, Any]:
        return {"seats": self.seats, "lease_seconds": self.lease_seconds,
                "max_borrow_seconds": self.max_borrow_seconds}


@dataclass(frozen=True)
class LicenseTerms:
    """What the vendor granted, as signed into a response or refresh. Immutable by construction."""

    license_id: int
    key: str | None
    user: str | None
    license_type: str
    enabled: bool
    start: datetime | None
    expires: datetime | None
    max_activations: int
    total_activations: int
    max_consumptions: int | None
    total_consumptions: int
    allow_overages: bool
    max_overages: int
    features: tuple[Feature, ...]
    revision: int
    customer: str | None = None
    #: present exactly when ``license_type`` is ``floating`` (and only then written: other licenses
    #: sign the same bytes as before floating licenses existed)
    floating: FloatingTerms | None = None

    @classmethod
    def from_dict(cls, data: Any) -> LicenseTerms:
        r = _Reader(data, "license")
        license_type = r.get("type", str)
        if license_type not in LICENSE_TYPES:
            raise r._fail("type")
        floating = r.get("floating", dict, optional=True)
        if (floating is None) != (license_type != "floating"):
            raise r._fail("floating")
        features = r.get("features", list)
        return cls(
            license_id=r.count("id"), key=r.get("key", str, optional=True), user=r.get("user", str, optional=True),
            license_type=license_type, enabled=r.get("enabled", bool), start=r.time("start", optional=True),
            expires=r.time("expires", optional=True), max_activations=r.count("max_activations"),
            total_activations=r.count("total_activations"),
            max_consumptions=r.count("max_consumptions", optional=True),
            total_consumptions=r.count("total_consumptions"), allow_overages=r.get("allow_overages", bool),
            max_overages=r.count("max_overages"), features=tuple(Feature.from_dict(f) for f in features),
            revision=r.count("revision"), customer=r.get("customer", str, optional=True),
            floating=None if floating is None else FloatingTerms.from_dict(floating),
        )

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.license_id, "key": self.key, "user": self.user, "type": self.license_type,
            "enabled": self.enabled, "start": _time_or_none(self.start), "expires": _time_or_none(self.expires),
            "max_activations": self.max_activations, "total_activations": self.total_activations,
            "max_consumptions": self.max_consumptions, "total_consumptions": self.total_consumptions,
            "allow_overages": self.allow_overages, "max_overages": self.max_overages,
            "features": [f.to_dict() for f in self.features], "revision": self.revision,
            "customer": self.customer,
        }
        if self.floating is not None:
            data["floating"] = self.floating.to_dict()
        return data


@dataclass(frozen=True)
class ActivationRequest:
    product: str
    api_key: str
    request_id: str
    nonce: str
    hardware_id: str
    device_key: str
    created_at: datetime
    key: str | None
    user: str | None
    sealed_password: dict[str, str] | None
    #: None for an application; FLOATING_SERVER_ROLE when a floating server asks for its license
    role: str | None = None
    #: the device's other identity components (name -> HMAC); the vendor signs them into the response
    components: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_payload(cls, doc: dict[str, Any]) -> ActivationRequest:
        r = _Reader(doc, "request")
        credentials = _Reader(r.get("credentials", dict), "credentials")
        sealed = credentials.get("password", dict, optional=True)
        if sealed is not None and not all(isinstance(sealed.get(k), str) for k in ("epk", "ct")):
            raise credentials._fail("password")
        return cls(product=r.get("product", str), api_key=r.get("api_key", str),
                   request_id=r.get("request_id", str), nonce=r.get("nonce", str),
                   hardware_id=r.get("hardware_id", str), device_key=r.get("device_key", str),
                   created_at=r.time("created_at"), key=credentials.get("key", str, optional=True),
                   user=credentials.get("user", str, optional=True), sealed_password=sealed,
                   role=r.get("role", str, optional=True),
                   components=r.components())


@dataclass(frozen=True)
class ActivationResponse:
    """The signed answer to one request; also the first local license of the device."""

    product: str
    request_id: str
    nonce: str
    hardware_id: str
    device_id: str
    device_key: str
    issued_at: datetime
    license: LicenseTerms
    #: the request's identity components, signed by the vendor: compared on every load
    components: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_payload(cls, doc: dict[str, Any]) -> ActivationResponse:
        r = _Reader(doc, "response")
        return cls(product=r.get("product", str), request_id=r.get("request_id", str), nonce=r.get("nonce", str),
                   hardware_id=r.get("hardware_id", str), device_id=r.get("device_id", str),
                   device_key=r.get("device_key", str), issued_at=r.time("issued_at"),
                   license=LicenseTerms.from_dict(doc.get("license")), components=r.components())


@dataclass(frozen=True)
class LicenseRefresh:
    """New terms for an activated device (the vendor changed something on their side)."""

    product: str
    hardware_id: str
    device_id: str
    issued_at: datetime
    reset_consumption: bool
    license: LicenseTerms
    #: the device request this refresh answers (online check, consumption report, portal refresh page);
    #: None for a refresh the vendor made unasked (the Devices tab)
    request_id: str | None = None
    nonce: str | None = None
    #: the request id of the activation these terms continue: its response holds the signed hardware
    #: components the device must still match (None in refresh files of earlier versions)
    activation_request_id: str | None = None

    @classmethod
    def from_payload(cls, doc: dict[str, Any]) -> LicenseRefresh:
        r = _Reader(doc, "refresh")
        return cls(product=r.get("product", str), hardware_id=r.get("hardware_id", str),
                   device_id=r.get("device_id", str), issued_at=r.time("issued_at"),
                   reset_consumption=r.get("reset_consumption", bool),
                   license=LicenseTerms.from_dict(doc.get("license")),
                   request_id=r.get("request_id", str, optional=True), nonce=r.get("nonce", str, optional=True),
                   activation_request_id=r.get("activation_request_id", str, optional=True))

    def answers(self, request_id: str, nonce: str | None) -> bool:
        return (self.request_id, self.nonce) == (request_id, nonce)


@dataclass(frozen=True)
class DeviceRequest:
    """A request about an existing activation, signed by the device that holds it.

    One shape serves deactivation (with the consumption to book), consumption reports, and
    refresh requests (asking for the license's current terms, online or via the portal).
    """

    product: str
    api_key: str
    request_id: str
    hardware_id: str
    device_id: str
    device_key: str
    license_id: int
    created_at: datetime
    local_consumptions: int = 0
    feature_consumptions: Mapping[str, int] = field(default_factory=dict)
    nonce: str | None = None  # requests of SDKs before answers were bound to their request carry none

    @classmethod
    def from_payload(cls, doc: dict[str, Any]) -> DeviceRequest:
        r = _Reader(doc, "request")
        usage = r.counts("feature_consumptions")
        return cls(product=r.get("product", str), api_key=r.get("api_key", str),
                   request_id=r.get("request_id", str), hardware_id=r.get("hardware_id", str),
                   device_id=r.get("device_id", str), device_key=r.get("device_key", str),
                   license_id=r.count("license_id"), created_at=r.time("created_at"),
                   local_consumptions=r.count("local_consumptions"), feature_consumptions=usage,
                   nonce=r.get("nonce", str, optional=True))

    def echo(self) -> dict[str, str]:
        """What an answer to this request repeats inside its signed bytes."""
        return {"request_id": self.request_id} | ({} if self.nonce is None else {"nonce": self.nonce})


@dataclass(frozen=True)
class SignedDeactivation:
    """The vendor's signed receipt for an online deactivation: the device forgets its license only on this."""

    product: str
    request_id: str
    nonce: str | None
    hardware_id: str
    device_id: str
    issued_at: datetime
    consumptions_booked: int
    feature_consumptions_booked: dict[str, int]
    already_deactivated: bool

    @classmethod
    def from_payload(cls, doc: dict[str, Any]) -> SignedDeactivation:
        r = _Reader(doc, "receipt")
        return cls(product=r.get("product", str), request_id=r.get("request_id", str),
                   nonce=r.get("nonce", str, optional=True), hardware_id=r.get("hardware_id", str),
                   device_id=r.get("device_id", str), issued_at=r.time("issued_at"),
                   consumptions_booked=r.count("consumptions_booked"),
                   feature_consumptions_booked=r.counts("feature_consumptions_booked"),
                   already_deactivated=r.get("already_deactivated", bool))
