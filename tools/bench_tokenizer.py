#!/usr/bin/env python3
"""Times bertc's tokenizer against Hugging Face `tokenizers`, single thread, same text.

Work measured on both sides: tokenize both sentences of every pair of the MSR training file
(4,076 pairs), pack as [CLS] a [SEP] b [SEP] with longest_first truncation, pad to 128, repeated
--repeats times, in process (file reading and start-up are not timed):
  * bertc: `bertc tokenize --input pairs.tsv --seq-len 128 --bench N` (hidden flag; the loop is
    BertTokenizer.encode + InputPacker.pack, see Sources/bertc/Tokenize.swift);
  * HF: BertWordPieceTokenizer(lowercase=True) with truncation + padding at 128, both
    `encode` in a loop and `encode_batch` with RAYON_NUM_THREADS=1 (one thread).
The ratio is against the faster HF mode. Each side runs --trials times; the best trial counts.
Before timing, bertc's JSON output for all pairs is checked equal to HF's.

Run (after `swift build -c release $(tools/swift-flags.sh) --product bertc`):
  .venv-ref/bin/python tools/bench_tokenizer.py [--repeats 5] [--trials 3] [--out FILE]
"""
import os

os.environ["RAYON_NUM_THREADS"] = "1"
os.environ["RAYON_RS_NUM_CPUS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

import argparse
import json
import subprocess
import sys
import tempfile
import time

from tokenizers import BertWordPieceTokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEQ_LEN = 128


def read_msr(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [tuple(line.split("\t")[3:5]) for line in lines[1:]]


def hf_tokenizer(vocab):
    tok = BertWordPieceTokenizer(vocab, lowercase=True)
    tok.enable_truncation(SEQ_LEN, strategy="longest_first")
    tok.enable_padding(length=SEQ_LEN, pad_id=0, pad_token="[PAD]")
    return tok


def time_hf_loop(tok, pairs, repeats):
    start = time.perf_counter()
    for _ in range(repeats):
        for a, b in pairs:
            tok.encode(a, b)
    return time.perf_counter() - start


def time_hf_batch(tok, pairs, repeats):
    start = time.perf_counter()
    for _ in range(repeats):
        tok.encode_batch(pairs)
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", default=os.environ.get("BERTC_DATA", os.path.join(ROOT, "..", "shared", "data")))
    parser.add_argument("--bertc", default=os.path.join(ROOT, ".build", "release", "bertc"))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--out", default=os.path.join(ROOT, ".build", "bench", "tokenizer.json"))
    args = parser.parse_args()
    vocab = os.path.join(args.data_dir, "vocab-bert-base-uncased.txt")
    pairs = read_msr(os.path.join(args.data_dir, "glue", "MRPC", "msr_paraphrase_train.txt"))
    assert len(pairs) == 4076
    if not os.path.exists(args.bertc):
        sys.exit(f"{args.bertc} not found: run `swift build -c release $(tools/swift-flags.sh) --product bertc` first")

    with tempfile.TemporaryDirectory() as tmp:
        tsv = os.path.join(tmp, "pairs.tsv")
        with open(tsv, "w", encoding="utf-8") as f:
            for a, b in pairs:
                f.write(f"{a}\t{b}\n")
        base = [args.bertc, "tokenize", "--vocab", vocab, "--input", tsv, "--seq-len", str(SEQ_LEN)]

        # Same output first: bertc's rows must equal HF's for every pair.
        tok = hf_tokenizer(vocab)
        expected = tok.encode_batch(pairs)
        start = time.perf_counter()
        got = json.loads(subprocess.run(base + ["--json"], check=True, capture_output=True, text=True).stdout)
        end_to_end = time.perf_counter() - start
        for i, enc in enumerate(expected):
            assert got["input_ids"][i] == enc.ids and got["token_type_ids"][i] == enc.type_ids \
                and got["attention_mask"][i] == enc.attention_mask, f"pair {i} differs from HF"

        bertc_runs = []
        for _ in range(args.trials):
            out = subprocess.run(base + ["--bench", str(args.repeats)], check=True, capture_output=True, text=True)
            bertc_runs.append(json.loads(out.stdout)["seconds"])
    loop_runs = [time_hf_loop(tok, pairs, args.repeats) for _ in range(args.trials)]
    batch_runs = [time_hf_batch(tok, pairs, args.repeats) for _ in range(args.trials)]

    work = len(pairs) * args.repeats
    bertc_best, loop_best, batch_best = min(bertc_runs), min(loop_runs), min(batch_runs)
    hf_best = min(loop_best, batch_best)
    result = {
        "pairs": len(pairs), "repeats": args.repeats, "trials": args.trials, "seq_len": SEQ_LEN,
        "bertc_seconds": bertc_runs, "hf_encode_loop_seconds": loop_runs, "hf_encode_batch_seconds": batch_runs,
        "bertc_pairs_per_second": work / bertc_best,
        "hf_encode_loop_pairs_per_second": work / loop_best,
        "hf_encode_batch_pairs_per_second": work / batch_best,
        "speedup_vs_best_hf": hf_best / bertc_best,
        "bertc_end_to_end_json_seconds": end_to_end,
        "tokenizers_version": __import__("tokenizers").__version__,
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2)
    print(f"bertc            {work / bertc_best:12.0f} pairs/s")
    print(f"HF encode loop   {work / loop_best:12.0f} pairs/s")
    print(f"HF encode_batch  {work / batch_best:12.0f} pairs/s (1 thread)")
    print(f"bertc / best HF speed ratio: {hf_best / bertc_best:.2f}x  (written to {args.out})")


if __name__ == "__main__":
    main()
