"""ONNX Runtime on bertc's ONNX export of a tiny BERT (2 layers, hidden 32, 4 heads, erf and
tanh GELU) against an independent numpy float64 forward pass of the same weights.

Tolerance: max |ort - reference| <= 1e-5 on logits, pooled_output and sequence_output, with
ORT's graph optimizations off and fully on (the latter runs ORT's own fusions).
Fixtures: see onnx_parity_fixtures.py.
"""
import numpy as np
import onnx
import onnxruntime as ort
import pytest

from onnx_parity_fixtures import fixture_variants, load_fixture, random_inputs, reference_forward

TOLERANCE = 1e-5
VARIANTS = fixture_variants()
SHAPES = [(3, 7), (1, 1), (2, 16)]  # (batch, seq): padded rows, a single token, max positions


@pytest.mark.parametrize("name,directory", VARIANTS, ids=[v[0] for v in VARIANTS])
def test_onnx_full_check(name, directory):
    onnx.checker.check_model(str(directory / "model.onnx"), full_check=True)
    model = onnx.load(str(directory / "model.onnx"))
    assert model.ir_version == 8
    assert [(o.domain, o.version) for o in model.opset_import] == [("", 17)]
    assert [i.name for i in model.graph.input] == ["input_ids", "attention_mask", "token_type_ids"]
    for i in model.graph.input:
        assert i.type.tensor_type.elem_type == onnx.TensorProto.INT64
        assert [d.dim_param for d in i.type.tensor_type.shape.dim] == ["batch", "sequence"]
    assert [o.name for o in model.graph.output] == ["logits", "pooled_output", "sequence_output"]


@pytest.mark.parametrize("level", ["disabled", "all"])
@pytest.mark.parametrize("name,directory", VARIANTS, ids=[v[0] for v in VARIANTS])
def test_onnxruntime_matches_reference(name, directory, level):
    config, weights = load_fixture(directory)
    options = ort.SessionOptions()
    options.graph_optimization_level = {
        "disabled": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
        "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
    }[level]
    session = ort.InferenceSession(str(directory / "model.onnx"), options, providers=["CPUExecutionProvider"])
    for seed, (batch, seq) in enumerate(SHAPES):
        inputs = random_inputs(config, batch, seq, seed)
        expected = reference_forward(config, weights, inputs)
        names = [o.name for o in session.get_outputs()]
        got = dict(zip(names, session.run(names, inputs)))
        for key, want in expected.items():
            assert got[key].shape == want.shape, key
            error = float(np.max(np.abs(got[key].astype(np.float64) - want)))
            assert error <= TOLERANCE, f"{name} {key} batch={batch} seq={seq}: max abs error {error:.3g}"
