#!/usr/bin/env python3
"""Start-up benchmark for the ``chatbot`` console script (a script, not a test).

    .venv/bin/python bench/bench_startup.py [--runs N] [--help-runs N]

What is measured, each in a fresh process with HOME / XDG folders, ``$CHATBOT_STATE_DIR`` and
``$CHATBOT_HARDWARE_ID`` in a temporary folder, in two scenarios: the **demo vendor** (no
configuration: the first run builds it, later runs reuse it — the newcomer's path) and a
**configured product** (``$CHATBOT_CONFIG``: what a shipped application runs):

1. **first screen**: from just before the process is spawned (on an 80×24 pseudo-terminal) until
   the app has written its title ("Licensing chatbot") to the terminal; p50 over ``--runs``
   (target < 0.6 s). Also reported: the time until the bot's greeting and status are on screen
   (the bot is made in a worker, after the first screen).
2. **resident memory** after start: ``VmRSS`` from ``/proc/<pid>/status`` once the status bar shows
   the license (target < 80 MB); ``VmHWM`` (peak) is printed too.
3. **``chatbot --help``** wall time, hyperfine-style: warm-up runs, then ``--help-runs`` timed
   runs; mean ± stdev, min, p50 (target < 0.3 s).

Figures drift between runs on a shared 2-core machine; rerun before trusting a marginal MISS.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import re
import select
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TITLE = b"Licensing chatbot"
GREETING_MARK = "●", "○"  # the status bar shows one of these once the bot has answered bot.status()
ANSI = re.compile(rb"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[PX^_][^\x1b]*\x1b\\|.)")

TARGET_FIRST_SCREEN = 0.6
TARGET_HELP = 0.3
TARGET_RSS_MB = 80.0


def chatbot_command() -> list[str]:
    script = Path(sys.executable).parent / "chatbot"
    if script.exists():
        return [str(script)]
    found = shutil.which("chatbot")
    return [found] if found else [sys.executable, "-m", "chatbot"]


def bench_env(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("CHATBOT_CONFIG", "LICENSING_VENDOR_DATA"):
        env.pop(name, None)
    home = root / "home"
    for sub in ("", ".config", ".local/share", ".local/state", ".cache", "Desktop"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    env.update({
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "XDG_STATE_HOME": str(home / ".local/state"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "CHATBOT_STATE_DIR": str(root / "state"),
        "CHATBOT_HARDWARE_ID": "bench-device",
        "TERM": "xterm-256color",
        "COLORTERM": "truecolor",
        "LANG": env.get("LANG", "C.UTF-8") or "C.UTF-8",
    })
    return env


def rss_kb(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) in kB."""
    values = {"VmRSS": 0, "VmHWM": 0}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in values:
                values[key] = int(rest.split()[0])
    except OSError:
        pass
    return values["VmRSS"], values["VmHWM"]


