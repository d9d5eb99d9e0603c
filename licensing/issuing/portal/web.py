"""Shared pieces of the portal's pages: templates, page errors, CSRF, uploads and downloads."""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import secrets
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, TypeVar

import jinja2
from fastapi import Request
from fastapi.responses import Response
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from ... import FileMalformedError, FileMissingError, FileTooLargeError, LicenseError, WrongFileTypeError
from ...wire import (
    ACTIVATION_REQUEST,
    ACTIVATION_RESPONSE,
    DEACTIVATION_REQUEST,
    LICENSE_REFRESH,
    MAX_FILE_SIZE,
    REFRESH_REQUEST,
    Envelope,
    format_span,
)

__all__ = [
    "templates",
    "render",
    "PageError",
    "LoginRequired",
    "csrf_token",
    "check_csrf",
    "read_form",
    "read_upload",
    "check_request_type",
    "attachment",
    "wants_file",
    "show_time",
    "PlainRoute",
    "run_db",
    "run_db_on",
    "db_executor",
    "run_read",
    "run_read_on",
    "SECURITY_HEADERS",
    "HSTS_HEADER",
    "MAX_FORM_SIZE",
    "MAX_UPLOAD_BODY",
    "MAX_DOWNLOAD_BODY",
]

HERE = Path(__file__).parent
T = TypeVar("T")

#: the largest multipart body an upload page reads: one licensing file plus form overhead
MAX_UPLOAD_BODY = MAX_FILE_SIZE + 8 * 1024
#: ``/download`` echoes a signed file back from a form field (url-encoding can triple it)
MAX_DOWNLOAD_BODY = 3 * MAX_FILE_SIZE + 1024
#: every other form (admin, login)
MAX_FORM_SIZE = 16 * 1024

#: on every answer, pages and API alike: no sniffing, no framing, no referrer to other sites
SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
)
#: on https answers, and on all of them behind TLS: browsers keep to https for this host for a year
HSTS_HEADER = (b"strict-transport-security", b"max-age=31536000")


async def run_db(request: Request, function: Callable[..., T], *args: Any) -> T:
    """Run blocking database work in one of the application's database threads (see :func:`run_db_on`)."""
    return await run_db_on(request.app.state, function, *args)


async def run_read(request: Request, function: Callable[..., T], *args: Any) -> T:
    """Run a short read-only database call (see :func:`run_read_on`)."""
    return await run_read_on(request.app.state, function, *args)


async def run_db_on(state: Any, function: Callable[..., T], *args: Any) -> T:
    """Run blocking database work in one of the database threads of the application whose ``state`` this is.

    ``db_concurrency`` threads per process, on SQLite too: reads never wait for a writer (WAL),
    and the writes that queue up while one transaction commits share the next commit (group
    commit in :meth:`~licensing.issuing.store.VendorStore.write`) instead of taking SQLite's lock
    in turns. The threads are a plain executor handed to asyncio: the hop there and back costs
    about a third of what ``anyio.to_thread`` costs per call (0.2 ms of CPU per activation here).
    """
    return await _run_in(_executor(state, "db_executor", "db_concurrency"), function, *args)


async def run_read_on(state: Any, function: Callable[..., T], *args: Any) -> T:
    """Run a short read-only database call: in the event loop on SQLite, in a read thread otherwise.

    On SQLite such a read is pure CPU (an in-process library over a cached file; in WAL mode a
    reader never waits for a writer), and handing it to a worker thread costs more than the read
    itself: about 0.2 ms of CPU for the hop there and back, against 0.3 ms for a whole online
    check. On PostgreSQL the read waits for the network, so it goes to a thread, but to one of
    the few read threads (``read_concurrency``), not to the writers' pool: a read is Python on
    either side of one round trip, and two threads keep the process's one core busy with it.
    More only fight over the GIL (online checks on PostgreSQL under ``bench/bench_portal.py``'s
    load: 768 µs of CPU each with two threads against 1,066 µs with sixteen), and checks never
    queue behind writes that wait for a locked license.
    """
    if state.workspace.store.is_sqlite:
        return function(*args)
    return await _run_in(_executor(state, "read_executor", "read_concurrency"), function, *args)


async def _run_in(executor: concurrent.futures.Executor, function: Callable[..., T], *args: Any) -> T:
    return await asyncio.get_running_loop().run_in_executor(executor, functools.partial(function, *args))


