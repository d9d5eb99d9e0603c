"""Transcripts: the tutorial's conversations as Markdown pages that the test suite replays.

Each file in ``transcripts/`` is one scenario of the tutorial, written for a newcomer who reads
it top to bottom: what the user types, what the chatbot answers, and what the vendor does on
the other side (a ``licensing-portal`` command, or a file uploaded at the portal). The replayer
runs every step against a fresh demo vendor in a temporary folder and compares what happened
with what the page says, so the tutorial cannot drift away from the product.

The format
==========

A line that starts with a bold label is a *step*; every other line is prose, left alone by the
replayer (so prose must not start a line with ``**Word:**``; write ``*Note:*`` instead).

``**You:** TEXT``
    The user types TEXT (after placeholders are replaced, see below). The chatbot's reply
    follows: a line ``**Bot:**``, then the exact reply as a Markdown blockquote (``> `` lines).
``**Vendor:**``
    Followed by a fenced ``sh`` block with one ``licensing-portal …`` command, run in-process
    through :func:`licensing.issuing.cli.main`, then a fenced ``text`` block with what it printed
    (standard output, then standard error, then ``(exit status N)`` when N is not 0).
``**Portal:** upload PATH at /activate`` (or ``/deactivate``)
    PATH is uploaded on that page of the Offline Licensing Portal (the real web application,
    served over HTTP on 127.0.0.1 from a thread). A fenced ``text`` block sums up the page a
    browser shows: the result and its facts, or the refusal (message, what to do next, error
    code). A file the page hands out (``ls_activation.lic``) is downloaded next to the uploaded
    file, as a person would save it.
``**Device:** ACTION``
    Something done on the user's computer. ACTION is one of:

    * ``start the app``, ``restart the app`` — a new LicenseManager and a new Bot: nothing is
      left in memory. The greeting follows as a ``**Bot:**`` block.
    * ``restart the app with the configuration PATH`` — the same, with another configuration
      file (as exported by ``licensing-portal product export-config``).
    * ``delete PATH``, ``copy PATH to PATH`` — files changed behind the app's back.
    * ``turn the clock back N days`` (or ``hours``, ``minutes``), ``set the clock right`` —
      this computer's clock only; the vendor's clock is not touched.
    * ``switch to the other computer``, ``switch back to this computer`` — a second computer
      with its own folders (``<OTHER_DESKTOP>``, ``<OTHER_DATA>``) and its own app.
``**Clock:** +N days`` (or ``hours``, ``minutes``)
    Time passes for everyone: the vendor and every computer.
``**Server:** start``, ``**Server:** stop``
    The vendor's license server (the portal's JSON API over HTTP on ``127.0.0.1:<PORT>``). A
    transcript that has these steps runs the app with ``server_url`` set to it (the hybrid
    routes); the others run without a server, like the demo.

Placeholders
============

Outputs hold placeholders instead of what changes from run to run, and steps may use them too
(they are replaced before a line is typed or a command runs): ``<WORK>`` (the temporary
folder), ``<DESKTOP>`` (where request and response files go), ``<DATA>`` (the SDK's data
folder), ``<VENDOR>`` (the demo vendor's folder), ``<OTHER_DESKTOP>`` and ``<OTHER_DATA>`` (the
other computer's), ``<PORT>`` (the license server's port), ``<KEY:perpetual>``,
``<KEY:consumption>``, … (the demo licenses' keys by label), ``<KEY:1>``, ``<KEY:2>``, … (other
keys of this vendor, numbered as they first appear), ``<DEVICE_ID:1>``, ``<DEVICE_ID:2>``, …
(vendor device ids, numbered as they first appear), ``<HARDWARE_ID>`` and ``<OTHER_HARDWARE_ID>`` (the
hardware id each computer's SDK derives from its fixed raw id), ``<KID:1>``, … (signing key ids) and
``<FINGERPRINT:1>``, … (configuration fingerprints). Only keys the vendor really issued are
hidden: a made-up key typed by the user stays as it is.

Everything else is fixed: the clock starts at 2026-06-01 12:00 UTC (:data:`START`), this
computer's hardware id is ``transcript-device`` (the other's ``other-computer``), the jokes and
dice use a seeded random generator, and the "local" time zone is UTC+02:00. A transcript runs
against a fresh demo vendor (:func:`licensing.issuing.demo.build_demo`) in a temporary folder,
on that clock; ``licensing-portal`` itself always reads the system clock, so for the length of
a ``**Vendor:**`` step the replayer hands it the transcript's clock instead.

Command line
============

``python -m chatbot.transcript [--regenerate] [FILE …]`` (default: every transcript) replays
each file; without ``--regenerate`` it prints a unified diff for every file whose recorded
outputs differ from the replay and exits 1, with it it rewrites the outputs in place (the prose
and the steps are kept as they are). Regenerate only after a deliberate change, then read the
diff: the transcripts are the product's tutorial.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import html
import io
import random
import re
import shlex
import shutil
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from licensing import Configuration, LicenseManager

from .bot import Bot, DemoContext

__all__ = ["START", "Outcome", "Step", "Transcript", "TranscriptError", "check", "difference", "main", "parse",
           "regenerate", "render", "replay", "transcript_files"]

START = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
HARDWARE_IDS = {"this": "transcript-device", "other": "other-computer"}
LOCAL_TZ = timezone(timedelta(hours=2))
TRANSCRIPTS_DIR = Path(__file__).resolve().parent.parent / "transcripts"


class TranscriptError(Exception):
    """A transcript that cannot be read or replayed (not a difference in outputs)."""

    def __init__(self, path: Path | str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path, self.line, self.message = path, line, message


# -- the format --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One step of a transcript. ``line`` is 1-based; ``output`` the 0-based [start, end) lines of its
    recorded output block (None when there is none yet); ``expected`` that block's text."""

    kind: str  # you, vendor, portal, device, clock, server
    text: str  # what is typed, the command, or the action
    line: int
    header_end: int  # 0-based index of the first line after the step itself
    output: tuple[int, int] | None = None
    expected: str | None = None

    @property
    def has_output(self) -> bool:
        return self.kind in ("you", "vendor", "portal") or (self.kind == "device" and _starts_app(self.text))

    def output_name(self) -> str:
        """How a report names this step's output: "the reply to 'status'"."""
        what = {"you": "the reply to", "device": "the greeting after", "vendor": "the output of",
                "portal": "the portal's page for"}.get(self.kind, "the output of")
        return f"{what} '{self.text}'"


