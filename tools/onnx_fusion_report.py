#!/usr/bin/env python3
"""Runs ONNX Runtime's BERT optimizer (onnxruntime.transformers) on an exported model and
prints how many of its fused operators it formed: Attention, SkipLayerNormalization,
Gelu/BiasGelu/FastGelu, EmbedLayerNormalization. A bertc export whose node patterns match
Hugging Face's export fuses fully: one Attention and two SkipLayerNormalization per layer,
one (Bias)Gelu or FastGelu per layer, one EmbedLayerNormalization.

    .venv/bin/python tools/onnx_fusion_report.py MODEL.onnx --num-heads 12 --hidden-size 768 \
        [--json] [--output OPTIMIZED.onnx]

Uses only the CI venv (numpy, onnx, onnxruntime).
"""
import argparse
import json
import logging
import sys

FUSED_OPS = ["EmbedLayerNormalization", "Attention", "MultiHeadAttention", "SkipLayerNormalization",
             "LayerNormalization", "Gelu", "BiasGelu", "FastGelu", "SkipSimplifiedLayerNormalization"]


def fusion_counts(model_path, num_heads, hidden_size, output=None):
    """Optimizes `model_path` with the `bert` model type; returns {op_type: count} of the
    optimized graph for the fused ops above plus the total node count.

    The optimizer's symbolic shape inference needs sympy, which the CI venv lacks; without it
    shape inference is switched off (our exports fuse fully either way: the patterns are
    matched structurally and the shapes come from the Reshape constants)."""
    from onnxruntime.transformers import optimizer
    from onnxruntime.transformers.fusion_options import FusionOptions

    options = FusionOptions("bert")
    try:
        import sympy  # noqa: F401
    except ImportError:
        options.enable_shape_inference = False
    logging.disable(logging.WARNING)  # "producer not matched: expected pytorch, got bertc"
    try:
        model = optimizer.optimize_model(model_path, model_type="bert", num_heads=num_heads,
                                         hidden_size=hidden_size, opt_level=0, optimization_options=options)
    finally:
        logging.disable(logging.NOTSET)
    counts = {op: 0 for op in FUSED_OPS}
    for node in model.model.graph.node:
        if node.op_type in counts:
            counts[node.op_type] += 1
    counts["nodes"] = len(model.model.graph.node)
    if output:
        model.save_model_to_file(output)
    return counts


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model")
    parser.add_argument("--num-heads", type=int, required=True)
    parser.add_argument("--hidden-size", type=int, required=True)
    parser.add_argument("--output", help="write the optimized model here")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    counts = fusion_counts(args.model, args.num_heads, args.hidden_size, args.output)
    if args.json:
        print(json.dumps(counts, sort_keys=True))
    else:
        for op in FUSED_OPS + ["nodes"]:
            print(f"{op:34s} {counts[op]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
