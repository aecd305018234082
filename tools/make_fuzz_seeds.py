"""Writes the fuzz targets' seed corpus and dictionaries: fuzz/corpus/<target>/ holds small real
inputs of each reader (and, as crash-*, the reproducers of fixed findings, which this keeps);
fuzz/dict/<target>.dict the words libFuzzer splices into mutations (JSON keys, op names,
attribute names), since Swift's string comparisons give it no hints.

    .venv/bin/python tools/make_fuzz_seeds.py [--bertc .build/release/bertc]

Inputs: the repository (golden/, graphs/, the op table in Sources/BertGraph/Op.swift), the data
root ($BERTC_DATA, else ../shared/data), the BERT-Mini index fixture
(../shared/fixtures/tf-bundle-index beside the repository, or $BERTC_FIXTURES), and graphs and a bundle that the
given bertc writes for tiny models made here. Reproducible: the same inputs give the same files.
"""
import argparse
import json
import os
import re
import shutil
import struct
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("BERTC_DATA", ROOT.parent / "shared" / "data"))
FIXTURES = Path(os.environ.get("BERTC_FIXTURES", ROOT.parent / "shared" / "fixtures"))
CORPUS = ROOT / "fuzz" / "corpus"
DICTS = ROOT / "fuzz" / "dict"

# A 1-layer BERT small enough that its graphs print in a few kilobytes.
MICRO_CONFIG = {
    "vocab_size": 40, "hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2,
    "intermediate_size": 16, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
    "attention_probs_dropout_prob": 0.1, "max_position_embeddings": 16, "type_vocab_size": 2,
    "initializer_range": 0.02, "layer_norm_eps": 1e-12,
}


def write(target, name, data):
    d = CORPUS / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data if isinstance(data, bytes) else data.encode())


def head(path, lines):
    with open(path, "rb") as f:
        return b"".join(f.readline() for _ in range(lines))


def safetensors(tensors, metadata=None):
    """A safetensors file: tensors is a list of (name, dtype, shape, raw bytes)."""
    header, data = {}, b""
    for name, dtype, shape, raw in tensors:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    if metadata is not None:
        header["__metadata__"] = metadata
    text = json.dumps(header, separators=(",", ":")).encode()
    return struct.pack("<Q", len(text)) + text + data


def safetensors_seeds():
    write("safetensors", "mixed-dtypes.safetensors", safetensors([
        ("bert.pooler.dense.weight", "F32", [2, 3], struct.pack("<6f", 1, -2, 0.5, 3, 0, -0.25)),
        ("bert.pooler.dense.bias", "F16", [2], struct.pack("<2e", 1.5, -0.5)),
        ("half.bf16", "BF16", [2], struct.pack("<2H", 0x3F80, 0xC000)),
        ("wide.f64", "F64", [1], struct.pack("<d", 2.5)),
        ("position_ids", "I64", [1, 3], struct.pack("<3q", 0, 1, 2)),
        ("ids.i32", "I32", [2], struct.pack("<2i", 7, -1)),
        ("scalar", "F32", [], struct.pack("<f", 4)),
        ("empty", "F32", [0, 4], b""),
        ("flags", "BOOL", [2], b"\x01\x00"),
    ], metadata={"format": "pt"}))
    write("safetensors", "empty-header.safetensors", safetensors([]))
    # The first tensors of the golden tiny model as bertc's writer lays them out.
    write("safetensors", "one-tensor.safetensors", safetensors([("w", "F32", [1], struct.pack("<f", 9))]))


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data):
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def varint(n, width=None):
    """LEB128; with `width`, padded to that many bytes (valid protobuf, and a fuzzer's byte
    flips then make huge values without changing any length)."""
    out = bytearray()
    while True:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
        if not n and (width is None or len(out) >= width):
            break
    out[-1] &= 0x7F
    return bytes(out)


def leveldb_table(entries):
    """A LevelDB table (TensorFlow's index format) of sorted (key, value) pairs, one data block,
    no prefix compression."""
    def block(contents):
        return contents + b"\x00" + struct.pack("<I", masked_crc32c(contents + b"\x00"))
    data = b"".join(varint(0) + varint(len(k)) + varint(len(v)) + k + v for k, v in entries)
    data += struct.pack("<II", 0, 1)
    table = block(data)
    metaindex = (len(table), 8)
    table += block(struct.pack("<II", 0, 1))
    handle = varint(0) + varint(len(data))
    index_contents = varint(0) + varint(len(entries[-1][0])) + varint(len(handle)) + entries[-1][0] + handle
    index_contents += struct.pack("<II", 0, 1)
    index = (len(table), len(index_contents))
    table += block(index_contents)
    footer = varint(metaindex[0]) + varint(metaindex[1]) + varint(index[0]) + varint(index[1])
    return table + footer.ljust(40, b"\x00") + struct.pack("<Q", 0xDB4775248B80FB57)


