#!/usr/bin/env bash
# Regenerates Sources/BertONNX/Generated/onnx.pb.swift from the onnx.proto that Debian's
# libonnx-dev installs (/usr/include/onnx/onnx.proto, proto2, package `onnx`), so the Swift
# messages match the libonnx that validates our exports. The output is committed: CI never
# runs this script and never builds the plugin.
#
#   tools/gen_onnx_swift.sh [path/to/protoc-gen-swift]
#
# Without an argument the plugin is built from the swift-protobuf release this package
# depends on, in a scratch directory outside the repository (about 10 minutes the first time).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
proto_dir=/usr/include/onnx
out="$root/Sources/BertONNX/Generated"
plugin=${1:-}

if [ -z "$plugin" ]; then
    scratch=${BERTC_PROTOC_GEN_SWIFT_DIR:-${TMPDIR:-/tmp}/bertc-protoc-gen-swift}
    if [ ! -d "$scratch/swift-protobuf" ]; then
        mkdir -p "$scratch"
        git clone -q --branch 1.39.0 https://github.com/apple/swift-protobuf "$scratch/swift-protobuf"
    fi
    swift build -c release --product protoc-gen-swift --package-path "$scratch/swift-protobuf" >&2
    plugin="$scratch/swift-protobuf/.build/release/protoc-gen-swift"
fi

command -v protoc >/dev/null || { echo "protoc missing: apt-get install protobuf-compiler" >&2; exit 1; }
[ -f "$proto_dir/onnx.proto" ] || { echo "$proto_dir/onnx.proto missing: apt-get install libonnx-dev" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Copy so the generated file's header names `onnx.proto`, not an absolute path.
cp "$proto_dir/onnx.proto" "$tmp/onnx.proto"
mkdir -p "$out"
protoc --plugin=protoc-gen-swift="$plugin" --proto_path="$tmp" \
    --swift_opt=Visibility=Internal --swift_out="$out" "$tmp/onnx.proto"
echo "wrote $out/onnx.pb.swift ($(protoc --version), $("$plugin" --version))" >&2
