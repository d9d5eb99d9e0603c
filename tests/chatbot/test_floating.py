"""The chatbot's floating seats, against a real floating server on 127.0.0.1.

Most conversations run against ``licensing-floating serve`` as its own process (the system clock,
as on a site); where time has to pass, the server runs in a thread of the test on a settable clock
(``FloatingLab.serving``). Every bot is closed at the end, as a shell closes it when it quits.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from chatbot.bootstrap import create_bot
from chatbot.bot import Bot, Reply
from chatbot.intents import parse
from chatbot.seats import FLOATING_SERVER_ENV, DemoFloatingServer, FloatingSetup
from licensing import LicenseManager
from licensing.floating.launcher import RunningServer, free_port, start_server
from licensing.wire import system_clock

from support.floating import FloatingLab
from support.lab import FakeClock

Bots = Callable[..., Bot]


@pytest.fixture
def site(tmp_path: Path) -> Iterator[FloatingLab]:
    """A vendor, a floating license of 2 seats (1-minute leases, borrows up to 1 day: jokes and dice only), its
    floating server activated offline, all on the system clock."""
    created = FloatingLab(tmp_path, system_clock, seats=2, lease_seconds=60, max_borrow_seconds=86_400)
    yield created
    created.lab.vendor.close()


@pytest.fixture
def server(site: FloatingLab) -> Iterator[RunningServer]:
    """``licensing-floating serve`` in its own process."""
    with site.process() as running:
        yield running


@pytest.fixture
def bots(site: FloatingLab) -> Iterator[Bots]:
    """Workstations with a bot each (``bots(name, url)``), closed at the end as a quitting app closes them."""
    made: list[Bot] = []

    def make(name: str, url: str | None, *, manager: LicenseManager | None = None, **setup: Any) -> Bot:
        bot = Bot(manager or site.manager(name), rng=random.Random(3), local_tz=timezone.utc, debug=True,
                  floating=FloatingSetup(url=url, client_name=f"user@{name}", **setup))
        made.append(bot)
        return bot

    yield make
    for bot in made:
        bot.close()


def free_seats(site: FloatingLab, url: str) -> int:
    """How many seats are free, asked by a workstation of its own."""
    with site.client(url, "observer") as observer:
        return observer.seats().free


def say(bot: Bot, *lines: str) -> Reply:
    reply = bot.handle(lines[0])
    for line in lines[1:]:
        reply = bot.handle(line)
    return reply


# -- a conversation with a real floating server process ---------------------------------------------


def test_get_a_seat_use_it_list_the_seats_and_give_it_back(site: FloatingLab, server: RunningServer,
                                                            bots: Bots) -> None:
    bot = bots("ws-1", server.url)
    taken = bot.handle("get a seat")
    assert taken.ok and taken.intent == "request_seat" and taken.data == {"seat": 1, "borrowed": False}, taken.text
    assert f"seat 1 of 2 from the floating server at `{server.url}`" in taken.text
    assert taken.status is not None and taken.status.licensed and taken.status.seat is not None
    assert taken.status.seat.slot == 1 and not taken.status.seat.borrowed and 0 < taken.status.seat.seconds_left <= 60

    # the seat is the license now: its features gate the skills
    assert bot.handle("tell me a joke").ok
    assert bot.handle("roll a d6").ok
    refused = bot.handle("convert 5 km to miles")
    assert not refused.ok and refused.data["code"] == "feature_not_found", refused.text
    assert say(bot, "am I licensed?").data == {"licensed": True, "seat": 1}
    assert bot.handle("list features").data == {"features": ["dice", "jokes"]}

    listed = bot.handle("how many seats are free?")
    assert listed.data == {"free": 1, "total": 2} and "| 1 | user@ws-1 (you) | lease until" in listed.text
    assert free_seats(site, server.url) == 1

    given = bot.handle("release my seat")
    assert given.ok and "**Seat given back.**" in given.text, given.text
    assert given.status is not None and given.status.seat is None
    assert free_seats(site, server.url) == 2
    again = bot.handle("tell me a joke")  # no seat, no license on this computer: refused
    assert not again.ok and again.data["code"] == "no_license"


def test_the_last_seat_taken_means_no_seat_until_one_is_given_back(site: FloatingLab, server: RunningServer,
                                                                    bots: Bots) -> None:
    first, second, third = (bots(name, server.url) for name in ("ws-1", "ws-2", "ws-3"))
    assert first.handle("get a seat").ok and second.handle("grab a floating seat").ok
    refused = third.handle("I need a seat")
    assert not refused.ok and refused.data["code"] == "no_seat_available", refused.text
    assert "**Every seat is taken**" in refused.text and "how many seats are free?" in refused.suggestions
    listed = third.handle("who holds the seats?")
    assert listed.data == {"free": 0, "total": 2}
    assert "user@ws-1" in listed.text and "user@ws-2" in listed.text and "(you)" not in listed.text
    assert "Every seat is taken" in listed.text

    assert second.handle("give my seat back").ok
    assert third.handle("get a seat").ok


def test_asking_again_renews_the_seat_held(server: RunningServer, bots: Bots) -> None:
    bot = bots("ws-1", server.url)
    first = bot.handle("get a seat")
    again = bot.handle("get a seat")
    assert again.text.startswith("You already hold a seat, so I renewed it: seat 1 of 2"), again.text
    assert again.data == first.data


def test_a_seat_is_given_back_when_the_bot_closes(site: FloatingLab, server: RunningServer, bots: Bots) -> None:
    bot = bots("ws-1", server.url)
    assert bot.handle("get a seat").ok
    assert bot.handle("quit").text == "Goodbye! I give your floating seat back as I close."
    assert free_seats(site, server.url) == 1  # quitting is the shell's business: the bot closes after it
    bot.close()
    assert free_seats(site, server.url) == 2
    bot.close()  # twice is harmless


def test_borrow_keep_working_without_the_server_restart_and_return(site: FloatingLab, bots: Bots) -> None:
    port = free_port()
    server = start_server(site.site, port=port)
    try:
        bot = bots("laptop", server.url)
        refused = bot.handle("borrow a seat for 3 days")  # the license allows 1 day at most
        assert not refused.ok and refused.data["code"] == "invalid_argument"
        assert "at most 1 day" in refused.text, refused.text
        asked = bot.handle("borrow a seat")
        assert asked.data.get("awaiting") == "duration" and "For how long" in asked.text
        borrowed = bot.handle("12 hours")
        assert borrowed.ok and borrowed.intent == "borrow_seat" and borrowed.data["borrowed"], borrowed.text
        assert borrowed.status is not None and borrowed.status.seat is not None and borrowed.status.seat.borrowed
        assert free_seats(site, server.url) == 1
    finally:
        server.kill()  # the laptop leaves the site: no server at all

    assert bot.handle("tell me a joke").ok
    restarted = bots("laptop", None)  # a new run, before any server address is known: nothing to find it with
    assert restarted.status().seat is None
    restarted = bots("laptop", server.url)  # the same computer, the app started again
    greeting = restarted.greeting()
    assert "**License:** floating seat 1 of 2 from" in greeting.text and "borrowed until" in greeting.text
    assert restarted.handle("tell me a joke").ok
    assert "**borrowed until" in restarted.handle("do I have a seat?").text

    refused = restarted.handle("return the borrowed seat")  # asked first; the server must answer to take it
    assert refused.data.get("awaiting") == "confirm"
    unreachable = restarted.handle("yes")
    assert not unreachable.ok and unreachable.data["code"] == "floating_server_unreachable"
    assert restarted.handle("tell me a joke").ok  # nothing changed: the seat is still here

    with site.process(port=port):  # back on site
        assert restarted.handle("return the borrowed seat").data.get("awaiting") == "confirm"
        kept = restarted.handle("no")
        assert kept.intent == "cancel" and restarted.handle("tell me a joke").ok
        restarted.handle("give back the borrowed seat")
        returned = restarted.handle("yes")
        assert returned.ok and "**Borrowed seat given back.**" in returned.text, returned.text
        assert free_seats(site, server.url) == 2
        assert restarted.handle("tell me a joke").data["code"] == "no_license"
        assert "no borrowed seat" in restarted.handle("return the borrowed seat").text


def test_release_my_seat_asks_first_when_the_seat_is_borrowed(site: FloatingLab, server: RunningServer,
                                                               bots: Bots) -> None:
    bot = bots("laptop", server.url)
    assert bot.handle("borrow a seat for a day").ok
    asked = bot.handle("release my seat")
    assert asked.data.get("awaiting") == "confirm" and "borrowed until" in asked.text
    assert bot.handle("yes").ok and free_seats(site, server.url) == 2


# -- the server gone -------------------------------------------------------------------------------------


def test_a_live_seat_outlasts_its_server_by_one_lease_then_is_explained(site: FloatingLab, bots: Bots) -> None:
    clock = FakeClock(datetime.now(timezone.utc))  # this workstation's own clock, moved by the test
    with site.process() as server:
        bot = bots("ws-1", server.url, manager=site.manager("ws-1", clock=clock))
        assert bot.handle("get a seat").ok
        server.kill()
        kept = bot.handle("get a seat")  # the seat held is not lost because a renewal could not be sent
        assert kept.ok and kept.text.startswith("You already hold a seat: seat 1 of 2") and "does not answer" in kept.text
        assert bot.handle("am I licensed?").data["licensed"] is True
        assert bot.handle("tell me a joke").ok
        clock.advance(minutes=2)
        gone = bot.handle("am I licensed?")
        assert gone.data == {"licensed": False, "code": "lease_expired", "check": "lease"}, gone.text
        assert server.url in gone.text  # the error names the server, and the fix
        assert not bot.handle("tell me a joke").ok
        status = bot.status()
        assert not status.licensed and status.problem_code == "lease_expired" and status.seat is not None
        why = bot.handle("why?")
        assert "lease_expired" in why.text


def test_the_heartbeat_keeps_the_seat_and_takes_it_again_after_the_server_is_back(site: FloatingLab,
                                                                                  bots: Bots) -> None:
    port = free_port()
    with site.process(port=port) as server:
        bot = bots("ws-1", server.url, heartbeat=0.2)
        assert bot.handle("get a seat").ok
        beat = bot.handlers.seats._heartbeat
        assert beat is not None
        _wait(lambda: beat.renewals >= 2, "two heartbeats")
        server.kill()
        _wait(bot.handlers.seats.heartbeat_failing, "the heartbeat to notice the server is gone")
        assert bot.seat_status() is not None and bot.seat_status().seat.heartbeat_failing  # type: ignore[union-attr]
    with site.process(port=port):
        _wait(lambda: not bot.handlers.seats.heartbeat_failing(), "the heartbeat to reach the server again")
        assert free_seats(site, server.url) == 1


def _wait(condition: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


# -- the demo's floating server, started and stopped by the bot -------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from licensing.issuing.demo import build_demo

    yield build_demo(tmp_path_factory.mktemp("demo") / "vendor")


def test_the_bot_starts_the_demos_floating_server_and_stops_it_when_it_closes(demo: Any, tmp_path: Path) -> None:
    from licensing import Configuration

    control = DemoFloatingServer(demo.floating_site, free_port())
    manager = LicenseManager(Configuration.from_file(demo.config_path, data_dir=tmp_path / "data",
                                                     hardware_id="demo-workstation"))
    bot = Bot(manager, floating=FloatingSetup(server=control), debug=True)
    try:
        assert bot.handle("get a seat").data["code"] == "floating_server_unreachable"
        assert "start the floating server" in bot.handle("get a seat").suggestions
        started = bot.handle("start the floating server")
        assert started.ok and "**The demo's floating server is running**" in started.text, started.text
        assert f"serve --port {control.port}" in started.text and control.answers()
        assert "already running" in bot.handle("launch the floating server").text
        taken = bot.handle("get a seat")
        assert taken.ok and "seat 1 of 4" in taken.text and "borrowing up to 7 days" in taken.text
        assert "floating server is stopped" in bot.handle("stop the floating server").text
        assert not control.answers()
        assert bot.handle("am I licensed?").data["licensed"] is True  # the lease outlasts its server
        bot.handle("start the floating server")
    finally:
        bot.close()
    assert not control.answers()  # the server the bot started stops with it


def test_a_server_the_bot_did_not_start_is_left_running(demo: Any, tmp_path: Path) -> None:
    from licensing import Configuration

    port = free_port()
    with start_server(demo.floating_site, port=port):
        control = DemoFloatingServer(demo.floating_site, port)
        manager = LicenseManager(Configuration.from_file(demo.config_path, data_dir=tmp_path / "data"))
        bot = Bot(manager, floating=FloatingSetup(server=control))
        assert "already running" in bot.handle("start the floating server").text
        refused = bot.handle("stop the floating server")
        assert not refused.ok and "I did not start the floating server" in refused.text
        bot.close()
        assert control.answers()


# -- where the floating server comes from -------------------------------------------------------------------


def test_without_a_floating_server_the_bot_says_how_to_name_one(bots: Bots) -> None:
    bot = bots("ws-1", None)
    for line in ("get a seat", "borrow a seat for 3 days", "how many seats are free?"):
        reply = bot.handle(line)
        assert not reply.ok and reply.data["code"] == "no_floating_server", line
        assert "--floating-server" in reply.text and FLOATING_SERVER_ENV in reply.text
    assert not bot.handle("start the floating server").ok  # only the demo's can be started
    assert bot.handle("release my seat").text.startswith("You hold no floating seat")
    assert "no floating server is set up" in bot.handle("do I have a seat?").text


def test_the_setting_and_the_demo_default(site: FloatingLab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          demo: Any) -> None:
    config = site.config_file
    monkeypatch.delenv(FLOATING_SERVER_ENV, raising=False)
    assert create_bot(config, data_dir=tmp_path / "a").handlers.seats.url is None
    monkeypatch.setenv(FLOATING_SERVER_ENV, "http://licenses.example.lan:8470")
    assert create_bot(config, data_dir=tmp_path / "b").handlers.seats.url == "http://licenses.example.lan:8470"
    explicit = create_bot(config, data_dir=tmp_path / "c", floating_url="http://other.lan:9000")
    assert explicit.handlers.seats.url == "http://other.lan:9000"
    monkeypatch.delenv(FLOATING_SERVER_ENV)
    on_demo = create_bot(data_dir=tmp_path / "d")  # builds the demo vendor (a child process)
    seats = on_demo.handlers.seats
    assert seats.url == "http://127.0.0.1:8470" and seats.server is not None
    assert seats.server.command.endswith("floating-server serve --port 8470")
    reply = on_demo.handle("which keys can I use?")
    assert "| floating |" in reply.text
    picked = on_demo.handle("the floating one")
    assert "start the floating server" in picked.text and "activate offline" not in picked.text


# -- questions are answered, never run ------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "can I borrow a seat?", "how do I get a seat?", "how do I return a borrowed seat?",
    "what happens if I release my seat?", "should I start the floating server?", "what does borrowing a seat do?",
    "can you explain how to give my seat back?", "how do I stop the floating server?",
    "what happens if the floating server goes down?", "is it possible to borrow a seat for a week?",
])
def test_a_question_about_seats_is_answered_and_nothing_changes(site: FloatingLab, bots: Bots, text: str) -> None:
    parsed = parse(text)
    assert parsed.name in ("help", "license_status"), parsed
    clock = site.clock
    with site.serving(clock=clock) as url:
        bot = bots("ws-1", url)
        assert bot.handle("borrow a seat for 12 hours").ok
        reply = bot.handle(text)
        assert reply.intent in ("help", "license_status"), (text, reply.intent)
        assert reply.data.get("awaiting") is None and "yes** to" not in reply.text
        assert free_seats(site, url) == 1 and bot.handlers.seats.lease is not None
        assert bot.handlers.seats.lease.borrowed and not bot.handlers.seats.started_server


def test_a_question_about_the_seats_themselves_is_answered_from_the_server(site: FloatingLab, bots: Bots) -> None:
    with site.serving() as url:
        bot = bots("ws-1", url)
        for text in ("how many seats are free?", "are any seats free?", "is the floating server running?"):
            reply = bot.handle(text)
            assert reply.intent == "list_seats" and reply.data == {"free": 2, "total": 2}, text
        assert bot.handlers.seats.lease is None


# -- the shells: status bar, status line, closing ---------------------------------------------------------


async def test_the_status_bar_counts_the_seat_down_and_the_app_gives_it_back_when_it_quits(
        site: FloatingLab, server: RunningServer, bots: Bots, tmp_path: Path) -> None:
    from test_tui import SIZE, settle, type_line, wait_until

    from chatbot.tui.app import ChatApp

    bot = bots("ws-1", server.url)
    app = ChatApp(bot, history_path=tmp_path / "history", cursor_blink=False)
    where = server.url.split("://", 1)[1]
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert app.status_bar.text.startswith("○ Not licensed (no_license)")
        await type_line(pilot, "get a seat")
        shown = app.status_bar.text
        assert re.fullmatch(rf"● Licensed · floating seat 1 of 2 · lease \d+ s left · {re.escape(where)}", shown), shown
        assert app.status_bar.has_class("licensed")
        # nobody types: the time left still counts down
        await wait_until(pilot, lambda: app.status_bar.text != shown, "the time left to move on", timeout=5)
        assert re.fullmatch(r"● Licensed · floating seat 1 of 2 · lease \d+ s left · .*", app.status_bar.text)
        assert free_seats(site, server.url) == 1
        await pilot.press("ctrl+q")
    assert free_seats(site, server.url) == 2  # the app gave its seat back as it closed


async def test_a_borrowed_seat_shows_its_end_and_stays_when_the_app_quits(
        site: FloatingLab, server: RunningServer, bots: Bots, tmp_path: Path) -> None:
    from test_tui import SIZE, settle, type_line

    from chatbot.tui.app import ChatApp

    bot = bots("laptop", server.url)
    app = ChatApp(bot, history_path=tmp_path / "history", cursor_blink=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await type_line(pilot, "borrow a seat for 12 hours")
        assert re.fullmatch(r"● Licensed · floating seat 1 of 2 · borrowed until \d{4}-\d\d-\d\d \d\d:\d\d UTC · .*",
                            app.status_bar.text), app.status_bar.text
        await pilot.press("ctrl+q")
    assert free_seats(site, server.url) == 1


def test_the_plain_status_line_shows_the_seat(server: RunningServer, bots: Bots, tmp_path: Path) -> None:
    from test_repl import repl

    bot = bots("ws-1", server.url)
    status, out = repl(bot, "get a seat\nrelease my seat\n\x04", tmp_path / "history")
    assert status == 0
    lines = [line for line in out.splitlines() if line.startswith("[status] ")]
    assert lines[0] == "[status] ○ Not licensed (no_license) · offline"
    assert re.fullmatch(r"\[status\] ● Licensed · floating seat 1 of 2 · lease \d+ s left · 127\.0\.0\.1:\d+", lines[1])
    assert lines[2] == lines[0]


def test_a_piped_session_gives_its_seat_back_when_it_ends(site: FloatingLab, server: RunningServer,
                                                          tmp_path: Path) -> None:
    from test_repl import chatbot

    from support.lab import isolated_home

    env = dict(isolated_home(tmp_path, "piped-workstation"), CHATBOT_DATA_DIR=str(tmp_path / "chatbot-data"))
    result = chatbot("get a seat\nhow many seats are free?\ntell me a joke\n", env, "--config", str(site.config_file),
                     "--floating-server", server.url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "**You have a seat**: seat 1 of 2" in result.stdout and "**1 of 2 seats free**" in result.stdout
    assert free_seats(site, server.url) == 2


def test_the_status_line_words_a_seat() -> None:
    from chatbot.replies import LicenseStatus, SeatStatus
    from chatbot.tui.common import format_status

    ends = datetime(2026, 6, 4, 12, 0, tzinfo=timezone.utc)
    live = SeatStatus("http://127.0.0.1:8470", 2, 4, False, ends, 52.9)
    assert format_status(LicenseStatus(True, "floating", ends, None, None, None, "x", None, live)) == \
        "● Licensed · floating seat 2 of 4 · lease 52 s left · 127.0.0.1:8470"
    long = SeatStatus("https://licenses.lan", 1, 9, False, ends, 754.0, heartbeat_failing=True)
    assert format_status(LicenseStatus(True, "floating", ends, None, None, None, "x", None, long)) == \
        "● Licensed · floating seat 1 of 9 · lease 12 min left · heartbeat failing · licenses.lan"
    assert format_status(LicenseStatus(False, "floating", ends, None, None, None, "x", "lease_expired", live)) == \
        "○ Not licensed (lease_expired) · floating seat 2 of 4 · lease ended · 127.0.0.1:8470"
    borrowed = SeatStatus("http://127.0.0.1:8470", 1, 4, True, ends, 3 * 86_400.0)
    assert format_status(LicenseStatus(True, "floating", ends, None, None, None, "x", None, borrowed)) == \
        "● Licensed · floating seat 1 of 4 · borrowed until 2026-06-04 12:00 UTC · 127.0.0.1:8470"


def test_a_demo_server_that_cannot_start_is_explained_with_its_log(demo: Any, tmp_path: Path) -> None:
    import socket

    from licensing import Configuration

    with socket.socket() as squatter:  # another program holds the port: it accepts, and never answers
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        control = DemoFloatingServer(demo.floating_site, squatter.getsockname()[1])
        manager = LicenseManager(Configuration.from_file(demo.config_path, data_dir=tmp_path / "data"))
        bot = Bot(manager, floating=FloatingSetup(server=control))
        try:
            reply = bot.handle("start the floating server")
        finally:
            bot.close()
    assert not reply.ok and reply.text.startswith("**The floating server did not start.**"), reply.text
    assert "address already in use" in reply.text.lower() and control.command in reply.text


def test_the_borrow_period_is_asked_for_and_another_line_drops_the_question(server: RunningServer,
                                                                            bots: Bots) -> None:
    bot = bots("laptop", server.url)
    assert bot.handle("borrow a seat").data.get("awaiting") == "duration"
    assert bot.handle("tell me a joke").data["code"] == "no_license"  # not an answer: the line runs as itself
    assert bot.handle("3 days").intent != "borrow_seat"
    assert bot.handle("borrow a seat").data.get("awaiting") == "duration"
    assert bot.handle("no").intent == "cancel" and bot.handlers.seats.lease is None
