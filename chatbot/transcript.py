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

The demo's floating server is started and stopped by the chatbot itself ("start the floating
server"): the app runs it in a process of its own, the replayer in a thread on the transcript's
clock (on ``127.0.0.1:<FLOATING_PORT>``), so that its leases and borrows are dated like everything
else. The heartbeat that keeps a seat beats once a day in a replay: never, that is, since the
transcript's clock stands still between steps and only the steps move it.

Placeholders
============

Outputs hold placeholders instead of what changes from run to run, and steps may use them too
(they are replaced before a line is typed or a command runs): ``<WORK>`` (the temporary
folder), ``<DESKTOP>`` (where request and response files go), ``<DATA>`` (the SDK's data
folder), ``<VENDOR>`` (the demo vendor's folder), ``<OTHER_DESKTOP>`` and ``<OTHER_DATA>`` (the
other computer's), ``<PORT>`` (the license server's port), ``<FLOATING_PORT>`` (the demo's floating
server's), ``<KEY:perpetual>``,
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
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from .transcript_format import Outcome, Step, Transcript, TranscriptError, difference, parse, render
from .transcript_world import START, replay

__all__ = ["START", "Outcome", "Step", "Transcript", "TranscriptError", "check", "difference", "main", "parse",
           "regenerate", "render", "replay", "transcript_files"]

TRANSCRIPTS_DIR = Path(__file__).resolve().parent.parent / "transcripts"


# -- replay, check, regenerate -------------------------------------------------------------------


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
