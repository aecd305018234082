#!/usr/bin/env bash
# The main job: set up, fine-tune the pretrained MiniLM-L6 on GLUE MRPC with bertc's default
# recipe, evaluate on dev, export ONNX and the native bundle, and verify both against the
# trained model. Output goes to ${RUN:-runs/mrpc-<timestamp>}.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tools/setup.sh
# Same flags as tools/test.sh (tools/swift-flags.sh), so the two share one build.
read -ra flags <<<"$(tools/swift-flags.sh)"
swift build -c release "${flags[@]}" --product bertc
bertc=("$(swift build -c release "${flags[@]}" --show-bin-path)/bertc")
model=${BERTC_MODEL_CACHE:-$HOME/.cache/bertc/models}/minilm-l6
# A new run directory each time: bertc never overwrites a finished run.
run=${RUN:-runs/mrpc-$(date +%Y%m%d-%H%M%S)}

"${bertc[@]}" train --model "$model" --task mrpc --out "$run" "$@"
"${bertc[@]}" eval --model "$run" --task mrpc --split dev
"${bertc[@]}" export --format onnx --model "$run" --out "$run/export/model.onnx"
"${bertc[@]}" export --format bundle --model "$run" --out "$run/export/bundle"
"${bertc[@]}" verify --bundle "$run/export/bundle" --onnx "$run/export/model.onnx" --model "$run"
