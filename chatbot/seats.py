"""The chatbot's floating seat: which floating server, the seat this conversation holds, its heartbeat.

A floating license is never activated on this computer: its seats come from a floating server on
the site's network (``licensing-floating``). :class:`SeatKeeper` is the bot's side of it, over the
SDK's :class:`~licensing.FloatingClient`:

* **which server** (:class:`FloatingSetup`) — the address the shell was given (``chatbot
  --floating-server URL`` or ``$CHATBOT_FLOATING_SERVER``); else, on the demo vendor, the demo's
  own floating server on 127.0.0.1, which the bot starts on request (:class:`DemoFloatingServer`:
  ``licensing-floating serve`` in a child process, as the demo vendor itself is built out of
  process) and stops again when it closes. A vendor's configuration with no address set has no
  floating server: the bot says how to name one.
* **the seat** — taken (``request_lease``) and then kept by the SDK's background heartbeat for as
  long as the conversation holds it; given back on request and when the bot closes. A borrowed
  seat outlives the app: it is found again at start (``borrowed_lease``) and is given back only
  when the user asks (``return_borrowed``).
* **what the status bar shows** — :meth:`SeatKeeper.seat_status`: read from memory only, so a
  shell may call it from its UI thread every second while a worker answers a line.

Nothing here words a reply (:mod:`chatbot.handlers` and :mod:`chatbot.wording` do) or decides a
refusal: the SDK's typed errors go up as they are, to be explained.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import httpx

from licensing import FloatingClient, Lease, LicenseError, LicenseManager, SeatsReport
from licensing.wire import FLOATING_API_PREFIX

from .replies import SeatStatus

if TYPE_CHECKING:
    from licensing import Heartbeat
    from licensing.floating.launcher import RunningServer

__all__ = ["FloatingSetup", "ServerControl", "DemoFloatingServer", "SeatKeeper", "FLOATING_SERVER_ENV"]

#: the floating server's address for a vendor's configuration (``chatbot --floating-server URL`` sets it too)
FLOATING_SERVER_ENV = "CHATBOT_FLOATING_SERVER"
_PING_TIMEOUT = 0.5


class ServerControl(Protocol):
    """A floating server the bot may start and stop: the demo's (the transcripts run one in a thread)."""

    url: str
    #: how a person starts it by hand, for the replies
    command: str

    def start(self) -> bool:
        """Start it; False when it already answered (started elsewhere), so there was nothing to start."""

    def stop(self) -> None:
        """Stop it (only called for a server this control started)."""


@dataclass(frozen=True)
class FloatingSetup:
    """Where this conversation's floating seats come from.

    ``url``: the floating server's address (None: the ``server``'s, or none at all); ``server``: one
    the bot may start on request (the demo's); ``client_name``: how seat lists show this computer
    (default: user@host); ``heartbeat``: seconds between heartbeats (default: the SDK's, a third
    of the lease length).
    """

    url: str | None = None
    server: ServerControl | None = None
    client_name: str | None = None
    heartbeat: float | None = None

    @property
    def address(self) -> str | None:
        return self.url or (self.server.url if self.server is not None else None)


class DemoFloatingServer:
    """The demo vendor's floating server (its activated site folder), served on 127.0.0.1 in a child process."""

    def __init__(self, site: Path, port: int, program: str = "licensing-floating") -> None:
        self.site = site
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.command = f"{program} --data {shlex.quote(str(site))} serve --port {port}"
        self._running: RunningServer | None = None

    def answers(self) -> bool:
        """Does a floating server answer at this address (this one, or one started in another terminal)?"""
        try:
            return httpx.get(self.url + FLOATING_API_PREFIX + "/ping", timeout=_PING_TIMEOUT,
                             trust_env=False).status_code == 200
        except httpx.HTTPError:
            return False

    def start(self) -> bool:
        if (self._running is not None and self._running.alive) or self.answers():
            return False
        from licensing.floating.launcher import start_server  # the launcher only when a server is started

        self._running = start_server(self.site, port=self.port)
        return True

    def stop(self) -> None:
        running, self._running = self._running, None
        if running is not None:
            running.stop()


