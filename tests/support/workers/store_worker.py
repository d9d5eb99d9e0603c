"""A device process for the crash-safety and concurrency tests: it loops on one store operation.

Run as a plain script (``python store_worker.py MODE --config FILE --data DIR --requests DIR
--hardware ID ...``). It loads the exported configuration with the local overrides, prints
``ready`` once loaded, and then, for each operation that returned, one line saying what was
acknowledged (always flushed, so the parent knows exactly what the SDK promised before it was
killed):

* ``consume``   forever: ``license.add_local_consumption(1)``, prints the new local total;
* ``refresh``   applies the refresh files ``NNNNNN.lic`` of ``--refresh-dir`` newer than the
                license, in order, printing each new revision; then waits to be killed;
* ``activate``  forever: request, answer it with the vendor of ``--vendor`` (its own process),
                activate; prints the new device id;
* ``guard``     forever: ``create_offline_activation_file``; prints the guard's request id;
* ``consume-n`` waits for the file ``--go`` to exist, calls ``add_local_consumption(1)`` ``--count``
                times, and prints one JSON summary ``{"ok": n, "refused": {code: n}}``.

Any exception other than the expected LicenseError ends the process with a traceback and exit 3.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from pathlib import Path

from licensing import Configuration, LicenseError, LicenseID, LicenseManager

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the tests folder, for support.*
from support.whitebox import store_of  # noqa: E402


def say(*parts: object) -> None:
    print(*parts, flush=True)


def load(args: argparse.Namespace) -> LicenseManager:
    config = Configuration.from_file(args.config, data_dir=args.data, request_dir=args.requests,
                                     hardware_id=args.hardware)
    return LicenseManager(config)


def consume(manager: LicenseManager, args: argparse.Namespace) -> None:
    license = manager.reload_license()
    assert license is not None, "no license to consume"
    say("ready")
    while True:
        say(license.add_local_consumption(1))


def refresh(manager: LicenseManager, args: argparse.Namespace) -> None:
    license = manager.reload_license()
    assert license is not None, "no license to refresh"
    files = sorted(Path(args.refresh_dir).glob("*.lic"))
    say("ready")
    for path in files:
        if int(path.stem) > license.revision:
            license.update_offline(path)
            say(license.revision)
    say("done")
    time.sleep(3600)


def activate(manager: LicenseManager, args: argparse.Namespace) -> None:
    from licensing.issuing.workspace import VendorWorkspace

    vendor = VendorWorkspace.open(Path(args.vendor))
    license_id = LicenseID.from_key(args.key)
    response = Path(args.requests) / "ls_activation.lic"
    say("ready")
    while True:
        request = manager.create_offline_activation_file(license_id)
        answer = vendor.issuer.answer_activation(request.read_bytes())
        response.write_bytes(answer.data)
        license = manager.activate_license_offline(response)
        say(license.device_id)


def guard(manager: LicenseManager, args: argparse.Namespace) -> None:
    license_id = LicenseID.from_key(args.key)
    say("ready")
    while True:
        manager.create_offline_activation_file(license_id)
        say(store_of(manager).read_guard().request_id)


def consume_n(manager: LicenseManager, args: argparse.Namespace) -> None:
    license = manager.reload_license()
    assert license is not None, "no license to consume"
    go = Path(args.go)
    say("ready")
    while not go.exists():
        time.sleep(0.001)
    ok, refused = 0, {}
    for _ in range(args.count):
        try:
            license.add_local_consumption(1)
        except LicenseError as error:
            refused[error.code] = refused.get(error.code, 0) + 1
        else:
            ok += 1
    say(json.dumps({"ok": ok, "refused": refused}))


MODES = {"consume": consume, "refresh": refresh, "activate": activate, "guard": guard, "consume-n": consume_n}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=sorted(MODES))
    parser.add_argument("--config", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--requests", required=True)
    parser.add_argument("--hardware", required=True)
    parser.add_argument("--key")
    parser.add_argument("--vendor")
    parser.add_argument("--refresh-dir")
    parser.add_argument("--go")
    parser.add_argument("--count", type=int, default=0)
    args = parser.parse_args()
    try:
        MODES[args.mode](load(args), args)
    except Exception:  # noqa: BLE001 - reported to the parent test, which fails on it
        traceback.print_exc()
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
