#!/usr/bin/env python3
"""Floating seats on loopback: lease, renew and release latency; heartbeats/s; a floating local_check.

    .venv/bin/python bench/bench_floating.py [--quick] [--no-peer] [--duration 10] [--connections 64]
                                             [--workers 2] [--leases 2000] [--keep DIR]

Everything is real: a vendor workspace issues a floating license, a floating server activates it
offline (request, the vendor's answer, activation) and serves it as its own process
(``licensing-floating serve --workers N``) on 127.0.0.1; the system clock is used. It prints:

1. the server's own cost per heartbeat, in-process (``FloatingServer.renew``: verify the request,
   one durable SQLite commit, sign the lease) — what one core can do before HTTP;
2. lease, renew and release latency, p50/p99, of the SDK's calls (``request_lease``, ``renew``,
   ``release``) from one workstation, each call a fresh signed request and a verified answer;
3. heartbeats/s the server sustains with ``--workers`` workers under ``wrk`` (``--connections``
   connections), beside the bare ASGI hello (``bench/hello_app.py``) on the same uvicorn stack in
   the same run. The heartbeats are pre-signed for ``--leases`` simulated workstations, with
   successive sequence numbers (``bench/wrk/heartbeat.lua`` keeps each lease's in order); they
   are built with the public wire functions and checked against one the SDK itself made;
4. a floating ``lease.local_check()`` with a live lease beside the warm ``license.local_check()``
   of a node-locked license, and LicenseSpring's SDK (``bench_engine.run_peer``) measured in the
   same run: the floating check must stay within the warm check's target (no slower than the peer).
"""

from __future__ import annotations

import argparse
import json
import secrets
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench_engine import WARM_RATIO_TARGET, Stat, fmt_us, print_table, run_peer, timed  # noqa: E402
from bench_portal import HOST, Result, free_port, run_wrk, start, stop  # noqa: E402

from licensing import Configuration, FloatingClient, LicenseID, LicenseManager  # noqa: E402
from licensing.floating.launcher import start_server  # noqa: E402
from licensing.floating.server import FloatingServer  # noqa: E402
from licensing.floating.site import FloatingSite  # noqa: E402
from licensing.issuing import catalog  # noqa: E402
from licensing.issuing.workspace import VendorWorkspace  # noqa: E402
from licensing.wire import (  # noqa: E402
    FLOATING_API_PREFIX,
    FLOATING_LEASE,
    LEASE_HEARTBEAT,
    LEASE_RELEASE,
    LEASE_REQUEST,
    Envelope,
    LeaseGrant,
    ServerCertificate,
    crypto,
    encode_device_signed,
    format_time,
    open_signed,
)

PRODUCT = "benchfloat"
LEASE_SECONDS = 86_400  # the longest lease: no lease may run out while the benchmark renews it


# -- the vendor, the floating server, the workstations -----------------------------------------------


def prepare(root: Path, seats: int) -> tuple[Path, Configuration, str]:
    """A vendor, a floating license of ``seats`` seats, and a floating server activated with it."""
    vendor = VendorWorkspace.create(root / "vendor")
    try:
        now = datetime.now(timezone.utc)
        with vendor.store.session() as session:
            product = catalog.add_product(session, now, PRODUCT, "Floating benchmark")
            floating = catalog.issue_license(session, now, product, catalog.LicenseSpec(
                "floating", features=("chat",), seats=seats, lease_seconds=LEASE_SECONDS))
            perpetual = catalog.issue_license(session, now, product, catalog.LicenseSpec(
                "perpetual", features=("chat",), max_activations=10))
        assert floating.key is not None and perpetual.key is not None
        config_file = vendor.client_configuration(PRODUCT).write_file(root / "config.json")
        site = FloatingSite.create(root / "site", config_file, hardware_id="bench-floating-server")
        request = site.create_request(LicenseID.from_key(floating.key))
        (site.folder / "ls_activation.lic").write_bytes(vendor.issuer.answer_activation(request.read_bytes()).data)
        site.activate()
        # a node-locked license on a device, for the warm local_check beside the floating one
        device = LicenseManager(workstation_config(root, config_file, "bench-node-locked"))
        answer = vendor.issuer.answer_activation(
            device.create_offline_activation_file(LicenseID.from_key(perpetual.key)).read_bytes())
        (root / "bench-node-locked" / "ls_activation.lic").write_bytes(answer.data)
        return root / "site", Configuration.from_file(config_file), perpetual.key
    finally:
        vendor.close()


def workstation_config(root: Path, config_file: Path, name: str) -> Configuration:
    folder = root / name
    folder.mkdir(parents=True, exist_ok=True)
    return Configuration.from_file(config_file, data_dir=folder / "data", request_dir=folder, hardware_id=name,
                                   timeout=30.0)