@dataclass(frozen=True)
class Transcript:
    path: Path
    lines: tuple[str, ...]  # the file, without line ends
    steps: tuple[Step, ...]

    @property
    def uses_server(self) -> bool:
        return any(step.kind == "server" for step in self.steps)


@dataclass(frozen=True)
class Outcome:
    step: Step
    actual: str | None  # what the step printed or answered (placeholders in); None: it has no output

    @property
    def differs(self) -> bool:
        return self.actual is not None and self.actual != self.expected

    @property
    def expected(self) -> str | None:
        return self.step.expected


_LABEL = re.compile(r"^\*\*([A-Za-z][\w ]*?):\*\*\s*(.*)$")
_KINDS = {"You": "you", "Vendor": "vendor", "Portal": "portal", "Device": "device", "Clock": "clock",
          "Server": "server"}
_FENCE = re.compile(r"^(```+|~~~+)\s*(\w*)\s*$")
_UNIT = r"(\d+) (days?|hours?|minutes?)"
_DEVICE_ACTIONS = (
    re.compile(r"(?:re)?start the app"),
    re.compile(r"restart the app with the configuration (\S+)"),
    re.compile(r"delete (\S+)"),
    re.compile(r"copy (\S+) to (\S+)"),
    re.compile(rf"turn the clock back {_UNIT}"),
    re.compile(r"set the clock right"),
    re.compile(r"switch to the other computer"),
    re.compile(r"switch back to this computer"),
)
_CLOCK = re.compile(rf"\+{_UNIT}")
_PORTAL = re.compile(r"upload (\S+) at (/activate|/deactivate)")


