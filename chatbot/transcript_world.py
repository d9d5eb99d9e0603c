"""The world a transcript runs in, and its replay: the clock, the computers, the portal and floating servers.

Each step of a page (:mod:`chatbot.transcript_format`) runs in a fresh, fixed world: a demo vendor in a
temporary folder, a clock that starts at :data:`START`, this computer and the other one, the
vendor's web portal and the demo's floating server on free ports. What changes from run to run
(keys, device ids, paths, ports, fingerprints) is hidden behind placeholders (:class:`_Names`), so a
page replays to the same text. The rules are in :mod:`chatbot.transcript`'s docstring.
"""

from __future__ import annotations

import contextlib
import html
import io
import random
import re
import shlex
import shutil
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from licensing import Configuration, LicenseManager
from licensing.issuing.demo_plan import FLOATING_SITE

from .bot import Bot, DemoContext
from .seats import FloatingSetup
from .transcript_format import (
    CLOCK_STEP,
    PORTAL_STEP,
    UNIT,
    Outcome,
    Step,
    Transcript,
    TranscriptError,
    normalised,
    starts_app,
)

__all__ = ["HARDWARE_IDS", "LOCAL_TZ", "START", "replay"]

START = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
HARDWARE_IDS = {"this": "transcript-device", "other": "other-computer"}
LOCAL_TZ = timezone(timedelta(hours=2))
_A_DAY = 86_400.0


# -- placeholders --------------------------------------------------------------------------------


_DEVICE_ID = re.compile(r"\bdev_[0-9a-f]{16}\b")
_KID = re.compile(r"\b[0-9a-f]{16}\b")  # a vendor's signing key id (device ids are matched first)
_KEY_SHAPE = re.compile(r"\b[A-Z0-9]{4}(?:-[A-Z0-9]{4}){3}\b")
_FINGERPRINT = re.compile(r"\bsha256:[0-9a-f]{64}\b")  # a configuration's fingerprint (export-config prints it)
_PLACEHOLDER = re.compile(r"<([A-Z_]+(?::[\w.-]+)?)>")


def _substitute(pattern: re.Pattern[str], text: str, name_of: Callable[[str], str | None]) -> str:
    """Replace each match of ``pattern`` that ``name_of`` names with its placeholder ``<name>``."""

    def replace(match: re.Match[str]) -> str:
        name = name_of(match.group(0))
        return match.group(0) if name is None else _aligned(match, f"<{name}>")

    return pattern.sub(replace, text)


def _aligned(match: re.Match[str], placeholder: str) -> str:
    """The placeholder, padded to the value's width when it stands in a column of a table."""
    text, start = match.string, match.start()
    before = text[text.rfind("\n", 0, start) + 1:start]
    in_column = not before.strip() or before.endswith("  ")
    if in_column and text.startswith("  ", match.end()):
        return placeholder.ljust(len(match.group(0)))
    return placeholder


class _Names:
    """Volatile values <-> stable placeholders, for one replay."""

    def __init__(self, real_keys: Callable[[], frozenset[str]]) -> None:
        self.values: dict[str, str] = {}  # placeholder name -> value
        self._counts: dict[str, int] = {}
        self._real_keys = real_keys  # the vendor's license keys right now: only those are hidden

    def add(self, name: str, value: str) -> None:
        self.values[name] = value

    def _numbered(self, prefix: str, value: str) -> str:
        """The name of ``value`` among the numbered placeholders ``prefix:1``, ``prefix:2``, …"""
        for name, known in self.values.items():
            if known == value and name.startswith(prefix + ":"):
                return name
        self._counts[prefix] = self._counts.get(prefix, 0) + 1
        name = f"{prefix}:{self._counts[prefix]}"
        self.values[name] = value
        return name

    def hide(self, text: str) -> str:
        """``text`` with every volatile value replaced by its placeholder."""
        for port in ("PORT", "FLOATING_PORT"):
            if port in self.values:
                number = self.values[port]
                text = text.replace(f":{number}", f":<{port}>").replace(f"--port {number}", f"--port <{port}>")
        fixed = {value: name for name, value in self.values.items() if not name.endswith("PORT")}
        if fixed:
            longest_first = "|".join(re.escape(value) for value in sorted(fixed, key=len, reverse=True))
            text = _substitute(re.compile(longest_first), text, fixed.get)
        text = _substitute(_FINGERPRINT, text, lambda value: self._numbered("FINGERPRINT", value))
        text = _substitute(_DEVICE_ID, text, lambda value: self._numbered("DEVICE_ID", value))
        text = _substitute(_KID, text, lambda value: self._numbered("KID", value))
        keys = self._real_keys()
        return _substitute(_KEY_SHAPE, text, lambda value: self._numbered("KEY", value) if value in keys else None)

    def reveal(self, text: str, path: Path, line: int) -> str:
        def value(match: re.Match[str]) -> str:
            if match.group(1) not in self.values:
                raise TranscriptError(path, line, f"unknown placeholder {match.group(0)} (not seen yet in this "
                                                  "transcript)")
            return self.values[match.group(1)]

        return _PLACEHOLDER.sub(value, text)


