"""The Offline Licensing Portal: a FastAPI application (uvicorn, Jinja2 pages, no JavaScript).

Routes
======

Public (no login; the uploaded request file is the credential):

* ``GET /`` what this is, and links; ``GET /activate`` + ``POST /activate`` (upload
  ``ls_activation.req``, get ``ls_activation.lic``); ``GET/POST /deactivate`` (upload
  ``ls_deactivation.req``, get a receipt); ``GET/POST /refresh`` (a device-signed refresh request
  → ``license_refresh.lic``; answered when the engine has ``Issuer.answer_refresh_request``,
  otherwise the page says to ask the vendor and POST answers 501); ``POST /download``.
* ``/api/…`` the JSON license-server API (:mod:`licensing.issuing.api`): a middleware in front of
  the pages answers it, so none of what follows about pages applies to it;
  ``/api/v1/openapi.json`` describes it.
* ``/static/…`` the style sheet.

Admin (signed in; every form carries a CSRF token): ``/admin/login`` (GET, POST),
``/admin/logout`` (POST), ``/admin`` (dashboard), ``/admin/products`` (GET, POST add),
``/admin/products/{code}/config`` (the client configuration file), ``/admin/licenses`` (GET
with ``?product=``, POST issue), ``/admin/licenses/{key}`` (details) and POST
``/admin/licenses/{key}/{enable|disable|extend|add-feature|max-activations|reset-consumption}``,
``/admin/licenses/{key}/devices`` (the Devices tab) and POST
``/admin/licenses/{key}/devices/{id}/{disable|enable|reset|refresh}`` (``refresh`` answers
``license_refresh.lic`` as an attachment), ``/admin/audit`` (``?page=``, ``?license=``).

How a response file reaches the browser (no JavaScript, any number of workers)
==========================================================================

``POST /activate`` answers the request at once (the device is bound, the request id recorded).
A script that asks for the file (form field ``download=1``, or ``Accept:
application/octet-stream`` without ``text/html``) gets ``ls_activation.lic`` itself as
``Content-Disposition: attachment``. A browser gets a result page (activations used/max, the
device id) whose "Download ls_activation.lic" button is a small form holding the signed file
in a hidden field; it posts to ``POST /download``, which hands the bytes back as an attachment.
Nothing is kept in memory between the two requests, so it works whichever worker takes the
second one. ``/download`` only echoes a file that verifies against *this vendor's* signing keys
(an activation response or a refresh file), so it cannot be used to serve arbitrary content;
and the file is useless to anyone but the device it is bound to. The deactivation receipt is
not vendor-signed, so its button carries the receipt signed with the portal's shared secret
(itsdangerous), checked the same way.

Errors
======

Any :class:`~licensing._errors.LicenseError` raised by a page is shown on that page (the upload
form again, with the error's message and hint above it), with the status of
:func:`licensing.issuing.portal.errors.status_for`: 400 unusable file or form value, 403 refused
(disabled, expired, wrong credentials, wrong product configuration, free tier, subscription
offline, device disabled), 404 unknown product/license/device, 409 max activations, replay or
another copy on an activated machine, 413 too large, 415 wrong kind of file, 429 too many
password guesses or re-activations (with ``Retry-After``); the API answers the same errors as
JSON: ``{"ok": false, "code", "message", "hint"}``. The portal's own refusals: 403 missing/wrong CSRF
token or an admin POST without a session, 303 to the sign-in page for an admin GET without one,
429 too many failed sign-ins (with ``Retry-After``), 404/405 unknown page or method, 308 from a
path with a trailing slash to the page without it (a relative ``Location``). Nothing ever shows
a traceback.

Limits
======

A request body is refused with 413 before it is read when its ``Content-Length`` is over the
limit, and counted while it streams otherwise (chunked uploads): upload pages
``MAX_FILE_SIZE + 8 KiB``, ``/download`` ``3 × MAX_FILE_SIZE``, other forms 16 KiB (the API
refuses anything over ``MAX_FILE_SIZE`` itself). An uploaded file is read into memory (at most
``MAX_FILE_SIZE + 1`` bytes); its name is used only for its extension, never for a path.

Sessions and workers
====================

Session cookies are signed (HttpOnly, SameSite=Lax, ``Secure`` on https requests or always with
``serve --secure-cookies``) with ``session_secret`` from ``DATA/portal.json``, which also holds
the admin password's scrypt hash (:mod:`licensing.issuing.portal.settings`). An admin session is
also a row in the database (8 hours from sign-in), and failed sign-ins are counted there, so
signing out and the sign-in limit hold in every worker (:mod:`licensing.issuing.portal.security`).
``licensing-portal serve --workers N`` runs ``uvicorn licensing.issuing.portal.app:create_app_from_env
--factory``; every worker reads the same folder, database URL and ``portal.json`` (environment
variables :data:`DATA_ENV`, :data:`DATABASE_ENV`, :data:`SECURE_COOKIES_ENV`).

Database calls from the pages run in worker threads through :func:`~licensing.issuing.portal.web.run_db`,
at most 16 at a time per process (``PortalSettings.db_concurrency``): enough for the writes that
queue up meanwhile to share one commit (:mod:`licensing.issuing.group_commit`), on SQLite as on
PostgreSQL. Online checks and refreshes on PostgreSQL have two read threads of their own
(``read_concurrency``, see :func:`~licensing.issuing.portal.web.run_read`); on SQLite they run in
the event loop.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ... import FileTooLargeError, LicenseError
from ...wire import asgi
from ..workspace import DATA_ENV, VendorWorkspace
from . import admin, public
from .errors import headers_for, status_for
from .security import Portal
from .settings import PortalSettings
from .web import (
    HERE,
    HSTS_HEADER,
    MAX_DOWNLOAD_BODY,
    MAX_FORM_SIZE,
    MAX_UPLOAD_BODY,
    SECURITY_HEADERS,
    LoginRequired,
    PageError,
    db_executor,
    error_context,
    render,
)

__all__ = ["create_app", "create_app_from_env", "PortalSettings", "DATA_ENV", "DATABASE_ENV", "SECURE_COOKIES_ENV",
           "body_limit"]

DATABASE_ENV = "LICENSING_PORTAL_DATABASE"
#: "1": the portal is served behind TLS (``serve --secure-cookies``): Secure cookies and HSTS on every answer
SECURE_COOKIES_ENV = "LICENSING_PORTAL_SECURE_COOKIES"

log = logging.getLogger("licensing.portal")

_UPLOAD_PAGES = frozenset({"/activate", "/deactivate", "/refresh"})
_FORM_TEMPLATES = {"/activate": "activate.html", "/deactivate": "deactivate.html", "/refresh": "refresh.html"}


def body_limit(path: str) -> int:
    """The largest request body accepted on ``path`` (see "Limits" above)."""
    if path in _UPLOAD_PAGES:
        return MAX_UPLOAD_BODY
    if path == "/download":
        return MAX_DOWNLOAD_BODY
    return MAX_FORM_SIZE


# -- middleware ------------------------------------------------------------------------------------


class _BodyTooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """413 for a body over :func:`body_limit`: before reading it if its length is declared, else while counting."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = body_limit(scope["path"])
        declared = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = limit + 1
        if declared is not None and declared > limit:
            # Answered without reading: uvicorn discards the rest of a moderate body and keeps the
            # connection (so the client reads its 413); a huge one is not worth draining.
            await _too_large(scope, receive, send, limit, close=declared > asgi.DRAIN_AT_MOST)
            return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _BodyTooLarge:
            if started:
                raise
            await _too_large(scope, receive, send, limit, close=True)


