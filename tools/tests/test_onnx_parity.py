"""ONNX Runtime on bertc's ONNX export of a tiny BERT (2 layers, hidden 32, 4 heads, erf and
tanh GELU) against an independent numpy float64 forward pass of the same weights, and, for
the BertBuilder variants (`bertc-*`), against the bertc interpreter's own outputs.

Tolerance: max |ort - reference| <= 1e-5 on logits, pooled_output and sequence_output, with
ORT's graph optimizations off and fully on (the latter runs ORT's own fusions).
Fixtures: see onnx_parity_fixtures.py.
"""
import numpy as np
import onnx
import onnxruntime as ort
import pytest

from onnx_parity_fixtures import (extra_fixture, fixture_variants, load_fixture, load_interpreter_run,
                                  pretrained_fixture, random_inputs, reference_forward)

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


INTERPRETER_VARIANTS = [v for v in VARIANTS if load_interpreter_run(v[1]) is not None]


@pytest.mark.parametrize("name,directory", INTERPRETER_VARIANTS, ids=[v[0] for v in INTERPRETER_VARIANTS])
def test_onnxruntime_matches_bertc_interpreter(name, directory):
    config, weights = load_fixture(directory)
    inputs, interpreter = load_interpreter_run(directory)
    session = ort.InferenceSession(str(directory / "model.onnx"), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    got = dict(zip(names, session.run(names, inputs)))
    expected = reference_forward(config, weights, inputs)
    assert set(interpreter) == {"logits", "pooled_output", "sequence_output"}
    for key, theirs in interpreter.items():
        error = float(np.max(np.abs(got[key].astype(np.float64) - theirs)))
        assert error <= TOLERANCE, f"{name} {key}: ORT vs interpreter max abs error {error:.3g}"
        error = float(np.max(np.abs(theirs.astype(np.float64) - expected[key])))
        assert error <= TOLERANCE, f"{name} {key}: interpreter vs numpy max abs error {error:.3g}"


def test_builder_variants_present():
    """The BertBuilder + interpreter fixtures exist (guards against silently skipping them)."""
    assert len(INTERPRETER_VARIANTS) == 2, [v[0] for v in VARIANTS]


@pytest.mark.parametrize("level", ["disabled", "all"])
def test_pretrained_minilm_matches_bertc_interpreter(level):
    """The real MiniLM-L6 (6 layers, hidden 384) with a seeded 2-label head: ORT on the export
    against the bertc interpreter, max abs error <= 1e-5 on every output."""
    directory = pretrained_fixture()
    if directory is None:
        pytest.skip("no MiniLM-L6 export: the pretrained model is not installed (tools/setup.sh model)")
    onnx.checker.check_model(str(directory / "model.onnx"), full_check=True)
    inputs, interpreter = load_interpreter_run(directory)
    options = ort.SessionOptions()
    options.graph_optimization_level = {
        "disabled": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
        "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
    }[level]
    session = ort.InferenceSession(str(directory / "model.onnx"), options, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    got = dict(zip(names, session.run(names, inputs)))
    for key, theirs in interpreter.items():
        error = float(np.max(np.abs(got[key] - theirs)))
        assert error <= TOLERANCE, f"minilm-l6 {key}: ORT vs interpreter max abs error {error:.3g}"


@pytest.mark.parametrize("level", ["disabled", "all"])
def test_every_inference_op_matches_bertc_interpreter(level):
    """EveryInferenceOpGraph (every exportable op form, incl. transpose_a products, -1 reshape,
    inner-axis select, squeezed position ids): ORT against the interpreter, max abs <= 1e-5."""
    directory = extra_fixture("every-op")
    assert directory is not None, "the Swift fixture test did not write every-op/"
    onnx.checker.check_model(str(directory / "model.onnx"), full_check=True)
    inputs, interpreter = load_interpreter_run(directory)
    options = ort.SessionOptions()
    options.graph_optimization_level = {
        "disabled": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
        "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
    }[level]
    session = ort.InferenceSession(str(directory / "model.onnx"), options, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    got = dict(zip(names, session.run(names, inputs)))
    assert set(got) == set(interpreter)
    for key, theirs in interpreter.items():
        assert got[key].shape == theirs.shape, key
        error = float(np.max(np.abs(got[key] - theirs)))
        assert error <= TOLERANCE, f"every-op {key}: ORT vs interpreter max abs error {error:.3g}"