# -- the world a transcript runs in ---------------------------------------------------------------


class _Clock:
    """The world's clock (settable); a computer's own clock is this plus its offset."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class _Computer:
    name: str
    desktop: Path
    data: Path
    config_path: Path
    offset: timedelta = timedelta(0)
    bot: Bot | None = None
    managers: list[LicenseManager] = field(default_factory=list)


class _WebServer:
    """An ASGI application on 127.0.0.1 at a fixed port, in a thread: the vendor's web application (portal pages
    and JSON API), or the demo's floating server. ``make_app`` builds a fresh application for each start."""

    def __init__(self, make_app: Callable[[], Any]) -> None:
        self._make_app = make_app
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None

    def start(self) -> None:
        import uvicorn

        if self._thread is not None:
            return
        app = self._make_app()
        self._socket = socket.socket()
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", self.port))
        self._server = uvicorn.Server(uvicorn.Config(app, log_level="error", access_log=False, lifespan="on"))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the web server did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        if self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout=15)
        assert self._socket is not None
        self._socket.close()
        self._thread = self._server = self._socket = None


class _FloatingServer:
    """The demo's floating server as the bot starts and stops it (:class:`chatbot.seats.ServerControl`), served in
    a thread on the transcript's clock instead of in a process on the system's: a lease and a borrow are then
    dated on the page's clock, like everything else."""

    def __init__(self, site: Path, clock: _Clock) -> None:
        self.site, self.clock = site, clock
        self._web = _WebServer(self._app)
        self.port = self._web.port
        self.url = self._web.url
        self.command = f"licensing-floating --data {shlex.quote(str(site))} serve --port {self.port}"

    def _app(self) -> Any:
        from licensing.floating.app import create_app
        from licensing.floating.server import FloatingServer
        from licensing.floating.site import FloatingSite

        return create_app(FloatingServer(FloatingSite.open(self.site, clock=self.clock), clock=self.clock))

    def start(self) -> bool:
        if self._web.running:
            return False
        self._web.start()
        return True

    def stop(self) -> None:
        self._web.stop()