def _starts_app(action: str) -> bool:
    return action.startswith(("start the app", "restart the app"))


def parse(path: Path | str) -> Transcript:
    """Read a transcript; a malformed step is a :class:`TranscriptError` naming its line."""
    path = Path(path)
    lines = tuple(path.read_text(encoding="utf-8").splitlines())
    steps: list[Step] = []
    i = 0
    while i < len(lines):
        fence = _FENCE.match(lines[i])
        if fence:  # a code block in the prose: skip it whole
            i = _fence_end(path, lines, i) + 1
            continue
        label = _LABEL.match(lines[i])
        if label is None:
            i += 1
            continue
        name, rest = label.group(1), label.group(2).strip()
        if name == "Bot":
            raise TranscriptError(path, i + 1, "a **Bot:** reply must follow a **You:** turn or "
                                               "**Device:** start/restart the app")
        kind = _KINDS.get(name)
        if kind is None:
            raise TranscriptError(path, i + 1, f"unknown step kind **{name}:** (known: "
                                               f"{', '.join(f'**{k}:**' for k in _KINDS)}, **Bot:**)")
        step, i = _read_step(path, lines, i, kind, rest)
        steps.append(step)
    return Transcript(path, lines, tuple(steps))


def _read_step(path: Path, lines: Sequence[str], i: int, kind: str, rest: str) -> tuple[Step, int]:
    line = i + 1
    if kind == "vendor":
        if rest:
            raise TranscriptError(path, line, "put the command in a ```sh block under **Vendor:**")
        start = _next_content(lines, i + 1)
        fence = _FENCE.match(lines[start]) if start < len(lines) else None
        if fence is None or fence.group(2) != "sh":
            raise TranscriptError(path, line, "**Vendor:** must be followed by a ```sh block with one command")
        end = _fence_end(path, lines, start)
        body = [text_line.rstrip() for text_line in lines[start + 1:end] if text_line.strip()]
        if sum(not text_line.endswith("\\") for text_line in body) != 1:
            raise TranscriptError(path, start + 1, "one command per **Vendor:** step (end a line with \\ to go on)")
        text = " ".join(text_line.removesuffix("\\").strip() for text_line in body)
        if not text.startswith("licensing-portal "):
            raise TranscriptError(path, start + 2, "a **Vendor:** step runs one `licensing-portal …` command")
        header_end = end + 1
    else:
        text = rest
        header_end = i + 1
        if not text:
            raise TranscriptError(path, line, f"**{kind.capitalize()}:** needs something after it")
        patterns = {"device": _DEVICE_ACTIONS, "clock": (_CLOCK,), "portal": (_PORTAL,),
                    "server": (re.compile("start"), re.compile("stop"))}.get(kind)
        if patterns is not None and not any(p.fullmatch(text) for p in patterns):
            raise TranscriptError(path, line, f"unknown {kind} step {text!r} (see the list in "
                                              "chatbot/transcript.py or transcripts/README.md)")
    step = Step(kind, text, line, header_end)
    if not step.has_output:
        return step, header_end
    start = _next_content(lines, header_end)
    if start >= len(lines):
        return step, header_end
    if kind in ("you", "device"):
        if lines[start].strip() != "**Bot:**":
            return step, header_end
        end = start + 1
        while end < len(lines) and lines[end].startswith(">"):
            end += 1
        quoted = [text_line[2:] if text_line.startswith("> ") else text_line[1:] for text_line in lines[start + 1:end]]
        return Step(kind, text, line, header_end, (start, end), _normalised(quoted)), end
    fence = _FENCE.match(lines[start])
    if fence is None or fence.group(2) != "text":
        return step, header_end
    end = _fence_end(path, lines, start)
    return Step(kind, text, line, header_end, (start, end + 1), _normalised(lines[start + 1:end])), end + 1


