"""The peer of the portal benchmark: a bare ASGI "hello" endpoint, served by the same uvicorn stack.

    uvicorn hello_app:app --app-dir bench --workers 2
"""

from __future__ import annotations

from typing import Any

_BODY = b"hello"
_HEADERS = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", b"5")]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": _BODY})
