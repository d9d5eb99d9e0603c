"""The license server scaled out on one machine: PostgreSQL, several portal servers, HAProxy in front.

    .venv/bin/python scripts/scaleout.py start  [--dir DIR] [--servers 2] [--workers 1] [--port 8000]
    .venv/bin/python scripts/scaleout.py status [--dir DIR]
    .venv/bin/python scripts/scaleout.py kill N | restart N [--dir DIR]     (a failover drill)
    .venv/bin/python scripts/scaleout.py stop   [--dir DIR]

``start`` builds, in DIR (default ``./scaleout``), what a vendor runs on several hosts:

* **PostgreSQL** (``DIR/postgres``, on 127.0.0.1): the one database every server shares. It is
  durable (``fsync`` and ``synchronous_commit`` on): a server answers only once its row is on
  disk, and a server may die at any moment without losing an answer it gave.
* **N ``licensing-portal serve`` processes** on loopback ports ``PORT+1`` … ``PORT+N``, each with
  its own data folder (``DIR/server-N``) holding a copy of the vendor's ``keys/`` and
  ``portal.json``, as separate hosts would: the signing keys, and the session secret that makes an
  admin session or a CSRF token made by one server valid on the others. Nothing else is kept in a
  server: counts, sessions' revocation and sign-in limits live in the database.
* **HAProxy** on ``PORT``: round robin over the servers, a health check every 500 ms on
  ``GET /api/v1/health`` (the server answers *and* reaches the database; two failures take a
  server out, two successes bring it back). License requests (``/api/v1/…``, ``/activate``,
  ``/deactivate``, ``/refresh``) are idempotent by request id, so a request cut off by a dying
  server is sent again to another one (``retry-on conn-failure empty-response``); admin forms are
  retried only when they never reached a server. ``DIR/haproxy.cfg`` is the configuration,
  printed in the README's deployment section; its statistics page is on ``PORT+100``.

The vendor is created on first start (``licensing-portal init`` against the database); set the
admin password with ``licensing-portal --data DIR/vendor --database URL admin set-password`` and
``start`` again to copy ``portal.json`` to the servers. The processes outlive this script; their
ids are kept in ``DIR/state.json`` for ``stop``, ``kill`` and ``restart``. ``bench/bench_portal.py``
and ``tests/e2e/test_failover.py`` drive the same :class:`ScaleOut` from Python. Loopback only.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import glob
import io
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent
STATE_FILE = "state.json"

__all__ = ["ScaleOut", "Postgres", "postgres_binary", "create_database", "free_port", "haproxy_config"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def _wait_for(what: str, ready, timeout: float = 30.0, alive=None) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if alive is not None and not alive():
            raise RuntimeError(f"{what} stopped while starting")
        if ready():
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not come up within {timeout:.0f} s")


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1.0).status_code == 200
    except httpx.HTTPError:
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie (killed, not yet reaped by its parent) is not alive
    with contextlib.suppress(OSError):
        if Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z"):
            return False
    return True


def _kill_group(pid: int, sig: int = signal.SIGKILL) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


# -- PostgreSQL --------------------------------------------------------------------------------------


def postgres_binary(name: str) -> str | None:
    """``initdb``, ``pg_ctl``…: on the PATH, or in Debian's versioned folder."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


