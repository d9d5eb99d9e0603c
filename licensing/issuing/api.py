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
:func:`licensing.issuing.portal.errors.status_for` (and ``Retry-After`` when the error says how
long to wait); an unknown path is a 404 and a wrong method a 405 in the same shape.

Why it is not a route of the portal's FastAPI application: the API is on the path of every
client's online check, with seven fixed endpoints and bodies that are signed envelopes. It is an
ASGI middleware in front of the portal (:class:`LicenseServerAPI`) that answers ``/api/`` itself,
so none of the pages' machinery (sessions, form limits, routing over the admin area, FastAPI's
per-request dependency solving) runs for it. That was a sixth of an online check's CPU in the
server: ``bench/bench_portal.py`` measured 783 µs per PostgreSQL check through FastAPI and 661 µs
without it. Like the floating server (:mod:`licensing.floating.app`) it is a bare ASGI app over
:mod:`licensing._asgi`; the OpenAPI document at ``/api/v1/openapi.json`` is built from the same
table that routes the requests.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anyio
import anyio.to_thread

from .. import FileTooLargeError, LicenseError, ProductConfigurationError, __version__
from ..wire import asgi
from .portal.errors import headers_for, status_for
from .portal.web import HSTS_HEADER, SECURITY_HEADERS, run_db_on, run_read_on

__all__ = ["LicenseServerAPI", "API_PREFIX", "openapi"]

#: every path under it is the API's: an unknown one is a JSON 404, never a portal page
API_PREFIX = "/api/"

log = logging.getLogger("licensing.api")

Answer = Callable[..., Awaitable[tuple[int, bytes]]]


@dataclass(frozen=True)
class _Endpoint:
    method: str  # "GET" (HEAD too) or "POST" (a device-signed request in the body, the API key in X-Api-Key)
    summary: str | None  # None: left out of the OpenAPI document
    answer: Answer  # GET: answer(state); POST: answer(state, body, api_key) -> (status, body)


def _issuer(state: Any) -> Any:
    return state.workspace.issuer


async def _ping(state: Any) -> tuple[int, bytes]:
    return 200, asgi.json_bytes({"ok": True, "service": "offline-licensing", "version": __version__})


async def _health(state: Any) -> tuple[int, bytes]:
    """One ``SELECT 1`` in a thread of its own: the check must not queue behind the requests it vouches for."""
    limiter = getattr(state, "health_limiter", None)
    if limiter is None:
        limiter = state.health_limiter = anyio.CapacityLimiter(1)
    try:
        await anyio.to_thread.run_sync(state.workspace.store.ping, limiter=limiter)
    except LicenseError as error:
        return 503, asgi.refusal(error)
    return 200, asgi.json_bytes({"ok": True, "database": "reachable"})


async def _activate(state: Any, body: bytes, api_key: str) -> tuple[int, bytes]:
    answer = await run_db_on(state, functools.partial(_issuer(state).answer_activation, online=True, api_key=api_key),
                             body)
    return 200, answer.data


async def _deactivate(state: Any, body: bytes, api_key: str) -> tuple[int, bytes]:
    receipt = await run_db_on(state, functools.partial(_issuer(state).answer_deactivation, online=True,
                                                       api_key=api_key), body)
    return 200, asgi.json_bytes({"ok": True, **receipt.to_dict()})


async def _check(state: Any, body: bytes, api_key: str) -> tuple[int, bytes]:
    return 200, await run_read_on(state, functools.partial(_issuer(state).answer_refresh_request, api_key=api_key),
                                  body)


async def _consumption(state: Any, body: bytes, api_key: str) -> tuple[int, bytes]:
    return 200, await run_db_on(state, functools.partial(_issuer(state).answer_consumption_report, api_key=api_key),
                                body)


async def _openapi(state: Any) -> tuple[int, bytes]:
    document = getattr(state, "api_openapi", None)
    if document is None:
        document = state.api_openapi = asgi.json_bytes(openapi(state.settings.title))
    return 200, document


_ENDPOINTS: dict[str, _Endpoint] = {
    "/api/v1/ping": _Endpoint("GET", "The server answers (no database work: what the SDK's is_online() asks)", _ping),
    "/api/v1/health": _Endpoint("GET", "For a load balancer's health check: 200 when this server can reach its "
                                       "database, 503 when it cannot", _health),
    "/api/v1/activate": _Endpoint("POST", "Activate a device: activation request in, signed activation response out",
                                  _activate),
    "/api/v1/deactivate": _Endpoint("POST", "Deactivate a device (books its consumption); returns a receipt, signed "
                                            "in `receipt` and bound to the request", _deactivate),
    "/api/v1/check": _Endpoint("POST", "Confirm an activation and get the license's current signed terms", _check),
    "/api/v1/refresh": _Endpoint("POST", "Get a license_refresh.lic for this device (same answer as /check)", _check),
    "/api/v1/consumption": _Endpoint("POST", "Report local consumption (booked once per report); returns the new "
                                             "terms", _consumption),
    "/api/v1/openapi.json": _Endpoint("GET", None, _openapi),
}

