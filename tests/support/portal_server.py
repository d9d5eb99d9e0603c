"""Start a real portal (uvicorn, HTTP on 127.0.0.1, a free port) for a test, and stop it afterwards.

    from tests.portal_server import running_portal   # or: from portal_server import running_portal

    with running_portal(vendor_folder) as base_url:        # "http://127.0.0.1:PORT"
        httpx.get(base_url + "/api/v1/ping")

One worker (the default) runs ``uvicorn.Server`` in a thread of the test process, on a socket
bound before the server starts (no port race); pass ``workspace=`` (e.g. ``lab.vendor``, whose
clock is the test's fake clock) or ``clock=`` to share the test's notion of time. Several
workers run ``licensing-portal serve --workers N`` in a subprocess (real processes, system
clock). Either way the server answers ``/api/v1/ping`` before the ``with`` body starts, and is
stopped (and the thread or process reaped) when it ends, whatever happened inside.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

__all__ = ["running_portal", "free_port", "wait_until_serving", "asgi_in_thread", "send_huge_body"]

HOST = "127.0.0.1"
START_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def wait_until_serving(base_url: str, *, timeout: float = START_TIMEOUT, alive: Any = None,
                       ping: str = "/api/v1/ping") -> None:
    """Poll ``ping`` until it answers 200; ``alive()`` returning False aborts early."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if alive is not None and not alive():
            raise RuntimeError(f"the portal at {base_url} stopped while starting")
        try:
            if httpx.get(base_url + ping, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError as exc:
            last = exc
        time.sleep(0.05)
    raise RuntimeError(f"the portal at {base_url} did not answer within {timeout:.0f} s ({last})")


def send_huge_body(base_url: str, path: str, declared: int = 300_000_000) -> tuple[bytes, bool]:
    """POST to ``path`` a body declared ``declared`` bytes long, and send a megabyte of it.

    Returns the answer's head (status line and headers, lower-cased) and whether the server then
    closed the connection rather than reading on.
    """
    host, port = base_url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as raw:
        raw.sendall(f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {declared}\r\n\r\n".encode("ascii"))
        with contextlib.suppress(OSError):  # the server may close before the megabyte is in
            raw.sendall(b"x" * 1024 * 1024)
        raw.settimeout(5)
        answer, closed = b"", False
        try:
            while chunk := raw.recv(65536):
                answer += chunk
            closed = True  # the server ended the connection after its answer
        except TimeoutError:
            pass  # still open: the server is reading the rest of the body
        except OSError:
            closed = True  # reset by the server
    head = answer.split(b"\r\n\r\n", 1)[0].lower()
    return head, closed


@contextlib.contextmanager
def running_portal(folder: Path, *, database_url: str | None = None, workers: int = 1, workspace: Any = None,
                   clock: Any = None, settings: Any = None, serve_options: tuple[str, ...] = ()) -> Iterator[str]:
    """A portal for the vendor in ``folder``, serving on 127.0.0.1 at a free port; yields its base URL.

    ``workspace``/``clock``/``settings`` (a :class:`~licensing.issuing.portal.settings.PortalSettings`;
    default: from ``folder/portal.json``) apply to the in-thread server only (``workers=1``).
    ``serve_options`` (e.g. ``("--secure-cookies",)``) are passed to ``licensing-portal serve``, which
    then runs in a subprocess even with one worker.
    """
    if workers == 1 and not serve_options:
        with _thread_server(Path(folder), database_url, workspace, clock, settings) as url:
            yield url
    else:
        if workspace is not None or clock is not None or settings is not None:
            raise ValueError("workspace, clock and settings only apply to a one-worker (in-thread) portal")
        with _process_server(Path(folder), database_url, workers, serve_options) as url:
            yield url


@contextlib.contextmanager
def _thread_server(folder: Path, database_url: str | None, workspace: Any, clock: Any,
                   settings: Any) -> Iterator[str]:
    from licensing.issuing.portal.app import create_app
    from licensing.issuing.portal.settings import PortalSettings
    from licensing.issuing.workspace import VendorWorkspace

    owned = workspace is None
    if owned:
        options: dict[str, Any] = {"database_url": database_url}
        if clock is not None:
            options["clock"] = clock
        workspace = VendorWorkspace.open(folder, **options)
    try:
        with asgi_in_thread(create_app(workspace, settings=settings or PortalSettings.from_folder(folder))) as url:
            yield url
    finally:
        if owned:
            workspace.close()


@contextlib.contextmanager
def asgi_in_thread(app: Any, ping: str = "/api/v1/ping") -> Iterator[str]:
    """Serve an ASGI ``app`` with uvicorn in a thread of this process; yield its base URL once ``ping`` answers."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, host=HOST, port=port, log_level="warning", access_log=False,
                            lifespan="on", timeout_graceful_shutdown=5)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=f"asgi-{port}", daemon=True)
    thread.start()
    url = f"http://{HOST}:{port}"
    try:
        wait_until_serving(url, alive=thread.is_alive, ping=ping)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
        if thread.is_alive():  # pragma: no cover - a hung server is a test failure, not a hang
            server.force_exit = True
            thread.join(timeout=5)
            raise RuntimeError(f"the server at {url} did not stop")


@contextlib.contextmanager
def _process_server(folder: Path, database_url: str | None, workers: int,
                    serve_options: tuple[str, ...]) -> Iterator[str]:
    port = free_port()
    command = [sys.executable, "-m", "licensing.issuing.cli", "--data", str(folder)]
    if database_url:
        command += ["--database", database_url]
    command += ["serve", "--host", HOST, "--port", str(port), "--workers", str(workers),
                "--log-level", "warning", "--no-access-log", *serve_options]
    log = open(folder / f"portal-{port}.log", "wb")  # noqa: SIM115 - closed below
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    url = f"http://{HOST}:{port}"
    try:
        try:
            wait_until_serving(url, alive=lambda: process.poll() is None)
        except RuntimeError as exc:
            log.flush()
            raise RuntimeError(f"{exc}\n{(folder / f'portal-{port}.log').read_text(errors='replace')}") from None
        yield url
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # uvicorn's graceful stop, workers included
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:  # pragma: no cover
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        log.close()


# -- small helpers for tests that drive the pages with httpx -------------------------------------

_HIDDEN = r'<input type="hidden" name="{name}" value="([^"]*)"'


def hidden_value(page: str, name: str) -> str:
    """The value of the first hidden input ``name`` in an HTML page (unescaped)."""
    import html
    import re

    match = re.search(_HIDDEN.format(name=re.escape(name)), page)
    if match is None:
        raise AssertionError(f"no hidden field {name!r} in the page")
    return html.unescape(match.group(1))


def csrf_token(client: httpx.Client, page: str = "/admin/login") -> str:
    """GET ``page`` with ``client`` (keeping its session cookie) and return the form's CSRF token."""
    response = client.get(page)
    assert response.status_code == 200, response.text
    return hidden_value(response.text, "csrf_token")


def sign_in(client: httpx.Client, password: str) -> httpx.Response:
    token = csrf_token(client, "/admin/login")
    response = client.post("/admin/login", data={"csrf_token": token, "password": password, "next": "/admin"})
    assert response.status_code == 303, response.text
    return response
