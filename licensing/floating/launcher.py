"""Start a floating server in its own process and stop it: for tests, benchmarks, demos and the chatbot.

    with start_server(site_folder) as server:      # licensing-floating serve, on 127.0.0.1
        manager.floating(server.url).request_lease()

The process is ``python -m licensing.floating --data SITE serve`` (the very command an
administrator runs), started in its own session; :func:`start_server` returns once it answers
``/floating/v1/ping`` and raises with its log when it does not. :meth:`RunningServer.stop` stops it
gracefully (SIGINT, workers included); :meth:`RunningServer.kill` is SIGKILL for the whole
process group, the way a power cut would.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

import httpx

from .. import ConfigurationError
from ..wire import FLOATING_API_PREFIX

__all__ = ["start_server", "RunningServer", "free_port"]

_START_TIMEOUT = 30.0


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class RunningServer:
    def __init__(self, process: subprocess.Popen[bytes], url: str, log: Path) -> None:
        self.process = process
        self.url = url
        self.log = log

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 15.0) -> None:
        """Ctrl+C: uvicorn stops its workers and the app closes its leases file."""
        if self.alive:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def kill(self) -> None:
        """SIGKILL to every process of the server at once: nothing gets to clean up."""
        if self.alive:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


def start_server(site: Path, *, host: str = "127.0.0.1", port: int | None = None, workers: int = 1,
                 env: Mapping[str, str] | None = None, log: Path | None = None) -> RunningServer:
    """``licensing-floating --data SITE serve`` in a new process; returns once it answers."""
    port = port or free_port(host)
    log = log or Path(site) / f"server-{port}.log"
    command = [sys.executable, "-m", "licensing.floating", "--data", str(site), "serve", "--host", host,
               "--port", str(port), "--workers", str(workers), "--log-level", "warning", "--no-access-log"]
    with log.open("ab") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
                                   env={**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"})
    server = RunningServer(process, f"http://{host}:{port}", log)
    deadline = time.monotonic() + _START_TIMEOUT
    while time.monotonic() < deadline:
        if not server.alive:
            raise ConfigurationError(f"The floating server stopped while starting:\n{log.read_text(errors='replace')}")
        try:
            if httpx.get(server.url + FLOATING_API_PREFIX + "/ping", timeout=1.0).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    server.kill()
    raise ConfigurationError(f"The floating server did not answer within {_START_TIMEOUT:.0f} s:\n"
                             f"{log.read_text(errors='replace')}")
