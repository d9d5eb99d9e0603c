"""The vendor's rules: answer activation and deactivation requests, and issue refresh files.

Every answer follows one shape: first *who is asking* is settled outside the write lock (the
product's API key and shared-key MAC, the license's credentials: a password check takes a few
hundred milliseconds), then one short write transaction locks the license row, applies the rules
and writes (:meth:`VendorStore.write <licensing.issuing.store.VendorStore.write>`: the writes of
concurrent requests share one commit). Counting activations is exact however many processes
answer at once. The SQL is :mod:`licensing.issuing.statements` (SQLAlchemy Core statements,
prepared once per database kind; no ORM objects); the signed answer bodies are built in one
place, at the end of this module.

Answers are idempotent by request id. A client that lost an answer (a server killed mid-request,
a dropped connection) sends the same request again and gets the same answer back: the same
signed file for an activation, the same receipt for a deactivation, the current terms for a
consumption report that is booked once. No second seat is taken and nothing is booked twice.
Handing the same bytes out again grants nothing the first answer did not (the file is bound to
that request's device key, hardware id and nonce, and the device's guard file accepts it once).
What is still refused as a replay: a request whose activation has ended since (deactivated,
reset, disabled), and a different request that reuses an answered request id.

A request is refused — with the stable code and plain sentence of a
:class:`~licensing._errors.VendorRefusal` — for the reasons the tutorial lists: maximum
activations reached, expired or disabled license, wrong credentials, wrong product
configuration, a free-tier account, a subscription asked for offline, a replayed request, a
device the vendor disabled; and, against copying and guessing (:mod:`.policy` sets the limits),
another copy of the application's data asking on a machine that already holds an activation,
too many re-activations of one license in a period, too many password checks for one user. A
refused request changes nothing in the database, except that a password check counts against
its limit (:mod:`.throttle`).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Connection

from .. import (
    DeviceAlreadyActivatedError,
    DeviceDisabledError,
    DeviceNotFoundError,
    FileMalformedError,
    FloatingOnlyError,
    FreeTierError,
    InvalidCredentialsError,
    LicenseNotFoundError,
    LicenseTerms,
    MaxActivationsReachedError,
    NotFloatingError,
    OfflineNotSupportedError,
    ProductConfigurationError,
    ReactivationLimitError,
    RequestReplayedError,
    SignatureInvalidError,
    VendorLicenseDisabledError,
    VendorLicenseExpiredError,
    WrongFileTypeError,
)
from ..wire import (
    ACTIVATION_REQUEST,
    ACTIVATION_RESPONSE,
    CONSUMPTION_SYNC,
    DEACTIVATION_RECEIPT,
    DEACTIVATION_REQUEST,
    FLOATING_SERVER_ROLE,
    LICENSE_REFRESH,
    REFRESH_REQUEST,
    ActivationRequest,
    Clock,
    DeviceRequest,
    Envelope,
    crypto,
    encode_signed,
    format_time,
    open_device_signed,
    parse_time,
    system_clock,
    utc_now,
)
from . import catalog, statements
from .keys import VendorKeys
from .passwords import check_unknown_user, hash_password, needs_rehash, password_matches
from .policy import IssuerPolicy
from .statements import Record
from .store import VendorStore
from .throttle import AttemptThrottle, bucket

__all__ = ["Issuer", "ActivationAnswer", "DeactivationReceipt", "RefreshAnswer"]

#: license ids kept per process (see Issuer._remember_license_id): a few MB at most
_KNOWN_LICENSE_IDS = 50_000


@dataclass(frozen=True)
class ActivationAnswer:
    data: bytes  # ls_activation.lic, to hand back verbatim
    license_key: str | None
    user: str | None
    device_id: str
    total_activations: int
    max_activations: int
    file_name: str = "ls_activation.lic"
    #: when this request was first answered, if this is that same answer handed out again
    first_answered_at: datetime | None = None

    @classmethod
    def again(cls, data: bytes, first_answered_at: datetime) -> ActivationAnswer:
        """The answer stored for a request that is being sent again (our own signed bytes)."""
        doc = json.loads(Envelope.parse(data).payload)
        terms = doc["license"]
        return cls(data=data, license_key=terms["key"], user=terms["user"], device_id=doc["device_id"],
                   total_activations=terms["total_activations"], max_activations=terms["max_activations"],
                   first_answered_at=first_answered_at)


@dataclass(frozen=True)
class RefreshAnswer:
    data: bytes  # license_refresh.lic, to hand back verbatim
    file_name: str = "license_refresh.lic"


@dataclass(frozen=True)
class DeactivationReceipt:
    license_key: str | None
    user: str | None
    device_id: str
    consumptions_booked: int
    feature_consumptions_booked: dict[str, int]
    total_activations: int
    max_activations: int
    deactivated_at: datetime
    #: the vendor-signed receipt bound to the request (online deactivation: the device forgets only on it)
    signed: bytes | None = None
    #: when this request was first answered, if this is that same receipt handed out again
    first_answered_at: datetime | None = None

    def to_record(self) -> str:
        """The receipt as stored with its request (see :meth:`again`)."""
        return json.dumps({**asdict(self), "deactivated_at": format_time(self.deactivated_at),
                           "signed": None if self.signed is None else self.signed.decode("ascii"),
                           "first_answered_at": None})

    @classmethod
    def again(cls, record: str, first_answered_at: datetime) -> DeactivationReceipt:
        fields = json.loads(record)
        return cls(**{**fields, "deactivated_at": parse_time(fields["deactivated_at"]),
                      "signed": None if fields["signed"] is None else fields["signed"].encode("ascii"),
                      "first_answered_at": first_answered_at})

    def to_dict(self) -> dict[str, Any]:
        return {
            "license": self.license_key or self.user, "device_id": self.device_id,
            "consumptions_booked": self.consumptions_booked,
            "feature_consumptions_booked": dict(self.feature_consumptions_booked),
            "total_activations": self.total_activations, "max_activations": self.max_activations,
            "deactivated_at": format_time(self.deactivated_at),
        } | ({} if self.signed is None else {"receipt": self.signed.decode("ascii")})


class Issuer:
    def __init__(self, store: VendorStore, keys: VendorKeys, clock: Clock = system_clock,
                 policy: IssuerPolicy | None = None) -> None:
        self.store = store
        self.keys = keys
        self.clock = clock
        self.policy = policy or IssuerPolicy()
        self.throttle = AttemptThrottle(store, clock)
        self._license_ids: dict[tuple[str, str], int] = {}  # (product code, license key): license id

    # -- dispatch ----------------------------------------------------------------------------

    def answer(self, data: bytes) -> ActivationAnswer | DeactivationReceipt | RefreshAnswer:
        """Answer whatever request file was uploaded (the portal and ``respond`` use this)."""
        typ = Envelope.parse(data).typ
        if typ == ACTIVATION_REQUEST:
            return self.answer_activation(data)
        if typ == DEACTIVATION_REQUEST:
            return self.answer_deactivation(data)
        if typ == REFRESH_REQUEST:
            return RefreshAnswer(self.answer_refresh_request(data))
        if typ in (ACTIVATION_RESPONSE, LICENSE_REFRESH):
            raise WrongFileTypeError("This is a file the portal gives out, not a request.",
                                     hint="Upload the .req file that the application created on the device.")
        raise FileMalformedError("This is not a request file of a kind this portal knows.")

    # -- activation --------------------------------------------------------------------------

    def answer_activation(self, data: bytes, *, online: bool = False, api_key: str | None = None) -> ActivationAnswer:
        """Answer an activation request; ``online`` when it came through the API (subscriptions allowed).

        ``api_key`` (here and in the other ``answer_*``): the API key the request travelled with
        outside its signed bytes (the license server's ``X-Api-Key`` header); it must be the one
        signed inside.
        """
        envelope, doc = _open(data, ACTIVATION_REQUEST, api_key)
        request = ActivationRequest.from_payload(doc)
        now = utc_now(self.clock)
        key = None if request.key is None else (request.product, request.key.upper())
        license_id = None if key is None else self._license_ids.get(key)
        if license_id is None:
            # Who is asking, before any write lock: a password check (scrypt) takes tens of milliseconds.
            with self.store.snapshot() as db:
                found = statements.product_and_license(db, request.product, key=key and key[1],
                                                       user=None if key is not None else request.user)
            license_id = self._license_for(_known_product(found, request.product, request.api_key, envelope), request)
            if key is not None:
                self._remember_license_id(key, license_id)
        digest = _digest(envelope)
        return self.store.write(lambda db: self._activate(db, license_id, request, envelope, digest, now, online=online),
                                order=license_id)

    def _remember_license_id(self, key: tuple[str, str], license_id: int) -> None:
        """Keep which license a product's key opens: neither ever changes, and the lookup cost an activation
        a statement and a connection of its own (the locked read checks the product's keys each time)."""
        if len(self._license_ids) >= _KNOWN_LICENSE_IDS:
            self._license_ids.clear()
        self._license_ids[key] = license_id

    def _activate(self, db: Connection, license_id: int, request: ActivationRequest, envelope: Envelope,
                  digest: str, now: datetime, *, online: bool) -> ActivationAnswer:
        """The write half of an activation: the rules, then the new device, in the caller's transaction."""
        # Locked first: the same request sent twice at once waits here, then finds its first answer.
        rows = statements.license_to_activate(db, license_id, request.request_id, request.hardware_id)
        license = rows[0]
        _check_product(license, request.api_key, envelope)
        if license.answered_kind is not None:
            return _activation_again(db, license, digest, now)
        _refuse_unusable(license, now)
        _refuse_wrong_role(license, request)
        if license.license_type == "subscription" and not online:
            raise OfflineNotSupportedError()
        earlier = statements.machine_devices_in(rows)
        again = _same_copy(earlier, request)  # refuses a second live copy on one machine
        if earlier:
            _refuse_reactivation_over_limit(db, license.id, now, self.policy)
        # The copy that holds this machine's activation asks again: its seat passes to the new one.
        in_use = license.active_devices - (again is not None)
        if in_use >= license.max_activations:
            raise MaxActivationsReachedError(
                f"This license is already active on {in_use} of its {license.max_activations} allowed "
                f"{'device' if license.max_activations == 1 else 'devices'}.")
        device_id = "dev_" + secrets.token_hex(8)
        terms = catalog.terms_of(license, statements.features_in(rows), in_use + 1)
        signed = self._sign(ACTIVATION_RESPONSE, _activation_body(license.product_code, request, device_id, now, terms))
        action = ("device.reactivate-" if earlier else "device.activate-") + ("online" if online else "offline")
        statements.record_activation(db, device_id=device_id, license_id=license.id, hardware_id=request.hardware_id,
                                     device_key=request.device_key, request_id=request.request_id, now=now,
                                     digest=digest, answer=signed.decode("ascii"), action=action,
                                     replacing=None if again is None else again.id)
        return ActivationAnswer(data=signed, license_key=license.key, user=license.user, device_id=device_id,
                                total_activations=terms.total_activations, max_activations=license.max_activations)

    def _product_for(self, db: Connection, code: str, api_key: str, envelope: Envelope) -> Record:
        return _known_product(statements.product(db, code), code, api_key, envelope)

    def _license_for(self, found: Record, request: ActivationRequest) -> int:
        """The id of the license the request's credentials open (a key, or a user and password).

        ``found``: the product's row with the license of that key or user, if any (``license_id``,
        ``password_hash``).
        """
        license_id = found.license_id
        if request.key is None:
            if request.user is None or request.sealed_password is None:
                license_id = None
            elif not self._password_opens(found, request.user, self._open_password(request)):
                license_id = None
        if license_id is None:
            raise InvalidCredentialsError()
        return int(license_id)

    def _password_opens(self, found: Record, user: str, password: str) -> bool:
        """Check a user-based license's password, at most ``policy.password_limit`` times per window.

        The attempt is counted (per license and per user name, in the database every process
        shares) before scrypt runs, and an unknown user name costs the same scrypt as a known
        one, so neither guessing nor timing tells an attacker anything for free. ``found``: the
        product's row with the user's license (``license_id`` None if there is none).
        """
        reservation = self.throttle.reserve([bucket("license", f"{found.code}/{user}"), bucket("user", user)],
                                            self.policy.password_limit)
        if found.license_id is None:
            return check_unknown_user(password)
        if not password_matches(found.password_hash, password):
            return False
        self.throttle.release(reservation)
        if needs_rehash(found.password_hash):  # made with older, cheaper parameters: upgrade it now
            upgraded = hash_password(password)
            with self.store.transaction() as db:
                statements.set_password_hash(db, found.license_id, upgraded)
        return True

    def _open_password(self, request: ActivationRequest) -> str:
        try:
            return crypto.open_sealed(self.keys.encryption, request.sealed_password or {},
                                      aad=request.request_id.encode("ascii")).decode("utf-8")
        except (ValueError, KeyError, UnicodeError, crypto.InvalidTag):
            raise InvalidCredentialsError("The password in the request could not be read with this vendor's key.",
                                          hint="The application may be configured for another vendor.") from None

    # -- requests about an existing activation ------------------------------------------------

    def _device_request(self, data: bytes, typ: str, api_key: str | None) -> tuple[DeviceRequest, str, Record]:
        """The request and its digest, once its product's keys check out (read-only: before any write lock)."""
        envelope, doc = _open(data, typ, api_key)
        request = DeviceRequest.from_payload(doc)
        with self.store.snapshot() as db:  # one statement: no BEGIN and COMMIT round trips
            product = self._product_for(db, request.product, request.api_key, envelope)
        return request, _digest(envelope), product

    def _activation_of(self, db: Connection, product: Record, request: DeviceRequest, *, lock: bool) -> Record:
        """The license and device a device-signed request is about, once it proves it is that device.

        One row: the license's columns and the device's (``device_*``); ``lock`` locks the license.
        """
        row = statements.license_with_device(db, product.id, request.license_id, request.device_id, lock=lock)
        if row is None:
            raise LicenseNotFoundError("The license named in the request does not exist.")
        if row.device_id is None:
            raise DeviceNotFoundError("The device named in the request is not one of this license's.")
        _check_device(row, request)
        return row

    def answer_deactivation(self, data: bytes, *, online: bool = False,
                            api_key: str | None = None) -> DeactivationReceipt:
        """Free the device's seat and book its consumption.

        ``online`` (the API): the receipt is also signed and bound to the request, and a device
        already deactivated gets a signed "already deactivated" receipt rather than a refusal —
        the SDK forgets its license only on a receipt it can verify. The same request sent again
        gets the receipt it got the first time.
        """
        request, digest, product = self._device_request(data, DEACTIVATION_REQUEST, api_key)
        now = utc_now(self.clock)
        return self.store.write(lambda db: self._deactivate(db, product, request, digest, now, online=online),
                                order=request.license_id)

    def _deactivate(self, db: Connection, product: Record, request: DeviceRequest, digest: str,
                    now: datetime, *, online: bool) -> DeactivationReceipt:
        row = self._activation_of(db, product, request, lock=True)
        earlier = statements.answer_to(db, request.request_id)
        if earlier is not None:
            if earlier.kind != DEACTIVATION_REQUEST or earlier.request_digest != digest or earlier.answer is None:
                raise RequestReplayedError()
            return DeactivationReceipt.again(earlier.answer, earlier.answered_at)
        if not row.device_active and online:
            return self._receipt(product.code, row, request, now, booked={}, already=True,
                                 total_activations=row.active_devices)
        if not row.device_active:
            raise RequestReplayedError("This device is already deactivated.",
                                       hint="Nothing to do: the activation is already free.")
        statements.end_activations(db, row.id, [row.device_id], now)
        booked = _book_consumption(db, row, request)
        receipt = self._receipt(product.code, row, request, now, booked=booked, signed=online,
                                total_activations=row.active_devices - 1)
        statements.record_answer(db, request.request_id, DEACTIVATION_REQUEST, now, digest=digest,
                                 device_id=row.device_id, answer=receipt.to_record())
        statements.audit(db, now, "device.deactivate", license_id=row.id, device_id=row.device_id,
                         consumptions=request.local_consumptions)
        return receipt

    def _receipt(self, product_code: str, row: Record, request: DeviceRequest, now: datetime, *,
                 booked: dict[str, int], total_activations: int, signed: bool = True,
                 already: bool = False) -> DeactivationReceipt:
        consumptions = 0 if already else request.local_consumptions
        proof = _receipt_body(product_code, request, row.device_hardware_id, row.device_id, now,
                              consumptions=consumptions, booked=booked, already=already) if signed else None
        return DeactivationReceipt(
            license_key=row.key, user=row.user, device_id=row.device_id, consumptions_booked=consumptions,
            feature_consumptions_booked=booked, total_activations=total_activations,
            max_activations=row.max_activations, deactivated_at=now,
            signed=None if proof is None else self._sign(DEACTIVATION_RECEIPT, proof))

    def answer_refresh_request(self, data: bytes, *, api_key: str | None = None) -> bytes:
        """``license_refresh.lic`` for a device that asks for it itself (portal page or online check).

        Online checks are the most frequent request and are not audited: one read statement
        (:meth:`~licensing.issuing.store.VendorStore.snapshot`) fetches the product, license,
        device and features together. A request about another product's license or device is
        answered step by step instead, so that its refusal says exactly what is wrong.
        """
        envelope, doc = _open(data, REFRESH_REQUEST, api_key)
        request = DeviceRequest.from_payload(doc)
        with self.store.snapshot() as db:
            rows = statements.device_snapshot(db, request.device_id)
        row = rows[0] if rows else None
        if row is None or row.product_code != request.product or row.id != request.license_id:
            with self.store.transaction(readonly=True) as db:
                product = self._product_for(db, request.product, request.api_key, envelope)
                row = self._activation_of(db, product, request, lock=False)
                return self._refresh_file(product.code, row, statements.features(db, row.id), reset_consumption=False,
                                          answering=request)
        _check_product(row, request.api_key, envelope)
        _check_device(row, request)
        return self._refresh_file(row.product_code, row, statements.features_in(rows), reset_consumption=False,
                                  answering=request)

    def answer_consumption_report(self, data: bytes, *, api_key: str | None = None) -> bytes:
        """Book a device's local consumption once, and answer with the terms that include it.

        A report is resent unchanged until acknowledged; a report already booked is answered
        again (with the current terms) but never booked twice.
        """
        request, digest, product = self._device_request(data, CONSUMPTION_SYNC, api_key)
        now = utc_now(self.clock)

        def book_once(db: Connection) -> bytes:
            row = self._activation_of(db, product, request, lock=True)
            if statements.answer_to(db, request.request_id) is None:
                _book_consumption(db, row, request)
                statements.record_answer(db, request.request_id, CONSUMPTION_SYNC, now, digest=digest,
                                         device_id=row.device_id, answer=None)
                statements.audit(db, now, "device.consumption", license_id=row.id, device_id=row.device_id,
                                 consumptions=request.local_consumptions)
                row = self._activation_of(db, product, request, lock=False)  # the totals just booked
            return self._refresh_file(product.code, row, statements.features(db, row.id), reset_consumption=False,
                                      answering=request)

        return self.store.write(book_once, order=request.license_id)

    # -- refresh -----------------------------------------------------------------------------

    def refresh(self, license_key: str, device_id: str, *, reset_consumption: bool = False) -> bytes:
        """``license_refresh.lic`` for one device, made by the vendor (the portal's Devices tab)."""
        with self.store.transaction() as db:
            row = statements.device_with_license(db, device_id)
            if row is None:
                raise DeviceNotFoundError(f"There is no device {device_id!r}.")
            if row.key != license_key.strip().upper() and row.user != license_key:
                raise DeviceNotFoundError(f"The device {device_id!r} is not on the license {license_key!r}.")
            if not row.device_enabled:
                raise DeviceDisabledError("This device is disabled; enable it before sending it a refresh.")
            signed = self._refresh_file(row.product_code, row, statements.features(db, row.id),
                                        reset_consumption=reset_consumption)
            statements.audit(db, utc_now(self.clock), "device.refresh", license_id=row.id, device_id=row.device_id,
                             revision=row.revision)
            return signed

    def _refresh_file(self, product_code: str, row: Record, features: Iterable[Any], *, reset_consumption: bool,
                      answering: DeviceRequest | None = None) -> bytes:
        """The refresh file for the device of a joined license-and-device row, with the license's features;
        ``answering``: the device's request it answers (its id and nonce are signed in)."""
        if not row.device_active:
            raise DeviceNotFoundError("This device is no longer activated on the license.",
                                      hint="Only an active device can be refreshed; the device must activate again.")
        terms = catalog.terms_of(row, features, row.active_devices)
        body = _refresh_body(product_code, row, utc_now(self.clock), terms, reset_consumption=reset_consumption,
                             answering=answering)
        return self._sign(LICENSE_REFRESH, body)

    def _sign(self, typ: str, body: dict[str, Any]) -> bytes:
        return encode_signed(typ, body, self.keys.active_signing_key, self.keys.active_kid)


# -- the signed answers' bodies (the only place they are built) -----------------------------------
#
# Every answer to a device's request repeats the request's id and nonce inside the signed bytes,
# so the device can refuse a captured answer replayed later or sent for another request.


def _activation_body(product_code: str, request: ActivationRequest, device_id: str, now: datetime,
                     terms: LicenseTerms) -> dict[str, Any]:
    return {
        "product": product_code, "request_id": request.request_id, "nonce": request.nonce,
        "hardware_id": request.hardware_id, "device_id": device_id, "device_key": request.device_key,
        "issued_at": format_time(now), "license": terms.to_dict(),
    } | ({"hardware_components": request.components} if request.components else {})


def _refresh_body(product_code: str, row: Record, now: datetime, terms: LicenseTerms, *,
                  reset_consumption: bool, answering: DeviceRequest | None) -> dict[str, Any]:
    return {
        "product": product_code, "hardware_id": row.device_hardware_id, "device_id": row.device_id,
        # the activation these terms continue: its response holds the hardware components signed for the device
        "activation_request_id": row.device_request_id, "issued_at": format_time(now),
        "reset_consumption": reset_consumption, "license": terms.to_dict(),
    } | ({} if answering is None else answering.echo())


def _receipt_body(product_code: str, request: DeviceRequest, hardware_id: str, device_id: str, now: datetime, *,
                  consumptions: int, booked: dict[str, int], already: bool) -> dict[str, Any]:
    return {
        "product": product_code, **request.echo(), "hardware_id": hardware_id, "device_id": device_id,
        "issued_at": format_time(now), "consumptions_booked": consumptions, "feature_consumptions_booked": booked,
        "already_deactivated": already,
    }


# -- rules shared by several answers ----------------------------------------------------------------


def _book_consumption(db: Connection, row: Record, request: DeviceRequest) -> dict[str, int]:
    """Add a device's reported uses to the license's totals (only features the license has)."""
    booked = {feature.code: request.feature_consumptions[feature.code] for feature in statements.features(db, row.id)
              if request.feature_consumptions.get(feature.code)}
    statements.book_consumption(db, row.id, row.device_id, request.local_consumptions, booked)
    return booked


def _open(data: bytes, typ: str, api_key: str | None) -> tuple[Envelope, dict[str, Any]]:
    """The request, intact (signed by the device key it names), and sent with the API key signed inside."""
    envelope, doc = open_device_signed(data, typ)
    if api_key is not None and doc.get("api_key") != api_key:
        raise ProductConfigurationError("The X-Api-Key header does not match the API key inside the request.")
    return envelope, doc


def _known_product(product: Record | None, code: str, api_key: str, envelope: Envelope) -> Record:
    """The request's product, once its API key and shared-key MAC check out (see _check_product)."""
    if product is None:
        raise ProductConfigurationError(f"The request was made for a product code ({code!r}) this vendor does not have.")
    _check_product(product, api_key, envelope)
    return product


def _check_product(product: Record, api_key: str, envelope: Envelope) -> None:
    """The request's API key and shared-key MAC are the product's, and the product is not on the free tier."""
    if not secrets.compare_digest(product.api_key.encode("utf-8"), api_key.encode("utf-8")):
        raise ProductConfigurationError("The request was made with a wrong API key for this product.")
    if envelope.mac is None or not crypto.mac_matches(product.shared_key.encode("utf-8"), envelope.typ,
                                                      envelope.payload, envelope.mac):
        raise ProductConfigurationError("The request was made with a wrong shared key for this product.")
    if product.free_tier:
        raise FreeTierError()


def _check_device(row: Record, request: DeviceRequest) -> None:
    """The request was signed by the device the vendor bound (its key, its hardware), and it is enabled."""
    if row.device_key != request.device_key or row.device_hardware_id != request.hardware_id:
        raise SignatureInvalidError("The request was not signed by the device it names.",
                                    hint="Create the request on the device itself.")
    if not row.device_enabled:
        raise DeviceDisabledError()


def _digest(envelope: Envelope) -> str:
    """What makes two uploads the same request: the signed payload (it names the device key)."""
    return hashlib.sha256(envelope.payload).hexdigest()


def _activation_again(db: Connection, license: Record, digest: str, now: datetime) -> ActivationAnswer:
    """The answer already given to this very request, while the activation it made still stands.

    ``license``: the license's row joined to how the request was answered (``answered_*``).
    """
    if (license.answered_kind != ACTIVATION_REQUEST or license.request_digest != digest
            or license.answer is None):
        raise RequestReplayedError()
    device = statements.device_state(db, license.answered_device_id)
    if device is None or not device.active:
        raise RequestReplayedError(
            f"This request was answered on {license.answered_at:%Y-%m-%d}, and that activation has ended since.",
            hint="Create a new activation request on the device and upload that one.")
    if not device.enabled:
        raise DeviceDisabledError()
    _refuse_unusable(license, now)
    return ActivationAnswer.again(license.answer.encode("ascii"), license.answered_at)


def _same_copy(earlier: Sequence[Record], request: ActivationRequest) -> Record | None:
    """The rule for a machine this license was activated on before (``earlier``: its devices there).

    One machine holds at most one live activation of a license. Only the copy of the
    application's data that holds it (the same device key) may activate again — its answer was
    lost, or it deactivated and has not uploaded the request yet — and then its seat passes to
    the new activation: the caller ends the device returned. Any other copy on that machine is
    refused, rather than freeing the earlier seat: an offline copy would never learn that its
    seat was taken, so that would hand out a second license that works. A machine with a
    disabled device is refused outright.
    """
    if any(not device.enabled for device in earlier):
        raise DeviceDisabledError()
    for device in earlier:
        if device.active:
            if device.device_key == request.device_key:
                return device
            raise DeviceAlreadyActivatedError(
                f"This machine already holds an activation of this license (device {device.id}, activated "
                f"{device.activated_at:%Y-%m-%d}), made by another copy of the application's data.")
    return None


_REACTIVATIONS = ("device.reactivate-offline", "device.reactivate-online")


def _refuse_reactivation_over_limit(db: Connection, license_id: int, now: datetime, policy: IssuerPolicy) -> None:
    """At most ``policy.reactivations_per_period`` re-activations of one license per period (from the audit log)."""
    recent = statements.audited_since(db, license_id, _REACTIVATIONS, now - policy.reactivation_period)
    if len(recent) >= policy.reactivations_per_period:
        free_at = recent[len(recent) - policy.reactivations_per_period] + policy.reactivation_period
        days = max(1, -(-(free_at - now) // timedelta(days=1)))  # rounded up, as the seconds below
        seconds = max(1, -(-(free_at - now) // timedelta(seconds=1)))
        raise ReactivationLimitError(
            f"This license was activated again {len(recent)} times in the last {policy.reactivation_period.days} "
            f"days, the most the vendor allows.",
            hint=f"Try again in {days} day{'s' if days != 1 else ''}, or ask the vendor to look at the license's "
                 "activations.", retry_after=seconds)


def _refuse_wrong_role(license: Record, request: ActivationRequest) -> None:
    """A floating license is activated by a floating server only, and a floating server by nothing else.

    Its response certifies the server's key (the request's ``device_key``) and its seats (the
    terms' ``floating`` part), which is what workstations check each lease against.
    """
    floating_server = request.role == FLOATING_SERVER_ROLE
    if license.license_type == "floating" and not floating_server:
        raise FloatingOnlyError()
    if floating_server and license.license_type != "floating":
        raise NotFloatingError(f"This is a {license.license_type} license, not a floating one: a floating server "
                               "needs a license issued as floating.")


def _refuse_unusable(license: Record, now: datetime) -> None:
    if not license.enabled:
        raise VendorLicenseDisabledError()
    if license.expires is not None and license.expires <= now:
        raise VendorLicenseExpiredError(f"The license expired on {license.expires:%Y-%m-%d}, so it cannot be activated.")