async def _too_large(scope: Scope, receive: Receive, send: Send, limit: int, *, close: bool) -> None:
    if scope["path"] in _UPLOAD_PAGES:
        error = FileTooLargeError(f"The upload is larger than {limit // 1024} KiB, so it is not a licensing file.",
                                  hint="Upload the request file the application created: it is a few kilobytes.")
    else:
        error = FileTooLargeError(f"The request is larger than the {limit // 1024} KiB this address accepts.",
                                  hint="Send less: the portal's own forms and licensing files are far smaller.")
    request = Request(scope, receive)
    response = _error_response(request, error, 413)
    if close:
        response.headers["Connection"] = "close"
    await response(scope, receive, send)


class SecurityHeadersMiddleware:
    """No framing, no sniffing, no third-party anything: the pages need no script at all.

    HSTS (browsers keep to https for this host for a year) is sent on https requests, and on
    every request when ``behind_tls`` (``serve --secure-cookies``: a proxy terminates TLS and may
    not say so); browsers ignore it over plain http anyway.
    """

    _CSP = (b"content-security-policy",
            b"default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
            b"frame-ancestors 'none'; base-uri 'none'")

    def __init__(self, app: ASGIApp, *, behind_tls: bool = False) -> None:
        self.app = app
        self.behind_tls = behind_tls

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = [HSTS_HEADER] if self.behind_tls or scope.get("scheme") == "https" else []

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [h for h in [*SECURITY_HEADERS, *extra, self._CSP] if h[0] not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class SchemeAwareSessionMiddleware:
    """Starlette's signed-cookie sessions, with ``Secure`` on the cookie when the request came over https."""

    def __init__(self, app: ASGIApp, /, *, always_secure: bool = False, **options: Any) -> None:
        self.plain = SessionMiddleware(app, https_only=always_secure, **options)
        self.secure = SessionMiddleware(app, https_only=True, **options)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        chosen = self.secure if scope.get("scheme") in ("https", "wss") else self.plain
        await chosen(scope, receive, send)


# -- error pages -----------------------------------------------------------------------------------


def _error_response(request: Request, error: LicenseError | PageError, status: int) -> Response:
    headers = dict(getattr(error, "headers", None) or {})
    if isinstance(error, LicenseError):
        headers.update(headers_for(error))
    template = "error.html"
    context: dict[str, Any] = {}
    if isinstance(error, PageError):
        template = error.template
        context.update(error.context)
    elif request.method == "POST" and request.url.path in _FORM_TEMPLATES:
        template = _FORM_TEMPLATES[request.url.path]
    context.update(error_context(error, status))
    context.setdefault("back", getattr(request.state, "back", None))
    if template == "error.html":
        context.setdefault("heading", _HEADINGS.get(status, "The request could not be completed"))
    headers.setdefault("Cache-Control", "no-store")
    return render(request, template, context, status=status, headers=headers)


_HEADINGS = {
    400: "This file or form could not be used",
    403: "Refused",
    404: "Not found",
    405: "Not allowed here",
    409: "Already done",
    413: "The upload is too large",
    415: "Wrong kind of file",
    429: "Too many attempts",
    500: "Something went wrong on the portal's side",
    501: "Not available on this portal",
    503: "Busy: try again in a moment",
}


async def _license_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, LicenseError)
    status = status_for(error)
    if status >= 500:
        log.warning("portal: %s failed: %s (%s)", request.url.path, error.message, error.code)
    return _error_response(request, error, status)


