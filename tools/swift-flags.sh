#!/usr/bin/env bash
# Prints the flags every script passes to `swift build` / `swift test` (release), so that the
# test command, the main job and the benchmarks share one build:
#   -enable-testing         the tests link against the release build;
#   -target-cpu haswell     on an x86-64 machine with AVX2, FMA, BMI1/2, F16C, LZCNT and MOVBE:
#                           the kernels' eight-lane loops become single AVX instructions
#                           (OpenBLAS picks its own kernels at run time either way);
#   -DBERTC_FMA             with it: the vector math uses fused multiply-adds.
# The binary is built on the machine that runs it. BERTC_TARGET_CPU overrides the choice:
# `generic` builds for any x86-64, another value is passed to -target-cpu as is.
set -euo pipefail
flags=(-Xswiftc -enable-testing)
cpu=${BERTC_TARGET_CPU:-auto}
if [[ $cpu == auto ]]; then
    cpu=generic
    if [[ $(uname -m) == x86_64 && -r /proc/cpuinfo ]]; then
        have=$(grep -m1 '^flags' /proc/cpuinfo)
        cpu=haswell
        for f in avx avx2 fma bmi1 bmi2 f16c abm movbe; do
            [[ " $have " == *" $f "* ]] || cpu=generic
        done
    fi
fi
if [[ $cpu != generic ]]; then
    flags+=(-Xswiftc -target-cpu -Xswiftc "$cpu")
fi
# Fused multiply-add in the vector math (Sources/BertRuntime/FloatLanes.swift): haswell and
# later have it; for another named CPU, BERTC_FMA=1 asks for it.
if [[ $cpu == haswell || ${BERTC_FMA:-0} == 1 ]]; then
    flags+=(-Xswiftc -DBERTC_FMA)
fi
echo "${flags[@]}"
