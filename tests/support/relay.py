"""The network attacker of the online tests: a relay that captures answers, and a server that replays them.

Both are real HTTP servers on 127.0.0.1 (the standard library's ``ThreadingHTTPServer`` in a
thread), so the SDK talks to them exactly as it talks to the vendor's license server:

    with recording_relay(real_server_url) as relay:      # the device uses relay.url
        license.check()
    captured = relay.answers["/api/v1/check"][-1]         # (status, body) as the server sent it

    with replaying_server({"/api/v1/check": captured}) as fake_url:
        ...                                               # every POST there gets that answer again
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

__all__ = ["Relay", "recording_relay", "replaying_server"]

Answer = tuple[int, bytes]
AnswerFor = Callable[[str, bytes, dict[str, str]], Answer]
_PING = (200, b'{"ok":true,"service":"offline-licensing","version":"0"}')


@dataclass
class Relay:
    url: str
    answers: dict[str, list[Answer]] = field(default_factory=dict)


def _handler(answer_for: AnswerFor) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _reply(self, body: bytes) -> None:
            status, content = answer_for(self.path, body, dict(self.headers))
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        def do_GET(self) -> None:  # noqa: N802 - the standard library's name
            self._reply(b"")

        def do_POST(self) -> None:  # noqa: N802
            self._reply(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

        def log_message(self, *args: object) -> None:  # keep the test output clean
            pass

    return Handler


@contextlib.contextmanager
def _serving(answer_for: AnswerFor) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(answer_for))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextlib.contextmanager
def recording_relay(upstream: str) -> Iterator[Relay]:
    """Pass every request on to ``upstream`` and keep each answer, by path (what a proxy on the way sees)."""
    relay = Relay(url="")

    def forward(path: str, body: bytes, headers: dict[str, str]) -> Answer:
        wanted = {k: v for k, v in headers.items() if k.lower() in ("content-type", "x-api-key", "user-agent")}
        if body:
            answer = httpx.post(upstream + path, content=body, headers=wanted, timeout=10)
        else:
            answer = httpx.get(upstream + path, headers=wanted, timeout=10)
        relay.answers.setdefault(path, []).append((answer.status_code, answer.content))
        return answer.status_code, answer.content

    with _serving(forward) as url:
        relay.url = url
        yield relay


@contextlib.contextmanager
def replaying_server(answers: Mapping[str, Answer]) -> Iterator[str]:
    """A fake license server: ``/api/v1/ping`` answers ok, every other path its recorded answer (else 404)."""

    def replay(path: str, body: bytes, headers: dict[str, str]) -> Answer:
        if path == "/api/v1/ping":
            return _PING
        return answers.get(path, (404, b'{"detail":"Not Found"}'))

    with _serving(replay) as url:
        yield url
