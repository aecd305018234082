#!/usr/bin/env python3
"""Compare bertc binaries side by side: `bertc bench --profile` on each, interleaved.

This machine's speed drifts by 10-20% within minutes, so two binaries timed one after the
other can differ by more than the change under test. This runs the binaries in turn
(A B A B ...) for several rounds, keeps each one's fastest time per op kind (and its best
and mean step), and prints the ratios to the first binary: a real change shows as the same
ratio round after round.

    tools/bench_ab.py OLD_BINARY NEW_BINARY [--config minilm-l6] [--mode train] \
        [--batch 32] [--seq 128] [--steps 5] [--rounds 3] [--bench-args "--length 53"]

Standard library only; the binaries are whatever you built (keep a copy of the old one).
"""
import argparse
import json
import subprocess
import sys


def bench(binary, args):
    cmd = [binary, "bench", args.config, "--mode", args.mode, "--batch", str(args.batch), "--seq", str(args.seq),
           "--steps", str(args.steps), "--profile", "--json"] + args.bench_args.split()
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("binaries", nargs="+", help="bertc binaries; ratios are to the first")
    parser.add_argument("--config", default="minilm-l6")
    parser.add_argument("--mode", default="train", choices=["train", "infer", "eval"])
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--seq", type=int, default=128)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--bench-args", default="", help="more `bertc bench` options, e.g. \"--length 53 --pack-tokens 64\"")
    parser.add_argument("--json", help="also write the per-round results here")
    args = parser.parse_args()

    rounds = []  # rounds[r][b] = report
    for r in range(args.rounds):
        rounds.append([bench(b, args) for b in args.binaries])
        step = "  ".join(f"{rep['minMillisPerStep']:8.1f} / {rep['millisPerStep']:8.1f}" for rep in rounds[-1])
        print(f"round {r + 1}: ms/step best / mean  {step}", file=sys.stderr)

    n = len(args.binaries)
    best_step = [min(rounds[r][b]["minMillisPerStep"] for r in range(args.rounds)) for b in range(n)]
    mean_step = [sum(rounds[r][b]["millisPerStep"] for r in range(args.rounds)) / args.rounds for b in range(n)]
    ops = {}
    for r in range(args.rounds):
        for b in range(n):
            for entry in rounds[r][b]["profile"]:
                row = ops.setdefault(entry["op"], [float("inf")] * n)
                row[b] = min(row[b], entry["millisPerStep"])

    names = [f"[{i}]" for i in range(n)]
    for i, b in enumerate(args.binaries):
        print(f"{names[i]} {b}")
    print(f"{args.config} {args.mode}, batch {args.batch}, seq {args.seq}: fastest of {args.rounds} rounds")
    header = f"{'op':<26}" + "".join(f"{name + ' ms':>12}" for name in names) + "".join(
        f"{name + '/[0]':>10}" for name in names[1:])
    print(header)

    def line(label, values):
        cells = "".join(f"{v:12.2f}" for v in values)
        ratios = "".join(f"{(v / values[0] if values[0] > 0 else float('nan')):10.3f}" for v in values[1:])
        print(f"{label:<26}{cells}{ratios}")

    line("step (best)", best_step)
    line("step (mean of rounds)", mean_step)
    for op, values in sorted(ops.items(), key=lambda kv: -kv[1][0]):
        if max(values) >= 0.05:
            line(op, values)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"binaries": args.binaries, "rounds": rounds}, f, indent=1)


if __name__ == "__main__":
    main()
