#!/usr/bin/env bash
# The SQuAD job: set up, fine-tune the pretrained MiniLM-L6 for span extraction with bertc's
# default recipe (graphs/tasks/squad.json), evaluate (exact match, F1, predictions.json), and
# answer one question from a context given on the command line. With only
# squad/dev-v1.1.json in the data root it trains on its articles 0-35 and evaluates on 36-47;
# with squad/train-v1.1.json as well, it runs the standard train-v1.1 / dev-v1.1 protocol.
# Output goes to ${RUN:-runs/squad-<timestamp>}.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
tools/setup.sh
read -ra flags <<<"$(tools/swift-flags.sh)"
swift build -c release "${flags[@]}" --product bertc
bertc=("$(swift build -c release "${flags[@]}" --show-bin-path)/bertc")
model=${BERTC_MODEL_CACHE:-$HOME/.cache/bertc/models}/minilm-l6
run=${RUN:-runs/squad-$(date +%Y%m%d-%H%M%S)}

"${bertc[@]}" train --model "$model" --task squad --out "$run" "$@"
"${bertc[@]}" eval --model "$run" --task squad
"${bertc[@]}" predict --model "$run" --task squad \
    --question "What does a compiler translate?" \
    --context "A compiler is a program that translates source code written in one language into another language, usually machine code that a processor can run."