def _normalised(lines: Sequence[str]) -> str:
    """Output lines compared without trailing spaces (editors strip them) or blank lines around them."""
    return "\n".join(line.rstrip() for line in lines).strip("\n")


def _next_content(lines: Sequence[str], i: int) -> int:
    while i < len(lines) and not lines[i].strip():
        i += 1
    return i


def _fence_end(path: Path, lines: Sequence[str], start: int) -> int:
    fence = _FENCE.match(lines[start])
    assert fence is not None
    for end in range(start + 1, len(lines)):
        if lines[end].strip() == fence.group(1):
            return end
    raise TranscriptError(path, start + 1, f"the code block opened here is never closed ({fence.group(1)})")


def _output_block(step: Step, actual: str) -> list[str]:
    if step.kind in ("you", "device"):
        return ["**Bot:**"] + [f"> {text}".rstrip() for text in actual.split("\n")]
    fence = "```" if "```" not in actual else "~~~~"
    return [f"{fence}text", *actual.split("\n"), fence]


def render(transcript: Transcript, outcomes: Sequence[Outcome]) -> str:
    """The transcript's text with every output block replaced by what the replay produced."""
    lines = list(transcript.lines)
    result: list[str] = []
    position = 0
    for outcome in outcomes:
        step = outcome.step
        if outcome.actual is None:
            continue
        block = _output_block(step, outcome.actual)
        if step.output is not None:
            start, end = step.output
            result += lines[position:start] + block
        else:
            end = step.header_end
            result += lines[position:end] + [""] + block
        position = end
    result += lines[position:]
    return "\n".join(result) + "\n"


def _what_differs(outcome: Outcome) -> str:
    step = outcome.step
    if step.output is None or step.expected is None:
        return f"line {step.line}: {step.output_name()} is not recorded yet"
    expected, actual = step.expected.split("\n"), (outcome.actual or "").split("\n")
    first = next((i for i, (a, b) in enumerate(zip(expected, actual)) if a != b), min(len(expected), len(actual)))
    return f"line {step.output[0] + 2 + first}: {step.output_name()} differs"