def wide_varint_index(shard):
    """An index whose numbers are 9-byte varints: tensors in the tiny_bert shard with their
    real CRCs (shape [2, 3] f32, [4] bf16, a scalar i32)."""
    def entry(dtype, shape, offset, size):
        dims = b"".join(b"\x12" + varint(len(d)) + d for d in (b"\x08" + varint(n, 9) for n in shape))
        crc = masked_crc32c(shard[offset:offset + size])
        return (b"\x08" + varint(dtype, 9) + b"\x12" + varint(len(dims)) + dims + b"\x18" + varint(0, 9)
                + b"\x20" + varint(offset, 9) + b"\x28" + varint(size, 9) + b"\x35" + struct.pack("<I", crc))
    header = b"\x08" + varint(1, 9) + b"\x10" + varint(0, 9) + b"\x1a\x02\x08\x01"
    return leveldb_table([(b"", header), (b"a", entry(1, [2, 3], 0, 24)), (b"b", entry(14, [4], 24, 8)),
                          (b"c", entry(3, [], 32, 4))])


def checkpoint_seeds():
    golden = ROOT / "golden" / "tf-checkpoint"
    shutil.copy(golden / "tiny_bert.ckpt.index", CORPUS / "tf-checkpoint" / "tiny_bert.ckpt.index")
    shutil.copy(FIXTURES / "tf-bundle-index" / "bert_model.ckpt.index", CORPUS / "tf-checkpoint" / "bert_mini.ckpt.index")
    shard = (golden / "tiny_bert.ckpt.data-00000-of-00001").read_bytes()
    write("tf-checkpoint", "wide-varints.ckpt.index", wide_varint_index(shard))


def config_seeds():
    write("config", "bert-tiny.json", (ROOT / "graphs" / "bert-tiny.json").read_bytes())
    write("config", "bert_config.json", (FIXTURES / "tf-bundle-index" / "bert_config.json").read_bytes())
    write("config", "micro-explicit-gelu.json", json.dumps(dict(MICRO_CONFIG, gelu_approximation="tanh"), indent=2))


def vocabulary_words():
    """The uncased vocabulary's first 105 lines ([PAD], [unused*], [UNK], [CLS], [SEP], [MASK])
    and the tokens the vocabulary target's sentences use."""
    lines = (DATA / "vocab-bert-base-uncased.txt").read_text(encoding="utf-8").split("\n")
    wanted = {"hello", ",", "world", "!", "the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", ".",
              "na", "##ive", "cafe", "zu", "##rich", "日", "本", "語", "##s", "##ing", "una", "##ff", "##able",
              "3", "14", "$", "42", "50", "e", "-", "mail", "a", "##a"}
    return lines[:105] + [w for w in lines[105:] if w in wanted]


def vocabulary_seeds():
    write("vocabulary", "uncased-excerpt.txt", "\n".join(vocabulary_words()) + "\n")
    write("vocabulary", "minimal.txt", "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\n##s\n")


def tsv_seeds():
    glue = DATA / "glue"
    write("tsv", "msr_paraphrase_train.txt", head(glue / "MRPC" / "msr_paraphrase_train.txt", 4))
    write("tsv", "dev_ids.tsv", head(glue / "MRPC" / "dev_ids.tsv", 3))
    write("tsv", "mrpc-glue-dev.tsv", head(glue / "MRPC" / "dev.tsv", 3))
    write("tsv", "sst2-train.tsv", head(glue / "SST-2" / "train.tsv", 4))
    write("tsv", "cola-train.tsv", head(glue / "CoLA" / "train.tsv", 3))
    write("tsv", "rte-train.tsv", head(glue / "RTE" / "train.tsv", 3))
    write("tsv", "stsb-train.tsv", head(glue / "STS-B" / "train.tsv", 3))
    write("tsv", "pairs.tsv", "The cat sat.\tA cat was sitting.\nOnly one sentence\n")
    write("tsv", "bom-crlf.tsv", "\ufeffsentence1\tsentence2\r\nYes.\tNo.\r\n")


def short_names(text):
    """Graph text with every value renamed v0, v1, ... in order of declaration (the graph
    inputs and outputs keep their names), so the seeds are a few kilobytes and each fuzz
    input parses in well under a millisecond."""
    declared = re.findall(r"^\s*(?:param ([^:\s]+):|%([^:\s]+)(?::| =))", text, flags=re.M)
    names = {}
    for param, value in declared:
        names.setdefault(param or value, f"v{len(names)}")
    def rename(match):
        word = match.group(1)
        name = word.rstrip(":")  # a trailing ':' is the type separator
        return names.get(name, name) + word[len(name):]
    return re.sub(r"(?<![\w.:/+-])([\w.:/+-]+)", rename, text)


