"""The license server under load: floors, SQLite, PostgreSQL and HAProxy with one and two servers, in one run.

    .venv/bin/python bench/bench_portal.py [--duration 8] [--connections 64] [--workers 2]
                                           [--haproxy-workers 1] [--skip postgresql,haproxy] [--keep DIR]

First the **floors**, measured in-process in this run: the per-core rate of one Ed25519 verify
plus one sign (what every answer must do: check the device's signature, sign the answer), and
the rate of durable commits (SQLite in WAL mode with ``synchronous=FULL`` in the bench folder, and
PostgreSQL with ``fsync`` and ``synchronous_commit`` on). An activation cannot cost less than
verify + sign + commit, a check less than verify + sign; times the server's worker processes
(at most the machine's cores), that is the floor each rate is compared with.

Then the load, each scenario driven by Debian's ``wrk`` from its own process for ``--duration``
seconds with ``--connections`` connections, against 127.0.0.1 only (``bench/wrk/*.lua``):

1. hello: ``GET /`` on ``bench/hello_app.py`` (a bare ASGI app) under ``uvicorn --workers N``;
2. SQLite: ``licensing-portal serve --workers N``: offline activation uploads (``POST /activate``,
   multipart, every request a distinct pre-signed ``ls_activation.req``) and online checks
   (``POST /api/v1/check`` by activated devices);
3. PostgreSQL: the same two against a durable throw-away cluster;
4. HAProxy over PostgreSQL (``scripts/scaleout.py``): the same two through the load balancer, first
   with one server in the rotation, then with two (``--haproxy-workers`` workers each).

After each activation run the seat count is checked: the license's kept count, its active device
rows and its answered activation requests must agree, and cover every activation wrk saw answered.
Each rate is printed as a share of hello's and of its floor, with PASS/MISS against issue 11's
targets: activations ≥ 1,000/s with p99 < 250 ms, checks ≥ 2,500/s with p99 < 100 ms, no error,
no non-2xx answer, seats exact. The HAProxy runs are held to the last three only: there the
servers, the load balancer, PostgreSQL and wrk all share the same cores. Every activation
scenario uses its own license (max_activations 10^9), so all of a scenario's activations contend
for one license row: the worst case. Each server gets 2 s of activations of yet another license before its measured runs (not counted),
and PostgreSQL's statistics are gathered once the load is prepared (see ``licensing_runs`` and
``analyze``): the figures are of a server at steady state, not of its first seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "scripts")]

from scaleout import Postgres, ScaleOut, free_port  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from licensing import LicenseID, LicenseManager  # noqa: E402
from licensing.issuing import catalog  # noqa: E402
from licensing.issuing.models import AnsweredRequest, Device, License  # noqa: E402
from licensing.issuing.workspace import VendorWorkspace  # noqa: E402
from licensing.wire import ACTIVATION_REQUEST, Envelope, crypto  # noqa: E402

from support.signed_requests import activate_device, activation_request, check_request  # noqa: E402

HOST = "127.0.0.1"
WRK_DIR = Path(__file__).resolve().parent / "wrk"
PRODUCT = "bench"
TARGETS = {"activation": (1000.0, 250.0), "check": (2500.0, 100.0)}  # requests/s at least, p99 ms under


@dataclass
class Result:
    name: str
    kind: str  # "hello", "activation" or "check"
    requests: int
    seconds: float
    errors: int
    non_2xx: int
    p50_ms: float
    p99_ms: float
    floor: float = 0.0  # requests/s the server's cores could not beat
    seats: str = ""  # "exact" or what disagreed (activation runs)
    repeats: int = 0  # activation requests sent a second time because the file ran out
    rated: bool = True  # held to the targets' rates and p99; False: to no errors and exact seats only
    cpu_ms: float = 0.0  # the servers' CPU time per answer (all their processes), if measured
    db_cpu_ms: float = 0.0  # PostgreSQL's CPU time per answer (all the cluster's processes), if measured

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def cpu_ceiling(self) -> float:
        """Answers per second this machine's cores could give at the CPU one answer cost here (servers + database).

        wrk's and HAProxy's own CPU is left out, so the ceiling is generous: a rate near it means
        the machine, not waiting, is what limits the run.
        """
        spent_ms = self.cpu_ms + self.db_cpu_ms
        return (os.cpu_count() or 1) * 1000.0 / spent_ms if spent_ms else 0.0

    def verdict(self) -> str:
        if self.kind == "hello":
            return "-"
        rate, p99 = TARGETS[self.kind]
        misses = []
        if self.rated and self.rate < rate:
            misses.append(f"< {rate:,.0f}/s")
        if self.rated and self.p99_ms >= p99:
            misses.append(f"p99 ≥ {p99:.0f} ms")
        if self.errors or self.non_2xx:
            misses.append(f"{self.errors + self.non_2xx} errors")
        if self.kind == "activation" and self.seats != "exact":
            misses.append(f"seats {self.seats}")
        if self.repeats:
            misses.append(f"{self.repeats} requests sent twice: raise --rate-ceiling")
        if misses:
            return "MISS (" + ", ".join(misses) + ")"
        return "PASS" if self.rated else "PASS (exact; no rate target)"


# -- floors ----------------------------------------------------------------------------------------


@dataclass
class Floors:
    verify_us: float
    sign_us: float
    sqlite_commit_us: float
    postgres_commit_us: float | None

    def per_core(self, kind: str, database: str) -> float:
        """Answers per second one core could give if it did nothing but the unavoidable work."""
        cost = self.verify_us + self.sign_us
        if kind == "activation":
            cost += self.sqlite_commit_us if database == "sqlite" else (self.postgres_commit_us or 0.0)
        return 1e6 / cost


def _per_call_us(count: int, step, timer=time.process_time) -> float:  # type: ignore[no-untyped-def]
    """µs per call of ``step`` by ``timer`` (CPU time by default; ``time.perf_counter`` for waits), after a warm-up."""
    for _ in range(count // 10):
        step()
    started = timer()
    for _ in range(count):
        step()
    return (timer() - started) / count * 1e6


def session_cpu_seconds(session: int) -> float:
    """CPU seconds (user + system) used so far by the live processes of one session (a server and its workers)."""
    return _cpu_seconds(lambda pid, fields: int(fields[3]) == session)


def children_cpu_seconds(parent: int) -> float:
    """CPU seconds used so far by a process and its live children (PostgreSQL's postmaster and its backends)."""
    return _cpu_seconds(lambda pid, fields: pid == parent or int(fields[1]) == parent)


def _cpu_seconds(chosen: Callable[[int, list[str]], bool]) -> float:
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if chosen(int(stat.parent.name), fields):  # fields after "(comm)": state ppid pgrp session ... utime stime
            total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def measure_floors(folder: Path, postgres: Postgres | None) -> Floors:
    key = crypto.Ed25519PrivateKey.generate()
    payload = os.urandom(700)  # about an activation request's payload
    signature = crypto.sign(key, ACTIVATION_REQUEST, payload)
    public = key.public_key()
    verify_us = _per_call_us(3000, lambda: crypto.verify(public, ACTIVATION_REQUEST, payload, signature))
    sign_us = _per_call_us(3000, lambda: crypto.sign(key, ACTIVATION_REQUEST, payload))

    database = sqlite3.connect(folder / "floor.db", isolation_level=None)
    database.execute("PRAGMA journal_mode=WAL")
    database.execute("PRAGMA synchronous=FULL")
    database.execute("CREATE TABLE rows (id INTEGER PRIMARY KEY, body TEXT)")
    row = "x" * 1500  # about an activation's rows

    def sqlite_commit() -> None:
        database.execute("BEGIN IMMEDIATE")
        database.execute("INSERT INTO rows (body) VALUES (?)", (row,))
        database.execute("COMMIT")

    sqlite_us = _per_call_us(1000, sqlite_commit, time.perf_counter)
    database.close()

    postgres_us = None
    if postgres is not None:
        import psycopg

        url = postgres.create_database("floor").replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(url) as connection:
            connection.execute("CREATE TABLE IF NOT EXISTS rows (id SERIAL PRIMARY KEY, body TEXT)")
            connection.commit()

            def postgres_commit() -> None:
                connection.execute("INSERT INTO rows (body) VALUES (%s)", (row,))
                connection.commit()

            postgres_us = _per_call_us(1000, postgres_commit, time.perf_counter)
    return Floors(verify_us, sign_us, sqlite_us, postgres_us)


# -- the vendor and the request files -----------------------------------------------------------------


@dataclass
class Load:
    """One license's requests: a file of distinct activation requests, a file of check requests."""

    key: str
    activations: Path
    checks: Path
    api_key: str


def open_vendor(folder: Path, database_url: str | None, *, create: bool) -> VendorWorkspace:
    if create:
        return VendorWorkspace.create(folder, database_url=database_url)
    return VendorWorkspace.open(folder, database_url=database_url)


def prepare_load(workspace: VendorWorkspace, folder: Path, label: str, activations: int, check_devices: int) -> Load:
    """A license of 10^9 seats; ``activations`` distinct requests for it; devices already activated for checks."""
    now = datetime.now(timezone.utc)
    with workspace.store.session() as session:
        try:
            product = catalog.get_product(session, PRODUCT)
        except Exception:  # noqa: BLE001 - the first license of this vendor makes the product
            product = catalog.add_product(session, now, PRODUCT, "Benchmark product")
        key = catalog.issue_license(session, now, product, catalog.LicenseSpec(
            "perpetual", features=("a", "b"), max_activations=10**9)).key
    assert key is not None
    config = workspace.client_configuration(PRODUCT)
    started = time.perf_counter()
    activation_file = folder / f"{label}-activations.txt"
    with activation_file.open("wb") as out:
        for _ in range(activations):
            out.write(activation_request(config, key))  # one line each, ending in "\n"
    check_file = folder / f"{label}-checks.txt"
    with check_file.open("wb") as out:
        for _ in range(check_devices):
            device = activate_device(config, key, workspace.issuer.answer_activation)
            out.write(check_request(config, device))
    print(f"  {label}: {activations} activation requests and {check_devices} devices in "
          f"{time.perf_counter() - started:.1f} s")
    return Load(key, activation_file, check_file, config.api_key)


def analyze(workspace: VendorWorkspace) -> None:
    """Gather the planner's statistics after the bulk preparation, as PostgreSQL's manual advises after loading data.

    Without it the first run's statements are planned for the nearly empty tables that the
    cluster started with, until autovacuum gets round to them mid-run.
    """
    with workspace.store.engine.connect() as connection:
        connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")


def check_request_shape(workspace: VendorWorkspace, folder: Path, load: Load) -> None:
    """The bulk requests must have exactly the fields of one the SDK makes itself."""
    config = workspace.client_configuration(PRODUCT).with_options(
        data_dir=folder / "sdk" / "data", request_dir=folder / "sdk", trace_dir=folder / "sdk" / "trace",
        hardware_id="bench-sdk-device")
    sample = LicenseManager(config).create_offline_activation_file(LicenseID.from_key(load.key)).read_bytes()
    made = load.activations.open("rb").readline()
    theirs, ours = json.loads(Envelope.parse(sample).payload), json.loads(Envelope.parse(made).payload)
    assert set(theirs) == set(ours), (sorted(theirs), sorted(ours))


def seat_count(workspace: VendorWorkspace, key: str, answered: int, check_devices: int) -> str:
    """"exact" when the kept count, the device rows and the answered requests agree and cover wrk's 2xx.

    One statement, so one snapshot: the three counts are of the same moment even while answers
    still in flight (wrk stops reading before the servers stop answering) are being committed.
    """
    license = select(License.id).where(License.key == key).scalar_subquery()
    counts = select(
        select(License.active_devices).where(License.id == license).scalar_subquery(),
        select(func.count()).select_from(Device).where(Device.license_id == license,
                                                       Device.active.is_(True)).scalar_subquery(),
        select(func.count()).select_from(AnsweredRequest).join(Device, Device.id == AnsweredRequest.device_id).where(
            Device.license_id == license, AnsweredRequest.kind == ACTIVATION_REQUEST).scalar_subquery(),
    )
    with workspace.store.session(readonly=True) as session:
        kept, rows, requests = session.execute(counts).one()
    made = kept - check_devices
    if not kept == rows == requests:
        return f"differ: kept {kept}, device rows {rows}, answered {requests}"
    if made < answered:  # wrk may stop before reading the last answers, never the other way round
        return f"short: {made} activations for {answered} answered"
    return "exact"


# -- servers --------------------------------------------------------------------------------------------


def start(command: list[str], port: int, log: Path, ping: str, env: dict[str, str] | None = None
          ) -> subprocess.Popen[bytes]:
    handle = log.open("wb")
    process = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True,
                               cwd=ROOT, env={**os.environ, **(env or {})})
    deadline = time.monotonic() + 60
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