_INTERNAL_ERROR = asgi.json_bytes({
    "ok": False, "code": "internal_error",
    "message": "Something went wrong on the license server's side; nothing was changed by this request.",
    "hint": "Send the request again in a moment. If it keeps failing, tell the vendor (the server log has the details).",
})


class LicenseServerAPI:
    """ASGI middleware: answers every request under ``/api/`` itself and hands the rest to ``app`` (the portal).

    It reads the workspace and the database threads from the portal application's ``state``
    (``scope["app"]``, which Starlette sets before its middleware runs), so both share one
    issuer, one connection pool and one lifespan. ``behind_tls``: send HSTS on every answer.
    """

    def __init__(self, app: asgi.ASGIApp, *, behind_tls: bool = False) -> None:
        self.app = app
        self.behind_tls = behind_tls

    async def __call__(self, scope: asgi.Scope, receive: asgi.Receive, send: asgi.Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(API_PREFIX):
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        endpoint = _ENDPOINTS.get(path)
        headers = [*SECURITY_HEADERS]
        if self.behind_tls or scope.get("scheme") == "https":
            headers.append(HSTS_HEADER)
        if endpoint is None or method not in ((endpoint.method, "HEAD") if endpoint.method == "GET" else ("POST",)):
            status, body = asgi.not_here(method, path, known_path=endpoint is not None, prefix="/api/v1")
            if endpoint is not None:
                headers.append((b"allow", b"GET, HEAD" if endpoint.method == "GET" else b"POST"))
            await asgi.respond(send, status, body, headers=headers, head=method == "HEAD")
            return
        try:
            status, body = await self._answer(endpoint, scope, receive)
        except LicenseError as error:
            status, body = status_for(error), asgi.refusal(error)
            headers += [(name.lower().encode("latin-1"), value.encode("latin-1"))
                        for name, value in headers_for(error).items()]
            if isinstance(error, FileTooLargeError):
                headers += asgi.closing_if_huge(scope)
            if status >= 500:
                log.warning("license server: %s failed: %s (%s)", path, error.message, error.code)
        except Exception:  # noqa: BLE001 - answered as JSON like any refusal, and logged with its traceback
            log.exception("license server: unexpected error on %s %s", method, path)
            status, body = 500, _INTERNAL_ERROR
        await asgi.respond(send, status, body, headers=headers, head=method == "HEAD")

    @staticmethod
    async def _answer(endpoint: _Endpoint, scope: asgi.Scope, receive: asgi.Receive) -> tuple[int, bytes]:
        state = scope["app"].state
        if endpoint.method == "GET":
            return await endpoint.answer(state)
        body = await asgi.read_body(scope, receive)
        api_key = next((value.decode("latin-1") for name, value in scope["headers"] if name == b"x-api-key"), "")
        if not api_key:
            raise ProductConfigurationError("The request has no API key (X-Api-Key header).",
                                            hint="Send the product's API key in the X-Api-Key header.")
        return await endpoint.answer(state, body, api_key)


# -- the OpenAPI document ------------------------------------------------------------------------------

_ENVELOPE = {
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
}
_API_KEY = {"name": "X-Api-Key", "in": "header", "required": True, "schema": {"type": "string"},
            "description": "The product's API key; it must be the one signed inside the request."}
_REFUSED = {"description": "Refused: {ok: false, code, message, hint}"}


def openapi(title: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the API: every endpoint of the routing table, with its summary."""
    paths: dict[str, Any] = {}
    for path, endpoint in _ENDPOINTS.items():
        if endpoint.summary is None:
            continue
        operation: dict[str, Any] = {
            "tags": ["license server"], "summary": endpoint.summary,
            "operationId": path.rsplit("/", 1)[1] + "_" + endpoint.method.lower(),
            "responses": {"200": {"description": "Answered", "content": {"application/json": {}}}},
        }
        if endpoint.method == "POST":
            operation["parameters"] = [_API_KEY]
            operation["requestBody"] = _ENVELOPE
            operation["responses"].update({str(status): _REFUSED for status in (400, 403, 404, 409, 413, 415, 429)})
        elif endpoint.answer is _health:
            operation["responses"]["503"] = {"description": "The database cannot be reached: "
                                                            "{ok: false, code, message, hint}"}
        paths[path] = {endpoint.method.lower(): operation}
    return {"openapi": "3.1.0", "info": {"title": f"{title}: license server API", "version": __version__},
            "paths": paths}
