"""A vendor process for the concurrency tests: answers a folder of request files at a signal.

``python vendor_worker.py --vendor FOLDER --requests DIR --go FILE`` opens the vendor workspace
(its own SQLAlchemy engine on the shared SQLite file), prints ``ready``, waits for ``--go`` to
exist, answers every ``*.req`` of DIR in name order through ``issuer.answer`` (activation or
deactivation), writes each activation response beside its request as ``<name>.lic``, and prints
one JSON line: ``{"results": {name: ["ok", device_id] | ["refused", code]}}``.

A LicenseError is an expected refusal; anything else ends the process with a traceback, exit 3.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from pathlib import Path

from licensing import LicenseError
from licensing.issuing.workspace import VendorWorkspace


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vendor", required=True)
    parser.add_argument("--requests", required=True)
    parser.add_argument("--go", required=True)
    args = parser.parse_args()
    try:
        vendor = VendorWorkspace.open(Path(args.vendor))
        files = sorted(Path(args.requests).glob("*.req"))
        print("ready", flush=True)
        go = Path(args.go)
        while not go.exists():
            time.sleep(0.001)
        results: dict[str, list[str]] = {}
        for path in files:
            try:
                answer = vendor.issuer.answer(path.read_bytes())
            except LicenseError as error:
                results[path.name] = ["refused", error.code]
            else:
                if hasattr(answer, "data"):
                    path.with_suffix(".lic").write_bytes(answer.data)
                results[path.name] = ["ok", answer.device_id]
        vendor.close()
    except Exception:  # noqa: BLE001 - reported to the parent test, which fails on it
        traceback.print_exc()
        return 3
    print(json.dumps({"results": results}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
