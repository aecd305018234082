"""Shared by test_onnx_parity.py and test_onnx_fusion.py: finds the tiny-BERT ONNX fixtures
that the Swift test ONNXParityFixtureTests writes, loads their weights, and computes the same
forward pass in numpy (float64) as an independent reference.

Fixture location: $BERTC_ONNX_PARITY_DIR, else <repo>/.build/onnx-parity (CI runs `swift test`
first, which writes there). When neither holds a current manifest, the Swift test is run here
with BERTC_ONNX_PARITY_DIR set to a temporary directory (a debug build if none exists).
"""
import json
import math
import os
import pathlib
import subprocess
import tempfile

import numpy as np

FIXTURE_VERSION = 4
ROOT = pathlib.Path(__file__).resolve().parents[2]


def _current(directory):
    manifest = directory / "manifest.json"
    if not manifest.is_file():
        return False
    return json.loads(manifest.read_text()).get("version") == FIXTURE_VERSION


_variants = None


def fixture_variants():
    """[(name, directory)] of the exported tiny BERTs (one per GELU form)."""
    global _variants
    if _variants is None:
        _variants = _find_variants()
    return _variants


def _find_variants():
    candidates = []
    if os.environ.get("BERTC_ONNX_PARITY_DIR"):
        candidates.append(pathlib.Path(os.environ["BERTC_ONNX_PARITY_DIR"]))
    candidates.append(ROOT / ".build" / "onnx-parity")
    directory = next((d for d in candidates if _current(d)), None)
    if directory is None:
        directory = pathlib.Path(tempfile.mkdtemp(prefix="bertc-onnx-parity-"))
        env = dict(os.environ, BERTC_ONNX_PARITY_DIR=str(directory))
        subprocess.run(["swift", "test", "--filter", "BertONNXTests.ONNXParityFixtureTests"],
                       cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
        assert _current(directory), f"the Swift fixture test wrote no manifest in {directory}"
    manifest = json.loads((directory / "manifest.json").read_text())
    return [(name, directory / name) for name in manifest["variants"]]


def extra_fixture(name):
    """A fixture directory beside the tiny BERTs that carries an interpreter run (`every-op`;
    `minilm-l6`, written only when the pretrained model is installed), else None."""
    directory = fixture_variants()[0][1].parent / name
    return directory if (directory / "interpreter.json").is_file() else None


def pretrained_fixture():
    """The MiniLM-L6 export, or None when tools/setup.sh model has not installed the model."""
    return extra_fixture("minilm-l6")


def load_fixture(directory):
    """(config dict, {parameter name: float32 array in HF layout})."""
    config = json.loads((directory / "config.json").read_text())
    index = json.loads((directory / "weights.json").read_text())
    blob = np.fromfile(directory / "weights.bin", dtype="<f4")
    weights = {}
    for name, entry in index.items():
        count = int(np.prod(entry["shape"])) if entry["shape"] else 1
        weights[name] = blob[entry["offset"]:entry["offset"] + count].reshape(entry["shape"])
    return config, weights


def random_inputs(config, batch, seq, seed):
    """int64 input_ids, attention_mask (rows padded to decreasing lengths), token_type_ids."""
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, config["vocabSize"], size=(batch, seq), dtype=np.int64)
    types = rng.integers(0, config["typeVocabSize"], size=(batch, seq), dtype=np.int64)
    lengths = [max(1, seq - (seq * b) // max(batch, 1)) for b in range(batch)]
    mask = np.array([[1 if j < n else 0 for j in range(seq)] for n in lengths], dtype=np.int64)
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}


def load_interpreter_run(directory):
    """(int64 inputs, {output: float32 array}) that the bertc interpreter produced for this
    fixture, or None for fixtures without an interpreter run."""
    index_path = directory / "interpreter.json"
    if not index_path.is_file():
        return None
    index = json.loads(index_path.read_text())
    blob = np.fromfile(directory / "interpreter.bin", dtype="<f4")
    inputs = {name: np.array(e["values"], dtype=np.int64).reshape(e["shape"]) for name, e in index["inputs"].items()}
    outputs = {}
    for name, e in index["outputs"].items():
        count = int(np.prod(e["shape"]))
        outputs[name] = blob[e["offset"]:e["offset"] + count].reshape(e["shape"])
    return inputs, outputs


# MARK: - numpy reference (float64), BertForSequenceClassification as in CONTRACTS.md

_erf = np.vectorize(math.erf)


def _layer_norm(x, gamma, beta, eps):
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def _gelu(x, form):
    if form == "erf":
        return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def reference_forward(config, weights, inputs):
    """{"logits", "pooled_output", "sequence_output"} computed in float64."""
    w = {k: v.astype(np.float64) for k, v in weights.items()}
    eps = config["epsilon"]
    heads, hidden = config["heads"], config["hidden"]
    d = hidden // heads

    def linear(x, prefix):
        return x @ w[prefix + ".weight"].T + w[prefix + ".bias"]

    def norm(x, prefix):
        return _layer_norm(x, w[prefix + ".weight"], w[prefix + ".bias"], eps)

    ids, mask, types = inputs["input_ids"], inputs["attention_mask"], inputs["token_type_ids"]
    batch, seq = ids.shape
    e = "bert.embeddings"
    h = (w[e + ".word_embeddings.weight"][ids] + w[e + ".position_embeddings.weight"][np.arange(seq)]
         + w[e + ".token_type_embeddings.weight"][types])
    h = norm(h, e + ".LayerNorm")
    additive = (1.0 - mask[:, None, None, :].astype(np.float64)) * -10000.0
    for i in range(config["layers"]):
        p = f"bert.encoder.layer.{i}"

        def split(x):
            return x.reshape(batch, seq, heads, d).transpose(0, 2, 1, 3)

        q = split(linear(h, p + ".attention.self.query"))
        k = split(linear(h, p + ".attention.self.key"))
        v = split(linear(h, p + ".attention.self.value"))
        scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(d) + additive
        scores = scores - scores.max(axis=-1, keepdims=True)
        probs = np.exp(scores)
        probs /= probs.sum(axis=-1, keepdims=True)
        context = (probs @ v).transpose(0, 2, 1, 3).reshape(batch, seq, hidden)
        h1 = norm(linear(context, p + ".attention.output.dense") + h, p + ".attention.output.LayerNorm")
        up = _gelu(linear(h1, p + ".intermediate.dense"), config["gelu"])
        h = norm(linear(up, p + ".output.dense") + h1, p + ".output.LayerNorm")
    pooled = np.tanh(linear(h[:, 0], "bert.pooler.dense"))
    logits = linear(pooled, "classifier")
    return {"logits": logits, "pooled_output": pooled, "sequence_output": h}