class _Replay:
    """Runs the steps of one transcript in ``workdir``: a fresh demo vendor and two computers."""

    def __init__(self, transcript: Transcript, workdir: Path) -> None:
        from licensing.issuing.demo import build_demo
        from licensing.issuing.workspace import VendorWorkspace

        self.transcript = transcript
        self.clock = _Clock(START)
        self.rng = random.Random(1)
        work = workdir.resolve()
        vendor = work / "vendor"
        self.demo_info = build_demo(vendor, clock=self.clock)
        self.workspace = VendorWorkspace.open(vendor, clock=self.clock)
        self.vendor_dir, self.work = vendor, work
        self.names = _Names(self._real_keys)
        self.computers: dict[str, _Computer] = {}
        for name, prefix in (("this", ""), ("other", "OTHER_")):
            folder = work / ("computer" if name == "this" else "other-computer")
            computer = _Computer(name, folder / "desktop", folder / "data", self.demo_info.config_path)
            computer.desktop.mkdir(parents=True)
            self.computers[name] = computer
            self.names.add(f"{prefix}DESKTOP", str(computer.desktop))
            self.names.add(f"{prefix}DATA", str(computer.data))
        self.current = self.computers["this"]
        self.names.add("VENDOR", str(vendor))
        self.names.add("WORK", str(work))
        for label, key, _ in self.demo_info.licenses:
            if label != "user-based":
                self.names.add(f"KEY:{label}", key)
        # the license server, and the portal's pages (always reachable: they are on another computer)
        self.server = _WebServer(self._portal_app) if transcript.uses_server else None
        self.portal = _WebServer(self._portal_app)
        if self.server is not None:
            self.names.add("PORT", str(self.server.port))
        self.floating = _FloatingServer(vendor / FLOATING_SITE, self.clock)  # started when a user asks the bot
        self.names.add("FLOATING_PORT", str(self.floating.port))
        self._client: Any = None

    def _portal_app(self) -> Any:
        from licensing.issuing.portal.app import create_app
        from licensing.issuing.portal.settings import PortalSettings

        return create_app(self.workspace, settings=PortalSettings())

    def close(self) -> None:
        for computer in self.computers.values():
            if computer.bot is not None:
                computer.bot.close()
        self.floating.stop()
        if self.server is not None:
            self.server.stop()
        if self._client is not None:
            self._client.close()
        self.portal.stop()
        for computer in self.computers.values():
            for manager in computer.managers:
                manager.close()
        self.workspace.close()

    def _real_keys(self) -> frozenset[str]:
        from sqlalchemy import select

        from licensing.issuing.models import License

        with self.workspace.store.session(readonly=True) as session:
            return frozenset(key for key in session.scalars(select(License.key)) if key)

    def _reveal(self, step: Step, text: str) -> str:
        return self.names.reveal(text, self.transcript.path, step.line)

    def _fail(self, step: Step, message: str) -> TranscriptError:
        return TranscriptError(self.transcript.path, step.line, message)

    # -- steps ---------------------------------------------------------------------------------

    def run(self, step: Step) -> Outcome:
        actual = getattr(self, f"_{step.kind}")(step)
        if actual is None:
            return Outcome(step, None)
        return Outcome(step, normalised(self.names.hide(actual).split("\n")))

    def _you(self, step: Step) -> str:
        bot = self.current.bot
        if bot is None:
            raise self._fail(step, "the app is not running here: add **Device:** start the app before this line")
        line = self._reveal(step, step.text)
        try:  # the bot runs with debug=True: a crash is never recorded as an answer
            return bot.handle(line).text
        except Exception as exc:
            raise self._fail(step, f"the chatbot crashed: {type(exc).__name__}: {exc}") from exc

    def _device(self, step: Step) -> str | None:
        action = self._reveal(step, step.text)
        computer = self.current
        if starts_app(action):
            configured = re.fullmatch(r"restart the app with the configuration (\S+)", action)
            if configured:
                computer.config_path = Path(configured.group(1))
            return self._start_app(computer).greeting().text
        if match := re.fullmatch(r"delete (\S+)", action):
            try:
                Path(match.group(1)).unlink()
            except FileNotFoundError:
                raise self._fail(step, f"there is no file {step.text.split(' ', 1)[1]} to delete") from None
        elif match := re.fullmatch(r"copy (\S+) to (\S+)", action):
            try:
                shutil.copyfile(match.group(1), match.group(2))
            except OSError as exc:
                raise self._fail(step, f"the copy failed: {exc.strerror}") from None
        elif match := re.fullmatch(rf"turn the clock back {UNIT}", action):
            computer.offset -= _delta(match)
        elif action == "set the clock right":
            computer.offset = timedelta(0)
        elif action == "switch to the other computer":
            self.current = self.computers["other"]
        elif action == "switch back to this computer":
            self.current = self.computers["this"]
        return None

    def _start_app(self, computer: _Computer) -> Bot:
        overrides: dict[str, Any] = {
            "data_dir": computer.data, "request_dir": computer.desktop,
            "trace_dir": computer.data.parent / "trace",  # the SDK's second trace: this run's, not the user's
            "hardware_id": HARDWARE_IDS[computer.name],
            "clock": lambda: self.clock() + computer.offset,
        }
        if self.server is not None:
            overrides["server_url"] = self.server.url
        if computer.bot is not None:
            computer.bot.close()  # the app that quits gives its seat back
        manager = LicenseManager(Configuration.from_file(computer.config_path, **overrides))
        computer.managers.append(manager)
        # derived from the fixed raw id and the product, but how is the SDK's business: shown as a placeholder
        self.names.add("HARDWARE_ID" if computer.name == "this" else "OTHER_HARDWARE_ID", manager.hardware_id)
        # The pages show the command as a reader with the project's tools on PATH would type it.
        demo = DemoContext(self.vendor_dir, tuple(self.demo_info.licenses), portal_program="licensing-portal")
        # The heartbeat beats on the real clock, a third of a lease apart; the page's clock stands still
        # between steps, so a replay shows no heartbeat at all (one a day never comes).
        floating = FloatingSetup(server=self.floating, client_name=f"you@{HARDWARE_IDS[computer.name]}",
                                 heartbeat=_A_DAY)
        computer.bot = Bot(manager, demo=demo, rng=self.rng, local_tz=LOCAL_TZ, debug=True, floating=floating)
        return computer.bot

    def _clock(self, step: Step) -> None:
        match = CLOCK_STEP.fullmatch(step.text)
        assert match is not None
        self.clock.now += _delta(match)

    def _server(self, step: Step) -> None:
        assert self.server is not None
        if step.text == "start":
            self.server.start()
        else:
            self.server.stop()
        for computer in self.computers.values():
            for manager in computer.managers:
                # The SDK reuses an is_online() answer for a few seconds; a person takes longer than
                # that to notice the server, so forget it.
                manager.is_online(fresh=True)

    def _vendor(self, step: Step) -> str:
        from licensing.issuing import cli

        argv = shlex.split(self._reveal(step, step.text))[1:]
        out, err = io.StringIO(), io.StringIO()
        # The transcript's vendor lives on the fixed clock, not the system's.
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), contextlib.chdir(self.work):
            status = cli.main(argv, clock=self.clock)
        text = out.getvalue() + err.getvalue()
        return text + (f"(exit status {status})" if status else "")

    def _portal(self, step: Step) -> str:
        match = PORTAL_STEP.fullmatch(self._reveal(step, step.text))
        assert match is not None
        source, page = Path(match.group(1)), match.group(2)
        if not source.is_file():
            raise self._fail(step, f"there is no file {step.text.split()[1]} to upload")
        client = self._portal_client()
        answer = client.post(page, files={"file": (source.name, source.read_bytes(), "application/octet-stream")},
                             headers={"Accept": "text/html"})
        summary = _page_summary(answer.text)
        saved = re.search(r'<form method="post" action="/download" class="download">\s*'
                          r'<input type="hidden" name="file" value="([^"]*)"', answer.text)
        if saved is not None:  # the "Download ls_activation.lic" button, as a browser sends it
            download = client.post("/download", data={"file": html.unescape(saved.group(1))})
            if download.status_code != 200:
                raise self._fail(step, f"the portal's download button failed (HTTP {download.status_code})")
            name = re.search(r'filename="?([^";]+)"?', download.headers.get("content-disposition", ""))
            target = source.parent / (name.group(1) if name else "download")
            target.write_bytes(download.content)
            summary += f"\nDownloaded {target.name} to {target}"
        return summary

    def _portal_client(self) -> Any:
        if self._client is None:
            import httpx

            self.portal.start()
            self._client = httpx.Client(base_url=self.portal.url, timeout=30, trust_env=False)
        return self._client


