#!/usr/bin/env python3
"""Inference latency of bertc against ONNX Runtime on bertc's own ONNX export, side by side in
one run on this machine (2 threads each, sequence 128, batch 1 and 32, full attention mask).

    .venv/bin/python tools/bench_vs_onnxruntime.py [--model DIR] [--steps N] [--rounds R] [--profile] [--out FILE.json]

The model is exported with `bertc export --format onnx` (checked by libonnx and compared with
bertc before it is written). ONNX Runtime runs it with all graph optimisations on
(ORT_ENABLE_ALL, which applies its own fusions), intra-op threads 2, inter-op 1. bertc runs
`bertc bench --mode infer` on the same model. Both are timed after warm-up and both report
the median step (ORT's step times here, bertc's `medianMillisPerStep`). The two alternate for
--rounds rounds per batch size, so a stall of the machine hits both, and the table gives the
median over rounds of each side's median step and the ratio (ORT time / bertc time: above 1
means bertc is faster); the JSON keeps every round.

--profile then times one more run of each at every batch size with its own profiler (ONNX
Runtime's `enable_profiling`, `bertc bench --profile`) and prints where each side's step goes,
by ORT node type and by bertc op kind, and ORT's slowest nodes with their shapes. Profiling
slows both a little; the table above is taken without it.
"""
import argparse
import collections
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

ROOT = Path(__file__).resolve().parent.parent
BERTC = ROOT / ".build" / "release" / "bertc"


def ort_ms(session, batch, seq, steps, warmup):
    rng = np.random.default_rng(0)
    feeds = {
        "input_ids": rng.integers(1000, 30000, size=(batch, seq), dtype=np.int64),
        "attention_mask": np.ones((batch, seq), dtype=np.int64),
        "token_type_ids": np.zeros((batch, seq), dtype=np.int64),
    }
    for _ in range(warmup):
        session.run(["logits"], feeds)
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        session.run(["logits"], feeds)
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times)


def bertc_ms(model, batch, seq, steps, warmup):
    out = subprocess.run([str(BERTC), "bench", str(model), "--model", str(model), "--mode", "infer",
                          "--batch", str(batch), "--seq", str(seq), "--steps", str(steps),
                          "--warmup", str(warmup), "--json"], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["medianMillisPerStep"]


def ort_session(onnx_path, profile_prefix=None):
    """ONNX Runtime as the comparison runs it: all graph optimisations, 2 intra-op threads."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if profile_prefix:
        options.enable_profiling = True
        options.profile_file_prefix = profile_prefix
    return ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])


def ort_profile(onnx_path, batch, seq, steps, warmup, prefix):
    """ORT's own per-node profile of `steps` runs: (ms per step by node type, slowest nodes)."""
    session = ort_session(onnx_path, prefix)
    ort_ms(session, batch, seq, steps, warmup)
    events = json.loads(Path(session.end_profiling()).read_text())
    by_type, by_node, shapes = collections.defaultdict(float), collections.defaultdict(float), {}
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            op = e["args"].get("op_name", "?")
            by_type[op] += e["dur"] / 1e3 / (steps + warmup)
            by_node[e["name"]] += e["dur"] / 1e3 / (steps + warmup)
            shapes[e["name"]] = (op, e["args"].get("input_type_shape"))
    slowest = [{"node": n, "op": shapes[n][0], "ms": ms, "inputs": shapes[n][1]}
               for n, ms in sorted(by_node.items(), key=lambda x: -x[1])[:12]]
    return dict(sorted(by_type.items(), key=lambda x: -x[1])), slowest


def bertc_profile(model, batch, seq, steps, warmup):
    out = subprocess.run([str(BERTC), "bench", str(model), "--model", str(model), "--mode", "infer",
                          "--batch", str(batch), "--seq", str(seq), "--steps", str(steps),
                          "--warmup", str(warmup), "--profile", "--json"], capture_output=True, text=True, check=True)
    report = json.loads(out.stdout.strip().splitlines()[-1])
    return {row["op"]: row["millisPerStep"] for row in report["profile"]}


def print_profiles(batch, ort_types, slowest, bertc_ops):
    print(f"\nbatch {batch}: ms per step by ORT node type | by bertc op kind")
    left = [f"{op:<22} {ms:8.3f}" for op, ms in ort_types.items()]
    right = [f"{op:<22} {ms:8.3f}" for op, ms in bertc_ops.items()]
    for i in range(max(len(left), len(right))):
        print(f"  {left[i] if i < len(left) else '':<31} | {right[i] if i < len(right) else ''}")
    print(f"  ORT's slowest nodes at batch {batch}:")
    for node in slowest:
        shapes = " ".join(str(list(s.values())[0]) for s in node["inputs"] or [])
        print(f"    {node['ms']:7.3f} ms  {node['op']:<14} {shapes}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", default=str(Path(os.environ.get("BERTC_MODEL_CACHE", Path.home() / ".cache/bertc/models")) / "minilm-l6"))
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--seq", type=int, default=128)
    p.add_argument("--rounds", type=int, default=3, help="alternating ORT / bertc rounds per batch size")
    p.add_argument("--out", default=str(ROOT / ".build" / "bench" / "onnxruntime.json"))
    p.add_argument("--profile", action="store_true", help="then print each side's time by op (see above)")
    a = p.parse_args()
    if not BERTC.exists():
        sys.exit("build bertc first: swift build -c release $(tools/swift-flags.sh) --product bertc")
    with tempfile.TemporaryDirectory() as tmp:
        onnx_path = Path(tmp) / "model.onnx"
        subprocess.run([str(BERTC), "export", "--format", "onnx", "--model", a.model, "--out", str(onnx_path)],
                       check=True, capture_output=True)
        session = ort_session(onnx_path)
        rows = []
        for batch in (1, 32):
            steps = a.steps if batch > 1 else a.steps * 5
            ort_rounds, bertc_rounds = [], []
            for _ in range(a.rounds):
                ort_rounds.append(ort_ms(session, batch, a.seq, steps, a.warmup))
                bertc_rounds.append(bertc_ms(a.model, batch, a.seq, steps, a.warmup))
            o, b = statistics.median(ort_rounds), statistics.median(bertc_rounds)
            rows.append({"batch": batch, "seq": a.seq, "onnxruntime_ms": o, "bertc_ms": b, "ratio": o / b,
                         "onnxruntime_rounds_ms": ort_rounds, "bertc_rounds_ms": bertc_rounds})
        profiles = []
        if a.profile:
            for batch in (1, 32):
                steps = a.steps if batch > 1 else a.steps * 5
                types, slowest = ort_profile(onnx_path, batch, a.seq, steps, a.warmup, str(Path(tmp) / "ort"))
                profiles.append({"batch": batch, "onnxruntime_ms_by_type": types, "onnxruntime_slowest": slowest,
                                 "bertc_ms_by_op": bertc_profile(a.model, batch, a.seq, steps, a.warmup)})
    print(f"{'batch':>5} {'seq':>4} {'ORT ms':>9} {'bertc ms':>9} {'ORT/bertc':>9}")
    for r in rows:
        print(f"{r['batch']:>5} {r['seq']:>4} {r['onnxruntime_ms']:>9.1f} {r['bertc_ms']:>9.1f} {r['ratio']:>9.2f}")
    for profile in profiles:
        print_profiles(profile["batch"], profile["onnxruntime_ms_by_type"], profile["onnxruntime_slowest"],
                       profile["bertc_ms_by_op"])
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps({"onnxruntime": ort.__version__, "rows": rows, "profiles": profiles,
                                       "load": os.getloadavg()}, indent=1))
    print("wrote", a.out, f"(load average {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
