#!/usr/bin/env python3
"""Writes Tests/Malformed/bundle/: hostile bundles, models and ONNX files for the malformed-input
corpus (tools/tests/test_malformed.py), made reproducibly from a tiny random BERT.

    python3 tools/make_malformed_bundle.py [--bertc .build/release/bertc]

It builds a model directory with a random BERT small enough to commit (hidden 8, one layer,
two heads, a 120-word vocabulary, 16 positions), exports it with bertc as a bundle (`base/`)
and as ONNX, then writes each hostile case as the files that differ from `base/` (cases.json
copies `base/` and then these files over it). Wherever the content is what is wrong, the
manifest's sizes and SHA-256 checksums are recomputed, as a hostile author would, so that only
bertc's content checks can refuse the bundle. Needs only the standard library and a built bertc.
"""
import argparse
import hashlib
import json
import random
import shutil
import struct
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "Tests" / "Malformed" / "bundle"
H, LAYERS, HEADS, INTERMEDIATE, POSITIONS, LABELS = 8, 1, 2, 16, 16, ["no", "yes"]
WORDS = ("the a an and or but of to in on at for with is are was were be been it this that "
         "he she they we you i not no yes good bad movie film story plot actor great terrible "
         "company shares said year market price up down new old day time people man woman "
         "world city police government report percent million group first last one two three").split()