def _delta(match: re.Match[str]) -> timedelta:
    unit = match.group(2).rstrip("s") + "s"
    return timedelta(**{unit: int(match.group(1))})


def _text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def _page_summary(page: str) -> str:
    """What a person reads on a portal page: its heading and result, or the refusal."""
    lines = []
    error = re.search(r'<section class="error".*?</section>', page, re.DOTALL)
    if error is not None:
        heading = re.search(r"<h2[^>]*>(.*?)</h2>", error.group(0), re.DOTALL)
        lines.append(f"Refused: {_text(heading.group(1)) if heading else ''}")
        lines += [_text(p) for p in re.findall(r"<p[^>]*>(.*?)</p>", error.group(0), re.DOTALL)]
        return "\n".join(lines)
    heading = re.search(r"<h1>(.*?)</h1>", page, re.DOTALL)
    status = re.search(r'<p class="success"[^>]*>(.*?)</p>', page, re.DOTALL)
    lines.append(_text(heading.group(1)) if heading else "(no heading)")
    if status:
        lines.append(_text(status.group(1)))
    facts = re.search(r'<dl class="facts">(.*?)</dl>', page, re.DOTALL)
    if facts:
        for term, value in re.findall(r"<dt>(.*?)</dt>\s*<dd>(.*?)</dd>", facts.group(1), re.DOTALL):
            lines.append(f"  {_text(term)}: {_text(value)}")
    return "\n".join(lines)


def replay(transcript: Transcript, workdir: Path) -> list[Outcome]:
    """Run every step of ``transcript`` in ``workdir`` (an empty folder); one outcome per step."""
    world = _Replay(transcript, Path(workdir))
    try:
        return [world.run(step) for step in transcript.steps]
    finally:
        world.close()
