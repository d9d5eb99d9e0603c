"""The handlers of floating seats: take, give back, borrow and return a seat, list the seats, and start or stop
the demo's floating server (see :mod:`chatbot.handlers`)."""

from __future__ import annotations

from datetime import timedelta

from licensing import (
    FloatingServerUnreachableError,
    Lease,
    LicenseError,
)
from licensing.wire import (
    format_span,
)

from . import wording
from .dialogue import Turn
from .explain import (
    md_code,
    md_escape,
)
from .handlers_base import HandlerBase
from .replies import Reply
from .seats import FLOATING_SERVER_ENV

__all__ = ["SeatHandlers"]


class SeatHandlers(HandlerBase):
    """Floating seats from the floating server at the site."""

    # -- floating seats ----------------------------------------------------------------------------

    def _without_floating_server(self, turn: Turn) -> Reply | None:
        """The reply when no floating server is set up for this app (None when one is)."""
        if self.seats.url is not None:
            return None
        return Reply("No floating server is set up for this app, so there are no seats to take. A floating "
                     "license's seats come from a license server on your site's network (`licensing-floating`): ask "
                     "your administrator for its address, then start me with `chatbot --floating-server "
                     f"http://HOST:8470` (or set `{FLOATING_SERVER_ENV}`).", turn.name, False, ("help",),
                     data={"code": "no_floating_server"})

    def _request_seat(self, turn: Turn) -> Reply:
        missing = self._without_floating_server(turn)
        if missing is not None:
            return missing
        before = self.seats.lease
        holding = before is not None and before.check_status().first_error is None
        try:
            lease = self.seats.take()
        except FloatingServerUnreachableError as error:
            if before is None or not holding:
                raise
            self._note_problem(self._explain(error))
            return Reply(f"You already hold a seat: {wording.seat(before)}, {wording.seat_ends(before)}. The floating "
                         f"server at {md_code(before.server_url)} does not answer, so I could not renew it: it keeps "
                         "working until then, and the heartbeat renews it as soon as the server is back.", turn.name,
                         True, ("why?", "am I licensed?"), data={"seat": before.slot + 1, "code": error.code})
        if lease.borrowed:
            return Reply(f"You already have a seat: {wording.seat(lease)}, **{wording.seat_ends(lease)}**, so it works "
                         "on this computer without the floating server until then. Say **return the borrowed seat** "
                         "to give it back early.", turn.name, True, ("return the borrowed seat", "tell me a joke"),
                         data={"seat": lease.slot + 1, "borrowed": True})
        lead = ("You already hold a seat, so I renewed it" if holding else
                "**You have a seat again**" if before is not None else "**You have a seat**")
        text = (f"{lead}: {wording.seat(lease)} from the floating server at {md_code(lease.server_url)}, "
                f"{wording.seat_ends(lease)}. I renew it in the background (the heartbeat) while this chat holds "
                "it, and give it back when you quit or say **release my seat**; if the server stops answering, it "
                "keeps working until its lease runs out.\n\n" + self._seat_report(lease))
        return Reply(text, turn.name, True, ("tell me a joke", "how many seats are free?", "release my seat"),
                     data={"seat": lease.slot + 1, "borrowed": False})

    def _release_seat(self, turn: Turn) -> Reply:
        lease = self.seats.lease
        if lease is None:
            activation = (" To free this device's activation instead, say **deactivate offline**."
                          if self.held_license() is not None else "")
            return Reply(f"You hold no floating seat, so there is none to give back.{activation}", turn.name, True,
                         ("how many seats are free?",))
        if lease.borrowed:
            return self._return_borrowed_seat(turn)
        where, slot = md_code(lease.server_url), wording.seat(lease)
        if self.seats.release():
            text = (f"**Seat given back.** The floating server at {where} has {slot} free for someone else now. The "
                    "skills stop here until you take a seat again.")
        else:
            text = (f"**Seat given back here**, but the floating server at {where} did not answer, so it frees the "
                    f"seat itself when the lease runs out (within {format_span(_lease_seconds(lease))}).")
        return Reply(text, turn.name, True, ("get a seat",))

    def _borrow_seat(self, turn: Turn) -> Reply:
        missing = self._without_floating_server(turn)
        if missing is not None:
            return missing
        seconds = turn.slots.get("duration")
        if not isinstance(seconds, int):
            return self.ask("duration", turn, "For how long should I borrow the seat? Say for example **3 days**.",
                            ("3 days", "1 week"))
        lease = self.seats.borrow(timedelta(seconds=seconds))
        return Reply(f"**Seat borrowed until {wording.at_time(lease.expires)}** ({wording.seat(lease)} of the floating "
                     f"server at {md_code(lease.server_url)}). It works on this computer without the floating server "
                     "until then, also after the app restarts, and counts as taken at the server. Say **return the "
                     "borrowed seat** to give it back early (the server must answer then).", turn.name, True,
                     ("tell me a joke", "return the borrowed seat"), data={"seat": lease.slot + 1, "borrowed": True})

    def _return_borrowed_seat(self, turn: Turn) -> Reply:
        missing = self._without_floating_server(turn)
        if missing is not None:
            return missing
        lease = self.seats.borrowed()
        if lease is None:
            live = " Your seat is a live one: say **release my seat** to give it back." if self.seats.lease else ""
            return Reply(f"This computer has no borrowed seat to give back.{live}", turn.name, True,
                         ("how many seats are free?",))
        return self.ask("confirm", turn, f"Give back {wording.seat(lease)}, borrowed until "
                                          f"{wording.at_time(lease.expires)}, now? It stops working on this computer "
                                          "at once, and the floating server can hand it to someone else.\n\n"
                                          "Say **yes** to give it back, or **no** to keep it.", ("yes", "no"))

    def _return_now(self, turn: Turn) -> Reply:
        where = md_code(self.seats.url or "")
        if self.seats.return_borrowed():
            return Reply(f"**Borrowed seat given back.** The floating server at {where} has it free for someone "
                         "else, and it no longer works here: say **get a seat** to take one.", turn.name, True,
                         ("get a seat",))
        return Reply(f"**Borrowed seat given back here.** The floating server at {where} did not confirm it, so I tell "
                     "it with the next request; the seat no longer works here either way.", turn.name, True,
                     ("get a seat",))

    def _list_seats(self, turn: Turn) -> Reply:
        missing = self._without_floating_server(turn)
        if missing is not None:
            return missing
        report = self.seats.seats()
        rows = "".join(f"\n| {holder.slot + 1} | {md_escape(holder.client)}{' (you)' if holder.yours else ''} | "
                       f"{'borrowed' if holder.borrowed else 'lease'} until {wording.at_time(holder.expires)} |"
                       for holder in sorted(report.holders, key=lambda h: h.slot))
        table = f"\n\n| seat | held by | until |\n|---|---|---|{rows}" if rows else ""
        mine = any(holder.yours for holder in report.holders)
        next_step = "" if mine else " Say **get a seat** to take one." if report.free else \
            " Every seat is taken: one frees up when its holder gives it back or its lease runs out."
        return Reply(f"**{report.free} of {wording.plural(report.total, 'seat')} free** on the floating server at "
                     f"{md_code(report.server_url)}.{table}{next_step}", turn.name, True,
                     ("release my seat",) if mine else ("get a seat",),
                     data={"free": report.free, "total": report.total})

    def _start_floating_server(self, turn: Turn) -> Reply:
        server = self.seats.server
        if server is None:
            where = f"at {md_code(self.seats.url)} " if self.seats.url else ""
            return Reply(f"I can start only the demo vendor's own floating server. The floating server {where}runs on "
                         "your site's network: your administrator starts it (`licensing-floating --data FOLDER "
                         "serve`).", turn.name, False, ("how many seats are free?",))
        try:
            started = self.seats.start_server()
        except LicenseError as error:  # the launcher's ConfigurationError carries the server's log
            log = [line for line in error.message.splitlines() if line.strip()]
            return Reply(f"**The floating server did not start.** {md_escape(log[0])}\n\nIts last words: "
                         f"{md_code(log[-1], limit=4096)}\n\nStart it by hand to see more: "
                         f"{md_code(server.command, limit=4096)}.", turn.name, False, ("help",),
                         data={"code": error.code})
        if not started:
            return Reply(f"The floating server at {md_code(server.url)} is already running. Say **get a seat**.",
                         turn.name, True, ("get a seat", "how many seats are free?"))
        return Reply(f"**The demo's floating server is running** at {md_code(server.url)}, in its own process — as an "
                     f"administrator would run it: {md_code(server.command, limit=4096)}. It serves the seats of the "
                     "demo's floating license until you stop it or quit this chat. Say **get a seat**.", turn.name,
                     True, ("get a seat", "how many seats are free?"))

    def _stop_floating_server(self, turn: Turn) -> Reply:
        server = self.seats.server
        if server is None or not self.seats.stop_server():
            where = md_code(self.seats.url) if self.seats.url else "your site"
            return Reply(f"I did not start the floating server at {where}, so I leave it running: it is stopped where "
                         "it runs (ctrl+c in its terminal).", turn.name, False, ("how many seats are free?",))
        lease = self.seats.lease
        if lease is None:
            after = ""
        elif lease.borrowed:
            after = f" Your borrowed seat needs no server: it keeps working until {wording.at_time(lease.expires)}."
        else:
            after = (f" Your seat keeps working until its lease runs out, {wording.seat_ends(lease)} at the latest; "
                     "then the skills stop until the server answers again and you take a seat.")
        return Reply(f"**The floating server is stopped.**{after}", turn.name, True,
                     ("am I licensed?", "start the floating server"))


def _lease_seconds(lease: Lease) -> int:
    terms = lease.terms.floating
    return terms.lease_seconds if terms is not None else 0