async def _page_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, PageError)
    return _error_response(request, error, error.status)


async def _login_required(request: Request, error: Exception) -> Response:
    if request.method in ("GET", "HEAD"):
        # the path as sent (still encoded), so that an encoded segment comes back the same after sign-in
        path = (request.scope.get("raw_path") or request.url.path.encode("utf-8")).decode("latin-1")
        target = path + (f"?{request.url.query}" if request.url.query else "")
        from urllib.parse import quote

        return RedirectResponse("/admin/login?next=" + quote(target, safe="/"), status_code=303,
                                headers={"Cache-Control": "no-store"})
    return _error_response(request, PageError(
        403, "You are not signed in to the admin area (or your session has ended).",
        "Sign in at /admin/login, then send the form again.", code="not_signed_in"), 403)


def _without_trailing_slash(request: Request) -> Response | None:
    """``/admin/`` → ``/admin``: a *relative* redirect, when the path without the slash is a page.

    Starlette's own slash redirect builds an absolute URL from the ``Host`` header, which a
    client chooses; so it is turned off and done here, and the ``Location`` is a path only.
    """
    raw = request.scope.get("raw_path") or request.url.path.encode("utf-8")
    target = raw.decode("latin-1").rstrip("/")
    if (request.method not in ("GET", "HEAD") or not request.url.path.endswith("/") or not target
            or not target.startswith("/") or target.startswith("//") or "\\" in target):
        return None
    probe = {**request.scope, "path": request.url.path.rstrip("/")}
    if not any(route.matches(probe)[0] is not Match.NONE for route in request.app.router.routes):
        return None
    query = request.scope.get("query_string", b"").decode("latin-1")
    return RedirectResponse(target + (f"?{query}" if query else ""), status_code=308,
                            headers={"Cache-Control": "no-store"})


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    if error.status_code == 404 and (redirect := _without_trailing_slash(request)) is not None:
        return redirect
    messages = {
        404: ("There is no page at this address.", "Check the address, or start again from the home page."),
        405: ("This page does not take that kind of request.", "Use the links and forms on the portal's pages."),
    }
    message, hint = messages.get(error.status_code, (str(error.detail), "Go back and try again."))
    response = _error_response(request, PageError(error.status_code, message, hint, code="http_error"),
                               error.status_code)
    for name, value in (error.headers or {}).items():
        response.headers[name] = value
    return response


