"""The floating server over HTTP: a bare ASGI app, served by uvicorn (``licensing-floating serve``).

Why no web framework: six fixed endpoints, bodies that are signed envelopes or small JSON, and a
heartbeat path that should cost little more than its signature checks and one durable commit —
the benchmark (``bench/bench_floating.py``) sets it beside a bare ASGI "hello" on the same stack.
At the customer's site the server then needs only uvicorn besides the SDK.

=======  ============================  =================================================================
method   path (under /floating/v1)     answer
=======  ============================  =================================================================
GET      /ping                         ``{"ok": true, "serving": bool, ...}`` (alive; can it hand out seats)
GET      /certificate                  the vendor-signed activation response (+ refresh), verbatim
GET      /seats                        ``{"seats", "used", "holders": [...], "server_time"}``
POST     /lease                        a ``lease-request`` in, a signed ``floating-lease`` out
POST     /heartbeat                    a ``lease-heartbeat`` in, a signed ``floating-lease`` out
POST     /release                      a ``lease-release`` in, ``{"ok": true, "lease_id", ...}`` out
=======  ============================  =================================================================

Refusals are ``{"ok": false, "code", "message", "hint"}`` — the SDK turns them back into the typed
error of the same code — with the HTTP status of :func:`status_for`. Handlers run on the event
loop's thread: each is a fraction of a millisecond of CPU plus one SQLite commit, and several
workers (processes) give the parallelism.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from .. import (
    BindingError,
    ClockTamperedError,
    ConfigurationError,
    FileTooLargeError,
    LeaseNotFoundError,
    LicenseError,
    LicenseFileError,
    LicenseStateError,
    NoLicenseError,
    NoSeatAvailableError,
    ProductConfigurationError,
    RequestReplayedError,
    StorageError,
    StorageLockedError,
    WrongFileTypeError,
)
from ..wire import FLOATING_API_PREFIX, asgi
from .server import FloatingServer
from .site import SITE_ENV, FloatingSite

__all__ = ["create_app", "create_app_from_env", "status_for", "APP_FACTORY"]

APP_FACTORY = "licensing.floating.app:create_app_from_env"

#: (error class, HTTP status), most specific first
_STATUS: tuple[tuple[type[LicenseError], int], ...] = (
    (FileTooLargeError, 413),
    (WrongFileTypeError, 415),
    (LicenseFileError, 400),
    (NoSeatAvailableError, 409),
    (RequestReplayedError, 409),
    (LeaseNotFoundError, 404),
    (NoLicenseError, 503),
    (ProductConfigurationError, 403),
    (LicenseStateError, 403),
    (BindingError, 400),
    (ClockTamperedError, 500),  # the server's own clock
    (StorageLockedError, 503),
    (StorageError, 500),
    (ConfigurationError, 500),
)


def status_for(error: LicenseError) -> int:
    return next((status for cls, status in _STATUS if isinstance(error, cls)), 400)


async def _lifespan(receive: asgi.Receive, send: asgi.Send, server: FloatingServer) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            server.close()
            await send({"type": "lifespan.shutdown.complete"})
            return


def create_app(server: FloatingServer) -> asgi.ASGIApp:
    """The ASGI app over one :class:`FloatingServer` (one per worker process)."""
    reads: dict[str, Callable[[], bytes]] = {
        "/ping": lambda: asgi.json_bytes(server.ping()),
        "/certificate": server.certificate,
        "/seats": lambda: asgi.json_bytes(server.seats()),
    }
    writes: dict[str, Callable[[bytes], bytes]] = {
        "/lease": server.grant,
        "/heartbeat": server.renew,
        "/release": lambda body: asgi.json_bytes(server.release(body)),
    }

    async def app(scope: asgi.Scope, receive: asgi.Receive, send: asgi.Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send, server)
            return
        if scope["type"] != "http":
            return
        path: str = scope["path"]
        endpoint = path[len(FLOATING_API_PREFIX):] if path.startswith(FLOATING_API_PREFIX + "/") else None
        method = scope["method"]
        try:
            if method == "GET" and endpoint in reads:
                body = reads[endpoint]()
            elif method == "POST" and endpoint in writes:
                body = writes[endpoint](await asgi.read_body(scope, receive))
            else:
                known = endpoint in reads or endpoint in writes
                await asgi.respond(send, *asgi.not_here(method, path, known_path=known, prefix=FLOATING_API_PREFIX))
                return
        except LicenseError as error:
            await asgi.respond(send, status_for(error), asgi.refusal(error),
                               headers=asgi.closing_if_huge(scope) if isinstance(error, FileTooLargeError) else ())
            return
        await asgi.respond(send, 200, body)

    return app


def create_app_from_env() -> asgi.ASGIApp:
    """For ``uvicorn --factory`` workers: the site folder comes from ``$LICENSING_FLOATING_DATA``."""
    folder = os.environ.get(SITE_ENV)
    if not folder:
        raise ConfigurationError(f"{SITE_ENV} does not name the floating server's folder.")
    return create_app(FloatingServer(FloatingSite.open(Path(folder))))
