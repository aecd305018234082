#!/usr/bin/env python3
"""Runs an ONNX model with ONNX Runtime on inputs given as JSON and prints the outputs as JSON.

Used by `bertc verify --onnx` and `bertc export --format onnx` to compare ONNX Runtime with
bertc's interpreter. Needs only the project venv (numpy, onnxruntime).

    python tools/ort_run.py REQUEST.json

REQUEST.json:
    {"model": "path/to/model.onnx",
     "inputs": {"input_ids": {"shape": [2, 7], "data": [101, ...]}, ...},   # int64
     "outputs": ["logits"]}
stdout:
    {"logits": {"shape": [2, 2], "data": [0.1, ...]}}

Floats are printed with Python's shortest repr of the float32 value widened to float64, so
they parse back to the same float32 bit for bit. Graph optimizations stay at ORT's default
(all), as a deployment would run it; $BERTC_ORT_OPTIMIZATION=none|basic|extended|all changes
that, to tell ORT's fusions apart from the plain ops when a comparison is close.
"""
import json
import os
import sys

import numpy as np
import onnxruntime as ort


def main(argv):
    """Runs the request; any failure is one plain line on stderr and status 1, never a traceback."""
    if len(argv) != 2:
        print("usage: ort_run.py REQUEST.json", file=sys.stderr)
        return 2
    try:
        return run(argv[1])
    except Exception as error:  # noqa: BLE001 - every failure is reported in one line
        message = " ".join(str(error).split()) or type(error).__name__
        print(f"ort_run.py: {message[:1000]}", file=sys.stderr)
        return 1


def run(request_path):
    with open(request_path, encoding="utf-8") as f:
        request = json.load(f)
    options = ort.SessionOptions()
    level = os.environ.get("BERTC_ORT_OPTIMIZATION", "all")
    options.graph_optimization_level = {
        "none": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
        "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
        "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
        "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
    }[level]
    try:
        session = ort.InferenceSession(request["model"], options, providers=["CPUExecutionProvider"])
    except Exception as error:  # noqa: BLE001 - ONNX Runtime raises several unrelated types
        raise RuntimeError(f"ONNX Runtime cannot load {request['model']}: {error}") from None
    expected = {i.name for i in session.get_inputs()}
    feeds = {}
    for name, tensor in request["inputs"].items():
        if name in expected:
            feeds[name] = np.asarray(tensor["data"], dtype=np.int64).reshape(tensor["shape"])
    missing = expected - feeds.keys()
    if missing:
        print(f"ort_run.py: the model needs inputs {sorted(missing)} that the request lacks", file=sys.stderr)
        return 1
    names = request.get("outputs") or [o.name for o in session.get_outputs()]
    results = session.run(names, feeds)
    out = {}
    for name, value in zip(names, results):
        value = np.asarray(value)
        data = value.astype(np.float64).ravel().tolist() if value.dtype.kind == "f" else value.ravel().tolist()
        out[name] = {"shape": list(value.shape), "data": data}
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
