"""The vendor's rules: answer activation and deactivation requests, and issue refresh files.

Each answer is one database transaction that locks the license row, so counting activations is
exact however many processes answer at once. A request is refused — with the stable code and
plain sentence of a :class:`~licensing._errors.VendorRefusal` — for the reasons the tutorial
lists: maximum activations reached, expired or disabled license, wrong credentials, wrong
product configuration, a free-tier account, a subscription asked for offline, a replayed
request, a device the vendor disabled. A refused request changes nothing in the database.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from .. import (
    DeviceDisabledError,
    DeviceNotFoundError,
    FileMalformedError,
    FreeTierError,
    InvalidCredentialsError,
    LicenseNotFoundError,
    MaxActivationsReachedError,
    OfflineNotSupportedError,
    ProductConfigurationError,
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
    DEACTIVATION_REQUEST,
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
    system_clock,
    utc_now,
)
from . import catalog
from .keys import VendorKeys
from .models import AnsweredRequest, Device, License, Product
from .passwords import password_matches
from .store import VendorStore

__all__ = ["Issuer", "ActivationAnswer", "DeactivationReceipt", "RefreshAnswer"]


@dataclass(frozen=True)
class ActivationAnswer:
    data: bytes  # ls_activation.lic, to hand back verbatim
    license_key: str | None
    user: str | None
    device_id: str
    total_activations: int
    max_activations: int
    file_name: str = "ls_activation.lic"


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

    def to_dict(self) -> dict[str, Any]:
        return {
            "license": self.license_key or self.user, "device_id": self.device_id,
            "consumptions_booked": self.consumptions_booked,
            "feature_consumptions_booked": dict(self.feature_consumptions_booked),
            "total_activations": self.total_activations, "max_activations": self.max_activations,
            "deactivated_at": format_time(self.deactivated_at),
        }


class Issuer:
    def __init__(self, store: VendorStore, keys: VendorKeys, clock: Clock = system_clock) -> None:
        self.store = store
        self.keys = keys
        self.clock = clock

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

    def answer_activation(self, data: bytes, *, online: bool = False) -> ActivationAnswer:
        """Answer an activation request; ``online`` when it came through the API (subscriptions allowed)."""
        envelope, doc = open_device_signed(data, ACTIVATION_REQUEST)
        request = ActivationRequest.from_payload(doc)
        now = utc_now(self.clock)
        # Who is asking is settled before taking the write lock: checking a password (scrypt)
        # takes tens of milliseconds, and every other writer would wait for it.
        with self.store.session(readonly=True) as session:
            product = self._product_for(session, request.product, request.api_key, envelope)
            license_id = self._license_for(session, product, request).id
        with self.store.session() as session:
            _refuse_replay(session, request.request_id)
            license = session.scalars(select(License).where(License.id == license_id).with_for_update()).one()
            _refuse_unusable(license, now)
            if license.license_type == "subscription" and not online:
                raise OfflineNotSupportedError()
            same_machine = list(session.scalars(select(Device).where(
                Device.license_id == license.id, Device.hardware_id == request.hardware_id,
                Device.active.is_(True) | Device.enabled.is_(False))))
            if any(not d.enabled for d in same_machine):
                raise DeviceDisabledError()
            in_use = catalog.active_devices(session, license)
            for previous in same_machine:
                # The same machine activating again (after clearing its storage): one seat, not two.
                previous.active = False
                previous.deactivated_at = now
                in_use -= 1
            if in_use >= license.max_activations:
                raise MaxActivationsReachedError(
                    f"This license is already active on {in_use} of its {license.max_activations} allowed "
                    f"{'device' if license.max_activations == 1 else 'devices'}.")
            device = Device(id="dev_" + secrets.token_hex(8), license_id=license.id, hardware_id=request.hardware_id,
                            device_key=request.device_key, request_id=request.request_id, active=True,
                            enabled=True, activated_at=now, booked_consumptions=0)
            session.add_all([device, AnsweredRequest(request_id=request.request_id, kind=ACTIVATION_REQUEST,
                                                     answered_at=now)])
            terms = catalog.license_terms(session, license, total_activations=in_use + 1)
            catalog.audit(session, now, "device.activate-offline", license=license, device_id=device.id)
            body = {
                "product": product.code, "request_id": request.request_id, "nonce": request.nonce,
                "hardware_id": request.hardware_id, "device_id": device.id, "device_key": request.device_key,
                "issued_at": format_time(now), "license": terms.to_dict(),
            }
            signed = encode_signed(ACTIVATION_RESPONSE, body, self.keys.active_signing_key, self.keys.active_kid)
            return ActivationAnswer(data=signed, license_key=license.key, user=license.user, device_id=device.id,
                                    total_activations=terms.total_activations,
                                    max_activations=license.max_activations)

    def _product_for(self, session: Session, code: str, api_key: str, envelope: Envelope) -> Product:
        product = session.scalar(select(Product).where(Product.code == code))
        if product is None:
            raise ProductConfigurationError(f"The request was made for a product code ({code!r}) this vendor does not have.")
        if not secrets.compare_digest(product.api_key.encode("utf-8"), api_key.encode("utf-8")):
            raise ProductConfigurationError("The request was made with a wrong API key for this product.")
        if envelope.mac is None or not crypto.mac_matches(product.shared_key.encode("utf-8"), envelope.typ,
                                                          envelope.payload, envelope.mac):
            raise ProductConfigurationError("The request was made with a wrong shared key for this product.")
        if product.free_tier:
            raise FreeTierError()
        return product

    def _license_for(self, session: Session, product: Product, request: ActivationRequest) -> License:
        query = select(License).where(License.product_id == product.id)
        if request.key is not None:
            license = session.scalar(query.where(License.key == request.key.upper()))
        elif request.user is not None and request.sealed_password is not None:
            license = session.scalar(query.where(License.user == request.user))
            password = self._open_password(request)
            if license is not None and not password_matches(license.password_hash, password):
                license = None
        else:
            license = None
        if license is None:
            raise InvalidCredentialsError()
        return license

    def _open_password(self, request: ActivationRequest) -> str:
        try:
            return crypto.open_sealed(self.keys.encryption, request.sealed_password or {},
                                      aad=request.request_id.encode("ascii")).decode("utf-8")
        except (ValueError, KeyError, UnicodeError, crypto.InvalidTag):
            raise InvalidCredentialsError("The password in the request could not be read with this vendor's key.",
                                          hint="The application may be configured for another vendor.") from None

    # -- requests about an existing activation ------------------------------------------------

    def _device_for(self, session: Session, envelope: Envelope, request: DeviceRequest, *,
                    for_update: bool = True) -> tuple[License, Device]:
        """The license and device a device-signed request is about, once it proves it is that device."""
        product = self._product_for(session, request.product, request.api_key, envelope)
        query = select(License).where(License.id == request.license_id, License.product_id == product.id)
        license = session.scalar(query.with_for_update() if for_update else query)
        if license is None:
            raise LicenseNotFoundError("The license named in the request does not exist.")
        device = session.get(Device, request.device_id)
        if device is None or device.license_id != license.id:
            raise DeviceNotFoundError("The device named in the request is not one of this license's.")
        if device.device_key != request.device_key or device.hardware_id != request.hardware_id:
            raise SignatureInvalidError("The request was not signed by the device it names.",
                                        hint="Create the request on the device itself.")
        if not device.enabled:
            raise DeviceDisabledError()
        return license, device

    def answer_deactivation(self, data: bytes) -> DeactivationReceipt:
        envelope, doc = open_device_signed(data, DEACTIVATION_REQUEST)
        request = DeviceRequest.from_payload(doc)
        now = utc_now(self.clock)
        with self.store.session() as session:
            license, device = self._device_for(session, envelope, request)
            if not device.active:  # checked before replay: "already done" is the useful answer
                raise RequestReplayedError("This device is already deactivated.",
                                           hint="Nothing to do: the activation is already free.")
            _refuse_replay(session, request.request_id)
            device.active = False
            device.deactivated_at = now
            booked = _book_consumption(license, device, request)
            session.add(AnsweredRequest(request_id=request.request_id, kind=DEACTIVATION_REQUEST, answered_at=now))
            catalog.audit(session, now, "device.deactivate", license=license, device_id=device.id,
                          consumptions=request.local_consumptions)
            session.flush()
            return DeactivationReceipt(
                license_key=license.key, user=license.user, device_id=device.id,
                consumptions_booked=request.local_consumptions, feature_consumptions_booked=booked,
                total_activations=catalog.active_devices(session, license), max_activations=license.max_activations,
                deactivated_at=now)

    def answer_refresh_request(self, data: bytes) -> bytes:
        """``license_refresh.lic`` for a device that asks for it itself (portal page or online check)."""
        envelope, doc = open_device_signed(data, REFRESH_REQUEST)
        request = DeviceRequest.from_payload(doc)
        # Read-only (and not audited): online checks are frequent and must not queue behind writers.
        with self.store.session(readonly=True) as session:
            license, device = self._device_for(session, envelope, request, for_update=False)
            return self._signed_refresh(session, license, device, reset_consumption=False)

    def answer_consumption_report(self, data: bytes) -> bytes:
        """Book a device's local consumption once, and answer with the terms that include it.

        A report is resent unchanged until acknowledged; a report already booked is answered
        again (with the current terms) but never booked twice.
        """
        envelope, doc = open_device_signed(data, CONSUMPTION_SYNC)
        request = DeviceRequest.from_payload(doc)
        now = utc_now(self.clock)
        with self.store.session() as session:
            license, device = self._device_for(session, envelope, request)
            if session.get(AnsweredRequest, request.request_id) is None:
                _book_consumption(license, device, request)
                session.add(AnsweredRequest(request_id=request.request_id, kind=CONSUMPTION_SYNC, answered_at=now))
                catalog.audit(session, now, "device.consumption", license=license, device_id=device.id,
                              consumptions=request.local_consumptions)
                session.flush()
            return self._signed_refresh(session, license, device, reset_consumption=False)

    # -- refresh -----------------------------------------------------------------------------

    def refresh(self, license_key: str, device_id: str, *, reset_consumption: bool = False) -> bytes:
        """``license_refresh.lic`` for one device, made by the vendor (the portal's Devices tab)."""
        with self.store.session() as session:
            license, device = catalog.license_of_device(session, license_key, device_id)
            if not device.enabled:
                raise DeviceDisabledError("This device is disabled; enable it before sending it a refresh.")
            signed = self._signed_refresh(session, license, device, reset_consumption=reset_consumption)
            catalog.audit(session, utc_now(self.clock), "device.refresh", license=license, device_id=device.id,
                          revision=license.revision)
            return signed

    def _signed_refresh(self, session: Session, license: License, device: Device, *, reset_consumption: bool) -> bytes:
        if not device.active:
            raise DeviceNotFoundError("This device is no longer activated on the license.",
                                      hint="Only an active device can be refreshed; the device must activate again.")
        now = utc_now(self.clock)
        terms = catalog.license_terms(session, license)
        body = {
            "product": license.product.code, "hardware_id": device.hardware_id, "device_id": device.id,
            "issued_at": format_time(now), "reset_consumption": reset_consumption, "license": terms.to_dict(),
        }
        return encode_signed(LICENSE_REFRESH, body, self.keys.active_signing_key, self.keys.active_kid)


def _book_consumption(license: License, device: Device, request: DeviceRequest) -> dict[str, int]:
    """Add a device's reported uses to the license's totals; any change is a new revision."""
    booked = {f.code: request.feature_consumptions[f.code] for f in license.features
              if request.feature_consumptions.get(f.code)}
    for feature in license.features:
        feature.total_consumptions += booked.get(feature.code, 0)
    license.total_consumptions += request.local_consumptions
    device.booked_consumptions += request.local_consumptions
    if request.local_consumptions or booked:
        license.revision += 1
    return booked


def _refuse_replay(session: Session, request_id: str) -> None:
    if session.get(AnsweredRequest, request_id) is not None:
        raise RequestReplayedError()


def _refuse_unusable(license: License, now: datetime) -> None:
    if not license.enabled:
        raise VendorLicenseDisabledError()
    if license.expires is not None and license.expires <= now:
        raise VendorLicenseExpiredError(f"The license expired on {license.expires:%Y-%m-%d}, so it cannot be activated.")