def vocabulary():
    special = ["[PAD]"] + [f"[unused{i}]" for i in range(3)] + ["[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)]
    return special + list(".,!?'-") + letters + ["##" + c for c in letters] + [w for w in WORDS if w not in letters]


def parameter_shapes(vocab_size):
    shapes = {"bert.embeddings.word_embeddings.weight": [vocab_size, H],
              "bert.embeddings.position_embeddings.weight": [POSITIONS, H],
              "bert.embeddings.token_type_embeddings.weight": [2, H],
              "bert.embeddings.LayerNorm.weight": [H], "bert.embeddings.LayerNorm.bias": [H],
              "bert.pooler.dense.weight": [H, H], "bert.pooler.dense.bias": [H],
              "classifier.weight": [len(LABELS), H], "classifier.bias": [len(LABELS)]}
    for i in range(LAYERS):
        p = f"bert.encoder.layer.{i}."
        for part in ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"]:
            shapes[p + part + ".weight"], shapes[p + part + ".bias"] = [H, H], [H]
        shapes[p + "intermediate.dense.weight"], shapes[p + "intermediate.dense.bias"] = [INTERMEDIATE, H], [INTERMEDIATE]
        shapes[p + "output.dense.weight"], shapes[p + "output.dense.bias"] = [H, INTERMEDIATE], [H]
        for norm in ["attention.output.LayerNorm", "output.LayerNorm"]:
            shapes[p + norm + ".weight"], shapes[p + norm + ".bias"] = [H], [H]
    return shapes


def safetensors(tensors):
    """tensors: {name: (shape, [floats])} -> the bytes of a float32 safetensors file."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        shape, values = tensors[name]
        blob = struct.pack(f"<{len(values)}f", *values)
        header[name] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def read_safetensors(data):
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        a, b = info["data_offsets"]
        raw = data[8 + n + a:8 + n + b]
        out[name] = (info["shape"], list(struct.unpack(f"<{len(raw) // 4}f", raw)))
    return out


def make_model(directory, poison=None):
    """A model directory; `poison` = (tensor, value) puts value into the tensor's first element."""
    directory.mkdir(parents=True)
    words = vocabulary()
    (directory / "vocab.txt").write_text("\n".join(words) + "\n")
    config = {"vocab_size": len(words), "hidden_size": H, "num_hidden_layers": LAYERS, "num_attention_heads": HEADS,
              "intermediate_size": INTERMEDIATE, "hidden_act": "gelu", "max_position_embeddings": POSITIONS,
              "type_vocab_size": 2, "layer_norm_eps": 1e-12, "model_type": "bert",
              "id2label": {str(i): name for i, name in enumerate(LABELS)}}
    (directory / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    rng = random.Random(17)
    tensors = {}
    for name, shape in parameter_shapes(len(words)).items():
        count = 1
        for d in shape:
            count *= d
        base = 1.0 if name.endswith("LayerNorm.weight") else 0.0
        tensors[name] = (shape, [base + round(rng.gauss(0, 0.5), 4) for _ in range(count)])
    if poison:
        name, value = poison
        tensors[name][1][0] = value
    (directory / "model.safetensors").write_bytes(safetensors(tensors))


def bertc(binary, *args):
    p = subprocess.run([binary, *map(str, args)], capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"bertc {' '.join(map(str, args))} failed:\n{p.stderr}")


# MARK: - Cases

def rechecksum(files, manifest):
    """Sets the manifest's size and sha256 of every file it lists from `files` (name -> bytes)."""
    for entry in manifest["files"]:
        data = files[entry["path"]]
        entry["bytes"], entry["sha256"] = len(data), hashlib.sha256(data).hexdigest()


def write_case(name, base, changes=None, manifest_edit=None, checksums=True):
    """Writes case `name`: the files of `changes` ({file: bytes}) and the manifest that lists them."""
    files = dict(base)
    changes = changes or {}
    files.update(changes)
    manifest = json.loads(files["manifest.json"])
    if checksums:
        rechecksum(files, manifest)
    if manifest_edit:
        manifest_edit(manifest)
    folder = OUT / name
    folder.mkdir()
    for file, data in changes.items():
        (folder / file).write_bytes(data)
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def graph_edit(base, old, new, count=1):
    text = base["graph.bertc"].decode()
    assert text.count(old) >= count, f"{old!r} not in the graph"
    return {"graph.bertc": text.replace(old, new, count).encode()}


def config_edit(key, value):
    def edit(manifest):
        manifest["model"]["config"][key] = value
    return edit


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bertc", default=str(ROOT / ".build" / "release" / "bertc"))
    binary = parser.parse_args().bertc
    keep = {"cases.json"}
    for path in OUT.iterdir() if OUT.exists() else []:
        if path.name not in keep:
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    OUT.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        make_model(tmp / "model")
        bertc(binary, "export", "--format", "bundle", "--model", tmp / "model", "--out", OUT / "base", "--max-seq-length", POSITIONS)
        bertc(binary, "export", "--format", "onnx", "--model", tmp / "model", "--out", tmp / "model.onnx", "--max-seq-length", POSITIONS)
        onnx = (tmp / "model.onnx").read_bytes()
    make_model(OUT / "nan-model", poison=("bert.pooler.dense.bias", float("nan")))
    make_model(OUT / "inf-model", poison=("bert.encoder.layer.0.output.dense.weight", float("inf")))
    base = {p.name: p.read_bytes() for p in (OUT / "base").iterdir()}
    graph = base["graph.bertc"].decode()
    weights = read_safetensors(base["weights.safetensors"])

    # The graph: attributes against shapes, structure, sizes (checksums recomputed).
    write_case("select-index", base, graph_edit(base, "select[axis=1, index=0]", "select[axis=1, index=100000]"))
    write_case("select-index-fixed", base, graph_edit(base, "select[axis=1, index=0]", "select[axis=2, index=8]"))
    write_case("select-axis", base, graph_edit(base, "select[axis=1, index=0]", "select[axis=7, index=0]"))
    write_case("heads-zero", base, graph_edit(base, "attention[heads=2,", "attention[heads=0,"))
    write_case("heads-not-dividing", base, graph_edit(base, "attention[heads=2,", "attention[heads=3,"))
    write_case("param-huge", base, graph_edit(base, "param bert.pooler.dense.bias: f32[8]",
                                              "param bert.pooler.dense.bias: f32[4611686018427387904, 4]"))
    write_case("param-zero-dim", base, graph_edit(base, "param classifier.bias: f32[2]", "param classifier.bias: f32[0]"))
    lines = graph.splitlines(keepends=True)
    select = next(i for i, line in enumerate(lines) if "= select[" in line)  # reads the line before it
    swapped = list(lines)
    swapped[select - 1], swapped[select] = lines[select], lines[select - 1]
    write_case("use-before-definition", base, {"graph.bertc": "".join(swapped).encode()})
    write_case("declared-type", base, graph_edit(base, "f32[batch, 8] = select", "f32[batch, 9] = select"))
    write_case("graph-not-utf8", base, {"graph.bertc": b"graph inference {\n  \xff\xfe\n}\n"})

    # The manifest: the model config, the signature, file names (checksums intact).
    write_case("config-heads-zero", base, manifest_edit=config_edit("num_attention_heads", 0))
    write_case("config-layers-negative", base, manifest_edit=config_edit("num_hidden_layers", -2))
    write_case("config-hidden-huge", base, manifest_edit=config_edit("hidden_size", 1 << 40))
    write_case("config-heads-not-dividing", base, manifest_edit=config_edit("num_attention_heads", 3))

    def labels(manifest):
        manifest["labels"] = ["no", "yes", "maybe"]
    write_case("labels-contradict-signature", base, manifest_edit=labels)

    def escape(manifest):
        entry = next(e for e in manifest["files"] if e["path"] == "vocab.txt")
        entry["path"] = manifest["tokenizer"]["vocabulary"] = "../vocab.txt"
    write_case("path-escapes", base, manifest_edit=escape)

    def absolute(manifest):
        entry = next(e for e in manifest["files"] if e["path"] == "graph.bertc")
        entry["path"] = manifest["model"]["graph"] = "/etc/passwd"
    write_case("path-absolute", base, manifest_edit=absolute)

    def huge_size(manifest):
        next(e for e in manifest["files"] if e["path"] == "weights.safetensors")["bytes"] = 1 << 60
    write_case("size-huge", base, manifest_edit=huge_size)

    def raw_manifest(name, text):
        (OUT / name).mkdir()
        (OUT / name / "manifest.json").write_text(text)
    raw_manifest("manifest-not-json", '{"format": "bertc-bundle", "format_version": 1, "labels": [')
    raw_manifest("manifest-wrong-type", base["manifest.json"].decode().replace('"max_seq_length" : 16', '"max_seq_length" : "long"'))

    # Weights: non-finite values, a finite model whose logits overflow (checksums recomputed).
    weights["classifier.bias"][1][0] = float("nan")
    write_case("weight-nan", base, {"weights.safetensors": safetensors(weights)})
    weights["classifier.bias"][1][0] = 0.0
    weights["classifier.weight"][1][:] = [3e38] * len(weights["classifier.weight"][1])
    write_case("logits-overflow", base, {"weights.safetensors": safetensors(weights)})

    # Damage the checksums catch: inspect must exit non-zero.
    flipped = bytearray(base["weights.safetensors"])
    flipped[-1] ^= 1
    write_case("checksum-mismatch", base, {"weights.safetensors": bytes(flipped)}, checksums=False)

    # Bundles lacking one file, for cases.json to put a FIFO or a symbolic link in its place.
    for missing in ["vocab.txt", "graph.bertc", "manifest.json"]:
        folder = OUT / f"without-{missing.split('.')[0]}"
        folder.mkdir()
        for name, data in base.items():
            if name != missing:
                (folder / name).write_bytes(data)

    # ONNX files that are not models.
    (OUT / "garbage.onnx").write_bytes(bytes(random.Random(3).randrange(256) for _ in range(2000)))
    (OUT / "truncated.onnx").write_bytes(onnx[:len(onnx) // 2])
    print(f"wrote {sum(1 for p in OUT.rglob('*') if p.is_file())} files under {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
