"""The license server's JSON API (``/api/v1``): what the SDK's online half talks to.

Every request body is one of the device-signed envelopes of :mod:`licensing._formats` (the very
bytes an offline ``.req`` file holds) and every licence-bearing answer is a vendor-signed
envelope (the bytes of a ``.lic`` file), so the online path needs no second protocol and no
trust in the network: the SDK verifies answers with its pinned keys.

Authentication: the product's API key in ``X-Api-Key`` (it must match the one inside the signed
request) plus the request's signatures — the device's own key (for anything about an existing
activation, the key the vendor bound to that device) and the product's shared-key MAC.

Every answer is bound to its request: the vendor-signed bytes repeat the request's id and nonce
(``/check``, ``/refresh`` and ``/consumption`` answer with a refresh that names them; ``/activate``
with the response to that request; ``/deactivate`` with a signed ``receipt``), so a captured
answer replayed later, or sent for another request, is refused by the SDK.

Refusals are ``{"ok": false, "code", "message", "hint"}`` with the status of
:func:`licensing.issuing.portal.errors.status_for`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import anyio
import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from .. import (
    FileMalformedError,
    FileTooLargeError,
    LicenseError,
    ProductConfigurationError,
    __version__,
)
from ..wire import MAX_FILE_SIZE
from .portal.errors import headers_for, status_for
from .portal.web import run_db, run_read

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["license server"])

_ENVELOPE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "A device-signed request envelope: the exact bytes the SDK writes into a .req file.",
        "content": {"application/json": {"schema": {
            "type": "object",
            "required": ["format", "typ", "payload", "signature", "mac"],
            "properties": {
                "format": {"const": "offline-licensing"},
                "typ": {"type": "string"},
                "payload": {"type": "string", "contentEncoding": "base64"},
                "signature": {"type": "string", "contentEncoding": "base64"},
                "mac": {"type": "string", "contentEncoding": "base64"},
            },
        }}},
    },
}
_ERRORS: dict[int | str, dict[str, Any]] = {status: {"description": "Refused: {ok: false, code, message, hint}"}
                                             for status in (400, 403, 404, 409, 413, 429)}


async def _read_body(request: Request) -> bytes:
    """The request body, refused early (413) past the size of any licensing file."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_FILE_SIZE:
        raise FileTooLargeError()
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FILE_SIZE:
            raise FileTooLargeError()
    if not body:
        raise FileMalformedError("The request body is empty; it must be a signed request.")
    return bytes(body)


async def _answer(request: Request, handler: Callable[..., Any], *, read_only: bool = False) -> Any:
    """Read the request and have ``handler`` answer it; the API key of the header must be the one signed inside."""
    body = await _read_body(request)
    api_key = request.headers.get("x-api-key")
    if not api_key:
        raise ProductConfigurationError("The request has no API key (X-Api-Key header).",
                                        hint="Send the product's API key in the X-Api-Key header.")
    return await (run_read if read_only else run_db)(request, functools.partial(handler, body, api_key=api_key))


def _envelope_response(data: bytes) -> Response:
    return Response(content=data, media_type="application/json")


def _refusal(error: LicenseError) -> JSONResponse:
    return JSONResponse({"ok": False, **error.to_dict()}, status_code=status_for(error),
                        headers=headers_for(error) or None)


def _issuer(request: Request) -> Any:
    return request.app.state.workspace.issuer


@router.get("/ping", summary="The server answers (no database work: what the SDK's is_online() asks)")
async def ping(request: Request) -> dict[str, object]:
    return {"ok": True, "service": "offline-licensing", "version": __version__}


@router.get("/health", summary="For a load balancer's health check: 200 when this server can reach its database",
            responses={503: {"description": "The database cannot be reached: {ok: false, code, message, hint}"}})
async def health(request: Request) -> JSONResponse:
    """One ``SELECT 1`` in a thread of its own: the check must not queue behind the requests it vouches for."""
    limiter = getattr(request.app.state, "health_limiter", None)
    if limiter is None:
        limiter = request.app.state.health_limiter = anyio.CapacityLimiter(1)
    try:
        await anyio.to_thread.run_sync(request.app.state.workspace.store.ping, limiter=limiter)
    except LicenseError as error:
        return JSONResponse({"ok": False, **error.to_dict()}, status_code=503)
    return JSONResponse({"ok": True, "database": "reachable"})


@router.post("/activate", summary="Activate a device: activation request in, signed activation response out",
             openapi_extra=_ENVELOPE_BODY, responses=_ERRORS)
async def activate(request: Request) -> Response:
    try:
        issuer = _issuer(request)
        answer = await _answer(request, functools.partial(issuer.answer_activation, online=True))
    except LicenseError as error:
        return _refusal(error)
    return _envelope_response(answer.data)


@router.post("/deactivate", summary="Deactivate a device (books its consumption); returns a receipt, signed in "
                                   "`receipt` and bound to the request",
             openapi_extra=_ENVELOPE_BODY, responses=_ERRORS)
async def deactivate(request: Request) -> Response:
    try:
        issuer = _issuer(request)
        receipt = await _answer(request, functools.partial(issuer.answer_deactivation, online=True))
    except LicenseError as error:
        return _refusal(error)
    return JSONResponse({"ok": True, **receipt.to_dict()})


@router.post("/check", summary="Confirm an activation and get the license's current signed terms",
             openapi_extra=_ENVELOPE_BODY, responses=_ERRORS)
@router.post("/refresh", summary="Get a license_refresh.lic for this device (same answer as /check)",
             openapi_extra=_ENVELOPE_BODY, responses=_ERRORS)
async def check(request: Request) -> Response:
    try:
        data = await _answer(request, _issuer(request).answer_refresh_request, read_only=True)
    except LicenseError as error:
        return _refusal(error)
    return _envelope_response(data)


@router.post("/consumption", summary="Report local consumption (booked once per report); returns the new terms",
             openapi_extra=_ENVELOPE_BODY, responses=_ERRORS)
async def consumption(request: Request) -> Response:
    try:
        data = await _answer(request, _issuer(request).answer_consumption_report)
    except LicenseError as error:
        return _refusal(error)
    return _envelope_response(data)