async def _validation_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    return _error_response(request, PageError(400, "The request had a value this page cannot take.",
                                              "Use the links and forms on the portal's pages.",
                                              code="invalid_request"), 400)


async def _unexpected(request: Request, error: Exception) -> Response:
    log.error("portal: unexpected error on %s %s", request.method, request.url.path, exc_info=error)
    page = PageError(500, "Something went wrong on the portal's side; nothing was changed by this request.",
                     "Try again in a moment. If it keeps happening, tell the vendor (the server log has the details).",
                     code="internal_error")
    return _error_response(request, page, 500)


# -- the application -------------------------------------------------------------------------------


def create_app(workspace: VendorWorkspace, *, settings: PortalSettings | None = None,
               owns_workspace: bool = False) -> FastAPI:
    """The portal for ``workspace``: pages, admin area and the JSON API under ``/api/v1``.

    ``owns_workspace``: close the workspace when the application shuts down.
    """
    from ..api import LicenseServerAPI

    settings = settings or PortalSettings()

    @contextlib.asynccontextmanager
    async def lifespan(app_: FastAPI) -> AsyncIterator[None]:
        app_.state.db_executor = db_executor(app_.state.db_concurrency)
        app_.state.read_executor = db_executor(app_.state.read_concurrency)
        try:
            yield
        finally:
            app_.state.read_executor.shutdown(wait=True)
            app_.state.db_executor.shutdown(wait=True)
            if owns_workspace:
                workspace.close()

    app = FastAPI(title=settings.title, docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.router.redirect_slashes = False  # see _without_trailing_slash
    app.state.workspace = workspace
    app.state.portal = Portal(settings, workspace.store, workspace.clock)
    app.state.settings = settings
    #: database calls in flight per process (see web.run_db): SQLite has one writer at a time
    app.state.db_concurrency = settings.db_concurrency or 16
    #: PostgreSQL reads in flight per process (see web.run_read): enough to keep one core busy
    app.state.read_concurrency = settings.read_concurrency or 2

    app.include_router(public.router)
    app.include_router(admin.router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    app.add_exception_handler(LicenseError, _license_error)
    app.add_exception_handler(PageError, _page_error)
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)

    # Added last = outermost: the API (which answers /api/ itself), security headers, the body
    # limit, then sessions.
    app.add_middleware(SchemeAwareSessionMiddleware, always_secure=settings.secure_cookies,
                       secret_key=app.state.portal.secret, session_cookie="portal_session",
                       max_age=settings.session_max_age, same_site="lax")
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(SecurityHeadersMiddleware, behind_tls=settings.secure_cookies)
    app.add_middleware(LicenseServerAPI, behind_tls=settings.secure_cookies)
    return app


def create_app_from_env() -> FastAPI:
    """uvicorn's factory for workers: ``$LICENSING_VENDOR_DATA``, ``$LICENSING_PORTAL_DATABASE`` and
    ``$LICENSING_PORTAL_SECURE_COOKIES``."""
    folder_text = os.environ.get(DATA_ENV)
    if not folder_text:
        from ..workspace import default_vendor_dir

        folder = default_vendor_dir()
    else:
        folder = Path(folder_text)
    workspace = VendorWorkspace.open(folder, database_url=os.environ.get(DATABASE_ENV) or None)
    settings = PortalSettings.from_folder(folder, secure_cookies=os.environ.get(SECURE_COOKIES_ENV) == "1")
    return create_app(workspace, settings=settings, owns_workspace=True)