def one_start(command: list[str], env: dict[str, str], timeout: float = 15.0) -> dict[str, float]:
    """Spawn the app on a pty; time the title and the greeting; read its memory; quit it."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    start = time.perf_counter()
    proc = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave, env=env,
                            cwd=env["HOME"], start_new_session=True, close_fds=True)
    os.close(slave)
    raw = b""
    plain = b""
    first_screen = greeting = float("nan")
    deadline = start + timeout
    try:
        while time.perf_counter() < deadline:
            ready, _, _ = select.select([master], [], [], 0.005)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                raw += chunk
                plain = ANSI.sub(b"", raw)
            now = time.perf_counter()
            if first_screen != first_screen and TITLE in plain:  # NaN check
                first_screen = now - start
            if first_screen == first_screen and any(m.encode() in plain for m in GREETING_MARK):
                greeting = now - start
                break
        time.sleep(0.3)  # let the app settle before reading its memory
        rss, hwm = rss_kb(proc.pid)
        os.write(master, b"\x11")  # ctrl+q
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        # drain so the child never blocks on a full pty
        try:
            while select.select([master], [], [], 0)[0] and os.read(master, 65536):
                pass
        except OSError:
            pass
        os.close(master)
    return {"first_screen": first_screen, "greeting": greeting, "rss_mb": rss / 1024, "hwm_mb": hwm / 1024}


def time_help(command: list[str], env: dict[str, str], runs: int, warmup: int = 3) -> list[float]:
    for _ in range(warmup):
        subprocess.run([*command, "--help"], env=env, stdout=subprocess.DEVNULL, check=True)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([*command, "--help"], env=env, stdout=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return times


def verdict(value: float, target: float) -> str:
    return "PASS" if value < target else "MISS"


def make_config(root: Path) -> Path:
    """A product configuration as a vendor ships it (made here with the demo builder, in this process)."""
    from licensing.issuing.demo import build_demo

    return build_demo(root / "vendor", root / "chatbot-config.json").config_path


def run_scenario(label: str, command: list[str], env: dict[str, str], runs: int) -> list[dict[str, float]]:
    print(f"{label}:")
    results = []
    for index in range(runs):
        result = one_start(command, env)
        results.append(result)
        print(f"  run {index + 1:2d}: first screen {result['first_screen'] * 1000:6.0f} ms · greeting "
              f"{result['greeting'] * 1000:6.0f} ms · RSS {result['rss_mb']:5.1f} MB (peak {result['hwm_mb']:5.1f} MB)")
    return results


def summarise(label: str, results: list[dict[str, float]]) -> None:
    firsts = sorted(r["first_screen"] for r in results)
    greetings = sorted(r["greeting"] for r in results)
    rss = sorted(r["rss_mb"] for r in results)
    hwm = sorted(r["hwm_mb"] for r in results)
    p50_first = statistics.median(firsts)
    print(f"[{label}] first screen (process start → title on the terminal), n={len(firsts)}: "
          f"p50 {p50_first * 1000:.0f} ms, min {firsts[0] * 1000:.0f} ms, max {firsts[-1] * 1000:.0f} ms"
          f"   target < {TARGET_FIRST_SCREEN * 1000:.0f} ms   {verdict(p50_first, TARGET_FIRST_SCREEN)}")
    print(f"[{label}] greeting on screen (bot made in a worker after the first screen): "
          f"p50 {statistics.median(greetings) * 1000:.0f} ms, max {greetings[-1] * 1000:.0f} ms   (information)")
    p50_rss = statistics.median(rss)
    print(f"[{label}] resident memory after start (VmRSS): p50 {p50_rss:.1f} MB, max {rss[-1]:.1f} MB "
          f"(peak VmHWM max {hwm[-1]:.1f} MB)   target < {TARGET_RSS_MB:.0f} MB   {verdict(p50_rss, TARGET_RSS_MB)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="app starts to time per scenario (default 10)")
    parser.add_argument("--help-runs", type=int, default=20, help="timed `chatbot --help` runs (default 20)")
    args = parser.parse_args()

    command = chatbot_command()
    print(f"command: {' '.join(command)}")
    print(f"python {sys.version.split()[0]} · {os.cpu_count()} CPUs · {os.uname().sysname} {os.uname().release}")
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        demo_env = bench_env(Path(tmp) / "demo")
        demo = run_scenario("demo vendor: no configuration (run 1 builds the demo vendor, later runs reuse it)",
                            command, demo_env, args.runs)
        configured_env = bench_env(Path(tmp) / "configured")
        configured_env["CHATBOT_CONFIG"] = str(make_config(Path(tmp) / "configured"))
        configured = run_scenario("configured product: $CHATBOT_CONFIG (what a shipped app runs)",
                                  command, configured_env, args.runs)
        help_times = time_help(command, demo_env, args.help_runs)

    print()
    summarise("demo", demo)
    summarise("configured", configured)
    p50_help = statistics.median(help_times)
    print(f"`chatbot --help`, n={len(help_times)} (after 3 warm-up runs): mean {statistics.mean(help_times) * 1000:.0f} "
          f"± {statistics.stdev(help_times) * 1000:.0f} ms, min {min(help_times) * 1000:.0f} ms, "
          f"p50 {p50_help * 1000:.0f} ms   target < {TARGET_HELP * 1000:.0f} ms   {verdict(p50_help, TARGET_HELP)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
