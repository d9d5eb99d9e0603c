"""A workstation process for the floating tests: it takes a seat from a floating server, and may keep it.

``python workstation_worker.py --config FILE --data DIR --hardware ID --server URL [--go FILE]
[--hold] [--interval S] [--timeout S]`` loads the product's configuration with this workstation's
own data folder and hardware id, prints ``ready``, waits for the file ``--go`` (so that many
processes ask at the same instant), asks for a seat, and prints one JSON line:
``{"ok": true, "lease_id", "slot"}`` or ``{"ok": false, "code"}``.

With ``--hold`` it then keeps the seat with a heartbeat every ``--interval`` seconds, printing
``renewed <lease_id> <time left>`` after each renewal, until its standard input closes (then it
gives the seat back and prints ``released``) or until it is killed. A LicenseError is an expected
refusal; anything else ends the process with a traceback and exit 3.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import traceback
from pathlib import Path

from licensing import Configuration, LicenseError, LicenseManager


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--hardware", required=True)
    parser.add_argument("--server", required=True)
    parser.add_argument("--go")
    parser.add_argument("--hold", action="store_true")
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args()
    try:
        config = Configuration.from_file(args.config, data_dir=Path(args.data), request_dir=Path(args.data),
                                         hardware_id=args.hardware, timeout=args.timeout)
        client = LicenseManager(config).floating(args.server, client_name=args.hardware)
        client.certificate()  # fetched before the start line: the race is about seats only
        print("ready", flush=True)
        if args.go:
            go = Path(args.go)
            while not go.exists():
                time.sleep(0.001)
        try:
            lease = client.request_lease()
        except LicenseError as error:
            print(json.dumps({"ok": False, "code": error.code}), flush=True)
            return 0
        print(json.dumps({"ok": True, "lease_id": lease.lease_id, "slot": lease.slot}), flush=True)
        if not args.hold:
            return 0
        renewed = threading.Event()

        def report(_: LicenseError) -> None:
            print(f"error {lease.lease_id}", flush=True)

        heartbeat = lease.start_heartbeat(args.interval, on_error=report)
        watcher = threading.Thread(target=_announce_renewals, args=(lease, heartbeat, renewed), daemon=True)
        watcher.start()
        sys.stdin.read()  # until the parent closes our standard input
        renewed.set()
        lease.release()
        print("released", flush=True)
        return 0
    except Exception:  # noqa: BLE001 - anything but a LicenseError is a bug: show it
        traceback.print_exc()
        return 3


def _announce_renewals(lease: object, heartbeat: object, done: threading.Event) -> None:
    seen = 0
    while not done.wait(0.02):
        count = heartbeat.renewals  # type: ignore[attr-defined]
        if count != seen:
            seen = count
            print(f"renewed {lease.lease_id} {lease.time_left().total_seconds():.2f}", flush=True)  # type: ignore[attr-defined]


if __name__ == "__main__":
    sys.exit(main())