def _executor(state: Any, name: str, size: str) -> concurrent.futures.Executor:
    """The application's executor ``name`` (made by its lifespan; made here for an application used without it)."""
    executor = getattr(state, name, None)
    if executor is None:  # see create_app
        executor = db_executor(getattr(state, size, 2))
        setattr(state, name, executor)
    return executor


def db_executor(threads: int) -> concurrent.futures.ThreadPoolExecutor:
    return concurrent.futures.ThreadPoolExecutor(max_workers=threads, thread_name_prefix="portal-db")


class PlainRoute(APIRoute):
    """A route whose endpoint takes the :class:`Request` alone and returns a :class:`Response`: called as it is.

    FastAPI solves every endpoint's parameters on each request (dependencies, body, validation);
    for an endpoint that takes nothing but the request that is all overhead, on the path of every
    offline activation uploaded. The route class of routers whose endpoints all look like that
    (:mod:`licensing.issuing.portal.public`).
    """

    def get_route_handler(self) -> Callable[[Request], Any]:
        return self.endpoint


def show_time(moment: datetime | None, empty: str = "—") -> str:
    if moment is None:
        return empty
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,  # every template, whatever its name
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = show_time
    env.filters["span"] = format_span
    return env


def _context(request: Request) -> dict[str, Any]:
    portal = getattr(request.app.state, "portal", None)
    return {
        "csrf_token": lambda: csrf_token(request),
        "title_suffix": portal.settings.title if portal is not None else "Offline Licensing Portal",
        "signed_in": bool(portal is not None and portal.is_admin(request)),
        "path": request.url.path,
        "flashes": _pop_flashes(request),
    }


templates = Jinja2Templates(env=_environment(), context_processors=[_context])


def render(request: Request, name: str, context: dict[str, Any] | None = None, *, status: int = 200,
           headers: dict[str, str] | None = None) -> Response:
    values = {"error": None, "back": None}
    values.update(context or {})
    return templates.TemplateResponse(request, name, values, status_code=status, headers=headers)


# -- flashes (one-shot messages after a redirect) ------------------------------------------------


def flash(request: Request, text: str) -> None:
    if "session" not in request.scope:
        return
    messages = list(request.session.get("flash", []))
    messages.append(text)
    request.session["flash"] = messages[-5:]


def _pop_flashes(request: Request) -> list[str]:
    if "session" not in request.scope or "flash" not in request.session:
        return []
    messages = request.session.pop("flash")
    return [str(m) for m in messages] if isinstance(messages, list) else []


# -- errors that are not LicenseErrors ---------------------------------------------------------