def bertc_seeds(bertc):
    """Graph text from `bertc compile --print-ir` (inference, eval and training graphs of a
    1-layer model) and the graph and manifest of a bundle bertc exports."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        config = tmp / "micro.json"
        config.write_text(json.dumps(MICRO_CONFIG))
        env = dict(os.environ, BERTC_GRAPHS=str(ROOT / "graphs"), BERTC_DATA=str(DATA))
        for mode in ["infer", "eval", "train"]:
            text = subprocess.run([bertc, "compile", str(config), "--mode", mode, "--print-ir", "--labels", "3", "--seq", "16", "--batch", "2"],
                                  check=True, capture_output=True, text=True, env=env).stdout
            start = text.index("graph ")
            write("graph", f"micro-{mode}.bertc", short_names(text[start:text.index("\n}\n", start) + 3]))
        # A bundle of the tiny random model (golden/forward) with the excerpt vocabulary.
        model = tmp / "model"
        model.mkdir()
        shutil.copy(ROOT / "graphs" / "bert-tiny.json", model / "config.json")
        shutil.copy(ROOT / "golden" / "forward" / "bert-tiny-random.weights.safetensors", model / "model.safetensors")
        shutil.copy(DATA / "vocab-bert-base-uncased.txt", model / "vocab.txt")
        bundle = tmp / "bundle"
        subprocess.run([bertc, "export", "--format", "bundle", "--model", str(model), "--out", str(bundle),
                        "--max-seq-length", "32"], check=True, capture_output=True, env=env)
        write("graph", "bundle-bert-tiny.bertc", short_names((bundle / "graph.bertc").read_text()))
        write("manifest", "manifest.json", (bundle / "manifest.json").read_bytes())


def json_words(value, out):
    if isinstance(value, dict):
        for k, v in value.items():
            out.add(k)
            json_words(v, out)
    elif isinstance(value, list):
        for v in value:
            json_words(v, out)
    elif isinstance(value, str) and len(value) < 40:
        out.add(value)


def dictionaries():
    DICTS.mkdir(parents=True, exist_ok=True)

    def save(target, words):
        lines = [f'"{w}"' for w in sorted(words)]
        (DICTS / f"{target}.dict").write_text(
            "# Words for libFuzzer's -dict, written by tools/make_fuzz_seeds.py.\n" + "\n".join(lines) + "\n")

    def escaped(word):
        return word.replace("\\", "\\\\").replace('"', '\\"')

    for target in ["config", "manifest", "safetensors"]:
        words = set()
        for f in sorted((CORPUS / target).iterdir()):
            raw = f.read_bytes()
            if target == "safetensors":
                raw = raw[8:8 + struct.unpack("<Q", raw[:8])[0]]
            json_words(json.loads(raw), words)
        if target == "safetensors":
            words |= {"BOOL", "U8", "I8", "F8_E4M3", "F8_E5M2", "I16", "U16", "F16", "BF16", "I32", "U32", "F32",
                      "I64", "U64", "F64", "dtype", "shape", "data_offsets", "__metadata__"}
        if target == "config":
            words |= {"gelu", "gelu_new", "gelu_pytorch_tanh", "gelu_fast", "gelu_exact", "gelu_erf", "erf", "tanh",
                      "gelu_approximation", "layer_norm_eps"}
        save(target, {escaped(w) for w in words if w.isprintable()})

    op_source = (ROOT / "Sources" / "BertGraph" / "Op.swift").read_text()
    words = set(re.findall(r'case \.\w+(?:\(.*?\))?: return "(\w+)"', op_source))
    words |= set(re.findall(r'\("(\w+)", ', op_source))
    words |= {"graph", "input", "param", "output", "f32", "i32", "i64", "batch", "seq", "true", "false",
              "identity", "erf", "tanh", "gelu_erf", "gelu_tanh", "logits", "loss", "input_ids",
              "token_type_ids", "attention_mask", "labels", "%", "=", ":", ",", "[", "]", "(", ")", "{", "}", "#"}
    save("graph", {escaped(w) for w in words})


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bertc", default=str(ROOT / ".build" / "release" / "bertc"))
    args = parser.parse_args()
    # Files this script does not write stay: the crash-* reproducers of fixed findings.
    for target in ["safetensors", "tf-checkpoint", "graph", "manifest", "vocabulary", "tsv", "config"]:
        (CORPUS / target).mkdir(parents=True, exist_ok=True)
    safetensors_seeds()
    checkpoint_seeds()
    config_seeds()
    vocabulary_seeds()
    tsv_seeds()
    bertc_seeds(args.bertc)
    dictionaries()
    for target in sorted(CORPUS.iterdir()):
        files = sorted(target.iterdir())
        print(f"{target.name}: {len(files)} seeds, {sum(f.stat().st_size for f in files)} bytes")


if __name__ == "__main__":
    main()
