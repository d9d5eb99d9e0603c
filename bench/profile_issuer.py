"""Profile the issuer's hot paths in-process, in CPU time: where does one answer spend its time?

    .venv/bin/python bench/profile_issuer.py [--count 2000] [--database URL] [--top 25]
                                             [--path activation|check|both]

A vendor with one license is created in a temporary folder (SQLite, or the empty database at
``--database``); ``--count`` distinct activation requests are signed beforehand (not profiled),
then answered one after the other under cProfile with a CPU-time timer (``time.process_time``:
what this process computes, not what it waits for on a shared machine). The check path answers
refresh requests of a few activated devices. It prints the time per answer (CPU and wall) and
the functions with the most own time, then the same grouped by package (sqlalchemy, cryptography,
json, sqlite3, our code), which is the summary that says where the time goes.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from licensing.issuing import catalog  # noqa: E402
from licensing.issuing.workspace import VendorWorkspace  # noqa: E402

from support.signed_requests import activate_device, activation_request, check_request  # noqa: E402

_GROUPS = (
    ("licensing/issuing", "our issuing code"),
    ("licensing/", "our wire/SDK code"),
    ("sqlalchemy", "SQLAlchemy"),
    ("cryptography", "cryptography (Ed25519, HMAC)"),
    ("psycopg", "psycopg"),
    ("json", "json"),
    ("sqlite3", "sqlite3"),
)


def _group(filename: str, function: str) -> str:
    if filename == "~":  # a built-in: its name says whose it is
        if "sqlite3" in function:
            return "sqlite3 (C: execute, commit = fsync)"
        if "psycopg" in function or "pq" in function:
            return "psycopg"
        if "_rust" in function or "openssl" in function.lower() or "ed25519" in function.lower():
            return "cryptography (Ed25519, HMAC)"
        return "builtins (other)"
    for needle, name in _GROUPS:
        if needle in filename:
            return name
    return "stdlib and other"


def _activation_requests(workspace: VendorWorkspace, key: str, count: int) -> list[bytes]:
    config = workspace.client_configuration("bench")
    return [activation_request(config, key) for _ in range(count)]


def _check_requests(workspace: VendorWorkspace, key: str, devices: int) -> list[bytes]:
    config = workspace.client_configuration("bench")
    return [check_request(config, activate_device(config, key, workspace.issuer.answer_activation))
            for _ in range(devices)]


def _profile(name: str, function, inputs: list[bytes], top: int) -> None:  # type: ignore[no-untyped-def]
    """Answer the first half of ``inputs`` timed, the second half under the profiler."""
    function(inputs[0])  # warm-up: imports, statement caches, first connection
    half = len(inputs) // 2
    wall, cpu = time.perf_counter(), time.process_time()
    for data in inputs[1:half]:
        function(data)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    timed = half - 1
    print(f"\n== {name}: {cpu / timed * 1e6:.0f} µs CPU and {wall / timed * 1e6:.0f} µs wall per answer "
          f"({timed} answers, no profiler)")
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for data in inputs[half:]:
        function(data)
    profiler.disable()
    count = len(inputs) - half
    stats = pstats.Stats(profiler)
    raw = stats.stats  # type: ignore[attr-defined]
    by_group: dict[str, float] = defaultdict(float)
    total = 0.0
    for (filename, _line, function_name), (_cc, _nc, own, _cum, _callers) in raw.items():
        by_group[_group(filename, function_name)] += own
        total += own
    print(f"  own time by package (of {total / count * 1e6:.0f} µs profiled per answer):")
    for group, seconds in sorted(by_group.items(), key=lambda item: -item[1]):
        print(f"    {group:40} {seconds / count * 1e6:8.0f} µs  {seconds / total:6.1%}")
    print(f"  top {top} functions by own time:")
    rows = sorted(raw.items(), key=lambda item: -item[1][2])[:top]
    for (filename, line, function_name), (_cc, calls, own, cum, _callers) in rows:
        where = "~" if filename == "~" else f"{Path(filename).parent.name}/{Path(filename).name}:{line}"
        print(f"    {own / count * 1e6:7.1f} µs own {cum / count * 1e6:8.1f} µs cum {calls / count:6.1f} calls  "
              f"{function_name} ({where})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=2000, help="activations to profile (default 2000)")
    parser.add_argument("--database", help="an empty database URL (default: SQLite in a temporary folder)")
    parser.add_argument("--top", type=int, default=25, help="functions to list (default 25)")
    parser.add_argument("--path", choices=("activation", "check", "both"), default="both")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="profile-issuer-") as folder:
        workspace = VendorWorkspace.create(Path(folder) / "vendor", database_url=args.database)
        try:
            now = datetime.now(timezone.utc)
            with workspace.store.session() as session:
                product = catalog.add_product(session, now, "bench", "Benchmark product")
                key = catalog.issue_license(session, now, product, catalog.LicenseSpec(
                    "perpetual", features=("a", "b"), max_activations=10**9)).key
            assert key is not None
            print(f"Profiling the issuer on {workspace.store.engine.dialect.name} (CPU time)")
            if args.path in ("activation", "both"):
                _profile("activation", workspace.issuer.answer_activation,
                         _activation_requests(workspace, key, args.count + 1), args.top)
            if args.path in ("check", "both"):
                checks = _check_requests(workspace, key, 32)
                _profile("check", workspace.issuer.answer_refresh_request,
                         (checks * (args.count // len(checks) + 1))[: args.count + 1], args.top)
        finally:
            workspace.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
