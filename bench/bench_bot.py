"""Reply latency of the chatbot for every kind of local line on a loaded license (a script, not a test).

Builds the demo vendor in a temporary folder, activates its perpetual license offline on a
simulated device (the real request → vendor → response files), then times ``Bot.handle`` for
each kind of local line — status, features, the five skills, help, knowledge questions, facts of the
license, dialogue acts — and ``Bot.status()`` (what a UI
status bar calls), with a ``time.perf_counter_ns`` loop after a warm-up. Prints p50/p99/max per
line and PASS/MISS against the target p99 < 5 ms.

    .venv/bin/python bench/bench_bot.py [--rounds N] [--warmup N] [--dir PARENT]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from chatbot.bot import Bot, DemoContext  # noqa: E402
from licensing import Configuration, LicenseManager  # noqa: E402
from licensing.issuing.demo import build_demo  # noqa: E402
from licensing.issuing.workspace import VendorWorkspace  # noqa: E402

TARGET_P99_MS = 5.0
LINES = (
    "am I licensed?",
    "list features",
    "tell me a joke",
    "count words in the quick brown fox jumps over the lazy dog",
    "convert 5 km to miles",
    "roll 3d6",
    "what time is it?",
    "help",
    # knowledge questions (the matcher over every question form) and facts of the license
    "what is a guard file?",
    "I deleted the license files but the app still says I'm licensed, why?",
    "I got a new laptop, how do I move my license?",
    "why didn't I get a license file back from the portal",
    "how many activations are left?",
    "is the wordcount feature included?",
    "when did it last talk to the server?",
    # dialogue acts
    "thanks",
    "why?",
)


def _percentile(sorted_values: list[int], fraction: float) -> int:
    index = min(len(sorted_values) - 1, max(0, round(fraction * (len(sorted_values) - 1))))
    return sorted_values[index]


def _licensed_bot(folder: Path) -> Bot:
    """A bot on the demo vendor with the perpetual license (all five skills) activated offline."""
    info = build_demo(folder / "vendor")
    config = Configuration.from_file(info.config_path, data_dir=folder / "data", request_dir=folder / "desktop",
                                     trace_dir=folder / "trace", hardware_id="bench-device")
    (folder / "desktop").mkdir()
    bot = Bot(LicenseManager(config), demo=DemoContext(info.folder, tuple(info.licenses)), rng=random.Random(1))
    request = bot.handle(f"activate offline {info.key_of('perpetual')}")
    workspace = VendorWorkspace.open(info.folder)
    try:
        answer = workspace.issuer.answer_activation(Path(request.data["path"]).read_bytes())
    finally:
        workspace.close()
    (folder / "desktop" / "ls_activation.lic").write_bytes(answer.data)
    activated = bot.handle("activate offline")
    if not (activated.ok and bot.status().licensed):
        raise SystemExit(f"activation failed: {activated.text}")
    return bot


def _measure(call: Callable[[], object], rounds: int, warmup: int) -> list[int]:
    for _ in range(warmup):
        call()
    clock = time.perf_counter_ns
    samples = []
    for _ in range(rounds):
        start = clock()
        call()
        samples.append(clock() - start)
    samples.sort()
    return samples


def run(rounds: int, warmup: int, parent: str | None) -> bool:
    with tempfile.TemporaryDirectory(dir=parent) as folder:
        bot = _licensed_bot(Path(folder))
        for line in LINES:  # every line must be a successful local answer, or the figures mean nothing
            reply = bot.handle(line)
            if not reply.ok:
                raise SystemExit(f"{line!r} was refused: {reply.text}")
        cases: list[tuple[str, Callable[[], object]]] = [(line, partial(bot.handle, line)) for line in LINES]
        cases.append(("Bot.status() (status bar)", bot.status))
        print(f"rounds: {rounds} per line, warm-up: {warmup}; target p99 < {TARGET_P99_MS:g} ms\n")
        print(f"{'line':<62} {'p50 µs':>8} {'p99 µs':>8} {'max µs':>9}  result")
        everything: list[int] = []
        passed = True
        for label, call in cases:
            samples = _measure(call, rounds, warmup)
            everything.extend(samples)
            p99 = _percentile(samples, 0.99)
            ok = p99 < TARGET_P99_MS * 1e6
            passed &= ok
            print(f"{label[:62]:<62} {_percentile(samples, 0.5) / 1e3:>8.1f} {p99 / 1e3:>8.1f} "
                  f"{samples[-1] / 1e3:>9.1f}  {'PASS' if ok else 'MISS'}")
        everything.sort()
        p99_all = _percentile(everything, 0.99)
        print(f"\n{'all lines':<62} {_percentile(everything, 0.5) / 1e3:>8.1f} {p99_all / 1e3:>8.1f} "
              f"{everything[-1] / 1e3:>9.1f}  {'PASS' if p99_all < TARGET_P99_MS * 1e6 else 'MISS'}")
        return passed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=2000, help="timed replies per line (default 2000)")
    parser.add_argument("--warmup", type=int, default=200, help="untimed replies per line first (default 200)")
    parser.add_argument("--dir", default=None, help="parent folder for the temporary vendor and device")
    args = parser.parse_args()
    passed = run(args.rounds, args.warmup, args.dir)
    print("\nPASS: every local reply p99 < 5 ms" if passed else "\nMISS: some local reply p99 >= 5 ms")


if __name__ == "__main__":
    main()
