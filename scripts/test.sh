#!/usr/bin/env bash
# Set up everything the test suite needs on a fresh machine, then run the whole suite.
# This is the README's test command, and .ci/run runs exactly this.
#
# System packages: PostgreSQL (a throw-away cluster for the scale tests), HAProxy (the failover
# test's load balancer), Chromium (the portal's browser tests) and tmux (the chatbot's
# real-terminal smoke test). They are installed with apt-get when missing and this runs as
# root; otherwise the tests that need them say so.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null || missing+=(postgresql)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v tmux >/dev/null || missing+=(tmux)
command -v haproxy >/dev/null || [ -x /usr/sbin/haproxy ] || missing+=(haproxy)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "installing system packages: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        echo "note: not installing ${missing[*]} (needs root and apt-get); tests that need them will be skipped"
    fi
fi

bash scripts/setup.sh test
# -m "": also the slow tests that a bare pytest leaves out; -n 0: in one process, so that the timing tests (lease
# lengths, kills mid-write, failover) have the machine to themselves
exec .venv/bin/python -m pytest -m "" -n 0 "$@"
