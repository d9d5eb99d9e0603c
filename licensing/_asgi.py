"""The little a bare ASGI app needs: a bounded request body, a whole answer, refusals as JSON.

Two of our servers are bare ASGI apps served by uvicorn: the floating server a customer runs
(:mod:`licensing.floating.app`) and the vendor's license-server API (:mod:`licensing.issuing.api`).
Both have a handful of fixed endpoints whose bodies are signed envelopes of a few kilobytes, and
both are on the hot path of every client, where a web framework's routing, middleware and
dependency solving cost more per request than the signatures themselves (measured for the API:
``bench/bench_portal.py``). This module is what they share; it imports nothing beyond the SDK.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from ._errors import FileMalformedError, FileTooLargeError, LicenseError
from ._formats import MAX_FILE_SIZE

__all__ = ["Scope", "Receive", "Send", "ASGIApp", "DRAIN_AT_MOST", "json_bytes", "read_body", "respond", "refusal",
           "not_here", "closing_if_huge"]

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
Headers = Iterable[tuple[bytes, bytes]]

#: a refused request whose body is declared larger than this is not drained: its answer closes the connection
DRAIN_AT_MOST = 64 * 1024 * 1024


def json_bytes(data: dict[str, Any]) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode("utf-8")


async def read_body(scope: Scope, receive: Receive) -> bytes:
    """The request body: refused (``file_too_large``) past ``MAX_FILE_SIZE``, before reading it when its length is declared."""
    if _declares_more_than(scope, MAX_FILE_SIZE):
        raise FileTooLargeError("The request is larger than any licensing request.")
    body = bytearray()
    while True:
        message = await receive()
        body += message.get("body", b"")
        if len(body) > MAX_FILE_SIZE:
            raise FileTooLargeError("The request is larger than any licensing request.")
        if not message.get("more_body"):
            break
    if not body:
        raise FileMalformedError("The request body is empty; it must be a signed request.")
    return bytes(body)


async def respond(send: Send, status: int, body: bytes, *, content_type: bytes = b"application/json",
                  headers: Headers = (), head: bool = False) -> None:
    """Send a whole answer (``no-store``: every answer is about one request); ``head``: the headers only."""
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode("ascii")),
                            (b"cache-control", b"no-store"), *headers]})
    await send({"type": "http.response.body", "body": b"" if head else body})


def closing_if_huge(scope: Scope) -> list[tuple[bytes, bytes]]:
    """``Connection: close`` for a refused request whose declared body is over :data:`DRAIN_AT_MOST`.

    uvicorn reads and discards the unread rest of a refused body to keep the connection open, so
    that the client reads its 413 before anything else happens; for a body of hundreds of
    megabytes that is not worth the server's time.
    """
    return [(b"connection", b"close")] if _declares_more_than(scope, DRAIN_AT_MOST) else []


def _declares_more_than(scope: Scope, limit: int) -> bool:
    """The request's ``Content-Length`` is over ``limit`` bytes (a length that is not a number counts as over)."""
    for name, value in scope["headers"]:
        if name == b"content-length":
            return not value.isdigit() or int(value) > limit
    return False


def refusal(error: LicenseError) -> bytes:
    """The body of a refused request: ``{"ok": false, "code", "message", "hint"}`` (the SDK raises it typed again)."""
    return json_bytes({"ok": False, **error.to_dict()})


def not_here(method: str, path: str, *, known_path: bool, prefix: str) -> tuple[int, bytes]:
    """404 for a path no endpoint has, 405 for a method its endpoint does not take: status and body."""
    if known_path:
        return 405, json_bytes({"ok": False, "code": "method_not_allowed",
                                "message": f"{method} is not allowed on {path}.",
                                "hint": f"See the endpoints under {prefix}."})
    return 404, json_bytes({"ok": False, "code": "not_found", "message": f"There is nothing at {path}.",
                            "hint": f"The server answers under {prefix}."})