class SeatKeeper:
    """The seat this conversation holds (live or borrowed), its heartbeat, and the server the bot started.

    Not thread-safe, like the bot, except :meth:`seat_status` (see the module docstring).
    """

    def __init__(self, manager: LicenseManager, setup: FloatingSetup) -> None:
        self.manager = manager
        self.setup = setup
        self.lease: Lease | None = None
        self._client: FloatingClient | None = None
        self._heartbeat: Heartbeat | None = None
        self._started = False  # this keeper started the server, so it stops it when it closes

    @property
    def url(self) -> str | None:
        """The floating server's address, or None when this configuration names none."""
        return self.setup.address

    @property
    def server(self) -> ServerControl | None:
        return self.setup.server

    @property
    def started_server(self) -> bool:
        return self._started

    def client(self) -> FloatingClient:
        """The SDK's client for the floating server (only asked for when :attr:`url` is set)."""
        if self._client is None:
            if self.url is None:
                raise RuntimeError("no floating server is set up")
            self._client = self.manager.floating(self.url, client_name=self.setup.client_name)
        return self._client

    # -- the seat ----------------------------------------------------------------------------------

    def restore(self) -> Lease | None:
        """Hold again the seat this computer borrowed in an earlier run, while it holds; None when there is none.

        A stored borrow that fails its checks is left for the user to meet when they ask about it.
        """
        if self.url is None:
            return None
        try:
            lease = self.client().borrowed_lease()
            if lease is not None:
                lease.local_check()
        except LicenseError:
            return None
        self.lease = lease
        return lease

    def take(self) -> Lease:
        """A seat: the one held (a live one renewed), else a new one, kept by the heartbeat from now on."""
        lease = self.lease = self.client().request_lease()
        if not lease.borrowed and (self._heartbeat is None or not self._heartbeat.running):
            self._heartbeat = lease.start_heartbeat(self.setup.heartbeat)
        return lease

    def release(self) -> bool:
        """Give the live seat back; True once the server confirmed (else it frees itself when its lease ends)."""
        lease, self.lease, self._heartbeat = self.lease, None, None
        return lease.release() if lease is not None else True

    def borrow(self, period: timedelta) -> Lease:
        """Borrow a seat for ``period``; a live seat held becomes the borrow (and needs no heartbeat)."""
        lease = self.client().borrow(period)
        self._stop_heartbeat()
        self.lease = lease
        return lease

    def borrowed(self) -> Lease | None:
        """The seat this computer borrowed: the one held, else the one stored on disk (verified again)."""
        if self.lease is not None and self.lease.borrowed:
            return self.lease
        return self.client().borrowed_lease() if self.url is not None else None

    def return_borrowed(self) -> bool:
        """Give the borrowed seat back early; True once the server heard it (else it is told with the next request)."""
        told = self.client().return_borrowed()
        if self.lease is not None and self.lease.borrowed:
            self.lease = None
        return told

    def seats(self) -> SeatsReport:
        return self.client().seats()

    def heartbeat_failing(self) -> bool:
        beat = self._heartbeat
        return beat is not None and beat.running and beat.last_error is not None

    def seat_status(self) -> SeatStatus | None:
        """The seat held, for the status bar; None when none is held. Reads memory only."""
        lease = self.lease
        if lease is None:
            return None
        return SeatStatus(server_url=lease.server_url, slot=lease.slot + 1, seats=lease.seats, borrowed=lease.borrowed,
                          ends=lease.expires, seconds_left=lease.time_left().total_seconds(),
                          heartbeat_failing=self.heartbeat_failing())

    # -- the server the bot may start ---------------------------------------------------------------

    def start_server(self) -> bool:
        """Start the server this setup may start; False when it already answered. (Blocks until it answers.)"""
        assert self.server is not None
        started = self.server.start()
        self._started = self._started or started
        return started

    def stop_server(self) -> bool:
        """Stop the server, if this keeper started it; False when it did not (it is left running)."""
        if not self._started or self.server is None:
            return False
        self.server.stop()
        self._started = False
        return True

    # -- closing -------------------------------------------------------------------------------------

    def close(self) -> None:
        """The app quits: a live seat is given back (a borrowed one stays), the server the bot started stops."""
        lease = self.lease
        if lease is not None and not lease.borrowed:
            try:
                self.release()
            except LicenseError:
                pass  # an unreturned seat frees itself when its lease ends
        self._stop_heartbeat()
        self.stop_server()
        if self._client is not None:
            self._client.close()
            self._client = None

    def _stop_heartbeat(self) -> None:
        beat, self._heartbeat = self._heartbeat, None
        if beat is not None:
            beat.stop()
