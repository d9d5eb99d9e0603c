"""The files and messages both sides exchange: the one public module the issuing side builds on.

An application needs only :mod:`licensing` (the manager, the license, the errors). The vendor's
side — :mod:`licensing.issuing`, or anyone writing their own portal — must also read and write
the artefacts themselves: the signed envelopes, the payloads of each file type, the default file
names, the time format and the primitives they are signed with. Those are here, the way trio
keeps its lower layer in ``trio.lowlevel``: public and stable, but not what an application
starts with.

``crypto`` is the module of primitives (one way to call each; it refuses non-canonical input).
``asgi`` is how a bare ASGI server reads these requests and answers them, refusals included, in
the shape the SDK raises again as typed errors (the floating server and the license-server API).
"""

from __future__ import annotations

from . import _asgi as asgi
from . import _crypto as crypto
from ._clock import Clock, system_clock, utc_now
from ._config import PRODUCT_CODE_PATTERN
from ._floating_link import API_PREFIX as FLOATING_API_PREFIX
from ._formats import (
    ACTIVATION_REQUEST,
    ACTIVATION_REQUEST_FILE_NAME,
    ACTIVATION_RESPONSE,
    ACTIVATION_RESPONSE_FILE_NAME,
    CONSUMPTION_SYNC,
    DEACTIVATION_FILE_NAME,
    DEACTIVATION_RECEIPT,
    DEACTIVATION_REQUEST,
    DEVICE_SIGNED,
    FLOATING_LEASE,
    FLOATING_SERVER_ROLE,
    FORMAT_VERSION,
    LEASE_HEARTBEAT,
    LEASE_RELEASE,
    LEASE_REQUEST,
    LICENSE_REFRESH,
    LICENSE_TYPES,
    MAX_FILE_SIZE,
    REFRESH_FILE_NAME,
    REFRESH_REQUEST,
    REFRESH_REQUEST_FILE_NAME,
    VENDOR_SIGNED,
    ActivationRequest,
    ActivationResponse,
    DeviceRequest,
    Envelope,
    LicenseRefresh,
    SignedDeactivation,
    encode_device_signed,
    encode_signed,
    format_time,
    open_device_signed,
    open_signed,
    parse_time,
    read_artefact,
    write_artefact,
)
from ._fs import atomic_write
from ._leases import (
    FLOATING_REQUESTS,
    LEASE_KINDS,
    MAX_CLIENT_NAME,
    LeaseAsk,
    LeaseGrant,
    LeaseSigner,
    ServerCertificate,
    encode_certificate,
    format_span,
    open_certificate,
)

__all__ = [
    # artefact types and the tutorial's file names
    "ACTIVATION_REQUEST",
    "ACTIVATION_RESPONSE",
    "LICENSE_REFRESH",
    "DEACTIVATION_REQUEST",
    "REFRESH_REQUEST",
    "CONSUMPTION_SYNC",
    "DEACTIVATION_RECEIPT",
    "DEVICE_SIGNED",
    "VENDOR_SIGNED",
    "LICENSE_TYPES",
    "FORMAT_VERSION",
    "MAX_FILE_SIZE",
    "PRODUCT_CODE_PATTERN",
    "ACTIVATION_REQUEST_FILE_NAME",
    "ACTIVATION_RESPONSE_FILE_NAME",
    "DEACTIVATION_FILE_NAME",
    "REFRESH_FILE_NAME",
    "REFRESH_REQUEST_FILE_NAME",
    # envelopes and payloads
    "Envelope",
    "ActivationRequest",
    "ActivationResponse",
    "DeviceRequest",
    "LicenseRefresh",
    "SignedDeactivation",
    "encode_signed",
    "open_signed",
    "encode_device_signed",
    "open_device_signed",
    # files and time
    "read_artefact",
    "write_artefact",
    "atomic_write",
    "format_time",
    "parse_time",
    "Clock",
    "system_clock",
    "utc_now",
    # floating licenses: the workstation's requests, the server's leases, the server's certificate
    "LEASE_REQUEST",
    "LEASE_HEARTBEAT",
    "LEASE_RELEASE",
    "FLOATING_LEASE",
    "FLOATING_REQUESTS",
    "FLOATING_SERVER_ROLE",
    "FLOATING_API_PREFIX",
    "LEASE_KINDS",
    "MAX_CLIENT_NAME",
    "LeaseAsk",
    "LeaseGrant",
    "LeaseSigner",
    "ServerCertificate",
    "encode_certificate",
    "open_certificate",
    "format_span",
    # primitives
    "crypto",
    "asgi",
]