@dataclass
class Simulated:
    """A workstation without a local store (as bench_portal's devices): a key, a lease, a sequence."""

    name: str
    key: crypto.Ed25519PrivateKey
    lease_id: str = ""
    sequence: int = 0

    def request(self, config: Configuration, certificate: ServerCertificate, typ: str, **fields: object) -> bytes:
        body = {"product": config.product, "api_key": config.api_key, "request_id": secrets.token_hex(16),
                "nonce": secrets.token_hex(16), "hardware_id": self.name,
                "created_at": format_time(datetime.now(timezone.utc)), "client": self.name,
                "server": certificate.kid, **fields}
        return encode_device_signed(typ, body, self.key, config.shared_key.encode("utf-8"))

    def holds(self, answer: bytes, certificate: ServerCertificate) -> None:
        grant = LeaseGrant.from_payload(open_signed(answer, FLOATING_LEASE, certificate.trusted)[1])
        self.lease_id, self.sequence = grant.lease_id, grant.sequence

    def heartbeat(self, config: Configuration, certificate: ServerCertificate) -> bytes:
        data = self.request(config, certificate, LEASE_HEARTBEAT, lease_id=self.lease_id, sequence=self.sequence)
        self.sequence += 1
        return data


def simulated(prefix: str, count: int) -> list[Simulated]:
    return [Simulated(f"{prefix}-{i:05d}", crypto.Ed25519PrivateKey.generate()) for i in range(count)]


def same_shape(bulk: bytes, sdk: bytes) -> None:
    made, ours = json.loads(Envelope.parse(bulk).payload), json.loads(Envelope.parse(sdk).payload)
    assert set(made) == set(ours), (sorted(made), sorted(ours))


# -- the measurements ----------------------------------------------------------------------------------


def in_process_renewals(site_folder: Path, config: Configuration, count: int) -> Stat:
    """The server's work per heartbeat with no HTTP: verify, one durable commit, sign (one core)."""
    server = FloatingServer(FloatingSite.open(site_folder))
    try:
        certificate = FloatingSite.open(site_folder).certificate()
        stations = simulated("inproc", 50)
        for station in stations:
            station.holds(server.grant(station.request(config, certificate, LEASE_REQUEST)), certificate)
        bodies = [stations[i % len(stations)].heartbeat(config, certificate) for i in range(count)]
        pc = time.perf_counter_ns
        samples = []
        for body in bodies:
            started = pc()
            server.renew(body)
            samples.append(pc() - started)
        for station in stations:  # give the seats back for what follows
            server.release(station.request(config, certificate, LEASE_RELEASE, lease_id=station.lease_id,
                                           sequence=station.sequence))
        return Stat("FloatingServer.renew(), in-process (verify + commit + sign)", samples)
    finally:
        server.close()


def sdk_latency(client: FloatingClient, cycles: int, renewals: int) -> list[Stat]:
    pc = time.perf_counter_ns
    lease_ns, renew_ns, release_ns = [], [], []
    for cycle in range(cycles + 2):
        t0 = pc()
        lease = client.request_lease()
        t1 = pc()
        renewed = []
        for _ in range(renewals):
            r0 = pc()
            lease.renew()
            renewed.append(pc() - r0)
        r1 = pc()
        assert lease.release() is True
        t2 = pc()
        if cycle >= 2:  # two warm-up cycles
            lease_ns.append(t1 - t0)
            renew_ns += renewed
            release_ns.append(t2 - r1)
    return [Stat("client.request_lease() (a new seat)", lease_ns), Stat("lease.renew() (heartbeat)", renew_ns),
            Stat("lease.release()", release_ns)]


def heartbeat_file(root: Path, url: str, config: Configuration, certificate: ServerCertificate, sample: bytes,
                   leases: int, total: int) -> Path:
    """``total`` heartbeats for ``leases`` simulated workstations, each lease's in sequence and far apart."""
    started = time.perf_counter()
    stations = simulated("load", leases)
    with httpx.Client(base_url=url + FLOATING_API_PREFIX, timeout=30) as http:
        for station in stations:
            answer = http.post("/lease", content=station.request(config, certificate, LEASE_REQUEST),
                               headers={"Content-Type": "application/json"})
            answer.raise_for_status()
            station.holds(answer.content, certificate)
    path = root / "heartbeats.txt"
    with path.open("wb") as out:
        for index in range(total):
            out.write(stations[index % leases].heartbeat(config, certificate))
    same_shape(path.open("rb").readline(), sample)
    print(f"  {leases} leases taken and {total} heartbeats signed in {time.perf_counter() - started:.1f} s")
    return path


