#!/usr/bin/env python3
"""How far apart float32 runtimes are on one fine-tuned model, against a float64 reference.

Runs the same sentence pairs (batch 1, natural lengths, no padding) through
  torch64    transformers BertForSequenceClassification in float64 (the reference),
  torch32    the same model in float32 (PyTorch eager),
  ort        ONNX Runtime on bertc's ONNX export, all graph optimisations,
  ort_noopt  ONNX Runtime on the same export with graph optimisations off,
  bertc      `bertc predict --model RUN --input FILE --json`,
and prints the max abs logit difference of every pair of them (and the root mean square, which
a single unlucky pair does not decide), so that a parity tolerance
between two float32 runtimes can be judged against how far float32 runtimes are apart anyway.

Needs the reference venv (torch, transformers, tokenizers, onnxruntime):

    .venv-ref/bin/python tools/float32_spread.py --run RUN [--input dev.tsv] [--json OUT]

RUN is a bertc run (or model) directory with config.json, model.safetensors and vocab.txt;
the ONNX file defaults to RUN/export/model.onnx. The pairs default to MRPC dev.tsv found
through $BERTC_DATA or ../shared/data.
"""
import argparse
import csv
import json
import os
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read_pairs(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    header = rows[0]
    for a, b in (("sentence1", "sentence2"), ("#1 String", "#2 String")):
        if a in header and b in header:
            i, j = header.index(a), header.index(b)
            return [(r[i], r[j]) for r in rows[1:]]
    return [(r[0], r[1] if len(r) > 1 else None) for r in rows]


def default_input():
    for base in (os.environ.get("BERTC_DATA"), os.path.join(ROOT, "..", "shared", "data")):
        if base and os.path.exists(os.path.join(base, "glue", "MRPC", "dev.tsv")):
            return os.path.join(base, "glue", "MRPC", "dev.tsv")
    sys.exit("no --input given and MRPC dev.tsv not found (set BERTC_DATA)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", required=True, help="bertc run or model directory")
    parser.add_argument("--onnx", help="ONNX export (default RUN/export/model.onnx)")
    parser.add_argument("--input", help="TSV of pairs (default MRPC dev.tsv)")
    parser.add_argument("--bertc", default=os.path.join(ROOT, ".build", "release", "bertc"))
    parser.add_argument("--json", help="write the matrix of differences here")
    args = parser.parse_args()

    import onnxruntime as ort
    import torch
    from tokenizers import BertWordPieceTokenizer
    from transformers import BertForSequenceClassification

    model_dir = os.path.join(args.run, "model") if os.path.isdir(os.path.join(args.run, "model")) else args.run
    onnx_path = args.onnx or os.path.join(args.run, "export", "model.onnx")
    input_path = args.input or default_input()
    pairs = read_pairs(input_path)
    with open(os.path.join(model_dir, "tokenizer_config.json")) as f:
        lowercase = json.load(f).get("do_lower_case", True)
    tokenizer = BertWordPieceTokenizer(os.path.join(model_dir, "vocab.txt"), lowercase=lowercase)
    tokenizer.enable_truncation(128, strategy="longest_first")  # bertc's default packing
    encodings = [tokenizer.encode(a, b) if b is not None else tokenizer.encode(a) for a, b in pairs]

    torch.set_num_threads(2)
    m32 = BertForSequenceClassification.from_pretrained(model_dir, attn_implementation="eager").eval()
    m64 = BertForSequenceClassification.from_pretrained(model_dir, attn_implementation="eager").double().eval()
    sessions = {}
    for name, level in (("ort", ort.GraphOptimizationLevel.ORT_ENABLE_ALL),
                        ("ort_noopt", ort.GraphOptimizationLevel.ORT_DISABLE_ALL)):
        options = ort.SessionOptions()
        options.graph_optimization_level = level
        options.intra_op_num_threads = 2
        sessions[name] = ort.InferenceSession(onnx_path, options, providers=["CPUExecutionProvider"])

    logits = {k: [] for k in ("torch64", "torch32", "ort", "ort_noopt")}
    for e in encodings:
        ids = np.array([e.ids], dtype=np.int64)
        types = np.array([e.type_ids], dtype=np.int64)
        mask = np.ones_like(ids)
        with torch.no_grad():
            feeds = dict(input_ids=torch.tensor(ids), token_type_ids=torch.tensor(types), attention_mask=torch.tensor(mask))
            logits["torch64"].append(m64(**feeds).logits.numpy()[0])
            logits["torch32"].append(m32(**feeds).logits.numpy()[0].astype(np.float64))
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        for name, session in sessions.items():
            logits[name].append(session.run(["logits"], feeds)[0][0].astype(np.float64))

    out = subprocess.run([args.bertc, "predict", "--model", args.run, "--input", input_path, "--json"],
                         check=True, capture_output=True, text=True).stdout
    logits["bertc"] = json.loads(out)["logits"]
    logits = {k: np.asarray(v, dtype=np.float64) for k, v in logits.items()}

    names = list(logits)
    matrix = {a: {b: float(np.abs(logits[a] - logits[b]).max()) for b in names} for a in names}
    print(f"{len(pairs)} pairs from {input_path}; max |logit| {np.abs(logits['torch64']).max():.3f}")
    print("max abs difference of logits:")
    print(" " * 10 + "".join(f"{b:>11s}" for b in names))
    for a in names:
        print(f"{a:10s}" + "".join(f"{matrix[a][b]:11.2e}" for b in names))
    rms = {a: {b: float(np.sqrt(np.mean((logits[a] - logits[b]) ** 2))) for b in names} for a in names}
    print("root mean square difference of logits:")
    print(" " * 10 + "".join(f"{b:>11s}" for b in names))
    for a in names:
        print(f"{a:10s}" + "".join(f"{rms[a][b]:11.2e}" for b in names))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"pairs": len(pairs), "input": input_path, "max_abs_diff": matrix, "rms_diff": rms}, f, indent=2)


if __name__ == "__main__":
    main()
