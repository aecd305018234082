#!/usr/bin/env python3
"""bertc against PyTorch eager, side by side, in one run.

Run with the reference venv (torch, transformers, numpy):

    .venv-ref/bin/python tools/bench_vs_pytorch.py                 # all three models
    .venv-ref/bin/python tools/bench_vs_pytorch.py --models bert-tiny --steps 5
    .venv-ref/bin/python tools/bench_vs_pytorch.py --mrpc          # whole MRPC fine-tune (long)
    .venv-ref/bin/python tools/bench_vs_pytorch.py --mrpc --seeds 0,1,2 \
        --variant default= --variant grouped="--group-batches 50 --buckets $(seq -s, 8 8 128)"

For every model: a training step (forward + backward + AdamW, clip_grad_norm_ 1.0) at batch
32, inference at batch 32 and at batch 1, all at sequence 128 with 2 threads. Every
measurement runs in its own subprocess (so peak RSS is that job's alone), bertc and PyTorch
alternating, warm-up excluded. A plain sgemm (numpy, 2 threads) timed in the same run gives
the machine's GEMM rate that bertc's achieved GFLOP/s is compared with. Prints a table of
ratios (bertc / PyTorch, higher is better for speed, lower for memory) and writes JSON to
.build/bench/bench_vs_pytorch.json (or --out). Timings are benchmarks, not tests: check
`uptime` and prefer a quiet machine.
"""
import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BERTC = ROOT / ".build" / "release" / "bertc"
MODELS = ["bert-tiny", "minilm-l6", "bert-base"]
THREADS = 2
ENV = dict(os.environ, OMP_NUM_THREADS=str(THREADS), OPENBLAS_NUM_THREADS=str(THREADS),
           MKL_NUM_THREADS=str(THREADS), TOKENIZERS_PARALLELISM="false")


# MARK: - Child jobs (run in subprocesses of this script)

