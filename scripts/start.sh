#!/usr/bin/env bash
# Set up and start the chatbot. With no configuration it builds the built-in demo vendor on
# first run (a product, one license of every kind), so the whole tutorial works on one machine.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh chatbot
exec .venv/bin/chatbot "$@"
