#!/usr/bin/env bash
# The test command: sets up a fresh machine (packages, venv, model), builds in release and
# runs a short fuzz pass, the Swift tests and the Python tests.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tools/setup.sh
read -ra flags <<<"$(tools/swift-flags.sh)"
# The tests verify the graph after every pass of every pipeline (Sources/BertPasses/Pipeline.swift).
export BERTC_VERIFY_PASSES=1
swift build -c release "${flags[@]}"
# A short pass of every reader's fuzz target (tools/fuzz.sh runs them as long as asked).
tools/fuzz.sh --seconds "${BERTC_FUZZ_SECONDS:-8}"
swift test -c release "${flags[@]}"
if ls tools/tests/test_*.py >/dev/null 2>&1; then
    .venv/bin/python -m pytest -q tools/tests
fi
