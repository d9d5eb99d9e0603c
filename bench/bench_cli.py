"""Start-up time of ``licensing-portal``: what the CLI's lazy handler table saves.

The parser names each command's handler as ``"module:function"`` and imports only the module
of the command being run (``licensing/issuing/cli/parser.py``). This prints, each as the median
of ``--runs`` fresh processes after warm-up runs:

* ``python -c pass`` — the floor: an interpreter that does nothing;
* ``licensing-portal --help`` — what a person or shell completion waits for;
* ``--help`` with every handler module imported first — what the CLI would cost without the
  lazy table (the handlers pull in SQLAlchemy, the issuer, FastAPI and uvicorn);
* ``licensing-portal --json product list`` on an empty vendor — a real command, for scale.

    .venv/bin/python bench/bench_cli.py [--runs 20]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EAGER = ("import licensing.issuing.cli as c, importlib; "
         "[importlib.import_module('licensing.issuing.cli.' + m) for m in "
         "('products', 'licenses', 'devices', 'files', 'workspaces', 'portal')]; "
         "c.main(['--help'])")


def timed(command: list[str], runs: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="timed runs per command (default 20)")
    args = parser.parse_args()
    python = sys.executable
    portal = [python, "-m", "licensing.issuing.cli"]
    with tempfile.TemporaryDirectory() as folder:
        vendor = str(Path(folder) / "vendor")
        subprocess.run([*portal, "--data", vendor, "init"], stdout=subprocess.DEVNULL, check=True)
        rows = [
            ("python -c pass (floor)", timed([python, "-c", "pass"], args.runs)),
            ("licensing-portal --help", timed([*portal, "--help"], args.runs)),
            ("--help, every handler imported first", timed([python, "-c", EAGER], args.runs)),
            ("licensing-portal --json product list", timed([*portal, "--data", vendor, "--json", "product", "list"],
                                                          args.runs)),
        ]
    floor = rows[0][1]
    print(f"{'command':<40} {'p50':>8} {'x floor':>8}")
    for label, seconds in rows:
        print(f"{label:<40} {seconds * 1000:>6.0f} ms {seconds / floor:>7.1f}x")
    saved = rows[2][1] - rows[1][1]
    print(f"the lazy handler table saves {saved * 1000:.0f} ms on --help "
          f"({saved / rows[2][1]:.0%} of the eager start-up)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
