"""The floating lab: a real vendor, a floating license, a floating server activated offline, workstations.

Everything is the real thing: the vendor's issuer answers the server's ``ls_activation.req``, the
server activates through the SDK, and workstations talk HTTP to it on 127.0.0.1 — either in a
thread of the test process (:meth:`FloatingLab.serving`, sharing the test's settable clock) or as
its own ``licensing-floating serve`` process (:meth:`FloatingLab.process`, the system clock).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from licensing import FloatingClient, LicenseID, LicenseManager
from licensing.floating.app import create_app
from licensing.floating.launcher import RunningServer, start_server
from licensing.floating.server import FloatingServer
from licensing.floating.site import FloatingSite
from licensing.wire import FLOATING_API_PREFIX, Clock

from .lab import PRODUCT, Lab
from .portal_server import asgi_in_thread

__all__ = ["FloatingLab", "Interceptor", "Exchange", "DROP", "PING"]

PING = FLOATING_API_PREFIX + "/ping"


class FloatingLab:
    """One vendor with one floating license, and its floating server set up and activated in ``root/site``."""

    def __init__(self, root: Path, clock: Clock, *, seats: int = 4, lease_seconds: int = 60,
                 max_borrow_seconds: int = 7 * 86_400, features: tuple[str, ...] = ("jokes", "dice")) -> None:
        self.root = root
        self.clock = clock
        self.lab = Lab(root, clock)  # type: ignore[arg-type]
        self.config_file = self.lab.vendor.client_configuration(PRODUCT).write_file(root / "product-config.json")
        self.key = self.issue(seats=seats, lease_seconds=lease_seconds, max_borrow_seconds=max_borrow_seconds,
                              features=features)
        self.site = self.new_site("site", self.key)

    def issue(self, **spec: Any) -> str:
        return self.lab.issue("floating", **spec)

    def new_site(self, name: str, key: str) -> Path:
        """A floating server in ``root/name``: set up, its request answered by the vendor, activated."""
        folder = self.root / name
        site = FloatingSite.create(folder, self.config_file, hardware_id=f"floating-host-{name}")
        self.lab.respond(site.create_request(LicenseID.from_key(key)))
        site.activate()
        return folder

    def open_site(self, folder: Path | None = None) -> FloatingSite:
        return FloatingSite.open(folder or self.site)

    @contextlib.contextmanager
    def serving(self, folder: Path | None = None, *, clock: Clock | None = None) -> Iterator[str]:
        """The floating server in a thread of this process, on the test's clock; yields its URL."""
        server = FloatingServer(self.open_site(folder), clock=clock or self.clock)
        try:
            with asgi_in_thread(create_app(server), ping=PING) as url:
                yield url
        finally:
            server.close()

    def process(self, folder: Path | None = None, *, workers: int = 1, port: int | None = None) -> RunningServer:
        """``licensing-floating serve`` as its own process (system clock)."""
        return start_server(folder or self.site, workers=workers, port=port)

    def manager(self, name: str, **overrides: Any) -> LicenseManager:
        """A workstation: its own data folder and hardware id (default clock: the lab's)."""
        return self.lab.manager(name, **overrides)

    def client(self, url: str, name: str, **overrides: Any) -> FloatingClient:
        return self.manager(name, **overrides).floating(url, client_name=f"user@{name}")

    def data_dir(self, name: str) -> Path:
        return self.root / name / "data"


# -- a man in the middle ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Exchange:
    method: str
    path: str
    request: bytes
    status: int
    answer: bytes


#: what a rewrite returns to cut the connection without an answer (a network failure)
DROP = object()
Rewrite = Callable[[Exchange], "tuple[int, bytes] | object | None"]


class Interceptor:
    """An HTTP man in the middle on 127.0.0.1, in front of a real floating server.

    It forwards every request, records the exchange, and lets a test play the attacker or the
    network: ``rewrite`` (when set) sees each exchange and returns None (pass the real answer
    through), ``(status, body)`` (answer that instead: an edited, replayed or foreign answer), or
    :data:`DROP` (cut the connection: the server acted, the answer was lost). ``cut`` (when set)
    decides from the path whether to cut the connection *before* the request reaches the server.
    """

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.recorded: list[Exchange] = []
        self.rewrite: Rewrite | None = None
        self.cut: Callable[[str], bool] | None = None
        interceptor = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server protocol
                self._forward("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._forward("POST")

            def _forward(self, method: str) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if interceptor.cut is not None and interceptor.cut(self.path):
                    self.close_connection = True
                    return
                real = httpx.request(method, interceptor.upstream + self.path, content=body or None, timeout=30,
                                     headers={"Content-Type": "application/json"} if body else None)
                exchange = Exchange(method, self.path, body, real.status_code, real.content)
                interceptor.recorded.append(exchange)
                changed = interceptor.rewrite(exchange) if interceptor.rewrite is not None else None
                if changed is DROP:
                    self.close_connection = True
                    return
                status, answer = (exchange.status, exchange.answer) if changed is None else changed  # type: ignore[misc]
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="interceptor", daemon=True)
        self._thread.start()

    def answers(self, path: str) -> list[bytes]:
        """The real answers recorded for ``path`` (e.g. "/floating/v1/heartbeat"), oldest first."""
        return [e.answer for e in self.recorded if e.path == path and e.status == 200]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)

    def __enter__(self) -> Interceptor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
