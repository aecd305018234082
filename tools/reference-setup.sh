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

# The SQuAD goldens (tools/golden_squad_*.py) run google-research/bert's run_squad.py from
# bert-tensorflow with TensorFlow stubbed out, and score with transformers' squad_metrics,
# which transformers 5 dropped: a small venv of their own, without torch or TensorFlow.
squad=${BERTC_REF_SQUAD_VENV:-$root/.venv-ref-squad}
[ -x "$squad/bin/python" ] || python3 -m venv "$squad"
"$squad/bin/pip" install -q --disable-pip-version-check bert-tensorflow==1.0.4 six absl-py numpy \
    transformers==4.57.6
echo "SQuAD reference venv ready: $squad/bin/python" >&2