def portal(folder: Path, database_url: str | None, workers: int, log: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    command = [sys.executable, "-m", "licensing.issuing.cli", "--data", str(folder)]
    if database_url:
        command += ["--database", database_url]
    command += ["serve", "--host", HOST, "--port", str(port), "--workers", str(workers), "--no-access-log",
                "--log-level", "warning"]
    return start(command, port, log, "/api/v1/health"), port


#: the wrk script of each kind of run (``bench/wrk``); bench_floating.py adds heartbeats
WRK_SCRIPTS = {"hello": "hello.lua", "activation": "activate.lua", "check": "check.lua", "heartbeat": "heartbeat.lua"}


def run_wrk(name: str, kind: str, url: str, args: argparse.Namespace, load: Load | None = None,
            duration: float | None = None, sessions: tuple[int, ...] = (), requests: Path | None = None,
            database: int | None = None) -> Result:
    """One wrk run; ``sessions``: the server process sessions whose CPU time per answer is measured;
    ``database``: PostgreSQL's postmaster, whose processes' CPU time is measured apart; ``requests``: the request bodies, one a line, when no
    ``load`` gives them."""
    script = WRK_SCRIPTS[kind]
    env = {"BENCH_THREADS": str(args.threads), "BENCH_WRK_DIR": str(WRK_DIR)}
    if load is not None:
        env.update(BENCH_REQUESTS=str(load.activations if kind == "activation" else load.checks),
                   BENCH_API_KEY=load.api_key)
    if requests is not None:
        env["BENCH_REQUESTS"] = str(requests)
    seconds = duration or args.duration
    command = ["wrk", "-t", str(args.threads), "-c", str(args.connections), "-d", f"{int(seconds)}s",
               "--timeout", "10s", "-s", str(WRK_DIR / script), url + "/"]
    cpu_before = sum(session_cpu_seconds(session) for session in sessions)
    db_before = children_cpu_seconds(database) if database else 0.0
    completed = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 120,
                               env={**os.environ, **env})
    cpu = sum(session_cpu_seconds(session) for session in sessions) - cpu_before
    db_cpu = children_cpu_seconds(database) - db_before if database else 0.0
    line = next((ln for ln in completed.stdout.splitlines() if ln.startswith("BENCH_RESULT ")), None)
    if completed.returncode != 0 or line is None:
        raise SystemExit(f"wrk failed ({completed.returncode}):\n{completed.stdout}\n{completed.stderr}")
    data = json.loads(line.split(" ", 1)[1])
    errors = data["connect"] + data["read"] + data["write"] + data["timeout"]
    return Result(name, kind, data["requests"], data["duration_us"] / 1e6, errors, data["status"],
                  data["p50_us"] / 1000, data["p99_us"] / 1000, repeats=data.get("repeats", 0),
                  cpu_ms=cpu * 1000 / data["requests"] if sessions and data["requests"] else 0.0,
                  db_cpu_ms=db_cpu * 1000 / data["requests"] if data["requests"] else 0.0)


