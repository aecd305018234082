#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ (their own package: the root build never sees them)
# with the fuzzer and address sanitizers into .build-fuzz, and runs each on its committed seed
# corpus fuzz/corpus/<target>/.
#
#   tools/fuzz.sh                        every target for 10 seconds (the CI pass)
#   tools/fuzz.sh --seconds 3600         every target for an hour
#   tools/fuzz.sh --runs 10000000        every target for ten million inputs
#   tools/fuzz.sh --target graph ...     only the named target (repeat the option for more)
#   tools/fuzz.sh --build-only           build, run nothing
#   tools/fuzz.sh --no-build ...         run the targets as last built (a long run that must not
#                                        pick up a half-edited tree)
#   tools/fuzz.sh --list                 the target names
#
# A target stops at its first crash, hang (an input taking over --timeout seconds, default 10),
# out-of-memory (over 2 GB) or sanitizer report, and leaves the input in
# fuzz/findings/<target>/ (crash-*, timeout-*, oom-*) next to its log. Rerun one with
# `.build-fuzz/release/<target> FILE`. The inputs each run finds interesting go to
# .build-fuzz/corpus/<target>/ (git-ignored), so a later run continues from them; the
# committed seeds are only read. One summary line per target; the exit status is non-zero
# when any target failed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

targets_all=(safetensors tf-checkpoint graph manifest vocabulary tsv config)
seconds=10 runs="" timeout=10 build_only=0 no_build=0 targets=()
usage() { sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
while [ $# -gt 0 ]; do
    case "$1" in
        --seconds) seconds=${2:?}; runs=""; shift 2 ;;
        --runs) runs=${2:?}; shift 2 ;;
        --timeout) timeout=${2:?}; shift 2 ;;
        --target) targets+=("${2:?}"); shift 2 ;;
        --build-only) build_only=1; shift ;;
        --no-build) no_build=1; shift ;;
        --list) printf '%s\n' "${targets_all[@]}"; exit 0 ;;
        -h|--help) usage ;;
        *) echo "fuzz: unknown option $1" >&2; usage ;;
    esac
done
[ ${#targets[@]} -gt 0 ] || targets=("${targets_all[@]}")
for t in "${targets[@]}"; do
    [[ " ${targets_all[*]} " == *" $t "* ]] || { echo "fuzz: no target '$t' (targets: ${targets_all[*]})" >&2; exit 2; }
done

# swiftc keeps only the last -sanitize option, and SwiftPM's `--sanitize fuzzer --sanitize
# address` passes two, so the modules would get no coverage instrumentation. `--sanitize fuzzer`
# is still needed (it keeps SwiftPM from renaming the executables' `main`, which libFuzzer
# provides); the -Xswiftc option comes after it on every command line and wins.
# -enable-testing: the checkpoint target reads the index from memory through an internal
# initializer (`@testable import BertModel`). --disable-build-manifest-caching: SwiftPM reuses
# its cached build plan when fuzz/Package.swift is unchanged, and would then miss source files
# added to or removed from the root package (the path dependency).
scratch="$root/.build-fuzz"
build=(swift build -c release --package-path "$root/fuzz" --scratch-path "$scratch" --sanitize fuzzer
       -Xswiftc -sanitize=fuzzer,address -Xswiftc -enable-testing --disable-build-manifest-caching)
if [ "$no_build" -eq 0 ]; then
    echo "fuzz: building the fuzz targets with -sanitize=fuzzer,address in .build-fuzz" >&2
    "${build[@]}" >&2
fi
bin=$("${build[@]}" --show-bin-path)
[ "$build_only" -eq 0 ] || exit 0

# Swift's own backtracer would catch the crash signals before libFuzzer records the input.
export SWIFT_BACKTRACE=enable=no
# No leak checks: Swift packs tag bits into pointers (enum payloads such as Data's storage), so
# LeakSanitizer cannot see that a global still holds memory and reports it as leaked.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
failed=0
for t in "${targets[@]}"; do
    findings="$root/fuzz/findings/$t"
    corpus="$scratch/corpus/$t"
    mkdir -p "$findings" "$corpus"
    log="$findings/fuzz.log"
    limit=(-max_total_time="$seconds")
    [ -z "$runs" ] || limit=(-runs="$runs")
    dict=()
    [ ! -f "$root/fuzz/dict/$t.dict" ] || dict=(-dict="$root/fuzz/dict/$t.dict")
    start=$(date +%s)
    status=0
    "$bin/$t" "${limit[@]}" "${dict[@]}" -timeout="$timeout" -rss_limit_mb=2048 -detect_leaks=0 -print_final_stats=1 \
        -artifact_prefix="$findings/" "$corpus" "$root/fuzz/corpus/$t" >"$log" 2>&1 || status=$?
    elapsed=$(( $(date +%s) - start ))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    [ -n "$execs" ] || execs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    artifacts=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tr '\n' ' ')
    if [ "$status" -eq 0 ]; then
        result="ok, 0 crashes"
    else
        failed=1
        kind=$(grep -m1 -oE 'ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer): [a-z-]+' "$log" || echo "exit status $status")
        result="FAILED ($kind): ${artifacts:-no input saved}; log $log"
    fi
    printf 'fuzz: %-14s %12s executions in %4s s (%s/s), %s\n' "$t" "${execs:-?}" "$elapsed" "${rate:-?}" "$result"
done
exit "$failed"
