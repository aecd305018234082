#!/usr/bin/env bash
# Makes the reference venv (.venv-ref) that golden generators and benchmarks use: PyTorch,
# transformers, TensorFlow and friends. Large (several GB); never needed by the tests or CI.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
venv=${BERTC_REF_VENV:-$root/.venv-ref}
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q --disable-pip-version-check torch transformers safetensors tokenizers \
    onnx onnxruntime numpy scipy scikit-learn tensorboard tensorflow-cpu
echo "reference venv ready: $venv/bin/python" >&2