class PageError(Exception):
    """A plain-words refusal of the portal itself (CSRF, rate limit, unknown page…)."""

    def __init__(self, status: int, message: str, hint: str, *, code: str = "portal_error",
                 template: str = "error.html", context: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.hint = hint
        self.code = code
        self.template = template
        self.context = context or {}
        self.headers = headers

    def to_dict(self) -> dict[str, object]:
        return {"code": self.code, "message": self.message, "hint": self.hint}


class LoginRequired(Exception):
    """Raised by admin pages for a visitor who is not signed in (GET: redirect; POST: 403)."""


# -- CSRF ----------------------------------------------------------------------------------------


def csrf_token(request: Request) -> str:
    """This session's CSRF token (made on first use); goes into every form as a hidden field."""
    token = request.session.get("csrf")
    if not isinstance(token, str) or len(token) < 32:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def check_csrf(request: Request, form: FormData) -> None:
    sent = form.get("csrf_token")
    expected = request.session.get("csrf")
    if (not isinstance(sent, str) or not isinstance(expected, str) or not expected
            or not secrets.compare_digest(sent.encode("utf-8"), expected.encode("utf-8"))):
        raise PageError(403, "This form could not be accepted: its security token is missing or out of date.",
                        "Go back, reload the page, and send the form again. (Forms only work from this portal's "
                        "own pages, and only while your browser keeps its cookies.)", code="csrf_failed")


# -- forms and uploads ---------------------------------------------------------------------------


async def read_form(request: Request, *, max_files: int = 0, max_fields: int = 40) -> FormData:
    """The form of a POST, with its parser's limits; a broken form is a plain 400."""
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if not content_type:
        return FormData()  # nothing sent at all: the page's own checks say what is missing
    if content_type not in ("multipart/form-data", "application/x-www-form-urlencoded"):
        raise PageError(415, "This page only accepts a form sent by a web browser.",
                        "Use the form on the page (or send multipart/form-data, as curl -F does).",
                        code="unsupported_form")
    try:
        return await request.form(max_files=max_files, max_fields=max_fields, max_part_size=MAX_DOWNLOAD_BODY)
    except StarletteHTTPException as exc:
        raise FileMalformedError(f"The form could not be read ({exc.detail}).",
                                 hint="Send the form again from the portal's page.") from None


def _extension(filename: str) -> str:
    # Only the last component matters, whatever separators the browser kept; nothing touches the disk.
    name = PureWindowsPath(PurePosixPath(filename).name).name
    return PurePosixPath(name).suffix.lower()


async def read_upload(request: Request, form: FormData, *, what: str) -> tuple[bytes, str]:
    """The bytes of the one uploaded file (field ``file``) and the extension of its name.

    The file name a browser sends is used for nothing but that extension (never for a path).
    """
    upload = form.get("file")
    if upload == "":  # a browser's form with no file chosen sends an empty, nameless part
        raise FileMissingError("No file was chosen.",
                               hint=f"Choose {what} with the file button, then press the button to upload it.")
    if not isinstance(upload, UploadFile):
        raise FileMissingError("No file was uploaded.",
                               hint=f"Choose {what} with the file button, then press the button to upload it.")
    data = await upload.read(MAX_FILE_SIZE + 1)
    await upload.close()
    extension = _extension(upload.filename or "")
    if not data and not upload.filename:
        raise FileMissingError("No file was chosen.",
                               hint=f"Choose {what} with the file button, then press the button to upload it.")
    if len(data) > MAX_FILE_SIZE:
        raise FileTooLargeError(f"The uploaded file is larger than {MAX_FILE_SIZE // 1024} KiB, "
                                "so it is not a licensing file.",
                                hint=f"Upload {what}: it is a few kilobytes.")
    if not data:
        raise FileMalformedError("The uploaded file is empty.",
                                 hint=f"The copy may have failed; copy {what} again from the device and upload it.")
    return data, extension


_OTHER_PAGE = {
    ACTIVATION_REQUEST: ("an activation request (ls_activation.req)", "/activate", "Offline activation"),
    DEACTIVATION_REQUEST: ("a deactivation request (ls_deactivation.req)", "/deactivate", "Offline deactivation"),
    REFRESH_REQUEST: ("a refresh request (license_refresh.req)", "/refresh", "Refresh"),
}


def check_request_type(data: bytes, extension: str, expected: str, *, what: str) -> Envelope:
    """Refuse, with a sentence that says which file is needed, anything but a request of ``expected`` type."""
    try:
        envelope = Envelope.parse(data)
    except FileMalformedError as exc:
        if extension != ".req":
            raise WrongFileTypeError(
                "The uploaded file is not a licensing request file (.req).",
                hint=f"Upload {what}, the .req file the application created on the device.") from exc
        raise FileMalformedError("The uploaded file is damaged or is not a licensing request "
                                 "(it could not be read as one).",
                                 hint="Copy the file again from the device; if it came by e-mail or USB, it may have "
                                      "been cut short. Upload it unchanged.") from exc
    if envelope.typ == expected:
        return envelope
    if envelope.typ in (ACTIVATION_RESPONSE, LICENSE_REFRESH):
        raise WrongFileTypeError("This is a file the portal gives out (a .lic response), not a request.",
                                 hint=f"Upload {what}, the .req file the application created on the device.")
    if envelope.typ in _OTHER_PAGE:
        kind, page, title = _OTHER_PAGE[envelope.typ]
        raise WrongFileTypeError(f"This is {kind}, which this page does not take.",
                                 hint=f"Upload it on the {title} page ({page}) instead.")
    raise FileMalformedError("This is not a request file of a kind this portal knows.",
                             hint=f"Upload {what}, the .req file the application created on the device.")


def wants_file(request: Request, form: FormData) -> bool:
    """A script asks for the bare file (``download=1`` or ``Accept: application/octet-stream``)."""
    if str(form.get("download", "")).lower() in ("1", "true", "yes", "on"):
        return True
    accept = request.headers.get("accept", "")
    return "application/octet-stream" in accept and "text/html" not in accept


def attachment(data: bytes, filename: str, media_type: str = "application/octet-stream") -> Response:
    """The file as a download with a fixed, safe name (never one that came from a request)."""
    return Response(data, media_type=media_type, headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    })


def error_context(error: LicenseError | PageError, status: int) -> dict[str, Any]:
    return {"error": {"message": error.message, "hint": error.hint, "code": error.code, "status": status}}
