#!/usr/bin/env bash
# Set up and start: builds the demo vendor (keys, product, one license of every kind) and
# prints the configuration an application loads, with the demo license keys.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh server
exec .venv/bin/licensing-portal demo "$@"
