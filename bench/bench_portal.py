"""Load on the portal, against a bare ASGI "hello" peer on the same stack, measured in one run.

    .venv/bin/python bench/bench_portal.py [--duration 10] [--connections 64] [--workers 2]
                                           [--requests 30000] [--no-check] [--keep DIR]

Three scenarios, each driven by Debian's ``wrk`` from its own process (``apt-get install wrk``),
against 127.0.0.1 only, for ``--duration`` seconds with ``--connections`` connections:

1. hello: ``GET /`` on ``bench/hello_app.py`` (a bare ASGI app) under ``uvicorn --workers N``;
2. activation: ``POST /activate`` on ``licensing-portal serve --workers N`` (SQLite), a multipart
   upload of a distinct pre-generated ``ls_activation.req`` each time (``bench/wrk/activate.lua``);
3. check: ``POST /api/v1/check`` (the SDK's online check) by already activated devices
   (``bench/wrk/check.lua``); skipped with a note if the server has no such endpoint.

It prints requests/s, p50/p99 latency and errors (connection errors, timeouts, non-2xx) per
scenario, and each licensing scenario's rate as a share of hello's with PASS/MISS against the
target (at least 40 % of hello's rate, and zero errors).

The activation requests are signed exactly as the SDK signs them (``encode_device_signed`` with
the body ``LicenseManager`` builds; the script checks the shape against one the SDK made), but
without a local store per device: 30 000 SDK devices with fsync'd storage would take minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from licensing import LicenseID, LicenseManager  # noqa: E402
from licensing.issuing import catalog  # noqa: E402
from licensing.issuing.workspace import VendorWorkspace  # noqa: E402
from licensing.wire import ACTIVATION_REQUEST, Envelope, crypto, encode_device_signed, format_time  # noqa: E402

HOST = "127.0.0.1"
WRK_DIR = Path(__file__).resolve().parent / "wrk"
TARGET = 0.40
PRODUCT = "bench"


@dataclass
class Result:
    name: str
    requests: int
    seconds: float
    errors: int
    non_2xx: int
    p50_ms: float
    p99_ms: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


# -- the vendor and the request files ----------------------------------------------------------------


def prepare_vendor(folder: Path, activation_count: int, check_devices: int) -> tuple[Path, Path, str]:
    """A vendor with one license of huge max_activations; files of activation and check requests."""
    workspace = VendorWorkspace.create(folder / "vendor")
    try:
        now = datetime.now(timezone.utc)
        with workspace.store.session() as session:
            product = catalog.add_product(session, now, PRODUCT, "Benchmark product")
            key = catalog.issue_license(session, now, product, catalog.LicenseSpec(
                "perpetual", features=("a", "b"), max_activations=10**9)).key
        assert key is not None
        config = workspace.client_configuration(PRODUCT)

        # One request made by the SDK itself: the bulk ones must have exactly its shape.
        sdk_config = config.with_options(data_dir=folder / "sdk" / "data", request_dir=folder / "sdk",
                                         trace_dir=folder / "sdk" / "trace", hardware_id="bench-sdk-device")
        sample = LicenseManager(sdk_config).create_offline_activation_file(LicenseID.from_key(key)).read_bytes()
        sample_doc = json.loads(Envelope.parse(sample).payload)

        started = time.perf_counter()
        activation_file = folder / "activation-requests.txt"
        shared = config.shared_key.encode("utf-8")
        with activation_file.open("wb") as out:
            for _ in range(activation_count):
                body = {
                    "product": config.product, "api_key": config.api_key, "request_id": secrets.token_hex(16),
                    "nonce": secrets.token_hex(16), "hardware_id": secrets.token_hex(32),
                    "created_at": format_time(datetime.now(timezone.utc)), "credentials": {"key": key},
                }
                data = encode_device_signed(ACTIVATION_REQUEST, body, crypto.Ed25519PrivateKey.generate(), shared)
                out.write(data)  # one line, ending in "\n"
        made = json.loads(Envelope.parse(data).payload)
        assert set(made) == set(sample_doc), (sorted(made), sorted(sample_doc))
        workspace.issuer.answer_activation(data)  # the last one must be accepted (and is now used up)
        print(f"  {activation_count} activation requests signed in {time.perf_counter() - started:.1f} s")

        # Devices activated with the SDK, each with its own refresh request (the online check's body).
        check_file = folder / "check-requests.txt"
        with check_file.open("wb") as out:
            for index in range(check_devices):
                device_config = config.with_options(data_dir=folder / f"dev{index}" / "data",
                                                    request_dir=folder / f"dev{index}",
                                                    trace_dir=folder / f"dev{index}" / "trace",
                                                    hardware_id=f"bench-check-device-{index}")
                (folder / f"dev{index}").mkdir(parents=True, exist_ok=True)
                manager = LicenseManager(device_config)
                request = manager.create_offline_activation_file(LicenseID.from_key(key))
                answer = workspace.issuer.answer_activation(request.read_bytes())
                response = request.parent / "ls_activation.lic"
                response.write_bytes(answer.data)
                license = manager.activate_license_offline(response)
                out.write(license.create_refresh_request().read_bytes().rstrip(b"\n") + b"\n")
        return activation_file, check_file, config.api_key
    finally:
        workspace.close()


# -- servers -----------------------------------------------------------------------------------------


def start(command: list[str], port: int, log: Path, ping: str) -> subprocess.Popen[bytes]:
    handle = log.open("wb")
    process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True,
                               cwd=ROOT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited at start:\n{log.read_text(errors='replace')}")
        try:
            if httpx.get(f"http://{HOST}:{port}{ping}", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    stop(process)
    raise SystemExit(f"server did not start:\n{log.read_text(errors='replace')}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


def run_wrk(name: str, script: str, port: int, args: argparse.Namespace, env: dict[str, str],
            duration: float | None = None) -> Result:
    command = ["wrk", "-t", str(args.threads), "-c", str(args.connections), "-d", f"{int(duration or args.duration)}s",
               "--timeout", "10s", "-s", str(WRK_DIR / script), f"http://{HOST}:{port}/"]
    completed = subprocess.run(command, capture_output=True, text=True, timeout=(duration or args.duration) + 60,
                               env={**os.environ, "BENCH_THREADS": str(args.threads), "BENCH_WRK_DIR": str(WRK_DIR),
                                    **env})
    line = next((ln for ln in completed.stdout.splitlines() if ln.startswith("BENCH_RESULT ")), None)
    if completed.returncode != 0 or line is None:
        raise SystemExit(f"wrk failed ({completed.returncode}):\n{completed.stdout}\n{completed.stderr}")
    data = json.loads(line.split(" ", 1)[1])
    errors = data["connect"] + data["read"] + data["write"] + data["timeout"]
    return Result(name, data["requests"], data["duration_us"] / 1e6, errors, data["status"],
                  data["p50_us"] / 1000, data["p99_us"] / 1000)


# -- main ----------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per scenario (default 10)")
    parser.add_argument("--connections", type=int, default=64, help="concurrent connections (default 64)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers per server (default 2)")
    parser.add_argument("--requests", type=int, default=30_000,
                        help="distinct activation requests to pre-generate (default 30000)")
    parser.add_argument("--check-devices", type=int, default=64, help="activated devices doing online checks")
    parser.add_argument("--no-check", action="store_true", help="skip the online-check scenario")
    parser.add_argument("--keep", metavar="DIR", help="work in DIR and keep it (default: a temporary folder)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install -y wrk", file=sys.stderr)
        return 2

    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-portal-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"Portal benchmark: {args.workers} workers per server, {args.connections} connections, "
          f"{args.duration:g} s per scenario, wrk with {args.threads} threads, 127.0.0.1 only")
    print(f"Preparing the vendor in {folder} ...")
    activation_file, check_file, api_key = prepare_vendor(folder, args.requests,
                                                          0 if args.no_check else args.check_devices)
    results: list[Result] = []
    notes: list[str] = []
    try:
        # 1. the bare hello peer
        port = free_port()
        hello = start([sys.executable, "-m", "uvicorn", "hello_app:app", "--app-dir", str(ROOT / "bench"),
                       "--host", HOST, "--port", str(port), "--workers", str(args.workers), "--no-access-log",
                       "--log-level", "warning", "--no-server-header"], port, folder / "hello.log", "/")
        try:
            run_wrk("warm-up", "hello.lua", port, args, {}, duration=2)
            results.append(run_wrk("hello (bare ASGI)", "hello.lua", port, args, {}))
        finally:
            stop(hello)

        # 2 and 3. the portal
        port = free_port()
        portal = start([sys.executable, "-m", "licensing.issuing.cli", "--data", str(folder / "vendor"), "serve",
                        "--host", HOST, "--port", str(port), "--workers", str(args.workers), "--no-access-log",
                        "--log-level", "warning"], port, folder / "portal.log", "/api/v1/ping")
        try:
            results.append(run_wrk("offline activation upload", "activate.lua", port, args,
                                   {"BENCH_REQUESTS": str(activation_file)}))
            if args.no_check:
                notes.append("online check: skipped (--no-check)")
            else:
                probe = httpx.post(f"http://{HOST}:{port}/api/v1/check",
                                   content=check_file.read_bytes().splitlines()[0] + b"\n",
                                   headers={"Content-Type": "application/json", "X-Api-Key": api_key})
                if probe.status_code == 404:
                    notes.append("online check: skipped, the server has no /api/v1/check yet")
                elif probe.status_code != 200:
                    notes.append(f"online check: skipped, a probe check answered {probe.status_code}: "
                                 f"{probe.text[:200]}")
                else:
                    results.append(run_wrk("online check (/api/v1/check)", "check.lua", port, args,
                                           {"BENCH_REQUESTS": str(check_file), "BENCH_API_KEY": api_key}))
        finally:
            stop(portal)
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)

    hello_rate = results[0].rate
    print()
    print(f"{'scenario':32} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'requests':>9} {'errors':>7} {'non-2xx':>8}"
          f" {'vs hello':>9}  verdict")
    for result in results:
        share = result.rate / hello_rate if hello_rate else 0.0
        verdict = "-" if result is results[0] else (
            "PASS" if share >= TARGET and result.errors == 0 and result.non_2xx == 0 else "MISS")
        print(f"{result.name:32} {result.rate:9.0f} {result.p50_ms:8.2f} {result.p99_ms:8.2f} {result.requests:9d} "
              f"{result.errors:7d} {result.non_2xx:8d} {share:8.1%}  {verdict}")
    for note in notes:
        print(f"note: {note}")
    print(f"target: each licensing endpoint at least {TARGET:.0%} of hello's rate, with zero errors and no non-2xx")
    return 0


if __name__ == "__main__":
    sys.exit(main())
