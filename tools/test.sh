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
# The tests read the shared data and fixtures in place: $BERTC_DATA / $BERTC_FIXTURES when
# set, else the nearest `shared/` directory beside the checkout or beside one of its parents.
find_shared() {
    local dir=$root
    while [ "$dir" != / ]; do
        dir=$(dirname "$dir")
        if [ -d "$dir/shared/$1" ]; then echo "$dir/shared/$1"; return 0; fi
    done
    return 1
}
for pair in BERTC_DATA:data BERTC_FIXTURES:fixtures; do
    var=${pair%%:*}; sub=${pair#*:}
    if [ -z "${!var:-}" ]; then
        if found=$(find_shared "$sub"); then export "$var=$found"; fi
    fi
    echo "test.sh: $var=${!var:-(not found: set $var to the shared $sub directory)}"
done
swift build -c release "${flags[@]}"
# A short pass of every reader's fuzz target (tools/fuzz.sh runs them as long as asked).
tools/fuzz.sh --seconds "${BERTC_FUZZ_SECONDS:-8}"
swift test -c release "${flags[@]}"
if ls tools/tests/test_*.py >/dev/null 2>&1; then
    .venv/bin/python -m pytest -q tools/tests
fi