@dataclass
class Postgres:
    """One cluster in ``root`` (data in ``root/data``, its socket in ``root``), listening on 127.0.0.1.

    ``durable=False`` turns fsync off: for tests that only need SQL, never for a measurement or
    a deployment. PostgreSQL refuses to run as root, so as root the cluster belongs to and runs
    as the ``postgres`` user Debian's package creates.
    """

    root: Path
    port: int
    durable: bool = True

    @property
    def url(self) -> str:
        """The server's URL without a database name."""
        return f"postgresql+psycopg://postgres@{HOST}:{self.port}"

    def _as_owner(self) -> list[str]:
        return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _binary(self, name: str) -> str:
        found = postgres_binary(name)
        if found is None:
            raise RuntimeError(f"PostgreSQL's {name} is not installed (apt-get install postgresql)")
        return found

    def start(self) -> None:
        data = self.root / "data"
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
        if not (data / "PG_VERSION").exists():
            self._run(self._binary("initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                      *([] if self.durable else ["--no-sync"]))
        sync = "on" if self.durable else "off"
        options = (f"-p {self.port} -k {self.root} -c listen_addresses={HOST} -c max_connections=200 "
                   f"-c fsync={sync} -c synchronous_commit={sync} -c full_page_writes={sync}")
        self._run(self._binary("pg_ctl"), "-D", str(data), "-l", str(self.root / "server.log"), "-o", options, "-w",
                  "start")

    @property
    def pid(self) -> int | None:
        """The postmaster's process id while the cluster runs (every backend is its child)."""
        try:
            return int((self.root / "data" / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def _run(self, *command: str) -> None:
        done = subprocess.run([*self._as_owner(), *command], capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"{Path(command[0]).name} failed in {self.root} (every folder above it must be "
                               f"readable by the user PostgreSQL runs as):\n{done.stdout}{done.stderr}")

    def stop(self, mode: str = "fast") -> None:
        subprocess.run([*self._as_owner(), self._binary("pg_ctl"), "-D", str(self.root / "data"), "-m", mode, "-w",
                        "stop"], capture_output=True)

    def create_database(self, name: str) -> str:
        """Create database ``name`` if it does not exist; return its URL."""
        return create_database(self.url, name)


def create_database(server_url: str, name: str) -> str:
    """Create database ``name`` on the server at ``server_url`` unless it exists; return its URL."""
    import psycopg

    with psycopg.connect(server_url.replace("postgresql+psycopg://", "postgresql://") + "/postgres",
                         autocommit=True) as connection:
        if connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            connection.execute(f'CREATE DATABASE "{name}"')
    return f"{server_url}/{name}"


# -- HAProxy -----------------------------------------------------------------------------------------


def haproxy_config(port: int, servers: list[int], *, stats_port: int, admin_socket: Path | None = None) -> str:
    """The load balancer in front of the portal servers listening on ``servers`` (ports on 127.0.0.1)."""
    lines = [
        "global",
        "    maxconn 4096",
        *([f"    stats socket {admin_socket} mode 600 level admin"] if admin_socket else []),
        "",
        "defaults",
        "    mode http",
        "    timeout connect 1s",
        "    timeout client 30s",
        "    timeout server 30s",
        "    timeout http-keep-alive 10s",
        "    option forwardfor          # X-Forwarded-For: servers see the client (sign-in limits are per client)",
        "    retries 2",
        "    option redispatch 1        # every retry goes to another server",
        "    default-server inter 500ms fall 2 rise 2",
        "",
        "frontend license_server",
        f"    bind {HOST}:{port}",
        "    acl idempotent path_beg /api/v1/",
        "    acl idempotent path /activate /deactivate /refresh",
        "    use_backend answers if idempotent",
        "    default_backend pages",
        "",
        "# License requests carry a request id and are answered once: a request cut off by a dying",
        "# server (no answer came back) is sent again, to another server, and gets the same answer.",
        "backend answers",
        "    balance roundrobin",
        "    retry-on conn-failure empty-response",
        "    option httpchk GET /api/v1/health",
        "    http-check expect status 200",
        "    http-response set-header X-Served-By %s   # the server that answered",
        *[f"    server portal{index} {HOST}:{server_port} check" for index, server_port in enumerate(servers, 1)],
        "",
        "# Everything else (admin forms, sign-in): retried only when it never reached a server.",
        "backend pages",
        "    balance roundrobin",
        "    http-response set-header X-Served-By %s",
        *[f"    server portal{index} {HOST}:{server_port} track answers/portal{index}"
          for index, server_port in enumerate(servers, 1)],
        "",
        "listen stats",
        f"    bind {HOST}:{stats_port}",
        "    stats enable",
        "    stats uri /",
        "",
    ]
    return "\n".join(lines)


# -- the whole set -----------------------------------------------------------------------------------


@dataclass
class ScaleOut:
    """PostgreSQL + ``servers`` portal servers + HAProxy, all in ``folder``; see the module's docstring."""

    folder: Path
    servers: int = 2
    workers: int = 1
    port: int = 8000
    durable: bool = True
    pids: dict[str, int] = field(default_factory=dict)
    pg_port: int = 0
    #: False: the servers and the statistics page get free ports when they first start (tests,
    #: benchmarks), instead of PORT+1, PORT+2… and PORT+100
    fixed_ports: bool = True
    ports: dict[str, int] = field(default_factory=dict)

    # -- names -------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def _port(self, name: str, offset: int) -> int:
        if name not in self.ports:
            self.ports[name] = self.port + offset if self.fixed_ports else free_port()
        return self.ports[name]

    def server_port(self, index: int) -> int:
        return self._port(f"server-{index}", index)

    def server_url(self, index: int) -> str:
        return f"http://{HOST}:{self.server_port(index)}"

    @property
    def stats_url(self) -> str:
        return f"http://{HOST}:{self._port('stats', 100)}/"

    @property
    def vendor_folder(self) -> Path:
        return self.folder / "vendor"

    def server_folder(self, index: int) -> Path:
        return self.folder / f"server-{index}"

    @property
    def postgres(self) -> Postgres:
        return Postgres(self.folder / "postgres", self.pg_port, durable=self.durable)

    @property
    def database_url(self) -> str:
        return f"{self.postgres.url}/licensing"

    @property
    def admin_socket(self) -> Path:
        return self.folder / "haproxy.sock"

    # -- state -------------------------------------------------------------------------------------

    def _save(self) -> None:
        state = {"servers": self.servers, "workers": self.workers, "port": self.port, "durable": self.durable,
                 "fixed_ports": self.fixed_ports, "ports": self.ports,
                 "pg_port": self.pg_port, "pids": self.pids}
        (self.folder / STATE_FILE).write_text(json.dumps(state, indent=2) + "\n")

    @classmethod
    def load(cls, folder: Path) -> ScaleOut:
        try:
            state = json.loads((folder / STATE_FILE).read_text())
        except FileNotFoundError:
            raise SystemExit(f"Nothing was started in {folder} (no {STATE_FILE}).") from None
        return cls(folder, servers=state["servers"], workers=state["workers"], port=state["port"],
                   durable=state["durable"], pids=state["pids"], pg_port=state["pg_port"],
                   fixed_ports=state["fixed_ports"], ports=state["ports"])

    # -- start and stop ----------------------------------------------------------------------------

    def start(self) -> None:
        self.start_database()
        self.start_servers()
        self.start_haproxy()

    def start_database(self) -> None:
        """PostgreSQL, the database ``licensing`` in it, and the vendor (made on first start)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        if not self.pg_port:
            self.pg_port = free_port()
        self.postgres.start()
        self._save()
        self.postgres.create_database("licensing")
        self._make_vendor()

    def start_servers(self) -> None:
        for index in range(1, self.servers + 1):
            self.start_server(index)

    def _cli(self, folder: Path, *args: str) -> list[str]:
        return [sys.executable, "-m", "licensing.issuing.cli", "--data", str(folder), "--database",
                self.database_url, *args]

    def _make_vendor(self) -> None:
        if not (self.vendor_folder / "keys" / "keys.json").exists():
            subprocess.run(self._cli(self.vendor_folder, "init"), check=True, capture_output=True, cwd=ROOT)
        from licensing.issuing.portal.settings import ensure_portal_file

        ensure_portal_file(self.vendor_folder)
        for index in range(1, self.servers + 1):  # what each host holds: the keys and the portal secret
            target = self.server_folder(index)
            shutil.copytree(self.vendor_folder / "keys", target / "keys", dirs_exist_ok=True)
            shutil.copy2(self.vendor_folder / "portal.json", target / "portal.json")

    def start_server(self, index: int) -> None:
        folder = self.server_folder(index)
        process = self._spawn(f"server-{index}", folder / "server.log", self._cli(
            folder, "serve", "--host", HOST, "--port", str(self.server_port(index)), "--workers", str(self.workers),
            "--no-access-log", "--log-level", "warning"))
        _wait_for(f"portal server {index}", lambda: _answers(self.server_url(index) + "/api/v1/health"),
                  alive=lambda: process.poll() is None)

    def _spawn(self, name: str, log: Path, command: list[str]) -> subprocess.Popen[bytes]:
        """Start ``command`` in a session of its own (killed as a group), its output in ``log``; remember it."""
        with log.open("ab") as output:
            process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
                                       cwd=ROOT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        self.pids[name] = process.pid
        self._save()
        return process

    def start_haproxy(self) -> None:
        binary = shutil.which("haproxy") or "/usr/sbin/haproxy"
        if not Path(binary).exists():
            raise RuntimeError("HAProxy is not installed (apt-get install haproxy)")
        config = self.folder / "haproxy.cfg"
        config.write_text(haproxy_config(self.port, [self.server_port(i) for i in range(1, self.servers + 1)],
                                         stats_port=self._port("stats", 100), admin_socket=self.admin_socket))
        process = self._spawn("haproxy", self.folder / "haproxy.log", [binary, "-db", "-f", str(config)])
        _wait_for("HAProxy", lambda: list(self.server_states().values()) == ["UP"] * self.servers,
                  alive=lambda: process.poll() is None)

    def stop(self) -> None:
        for name, pid in list(self.pids.items()):
            _kill_group(pid, signal.SIGTERM)
            deadline = time.monotonic() + 15
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            _kill_group(pid)
            self._reap(pid)
            del self.pids[name]
        if self.pg_port:
            self.postgres.stop()
        self._save()

    @staticmethod
    def _reap(pid: int) -> None:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)

    # -- failover drills ---------------------------------------------------------------------------

    def kill_server(self, index: int) -> None:
        """SIGKILL server ``index`` and its workers at once: a host that dies mid-request."""
        pid = self.pids.pop(f"server-{index}")
        _kill_group(pid)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
        self._save()

    def _stats(self) -> list[dict[str, str]]:
        try:
            text = httpx.get(self.stats_url + ";csv", timeout=2.0).text
        except httpx.HTTPError:
            return []
        return list(csv.DictReader(io.StringIO(text.lstrip("# "))))

    def server_states(self) -> dict[str, str]:
        """HAProxy's view of the servers: ``{"portal1": "UP", "portal2": "DOWN", …}`` (backend ``answers``)."""
        return {row["svname"]: row["status"].split(" ")[0] for row in self._stats()
                if row["pxname"] == "answers" and row["svname"] not in ("FRONTEND", "BACKEND")}

    def backend_stats(self, backend: str) -> dict[str, str]:
        """HAProxy's counters for one backend (``wretr``: retries, ``wredis``: redispatches, ``hrsp_5xx``…)."""
        return next(row for row in self._stats() if row["pxname"] == backend and row["svname"] == "BACKEND")

    def wait_for_state(self, server: str, state: str, timeout: float = 30.0) -> None:
        _wait_for(f"HAProxy seeing {server} {state}", lambda: self.server_states().get(server) == state, timeout)

    def set_server_enabled(self, index: int, enabled: bool) -> None:
        """Take a server out of the rotation (maintenance) or put it back, through HAProxy's admin socket."""
        command = f"set server answers/portal{index} state {'ready' if enabled else 'maint'}\n"
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.connect(str(self.admin_socket))
            connection.sendall(command.encode("ascii"))
            reply = connection.recv(4096).decode("ascii", "replace").strip()
        if reply:
            raise RuntimeError(f"HAProxy refused {command.strip()!r}: {reply}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("start", "stop", "status", "kill", "restart"))
    parser.add_argument("server", nargs="?", type=int, help="the server to kill or restart (1, 2, …)")
    parser.add_argument("--dir", default="scaleout", help="where everything lives (default ./scaleout)")
    parser.add_argument("--servers", type=int, default=2, help="portal servers (default 2)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers per server (default 1)")
    parser.add_argument("--port", type=int, default=8000, help="HAProxy's port; servers use PORT+1… (default 8000)")
    args = parser.parse_args()
    folder = Path(args.dir).absolute()
    if args.command == "start":
        if (folder / STATE_FILE).exists() and ScaleOut.load(folder).pids:
            raise SystemExit(f"Already running from {folder}: stop it first.")
        scale = ScaleOut(folder, servers=args.servers, workers=args.workers, port=args.port)
        try:
            scale.start()
        except BaseException:
            scale.stop()
            raise
        print(f"License server: {scale.url}  (HAProxy; statistics on {scale.stats_url})")
        for index in range(1, scale.servers + 1):
            print(f"  server {index}: {scale.server_url(index)}  data {scale.server_folder(index)}")
        print(f"  database:  {scale.database_url}")
        print(f"  vendor:    licensing-portal --data {scale.vendor_folder} --database {scale.database_url} …")
        print(f"Stop with: {sys.executable} {Path(__file__).relative_to(ROOT)} stop --dir {folder}")
        return 0
    scale = ScaleOut.load(folder)
    if args.command == "stop":
        scale.stop()
        print("Stopped HAProxy, the servers and PostgreSQL.")
    elif args.command == "status":
        print(json.dumps({"url": scale.url, "servers": scale.server_states(), "pids": scale.pids}, indent=2))
    elif args.server is None:
        parser.error(f"{args.command} needs the number of a server")
    elif args.command == "kill":
        scale.kill_server(args.server)
        print(f"Killed server {args.server} (SIGKILL).")
    else:
        scale.start_server(args.server)
        print(f"Restarted server {args.server}; HAProxy takes it back after two good health checks.")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