# -- main ------------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small counts and 3 s of load (a smoke run)")
    parser.add_argument("--no-peer", action="store_true", help="do not run the LicenseSpring peer")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of load per scenario (default 10)")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections (default 64)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers per server (default 2)")
    parser.add_argument("--leases", type=int, default=2000, help="simulated workstations for the load (default 2000)")
    parser.add_argument("--heartbeats", type=int, default=120_000, help="pre-signed heartbeats (default 120000)")
    parser.add_argument("--keep", metavar="DIR", help="work in DIR and keep it (default: a temporary folder)")
    args = parser.parse_args()
    if args.quick:
        args.duration, args.leases, args.heartbeats = 3.0, 500, 20_000
    n_inproc, cycles, renewals, n_check = (300, 30, 5, 2_000) if args.quick else (2_000, 200, 10, 20_000)
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install -y wrk", file=sys.stderr)
        return 2

    root = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-floating-"))
    root.mkdir(parents=True, exist_ok=True)
    print(f"Floating benchmark: {args.workers} workers, {args.connections} connections, {args.duration:g} s of "
          f"load, wrk with {args.threads} threads, 127.0.0.1 only; work folder {root}")
    rows: dict[str, Stat] = {}
    loads: list[Result] = []
    try:
        site, config, perpetual_key = prepare(root, seats=args.leases + 100)

        # 1. the server's own cost, no HTTP
        rows["inproc"] = in_process_renewals(site, config, n_inproc)
        print_table("1. the server's work per heartbeat (one core, no HTTP)", [rows["inproc"]])

        with start_server(site, workers=args.workers) as server:
            # 2. the SDK's calls, one workstation
            client = LicenseManager(workstation_config(root, root / "config.json", "bench-ws")).floating(server.url)
            certificate = client.certificate()
            latency = sdk_latency(client, cycles, renewals)
            print_table(f"2. SDK calls on loopback ({cycles} cycles: lease, {renewals} renewals, release)", latency)
            lease = client.request_lease()
            # one heartbeat exactly as the SDK signs it (a private call: the bulk ones are checked against it)
            sample, _ = client._signed_request(LEASE_HEARTBEAT, certificate, lease_id=lease.lease_id,
                                               sequence=lease._held.grant.sequence)

            # 4 (measured now, while the lease is live). floating local_check beside the warm one
            warm_license = LicenseManager(workstation_config(root, root / "config.json", "bench-node-locked"))
            node_locked = warm_license.activate_license_offline()
            assert node_locked.key == perpetual_key
            rows["warm"] = Stat("warm license.local_check() (node-locked)", timed(node_locked.local_check, n_check,
                                                                                 warmup=n_check // 10))
            rows["floating"] = Stat("lease.local_check() (live floating lease)", timed(lease.local_check, n_check,
                                                                                     warmup=n_check // 10))
            lease.release()

            # 3. heartbeats under load
            path = heartbeat_file(root, server.url, config, certificate, sample, args.leases, args.heartbeats)
            loads.append(run_wrk("heartbeats (/floating/v1/heartbeat)", "heartbeat", server.url, args,
                                 requests=path))
            if loads[-1].requests > args.heartbeats:
                print(f"note: {loads[-1].requests} heartbeats were sent but only {args.heartbeats} were signed: "
                      "the rest repeat earlier ones (refused as replays); raise --heartbeats")

        port = free_port()
        hello = start([sys.executable, "-m", "uvicorn", "hello_app:app", "--app-dir", str(ROOT / "bench"),
                       "--host", HOST, "--port", str(port), "--workers", str(args.workers), "--no-access-log",
                       "--log-level", "warning", "--no-server-header"], port, root / "hello.log", "/")
        try:
            run_wrk("warm-up", "hello", f"http://{HOST}:{port}", args, duration=2)
            loads.insert(0, run_wrk("hello (bare ASGI)", "hello", f"http://{HOST}:{port}", args))
        finally:
            stop(hello)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)

    hello_rate, beat = loads[0].rate, loads[1]
    print(f"\n3. load: {args.workers} workers, {args.connections} connections")
    print(f"  {'scenario':38} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'requests':>9} {'errors':>7} {'non-2xx':>8}"
          f" {'vs hello':>9}")
    for result in loads:
        print(f"  {result.name:38} {result.rate:9.0f} {result.p50_ms:8.2f} {result.p99_ms:8.2f} {result.requests:9d} "
              f"{result.errors:7d} {result.non_2xx:8d} {result.rate / hello_rate if hello_rate else 0:8.1%}")
    per_core = 1e6 / rows["inproc"].p50_us if rows["inproc"].p50_us else 0.0
    print(f"  the server's own work allows about {per_core:,.0f} heartbeats/s per core (p50 of 1.); "
          f"heartbeats reached {beat.rate / per_core if per_core else 0:.0%} of one core's worth")

    print_table("4. local checks (in memory, no I/O)", [rows["warm"], rows["floating"]])
    ratio_warm = rows["floating"].p50_us / rows["warm"].p50_us
    print(f"  floating / warm local_check (p50): {ratio_warm:.2f}")
    if args.no_peer:
        print("  peer: skipped (--no-peer)")
        return 0
    peer, text = run_peer(n_check, 5 if args.quick else 20, timeout=1200.0)
    if peer is None:
        print(f"  peer: NOT MEASURED — {text}")
        return 0
    ratio = rows["floating"].p50_us / peer["local_check_p50_us"]
    verdict = "PASS" if ratio <= WARM_RATIO_TARGET else "MISS"
    print(f"  {peer['name']} local_check p50 {fmt_us(peer['local_check_p50_us'])}; floating / peer {ratio:.3f} "
          f"(target ≤ {WARM_RATIO_TARGET:.1f}, the warm local_check's): {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