def settle(seconds: float = 2.0) -> None:
    """Flush what earlier steps left dirty and let background work end, so a scenario pays only for itself.

    Without this, one scenario's database files (and the request files made for the next) were
    written back to disk during the next scenario's own fsyncs: SQLite activations measured
    about 20 % lower in a full run than alone.
    """
    os.sync()
    time.sleep(seconds)


WARM_UP_SECONDS = 2


def licensing_runs(label: str, url: str, args: argparse.Namespace, load: Load, workspace: VendorWorkspace,
                   floors: Floors, database: str, cores: int, sessions: tuple[int, ...],
                   postmaster: int | None = None, warm_up: Load | None = None, rated: bool = True) -> list[Result]:
    """An activation run (then the seat check) and a check run against ``url``.

    ``warm_up``: activations of another license sent first, for :data:`WARM_UP_SECONDS`, and not
    counted. A new server, and a database whose tables were nearly empty, spend the first second
    or two of load filling caches and growing files: the first measured PostgreSQL run after
    the load was prepared cost its cluster about twice the CPU per activation of the runs after
    it (782 µs against 305-339 µs), which is not what a server does at steady state.
    """
    cores = min(cores, os.cpu_count() or 1)
    if warm_up is not None:
        settle()
        run_wrk("warm-up", "activation", url, args, warm_up, duration=WARM_UP_SECONDS)
    settle()
    activation = run_wrk(f"{label}: activation upload", "activation", url, args, load, sessions=sessions,
                         database=postmaster)
    activation.floor = cores * floors.per_core("activation", database)
    activation.seats = seat_count(workspace, load.key, activation.requests - activation.non_2xx, args.check_devices)
    settle()
    check = run_wrk(f"{label}: online check", "check", url, args, load, sessions=sessions,
                    database=postmaster)
    check.floor = cores * floors.per_core("check", database)
    activation.rated = check.rated = rated
    return [activation, check]


