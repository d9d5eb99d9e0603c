#!/usr/bin/env bash
# Set up everything the test suite needs on a fresh machine, then run the whole suite.
# This is the README's test command, and .ci/run runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
exec .venv/bin/python -m pytest "$@"
