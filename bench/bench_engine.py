#!/usr/bin/env python3
"""Time the licensing engine's hot paths against the issue's targets and a peer SDK.

Run from the repository root with the project's venv::

    .venv/bin/python bench/bench_engine.py            # full run, then the LicenseSpring peer
    .venv/bin/python bench/bench_engine.py --quick    # small iteration counts (smoke run)
    .venv/bin/python bench/bench_engine.py --no-peer  # our figures only

Everything is real: a vendor workspace (keys + SQLite) and devices live in a temporary folder
(``--dir`` chooses where, so that fsync is measured on the file system you care about), the
issuer answers real requests, and the system clock is used. Each figure is a
``time.perf_counter_ns`` loop after a warm-up; we report n, p50, p99 (and mean, max).

What is timed:

1. warm ``license.local_check()`` on a loaded license;
2. cold: ``LicenseManager(config)`` + ``reload_license()`` (read + AEAD open + Ed25519 verify)
   + ``local_check()``. The hardware id is cached per process (documented); a variant reads the
   OS machine id (``hardware_id=None``) and a variant clears that cache every time, which is
   what the first check of a process pays;
3. durable ``license.add_local_consumption(1)`` (fsync of file and folder);
4. offline activation, each step separately: ``create_offline_activation_file``, the vendor's
   ``issuer.answer_activation`` and ``activate_license_offline``.

The peer (``../shared/peers/licensespring_localcheck.py`` or ``$PEER_SCRIPT``) is run in a
subprocess in the same run, and ratios ours/peer are printed. Percentiles use the peer script's
definition (the sample at index ``int(q * n)`` of the sorted list) so both sides are read alike.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cryptography

from licensing import Configuration, License, LicenseID, LicenseManager
from licensing import _hardware as hardware  # private: it times reading the OS machine id, which has no public API
from licensing.issuing import catalog
from licensing.issuing.workspace import VendorWorkspace

PRODUCT = "benchprod"
PEER_LINE = re.compile(r"^(licensespring-[\w.]+): local_check_p50_us=([\d.]+) warm_load_p50_us=([\d.]+) "
                       r"cold_load_check_p50_us=([\d.]+)\s*$")
UNLIMITED = 10**9

# targets from the issue, judged on p50: ratios ours/peer must be <= the limit, absolute times < the limit
CONSUME_TARGET_US = 2_000.0
OFFLINE_STEP_TARGET_US = 5_000.0
WARM_RATIO_TARGET = 1.0
COLD_RATIO_TARGET = 0.1


# -- measuring ---------------------------------------------------------------------------------


@dataclass
class Stat:
    name: str
    samples_ns: list[int]

    def _q(self, q: float) -> float:
        xs = sorted(self.samples_ns)
        return xs[min(len(xs) - 1, int(q * len(xs)))] / 1000.0

    @property
    def n(self) -> int:
        return len(self.samples_ns)

    @property
    def p50_us(self) -> float:
        return self._q(0.50)

    @property
    def p99_us(self) -> float:
        return self._q(0.99)

    @property
    def mean_us(self) -> float:
        return statistics.fmean(self.samples_ns) / 1000.0

    @property
    def max_us(self) -> float:
        return max(self.samples_ns) / 1000.0


def timed(fn: Callable[[], object], n: int, warmup: int) -> list[int]:
    for _ in range(warmup):
        fn()
    pc = time.perf_counter_ns
    out = [0] * n
    for i in range(n):
        t0 = pc()
        fn()
        out[i] = pc() - t0
    return out


def fmt_us(us: float) -> str:
    return f"{us / 1000:,.2f} ms" if us >= 10_000 else f"{us:,.1f} µs"


def print_table(title: str, rows: list[Stat]) -> None:
    print(f"\n{title}")
    print(f"  {'what':<60} {'n':>6} {'p50':>12} {'p99':>12} {'mean':>12} {'max':>12}")
    for r in rows:
        print(f"  {r.name:<60} {r.n:>6} {fmt_us(r.p50_us):>12} {fmt_us(r.p99_us):>12} "
              f"{fmt_us(r.mean_us):>12} {fmt_us(r.max_us):>12}")


# -- the lab: one real vendor, a few real devices ----------------------------------------------


class Bench:
    def __init__(self, root: Path) -> None:
        self.root = root
        # The offline cycle activates one device again and again, which the vendor's default
        # re-activation limit (5 per 30 days, licensing/issuing/policy.py) rightly refuses.
        (root / "vendor").mkdir(parents=True)
        (root / "vendor" / "issuer.json").write_text('{"reactivations_per_period": 1000000}')
        self.vendor = VendorWorkspace.create(root / "vendor")
        with self.vendor.store.session() as session:
            catalog.add_product(session, self.vendor.clock(), PRODUCT, "Bench product")

    def issue(self, license_type: str, **spec: object) -> str:
        with self.vendor.store.session() as session:
            product = catalog.get_product(session, PRODUCT)
            issued = catalog.issue_license(session, self.vendor.clock(), product,
                                           catalog.LicenseSpec(license_type, **spec))  # type: ignore[arg-type]
            assert issued.key is not None
            return issued.key

    def config(self, device: str, hardware_id: str | None) -> Configuration:
        folder = self.root / device
        (folder / "desktop").mkdir(parents=True, exist_ok=True)
        return self.vendor.client_configuration(PRODUCT, data_dir=folder / "data", request_dir=folder / "desktop",
                                                trace_dir=folder / "trace", hardware_id=hardware_id)

    def activate(self, manager: LicenseManager, key: str) -> License:
        request = manager.create_offline_activation_file(LicenseID.from_key(key))
        answer = self.vendor.issuer.answer_activation(request.read_bytes())
        response = request.parent / "ls_activation.lic"
        response.write_bytes(answer.data)
        return manager.activate_license_offline(response)

    def close(self) -> None:
        self.vendor.close()


# -- the scenarios -----------------------------------------------------------------------------


def bench_warm_check(lic: License, n: int) -> Stat:
    return Stat("warm license.local_check()", timed(lic.local_check, n, warmup=max(100, n // 10)))


def bench_cold(config: Configuration, n: int, label: str, *, clear_id_cache: bool = False) -> list[Stat]:
    """new LicenseManager + reload_license + local_check, with a breakdown of the three steps."""
    pc = time.perf_counter_ns
    totals, new_m, reload_, check = [], [], [], []

    def once(record: bool) -> None:
        if clear_id_cache:  # what the first check of a new process pays
            hardware._identity.cache_clear()
            hardware.platform_components.cache_clear()
        t0 = pc()
        manager = LicenseManager(config)
        t1 = pc()
        lic = manager.reload_license()
        t2 = pc()
        assert lic is not None
        lic.local_check()
        t3 = pc()
        if record:
            totals.append(t3 - t0)
            new_m.append(t1 - t0)
            reload_.append(t2 - t1)
            check.append(t3 - t2)

    for _ in range(max(5, n // 10)):
        once(False)
    for _ in range(n):
        once(True)
    return [Stat(f"cold{label}: manager+reload+local_check", totals),
            Stat("  of which LicenseManager(config)", new_m),
            Stat("  of which reload_license() (read+AEAD+Ed25519)", reload_),
            Stat("  of which first local_check()", check)]


def bench_machine_id(n: int) -> list[Stat]:
    uncached = hardware._identity.__wrapped__  # the computation behind the per-process cache
    components = hardware.platform_components.__wrapped__

    def identity() -> object:
        return uncached(PRODUCT, None, tuple(sorted(components().items())))

    return [Stat("hardware.read_machine_id() (/etc/machine-id)", timed(hardware.read_machine_id, n, warmup=20)),
            Stat("hardware.platform_components() (statvfs, DMI)", timed(components, n, warmup=20)),
            Stat("device identity from the OS, uncached (read+HMACs+SHA256)", timed(identity, n, warmup=20))]


def bench_consume(lic: License, n: int) -> Stat:
    before = lic.local_consumptions
    stat = Stat("durable license.add_local_consumption(1) (fsync)",
                timed(lambda: lic.add_local_consumption(1), n, warmup=max(5, n // 25)))
    assert lic.local_consumptions == before + n + max(5, n // 25)
    return stat


def bench_offline(bench: Bench, manager: LicenseManager, key: str, n: int) -> list[Stat]:
    pc = time.perf_counter_ns
    issuer = bench.vendor.issuer
    license_id = LicenseID.from_key(key)
    req, resp, act = [], [], []

    def cycle(record: bool) -> None:
        t0 = pc()
        request = manager.create_offline_activation_file(license_id)
        t1 = pc()
        data = request.read_bytes()  # the upload: not timed
        t2 = pc()
        answer = issuer.answer_activation(data)
        t3 = pc()
        response = request.parent / "ls_activation.lic"
        response.write_bytes(answer.data)  # the download: not timed
        t4 = pc()
        lic = manager.activate_license_offline(response)
        t5 = pc()
        assert lic.device_id == answer.device_id
        if record:
            req.append(t1 - t0)
            resp.append(t3 - t2)
            act.append(t5 - t4)

    for _ in range(max(3, n // 20)):
        cycle(False)
    for _ in range(n):
        cycle(True)
    return [Stat("manager.create_offline_activation_file()", req),
            Stat("vendor issuer.answer_activation(bytes) (respond)", resp),
            Stat("manager.activate_license_offline(path)", act)]


# -- the peer ----------------------------------------------------------------------------------


def find_peer() -> Path:
    env = os.environ.get("PEER_SCRIPT")
    if env:
        return Path(env).expanduser()
    return Path(__file__).resolve().parents[2] / "shared/peers/licensespring_localcheck.py"


def run_peer(n_check: int, n_load: int, timeout: float) -> tuple[dict[str, float] | None, str]:
    """Run the peer script; return its figures (or None) and a note or its output."""
    script = find_peer()
    if not script.is_file():
        return None, f"peer script not found at {script} (set PEER_SCRIPT)"
    cmd = [sys.executable, str(script), "--n-check", str(n_check), "--n-load", str(n_load)]
    print(f"\n$ {' '.join(cmd)}", flush=True)
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return None, f"peer did not finish within {timeout:.0f} s"
    except OSError as exc:
        return None, f"peer could not be started: {exc}"
    out = proc.stdout.rstrip("\n")
    if proc.returncode != 0:
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-8:])
        return None, (f"peer exited with status {proc.returncode} (no network for pip, or its install failed?); "
                      f"last lines:\n{tail}")
    for line in reversed(out.splitlines()):
        m = PEER_LINE.match(line.strip())
        if m:
            return {"name": m.group(1), "local_check_p50_us": float(m.group(2)),  # type: ignore[dict-item]
                    "warm_load_p50_us": float(m.group(3)), "cold_load_check_p50_us": float(m.group(4))}, out
    return None, "peer finished but printed no result line; its output:\n" + out


# -- main --------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small iteration counts (smoke run)")
    ap.add_argument("--no-peer", action="store_true", help="do not run the LicenseSpring peer")
    ap.add_argument("--dir", default=None, help="parent of the temporary folder (default: the system temp dir)")
    ap.add_argument("--peer-timeout", type=float, default=1200.0, help="seconds (first run installs the peer)")
    a = ap.parse_args(argv)

    if a.quick:
        n_check, n_cold, n_os, n_id, n_consume, n_offline = 2_000, 30, 30, 200, 30, 10
        peer_check, peer_load = 2_000, 5
    else:
        n_check, n_cold, n_os, n_id, n_consume, n_offline = 20_000, 300, 300, 5_000, 500, 100
        peer_check, peer_load = 20_000, 20

    print(f"bench_engine: python {sys.version.split()[0]} | cryptography {cryptography.__version__} | "
          f"{platform.platform()} | cpu {os.cpu_count()} | pid {os.getpid()}"
          + (" | QUICK" if a.quick else ""))

    rows: dict[str, Stat] = {}
    with tempfile.TemporaryDirectory(prefix="bench-engine-", dir=a.dir) as tmp:
        root = Path(tmp)
        print(f"work folder: {root} (vendor SQLite + device folders; fsync is measured here)")
        bench = Bench(root)
        try:
            t_setup = time.perf_counter()
            perpetual = bench.issue("perpetual", features=("chat",), max_activations=UNLIMITED)
            consumption = bench.issue("consumption", max_consumptions=UNLIMITED, max_activations=UNLIMITED)
            offline = bench.issue("perpetual", features=("chat",), max_activations=UNLIMITED)

            check_cfg = bench.config("device-check", "bench-device-check")
            check_mgr = LicenseManager(check_cfg)
            lic = bench.activate(check_mgr, perpetual)
            print(f"setup: vendor + activation in {(time.perf_counter() - t_setup) * 1000:.0f} ms; {lic!r}")

            # 1. warm local_check
            rows["warm"] = bench_warm_check(lic, n_check)
            print_table("1. warm check (loaded license, in memory)", [rows["warm"]])

            # 2. cold: fixed hardware id (cached per process), then the OS machine id
            cold = bench_cold(check_cfg, n_cold, "")
            rows["cold"] = cold[0]
            extra: list[Stat] = []
            os_note = None
            try:
                hardware.read_machine_id()
            except Exception as exc:  # noqa: BLE001 - report and carry on
                os_note = f"OS machine id unavailable ({exc}); variant skipped"
            if os_note is None:
                os_cfg = bench.config("device-osid", None)  # hardware_id=None: the OS machine id
                bench.activate(LicenseManager(os_cfg), perpetual)
                extra += bench_cold(os_cfg, n_os, ", OS id (cached/process)")
                first = bench_cold(os_cfg, n_os, ", OS id, 1st in process", clear_id_cache=True)
                rows["cold_first"] = first[0]
                extra += first
                extra += bench_machine_id(n_id)
            print_table("2. cold load + check (new manager, from disk)", cold + extra)
            if os_note:
                print("  " + os_note)

            # 3. durable consumption
            consume_cfg = bench.config("device-consume", "bench-device-consume")
            consume_lic = bench.activate(LicenseManager(consume_cfg), consumption)
            rows["consume"] = bench_consume(consume_lic, n_consume)
            print_table("3. durable consumption", [rows["consume"]])

            # 4. offline activation cycle, each step separately
            offline_mgr = LicenseManager(bench.config("device-offline", "bench-device-offline"))
            steps = bench_offline(bench, offline_mgr, offline, n_offline)
            rows["request"], rows["respond"], rows["activate"] = steps
            print_table(f"4. offline activation ({n_offline} full cycles, same device re-activating)", steps)
            k = max(1, n_offline // 10)
            early, late = Stat("", steps[1].samples_ns[:k]), Stat("", steps[1].samples_ns[-k:])
            print(f"  respond p50 over the first {k} cycles {fmt_us(early.p50_us)}, over the last {k} "
                  f"{fmt_us(late.p50_us)} (the license keeps one more inactive device row per cycle)")
        finally:
            bench.close()

    peer: dict[str, float] | None = None
    if a.no_peer:
        print("\npeer: skipped (--no-peer)")
    else:
        peer, text = run_peer(peer_check, peer_load, a.peer_timeout)
        if peer is None:
            print(f"peer: NOT MEASURED — {text}\n(carrying on with our figures only)")
        else:
            print("\n".join("  | " + line for line in text.splitlines()))

    # -- verdicts ------------------------------------------------------------------------------
    print("\nTargets (judged on p50; ratios are ours/peer from this same run)")
    print(f"  {'target':<52} {'ours p50':>12} {'peer p50':>12} {'ratio':>8} {'limit':>10}  verdict")

    def line(target: str, ours: float, peer_us: float | None, limit: str, ok: bool | None, ratio: float | None) -> None:
        print(f"  {target:<52} {fmt_us(ours):>12} {('—' if peer_us is None else fmt_us(peer_us)):>12} "
              f"{('—' if ratio is None else f'{ratio:.3f}'):>8} {limit:>10}  "
              f"{'n/a (no peer)' if ok is None else verdict(ok)}")

    warm, cold_s = rows["warm"].p50_us, rows["cold"].p50_us
    if peer is not None:
        r_warm = warm / peer["local_check_p50_us"]
        r_cold = cold_s / peer["cold_load_check_p50_us"]
        line("warm local_check no slower than peer", warm, peer["local_check_p50_us"], "≤ 1.0", r_warm <= WARM_RATIO_TARGET, r_warm)
        line("cold load+check ≤ 1/10 of peer", cold_s, peer["cold_load_check_p50_us"], "≤ 0.1",
             r_cold <= COLD_RATIO_TARGET, r_cold)
        if "cold_first" in rows:
            r_first = rows["cold_first"].p50_us / peer["cold_load_check_p50_us"]
            line("  (info) cold, 1st in process, OS machine id", rows["cold_first"].p50_us,
                 peer["cold_load_check_p50_us"], "≤ 0.1", r_first <= COLD_RATIO_TARGET, r_first)
    else:
        line("warm local_check no slower than peer", warm, None, "≤ 1.0", None, None)
        line("cold load+check ≤ 1/10 of peer", cold_s, None, "≤ 0.1", None, None)
    line("durable add_local_consumption(1) < 2 ms", rows["consume"].p50_us, None, "< 2 ms",
         rows["consume"].p50_us < CONSUME_TARGET_US, None)
    for key, label in (("request", "create offline request < 5 ms"), ("respond", "vendor respond < 5 ms"),
                       ("activate", "activate offline < 5 ms")):
        line(label, rows[key].p50_us, None, "< 5 ms", rows[key].p50_us < OFFLINE_STEP_TARGET_US, None)

    print(f"\nours: local_check_p50_us={warm:.1f} cold_p50_us={cold_s:.1f} "
          f"consume_p50_us={rows['consume'].p50_us:.1f} request_p50_ms={rows['request'].p50_us / 1000:.3f} "
          f"respond_p50_ms={rows['respond'].p50_us / 1000:.3f} activate_p50_ms={rows['activate'].p50_us / 1000:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