def torch_job(spec):
    """One PyTorch measurement; prints one JSON object."""
    import resource
    import torch
    from transformers import BertConfig, BertForSequenceClassification
    torch.set_num_threads(THREADS)
    torch.manual_seed(0)
    config = BertConfig.from_dict(json.loads(Path(spec["config"]).read_text()))
    config.num_labels = 2
    config._attn_implementation = spec["attn"]
    model = BertForSequenceClassification(config)
    batch, seq = spec["batch"], spec["seq"]
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(0, config.vocab_size, (batch, seq), generator=g)
    mask = torch.ones(batch, seq, dtype=torch.long)
    types = torch.zeros(batch, seq, dtype=torch.long)
    labels = torch.randint(0, 2, (batch,), generator=g)
    if spec["mode"] == "train":
        model.train()
        opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01, eps=1e-6)

        def step():
            out = model(input_ids=ids, attention_mask=mask, token_type_ids=types, labels=labels)
            out.loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            opt.zero_grad(set_to_none=True)
    else:
        model.eval()

        def step():
            with torch.inference_mode():
                model(input_ids=ids, attention_mask=mask, token_type_ids=types)
    for _ in range(spec["warmup"]):
        step()
    times = []
    for _ in range(spec["steps"]):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    mean = sum(times) / len(times)
    print(json.dumps({"examplesPerSecond": batch / mean, "millisPerStep": mean * 1e3,
                      "peakRSSBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                      "attn": spec["attn"], "torch": torch.__version__}))


def sgemm_job(spec):
    """A plain float32 GEMM through numpy's BLAS with 2 threads; prints GFLOP/s."""
    import numpy as np
    m, k, n = spec["m"], spec["k"], spec["n"]
    a = np.random.default_rng(0).standard_normal((m, k), dtype=np.float32)
    b = np.random.default_rng(1).standard_normal((k, n), dtype=np.float32)
    a @ b
    best = float("inf")
    for _ in range(spec["repeats"]):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    print(json.dumps({"gflops": 2 * m * n * k / best / 1e9, "m": m, "k": k, "n": n}))


# MARK: - Running jobs

def child(kind, spec):
    """Runs `kind` in a fresh interpreter and returns its JSON line."""
    out = subprocess.run([sys.executable, __file__, "--child", kind, json.dumps(spec)],
                         env=ENV, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{kind} job failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def bertc_bench(model, mode, batch, seq, steps, warmup):
    cmd = [str(BERTC), "bench", model, "--mode", mode, "--batch", str(batch), "--seq", str(seq),
           "--steps", str(steps), "--warmup", str(warmup), "--json"]
    out = subprocess.run(cmd, env=ENV, capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def build():
    print("building bertc (release)...", file=sys.stderr)
    flags = subprocess.run([os.path.join(ROOT, "tools", "swift-flags.sh")], check=True, capture_output=True,
                           text=True).stdout.split()
    subprocess.run(["swift", "build", "-c", "release", *flags, "--product", "bertc"], cwd=ROOT, check=True)


def load_average():
    try:
        return os.getloadavg()[0]
    except OSError:
        return None


# MARK: - Throughput comparison

def compare(args):
    results = {"threads": THREADS, "attn": args.attn, "ompWaitPolicy": ENV.get("OMP_WAIT_POLICY", "default"),
               "seq": args.seq, "rows": []}
    results["loadBefore"] = load_average()
    sgemm = child("sgemm", {"m": 4096, "k": 768, "n": 3072, "repeats": 5})
    results["sgemmGflops"] = sgemm["gflops"]
    print(f"plain sgemm 4096x768x3072, {THREADS} threads: {sgemm['gflops']:.1f} GFLOP/s", file=sys.stderr)
    for model in args.models:
        config = str(ROOT / "graphs" / f"{model}.json")
        big = model == "bert-base"
        jobs = [("train", 32, min(args.steps, 3) if big else args.steps, 1 if big else 2),
                ("infer", 32, min(args.steps, 3) if big else args.steps, 1),
                ("infer", 1, args.steps * 4, 2)]
        for mode, batch, steps, warmup in jobs:
            print(f"{model} {mode} batch {batch}: {steps} steps after {warmup} warm-up (load {load_average()})",
                  file=sys.stderr)
            mine = bertc_bench(model, mode, batch, args.seq, steps, warmup)
            theirs = child("torch", {"config": config, "mode": mode, "batch": batch, "seq": args.seq,
                                     "steps": steps, "warmup": warmup, "attn": args.attn})
            row = {"model": model, "mode": mode, "batch": batch, "steps": steps, "warmup": warmup,
                   "bertc": mine, "pytorch": theirs,
                   "speedup": mine["examplesPerSecond"] / theirs["examplesPerSecond"],
                   "rssRatio": mine["peakRSSBytes"] / theirs["peakRSSBytes"],
                   "gflopsOfSgemm": mine["gflops"] / sgemm["gflops"]}
            results["rows"].append(row)
            print(f"  bertc {mine['examplesPerSecond']:.2f} ex/s vs PyTorch {theirs['examplesPerSecond']:.2f} ex/s "
                  f"-> {row['speedup']:.2f}x", file=sys.stderr)
    results["loadAfter"] = load_average()
    print_table(results)
    return results


def print_table(results):
    print(f"\nseq {results['seq']}, {results['threads']} threads, PyTorch attn={results['attn']} "
          f"(OMP_WAIT_POLICY {results['ompWaitPolicy']}), "
          f"sgemm {results['sgemmGflops']:.1f} GFLOP/s, load {results['loadBefore']:.1f} -> {results['loadAfter']:.1f}")
    header = f"{'model':<10} {'mode':<6} {'batch':>5} {'bertc ex/s':>11} {'torch ex/s':>11} {'speedup':>8} " \
             f"{'bertc ms':>9} {'GFLOP/s':>8} {'of sgemm':>8} {'bertc RSS':>10} {'torch RSS':>10} {'RSS ratio':>9}"
    print(header)
    print("-" * len(header))
    for r in results["rows"]:
        b, t = r["bertc"], r["pytorch"]
        print(f"{r['model']:<10} {r['mode']:<6} {r['batch']:>5} {b['examplesPerSecond']:>11.2f} "
              f"{t['examplesPerSecond']:>11.2f} {r['speedup']:>7.2f}x {b['millisPerStep']:>9.1f} {b['gflops']:>8.1f} "
              f"{r['gflopsOfSgemm']:>7.0%} {b['peakRSSBytes'] / 1e6:>8.0f}MB {t['peakRSSBytes'] / 1e6:>8.0f}MB "
              f"{r['rssRatio']:>9.2f}")


# MARK: - MRPC fine-tune

def torch_mrpc(spec):
    """PyTorch fine-tune of MiniLM-L6 on MRPC with bertc's recipe; prints one JSON object."""
    import csv
    import numpy as np
    import torch
    from tokenizers import BertWordPieceTokenizer
    from transformers import BertForSequenceClassification, get_linear_schedule_with_warmup
    torch.set_num_threads(THREADS)
    torch.manual_seed(spec["seed"])
    recipe = json.loads(Path(spec["recipe"]).read_text())
    training, opt_cfg = recipe["training"], recipe["optimization"]
    adamw = opt_cfg["optimizer"]["adamw"]
    lr = opt_cfg["learning_rate"]["polynomial"]["initial_learning_rate"]
    warmup_fraction = opt_cfg["warmup"]["polynomial"]["warmup_fraction"]
    epochs, batch_size, max_len = training["epochs"], training["batch_size"], training["max_seq_length"]
    model_dir = spec["model"]
    tok = BertWordPieceTokenizer(str(Path(model_dir) / "vocab.txt"), lowercase=True)
    tok.enable_truncation(max_len)

    def read(split):
        rows = []
        with open(Path(spec["data"]) / f"{split}.tsv", encoding="utf-8-sig") as f:
            for row in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
                if row[0] == "Quality":
                    continue
                enc = tok.encode(row[3], row[4])
                rows.append((enc.ids, enc.type_ids, int(row[0])))
        return rows

    train, dev = read("train"), read("dev")

    def collate(rows):  # dynamic padding to the longest in the batch
        n = max(len(r[0]) for r in rows)
        ids = torch.zeros(len(rows), n, dtype=torch.long)
        types = torch.zeros_like(ids)
        mask = torch.zeros_like(ids)
        for i, (a, t, _) in enumerate(rows):
            ids[i, :len(a)] = torch.tensor(a)
            types[i, :len(t)] = torch.tensor(t)
            mask[i, :len(a)] = 1
        return ids, types, mask, torch.tensor([r[2] for r in rows])

    model = BertForSequenceClassification.from_pretrained(model_dir, num_labels=2,
                                                          attn_implementation=spec["attn"])
    excluded = adamw["exclude_from_weight_decay"]
    decay = [p for n, p in model.named_parameters() if not any(e in n for e in excluded)]
    no_decay = [p for n, p in model.named_parameters() if any(e in n for e in excluded)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": adamw["weight_decay_rate"]},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=lr, betas=(adamw["beta_1"], adamw["beta_2"]), eps=adamw["epsilon"])
    steps_per_epoch = (len(train) + batch_size - 1) // batch_size
    total = steps_per_epoch * epochs
    sched = get_linear_schedule_with_warmup(opt, int(warmup_fraction * total), total)
    rng = np.random.default_rng(spec["seed"])
    train_seconds = 0.0
    for _ in range(epochs):
        model.train()
        order = rng.permutation(len(train))
        start = time.perf_counter()
        for b in range(steps_per_epoch):
            ids, types, mask, labels = collate([train[i] for i in order[b * batch_size:(b + 1) * batch_size]])
            loss = model(input_ids=ids, token_type_ids=types, attention_mask=mask, labels=labels).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), adamw["global_clipnorm"])
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
        train_seconds += time.perf_counter() - start
    model.eval()
    tp = fp = fn = correct = 0
    with torch.inference_mode():
        for b in range(0, len(dev), 64):
            ids, types, mask, labels = collate(dev[b:b + 64])
            pred = model(input_ids=ids, token_type_ids=types, attention_mask=mask).logits.argmax(-1)
            correct += int((pred == labels).sum())
            tp += int(((pred == 1) & (labels == 1)).sum())
            fp += int(((pred == 1) & (labels == 0)).sum())
            fn += int(((pred == 0) & (labels == 1)).sum())
    f1 = 2 * tp / max(2 * tp + fp + fn, 1)
    print(json.dumps({"train_seconds": train_seconds, "accuracy": correct / len(dev), "f1": f1}))


def parse_variants(specs):
    """`NAME=ARGS` pairs: bertc train options (shell words) for each bertc variant."""
    variants = {}
    for spec in specs or ["default="]:
        name, sep, rest = spec.partition("=")
        if not sep or not name:
            raise SystemExit(f"--variant {spec!r}: expected NAME=ARGS, e.g. grouped='--group-batches 50'")
        variants[name] = shlex.split(rest)
    return variants


def bertc_mrpc(model, seed, extra):
    # bertc never trains over an existing run directory: a fresh one each time.
    run = ROOT / ".build" / "bench" / time.strftime(f"mrpc-run-%Y%m%d-%H%M%S-s{seed}")
    command = [str(BERTC), "train", "--model", model, "--task", "mrpc", "--out", str(run),
               "--seed", str(seed), "--json", *extra]
    print(" ".join(command[1:]), "...", file=sys.stderr)
    out = subprocess.run(command, env=ENV, capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        raise RuntimeError(f"bertc train failed: {out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def mrpc(args):
    """Every seed: each bertc variant, then PyTorch with the same recipe and seed, one after the other."""
    model = os.path.expanduser(os.environ.get("BERTC_MODEL_CACHE", "~/.cache/bertc/models")) + "/minilm-l6"
    variants = parse_variants(args.variant)
    seeds = [int(s) for s in args.seeds.split(",") if s]
    runs = []
    for seed in seeds:
        for name, extra in variants.items():
            mine = bertc_mrpc(model, seed, extra)
            runs.append({"tool": f"bertc {name}", "args": extra, "seed": seed, **mine})
        if not args.skip_pytorch:
            print(f"PyTorch fine-tune with the same recipe, seed {seed} ...", file=sys.stderr)
            theirs = child("mrpc", {"model": model, "recipe": str(ROOT / "graphs" / "tasks" / "mrpc.json"),
                                    "data": str(Path(args.data) / "glue" / "MRPC"), "seed": seed,
                                    "attn": args.attn})
            runs.append({"tool": "PyTorch", "seed": seed, **theirs})
    summary = {}
    for tool in dict.fromkeys(r["tool"] for r in runs):
        mine = [r for r in runs if r["tool"] == tool]
        summary[tool] = {key: sum(r.get(key, 0) for r in mine) / len(mine)
                         for key in ("train_seconds", "accuracy", "f1")}
    if "PyTorch" in summary:
        for tool, row in summary.items():
            row["timeRatio"] = summary["PyTorch"]["train_seconds"] / row["train_seconds"]
    print("\nMRPC fine-tune of MiniLM-L6 (train seconds; dev accuracy / F1):")
    for r in runs:
        print(f"  seed {r['seed']}  {r['tool']:<18} {r['train_seconds']:8.1f} s  "
              f"acc {r.get('accuracy', 0):.4f}  F1 {r.get('f1', 0):.4f}")
    print(f"  mean over seeds {','.join(map(str, seeds))}:")
    for tool, row in summary.items():
        ratio = f"  {row['timeRatio']:.2f}x PyTorch's speed" if "timeRatio" in row else ""
        print(f"    {tool:<18} {row['train_seconds']:8.1f} s  acc {row['accuracy']:.4f}  F1 {row['f1']:.4f}{ratio}")
    return {"seeds": seeds, "variants": variants, "runs": runs, "mean": summary,
            "loadAfter": load_average()}


# MARK: - Entry point

def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        {"torch": torch_job, "sgemm": sgemm_job, "mrpc": torch_mrpc}[sys.argv[2]](json.loads(sys.argv[3]))
        return
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default=",".join(MODELS), help="comma-separated presets (default: all three)")
    p.add_argument("--steps", type=int, default=10, help="timed steps (bert-base: at most 3)")
    p.add_argument("--seq", type=int, default=128)
    p.add_argument("--attn", default="eager", choices=["eager", "sdpa"], help="PyTorch attention implementation")
    p.add_argument("--mrpc", action="store_true", help="time the whole MRPC fine-tune of MiniLM-L6 instead")
    p.add_argument("--seeds", default="0", help="--mrpc: comma-separated seeds, each run by every tool")
    p.add_argument("--variant", action="append", metavar="NAME=ARGS",
                   help="--mrpc: a bertc variant and its extra train options (repeatable; default: default=)")
    p.add_argument("--skip-pytorch", action="store_true", help="--mrpc: run only bertc")
    p.add_argument("--data", default=str(ROOT.parent / "shared" / "data"), help="data root holding glue/MRPC")
    p.add_argument("--omp-passive", action="store_true",
                   help="OMP_WAIT_POLICY=PASSIVE for PyTorch: on a loaded machine its spinning OpenMP barriers "
                        "otherwise collapse; report whether it was used")
    p.add_argument("--no-build", action="store_true", help="use the existing .build/release/bertc")
    p.add_argument("--out", default=None, help="JSON output path (default .build/bench/...)")
    args = p.parse_args()
    args.models = [m for m in args.models.split(",") if m]
    if args.omp_passive:
        ENV["OMP_WAIT_POLICY"] = "PASSIVE"
    if not args.no_build:
        build()
    result = mrpc(args) if args.mrpc else compare(args)
    out = Path(args.out or ROOT / ".build" / "bench" / ("mrpc.json" if args.mrpc else "bench_vs_pytorch.json"))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwrote {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
