"""ONNX Runtime's BERT optimizer (onnxruntime.transformers, model_type="bert") fully fuses
bertc's export of the tiny BERT: per layer one Attention, two SkipLayerNormalization and one
BiasGelu (erf GELU) or FastGelu (tanh GELU); one EmbedLayerNormalization. The optimized model
still matches the numpy reference within 1e-5 (max abs).

Runs with or without sympy (without it, the optimizer's symbolic shape inference is off; see
tools/onnx_fusion_report.py, which prints the same counts for any export).
"""
import pathlib
import sys

import numpy as np
import onnxruntime as ort
import pytest

import json

from onnx_parity_fixtures import (fixture_variants, load_fixture, load_interpreter_run, pretrained_fixture,
                                  random_inputs, reference_forward)

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from onnx_fusion_report import fusion_counts  # noqa: E402

TOLERANCE = 1e-5
VARIANTS = fixture_variants()


@pytest.mark.parametrize("name,directory", VARIANTS, ids=[v[0] for v in VARIANTS])
def test_ort_optimizer_fuses_everything(name, directory, tmp_path):
    config, weights = load_fixture(directory)
    optimized = tmp_path / "optimized.onnx"
    counts = fusion_counts(str(directory / "model.onnx"), config["heads"], config["hidden"], str(optimized))
    layers = config["layers"]
    gelu = "BiasGelu" if config["gelu"] == "erf" else "FastGelu"
    assert counts["EmbedLayerNormalization"] == 1, counts
    assert counts["Attention"] == layers, counts
    assert counts["SkipLayerNormalization"] == 2 * layers, counts
    assert counts[gelu] == layers, counts
    assert counts["LayerNormalization"] == 0, counts

    session = ort.InferenceSession(str(optimized), providers=["CPUExecutionProvider"])
    inputs = random_inputs(config, 3, 7, seed=5)
    expected = reference_forward(config, weights, inputs)
    names = [o.name for o in session.get_outputs()]
    got = dict(zip(names, session.run(names, inputs)))
    for key in ("logits", "pooled_output"):
        error = float(np.max(np.abs(got[key].astype(np.float64) - expected[key])))
        assert error <= TOLERANCE, f"{name} fused {key}: max abs error {error:.3g}"


def test_ort_optimizer_fuses_pretrained_minilm(tmp_path):
    """MiniLM-L6: 6 Attention, 12 SkipLayerNormalization, 6 BiasGelu, 1 EmbedLayerNormalization,
    and the fused model still matches the bertc interpreter within 1e-5."""
    directory = pretrained_fixture()
    if directory is None:
        pytest.skip("no MiniLM-L6 export: the pretrained model is not installed (tools/setup.sh model)")
    config = json.loads((directory / "config.json").read_text())
    optimized = tmp_path / "optimized.onnx"
    counts = fusion_counts(str(directory / "model.onnx"), config["heads"], config["hidden"], str(optimized))
    layers = config["layers"]
    assert (counts["EmbedLayerNormalization"], counts["Attention"], counts["SkipLayerNormalization"],
            counts["BiasGelu"]) == (1, layers, 2 * layers, layers), counts
    inputs, interpreter = load_interpreter_run(directory)
    session = ort.InferenceSession(str(optimized), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    got = dict(zip(names, session.run(names, inputs)))
    for key in ("logits", "pooled_output"):
        error = float(np.max(np.abs(got[key] - interpreter[key])))
        assert error <= TOLERANCE, f"fused minilm-l6 {key}: max abs error {error:.3g}"