def difference(transcript: Transcript, outcomes: Sequence[Outcome]) -> str:
    """A readable report of what differs ('' when the replay matches the page)."""
    differing = [o for o in outcomes if o.differs]
    if not differing:
        return ""
    name = str(transcript.path)
    head = [f"{name}: {len(differing)} step{'s' if len(differing) > 1 else ''} replayed differently:"]
    for outcome in differing:
        head.append(f"  {_what_differs(outcome)}")
    original = [f"{line}\n" for line in transcript.lines]
    replayed = render(transcript, outcomes).splitlines(keepends=True)
    diff = difflib.unified_diff(original, replayed, fromfile=f"{name} (recorded)", tofile=f"{name} (replayed)")
    return "\n".join(head) + "\n" + "".join(diff)


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
        if "PORT" in self.values:
            text = text.replace(f":{self.values['PORT']}", ":<PORT>")
        fixed = {value: name for name, value in self.values.items() if name != "PORT"}
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
    """The vendor's web application (portal pages and JSON API) on 127.0.0.1 at a fixed port, in a thread."""

    def __init__(self, workspace: Any) -> None:
        self.workspace = workspace
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        import uvicorn

        from licensing.issuing.portal.app import create_app
        from licensing.issuing.portal.settings import PortalSettings

        if self._thread is not None:
            return
        app = create_app(self.workspace, settings=PortalSettings())
        self._socket = socket.socket()
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", self.port))
        self._server = uvicorn.Server(uvicorn.Config(app, log_level="error", access_log=False, lifespan="on"))
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 20
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the license server did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        if self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout=15)
        assert self._socket is not None
        self._socket.close()
        self._thread = self._server = self._socket = None


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
        self.server = _WebServer(self.workspace) if transcript.uses_server else None  # the license server
        self.portal = _WebServer(self.workspace)  # the portal's pages, always reachable (another computer)
        if self.server is not None:
            self.names.add("PORT", str(self.server.port))
        self._client: Any = None

    def close(self) -> None:
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
        return Outcome(step, _normalised(self.names.hide(actual).split("\n")))

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
        if _starts_app(action):
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
        elif match := re.fullmatch(rf"turn the clock back {_UNIT}", action):
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
        manager = LicenseManager(Configuration.from_file(computer.config_path, **overrides))
        computer.managers.append(manager)
        # derived from the fixed raw id and the product, but how is the SDK's business: shown as a placeholder
        self.names.add("HARDWARE_ID" if computer.name == "this" else "OTHER_HARDWARE_ID", manager.hardware_id)
        # The pages show the command as a reader with the project's tools on PATH would type it.
        demo = DemoContext(self.vendor_dir, tuple(self.demo_info.licenses), portal_program="licensing-portal")
        computer.bot = Bot(manager, demo=demo, rng=self.rng, local_tz=LOCAL_TZ, debug=True)
        return computer.bot

    def _clock(self, step: Step) -> None:
        match = _CLOCK.fullmatch(step.text)
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
        match = _PORTAL.fullmatch(self._reveal(step, step.text))
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


# -- replay, check, regenerate -------------------------------------------------------------------


def replay(transcript: Transcript, workdir: Path) -> list[Outcome]:
    """Run every step of ``transcript`` in ``workdir`` (an empty folder); one outcome per step."""
    world = _Replay(transcript, Path(workdir))
    try:
        return [world.run(step) for step in transcript.steps]
    finally:
        world.close()


def _replayed(path: Path | str) -> tuple[Transcript, list[Outcome]]:
    transcript = parse(path)
    with tempfile.TemporaryDirectory(prefix="transcript-") as workdir:
        return transcript, replay(transcript, Path(workdir))


def check(path: Path | str) -> str:
    """Replay one transcript file; '' when it matches, else the readable difference."""
    return difference(*_replayed(path))


def regenerate(path: Path | str) -> bool:
    """Replay one transcript file and write the actual outputs into it; True when it changed."""
    transcript, outcomes = _replayed(path)
    text = render(transcript, outcomes)
    if text == "\n".join(transcript.lines) + "\n":
        return False
    transcript.path.write_text(text, encoding="utf-8")
    return True


def transcript_files(folder: Path = TRANSCRIPTS_DIR) -> list[Path]:
    """The transcripts in ``folder``, in order (README.md is about them, not one of them)."""
    return sorted(p for p in folder.glob("*.md") if p.name.lower() != "readme.md")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m chatbot.transcript",
                                     description="Replay the tutorial's transcripts and compare them with the pages.")
    parser.add_argument("--regenerate", action="store_true",
                        help="rewrite the recorded outputs with what the replay produced")
    parser.add_argument("files", nargs="*", type=Path, metavar="FILE", help="transcripts (default: all of them)")
    args = parser.parse_args(argv)
    files = args.files or transcript_files()
    if not files:
        print(f"error: no transcripts in {TRANSCRIPTS_DIR}", file=sys.stderr)
        return 1
    failed = False
    for path in files:
        try:
            if args.regenerate:
                print(f"{path}: {'rewritten' if regenerate(path) else 'unchanged'}")
                continue
            report = check(path)
        except (TranscriptError, OSError) as error:
            print(f"error: {error}", file=sys.stderr)
            failed = True
            continue
        if report:
            print(report)
            failed = True
        else:
            print(f"{path}: ok")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