# -- main ------------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per scenario (default 8)")
    parser.add_argument("--connections", type=int, default=64, help="concurrent connections (default 64)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers of the SQLite and PostgreSQL servers")
    parser.add_argument("--haproxy-workers", type=int, default=1, help="workers of each server behind HAProxy")
    parser.add_argument("--rate-ceiling", type=int, default=3000,
                        help="activations/s the request files allow for (default 3000: duration × this each)")
    parser.add_argument("--check-devices", type=int, default=64, help="activated devices doing online checks")
    parser.add_argument("--skip", default="", help="comma-separated: postgresql, haproxy")
    parser.add_argument("--keep", metavar="DIR", help="work in DIR and keep it (default: a temporary folder)")
    args = parser.parse_args()
    skip = {name.strip() for name in args.skip.split(",") if name.strip()}
    if shutil.which("wrk") is None:
        print("wrk is not installed: apt-get install -y wrk", file=sys.stderr)
        return 2
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-portal-"))
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o755)  # PostgreSQL's own user (when we are root) must reach its folder inside
    count = int(args.duration * args.rate_ceiling)
    warm_up_count = WARM_UP_SECONDS * args.rate_ceiling
    print(f"Portal benchmark: {args.connections} connections, {args.duration:g} s per scenario, wrk with "
          f"{args.threads} threads, 127.0.0.1 only; {os.cpu_count()} cores here")

    scale = None if {"postgresql", "haproxy"} <= skip else ScaleOut(folder / "scaleout", servers=2,
                                                                      workers=args.haproxy_workers,
                                                                      port=free_port(), fixed_ports=False)
    results: list[Result] = []
    workspaces: list[VendorWorkspace] = []
    try:
        if scale is not None:
            scale.start_database()
        print(f"Preparing the SQLite vendor in {folder} ...")
        sqlite_vendor = open_vendor(folder / "sqlite-vendor", None, create=True)
        workspaces.append(sqlite_vendor)
        sqlite_load = prepare_load(sqlite_vendor, folder, "sqlite", count, args.check_devices)
        sqlite_warm_up = prepare_load(sqlite_vendor, folder, "sqlite-warm-up", warm_up_count, 0)
        check_request_shape(sqlite_vendor, folder, sqlite_load)

        floors = measure_floors(folder, None if scale is None else scale.postgres)
        print("\nFloors (in-process, this run):")
        print(f"  Ed25519 verify {floors.verify_us:6.0f} µs + sign {floors.sign_us:4.0f} µs CPU: "
              f"{1e6 / (floors.verify_us + floors.sign_us):7,.0f} verify+sign/s per core")
        print(f"  SQLite WAL commit, synchronous=FULL: {floors.sqlite_commit_us:6.0f} µs "
              f"({1e6 / floors.sqlite_commit_us:7,.0f} commits/s, one writer)")
        if floors.postgres_commit_us is not None:
            print(f"  PostgreSQL commit, fsync on:         {floors.postgres_commit_us:6.0f} µs "
                  f"({1e6 / floors.postgres_commit_us:7,.0f} commits/s, one connection)")

        if scale is not None:
            scale.postgres.stop()  # the SQLite runs come first, on a machine without PostgreSQL running

        print("\nRunning ...")
        port = free_port()
        hello = start([sys.executable, "-m", "uvicorn", "hello_app:app", "--app-dir", str(ROOT / "bench"),
                       "--host", HOST, "--port", str(port), "--workers", str(args.workers), "--no-access-log",
                       "--log-level", "warning", "--no-server-header"], port, folder / "hello.log", "/")
        try:
            run_wrk("warm-up", "hello", f"http://{HOST}:{port}", args, duration=2)
            results.append(run_wrk(f"hello (bare ASGI, {args.workers} workers)", "hello", f"http://{HOST}:{port}", args,
                                   sessions=(hello.pid,)))
        finally:
            stop(hello)

        server, port = portal(sqlite_vendor.folder, None, args.workers, folder / "sqlite-portal.log")
        try:
            results += licensing_runs(f"SQLite, {args.workers} workers", f"http://{HOST}:{port}", args, sqlite_load,
                                      sqlite_vendor, floors, "sqlite", args.workers, (server.pid,),
                                      warm_up=sqlite_warm_up)
        finally:
            stop(server)

        loads: dict[str, Load] = {}
        if scale is not None:
            scale.start_database()
            # Made only now: writing 24,000 requests a scenario and activating devices on PostgreSQL
            # leaves dirty pages that would be flushed during the SQLite runs, inside their fsyncs.
            print("Preparing the PostgreSQL vendor ...")
            pg_vendor = open_vendor(scale.vendor_folder, scale.database_url, create=False)
            workspaces.append(pg_vendor)
            for label in [name for name in ("postgresql", "haproxy-1", "haproxy-2")
                          if name.split("-")[0] not in skip]:
                loads[label] = prepare_load(pg_vendor, folder, label, count, args.check_devices)
            loads["warm-up"] = prepare_load(pg_vendor, folder, "postgresql-warm-up", warm_up_count, 0)
            analyze(pg_vendor)

        if scale is not None and "postgresql" not in skip:
            server, port = portal(scale.vendor_folder, scale.database_url, args.workers, folder / "pg-portal.log")
            try:
                results += licensing_runs(f"PostgreSQL, {args.workers} workers", f"http://{HOST}:{port}", args,
                                          loads["postgresql"], workspaces[1], floors, "postgresql", args.workers,
                                          (server.pid,), scale.postgres.pid, warm_up=loads["warm-up"])
            finally:
                stop(server)

        if scale is not None and "haproxy" not in skip:
            scale.start_servers()
            scale.start_haproxy()
            each = f"{args.haproxy_workers} worker{'s' if args.haproxy_workers != 1 else ''} each"
            scale.set_server_enabled(2, False)
            servers = (scale.pids["server-1"], scale.pids["server-2"])
            results += licensing_runs(f"HAProxy, 1 server ({each})", scale.url, args, loads["haproxy-1"],
                                      workspaces[1], floors, "postgresql", args.haproxy_workers, servers,
                                      scale.postgres.pid, warm_up=loads["warm-up"], rated=False)
            scale.set_server_enabled(2, True)
            scale.wait_for_state("portal2", "UP")
            # the warm-up's requests were answered before: now replays, which still warm server 2
            results += licensing_runs(f"HAProxy, 2 servers ({each})", scale.url, args, loads["haproxy-2"],
                                      workspaces[1], floors, "postgresql", 2 * args.haproxy_workers, servers,
                                      scale.postgres.pid, warm_up=loads["warm-up"], rated=False)
    finally:
        for workspace in workspaces:
            workspace.close()
        if scale is not None:
            scale.stop()
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)

    hello_rate = results[0].rate
    print()
    print(f"{'scenario':48} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6} {'non-2xx':>7} {'vs hello':>8} "
          f"{'floor/s':>8} {'vs floor':>8} {'CPU/req':>8} {'DB CPU':>7} {'ceiling':>8} {'vs ceil':>7}  verdict")
    for result in results:
        floor = f"{result.floor:8,.0f} {result.rate / result.floor:8.1%}" if result.floor else f"{'-':>8} {'-':>8}"
        cpu = f"{result.cpu_ms * 1000:6.0f}µs" if result.cpu_ms else f"{'-':>8}"
        cpu += f" {result.db_cpu_ms * 1000:5.0f}µs" if result.db_cpu_ms else f" {'-':>7}"
        ceiling = result.cpu_ceiling
        cpu += f" {ceiling:8,.0f} {result.rate / ceiling:7.0%}" if ceiling and result.kind != "hello" else f" {'-':>8} {'-':>7}"
        print(f"{result.name:48} {result.rate:8,.0f} {result.p50_ms:7.1f} {result.p99_ms:7.1f} {result.errors:6d} "
              f"{result.non_2xx:7d} {result.rate / hello_rate:8.1%} {floor} {cpu}  {result.verdict()}")
    print("targets (issue 11): activations ≥ 1,000/s with p99 < 250 ms, checks ≥ 2,500/s with p99 < 100 ms; "
          "no errors, no non-2xx; seats exact")
    print("HAProxy runs: the servers, HAProxy, PostgreSQL and wrk share this machine's cores, so they show failover's "
          "set-up and exact counting, not scaling: no rate target")
    print("floor: the server's cores (workers, at most this machine's) × 1 / (verify + sign [+ commit])")
    print("CPU/req: CPU time of the server processes (all workers; not PostgreSQL's, HAProxy's or wrk's) per "
          "answer: steady on a busy machine, where rates are not")
    print("DB CPU: CPU time of the PostgreSQL cluster's processes per answer (on this machine it shares the cores "
          "with the servers and wrk)")
    print("ceiling: this machine's cores / (CPU/req + DB CPU): the rate the CPU one answer costs allows here "
          "(wrk's and HAProxy's CPU left out)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
