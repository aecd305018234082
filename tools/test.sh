#!/usr/bin/env bash
# The test command: sets up a fresh machine (packages, venv, model), builds in release and
# runs the Swift tests and the Python parity tests.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tools/setup.sh
read -ra flags <<<"$(tools/swift-flags.sh)"
swift build -c release "${flags[@]}"
swift test -c release "${flags[@]}"
if ls tools/tests/test_*.py >/dev/null 2>&1; then
    .venv/bin/python -m pytest -q tools/tests
fi
