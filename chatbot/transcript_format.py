"""The transcript format: a tutorial page read into its steps, and written back with new outputs.

The format itself is described in :mod:`chatbot.transcript`, the replayer's reference; here are
the page as data (:class:`Transcript`, :class:`Step`, :class:`Outcome`), :func:`parse`,
:func:`render` and :func:`difference`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CLOCK_STEP", "PORTAL_STEP", "UNIT", "Outcome", "Step", "Transcript", "TranscriptError", "difference",
           "normalised", "parse", "render", "starts_app"]


class TranscriptError(Exception):
    """A transcript that cannot be read or replayed (not a difference in outputs)."""

    def __init__(self, path: Path | str, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.path, self.line, self.message = path, line, message


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
        return self.kind in ("you", "vendor", "portal") or (self.kind == "device" and starts_app(self.text))

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
UNIT = r"(\d+) (days?|hours?|minutes?)"
_DEVICE_ACTIONS = (
    re.compile(r"(?:re)?start the app"),
    re.compile(r"restart the app with the configuration (\S+)"),
    re.compile(r"delete (\S+)"),
    re.compile(r"copy (\S+) to (\S+)"),
    re.compile(rf"turn the clock back {UNIT}"),
    re.compile(r"set the clock right"),
    re.compile(r"switch to the other computer"),
    re.compile(r"switch back to this computer"),
)
CLOCK_STEP = re.compile(rf"\+{UNIT}")
PORTAL_STEP = re.compile(r"upload (\S+) at (/activate|/deactivate)")


def starts_app(action: str) -> bool:
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
        patterns = {"device": _DEVICE_ACTIONS, "clock": (CLOCK_STEP,), "portal": (PORTAL_STEP,),
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
        return Step(kind, text, line, header_end, (start, end), normalised(quoted)), end
    fence = _FENCE.match(lines[start])
    if fence is None or fence.group(2) != "text":
        return step, header_end
    end = _fence_end(path, lines, start)
    return Step(kind, text, line, header_end, (start, end + 1), normalised(lines[start + 1:end])), end + 1


def normalised(lines: Sequence[str]) -> str:
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
