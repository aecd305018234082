#!/usr/bin/env python3
"""Writes Tests/Malformed/readers/: hostile model files, configs, vocabularies and data files
for the readers of a model directory and a data root, and the valid files they start from.

Everything is made from scratch with the standard library, so the corpus is reproducible:

  tf-model/       a tiny google-research/bert TensorFlow checkpoint (vocab 64, hidden 16,
                  2 layers, 3 labels) with bert_config.json and a 64-token vocab.txt; the data
                  shard ends with 16 NaN and 16 +Inf float32s that no valid entry points at.
  tf/*.index      hostile indexes for that shard. Every block and tensor CRC32C is
                  recomputed, so the reader gets past its checksums to the offsets, sizes and
                  dims: offsets near 2^63, dims of 2^40, block handles past the file, restart
                  counts that cannot fit, entries pointing at the NaN bytes.
  st-model/       the same model as Hugging Face safetensors (config.json, vocab.txt).
  st/*.safetensors  hostile safetensors headers and NaN/Inf weights.
  config/*.json   configs with impossible or huge sizes.
  vocab/*.txt     empty, missing [CLS], duplicate, invalid UTF-8, overlong line, too large.
  data/           a small valid MRPC data root (MSR files + dev_ids.tsv).
  tsv/*           MRPC files with a wrong column count, a bad label, invalid UTF-8.

cases.json, which runs these through the command line, is written by hand.

Run: python3 tools/make_malformed_readers.py
"""
import json
import math
import os
import shutil
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "Tests", "Malformed", "readers")
LISTING = os.path.join(ROOT, "golden", "tf-checkpoint", "tiny_bert.json")

CONFIG = dict(vocab_size=64, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
              intermediate_size=32, max_position_embeddings=32, type_vocab_size=2,
              hidden_act="gelu", hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1,
              initializer_range=0.02, id2label={"0": "0", "1": "1"})

# MARK: - Bytes


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _CRC_TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _crc_table():
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC_TABLE = _crc_table()


def masked_crc(data):
    c = crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def varint(n):
    n &= (1 << 64) - 1  # negative numbers as protobuf's 10-byte two's complement
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field_varint(number, value):
    return varint(number << 3) + varint(value)


def field_bytes(number, payload):
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def field_fixed32(number, value):
    return varint(number << 3 | 5) + struct.pack("<I", value)


# MARK: - TensorFlow checkpoints

DTYPES = {"float32": 1, "int64": 9}


def bundle_header(shards=1):
    return field_varint(1, shards) + field_varint(2, 0) + field_bytes(3, field_varint(1, 1))


def bundle_entry(dtype, shape, offset, size, crc, shard=0):
    dims = b"".join(field_bytes(2, field_varint(1, d)) for d in shape)
    out = field_varint(1, dtype) + field_bytes(2, dims)
    if shard:
        out += field_varint(3, shard)
    if offset:
        out += field_varint(4, offset)
    out += field_varint(5, size) + field_fixed32(6, crc)
    return out


def block(entries, restarts=None, restart_count=None):
    """LevelDB block contents: entries without prefix sharing, then the restart array."""
    out = bytearray()
    for key, value in entries:
        out += varint(0) + varint(len(key)) + varint(len(value)) + key + value
    restarts = [0] if restarts is None else restarts
    for r in restarts:
        out += struct.pack("<I", r)
    out += struct.pack("<I", len(restarts) if restart_count is None else restart_count)
    return bytes(out)


def with_trailer(contents):
    return contents + b"\x00" + struct.pack("<I", masked_crc(contents + b"\x00"))


def table(entries, *, data_restart_count=None, index_handles=None, index_handle=None, repeat_block=1):
    """A LevelDB table of one data block (optionally listed `repeat_block` times by the index)."""
    data = with_trailer(block(entries, restart_count=data_restart_count))
    handle = varint(0) + varint(len(data) - 5)
    last = entries[-1][0]
    keys = [last + bytes([0xFF]) * i for i in range(1, repeat_block + 1)]
    handles = index_handles or [handle] * repeat_block
    index = with_trailer(block(list(zip(keys, handles))))
    index_at = len(data)
    footer_handles = varint(0) + varint(0) + (index_handle or (varint(index_at) + varint(len(index) - 5)))
    footer = footer_handles + b"\x00" * (40 - len(footer_handles)) + struct.pack("<Q", 0xDB4775248B80FB57)
    return data + index + footer


def tiny_values(count, seed):
    """Deterministic small floats (an LCG), like 0.02-scaled weights."""
    state, out = seed, []
    for _ in range(count):
        state = (state * 6364136223846793005 + 1442695040888963407) & (2**64 - 1)
        out.append(((state >> 40) / float(1 << 24) - 0.5) * 0.04)
    return out


def tf_tensors():
    """(name, dtype, shape) of the golden tiny checkpoint, in key order, with MRPC's two labels."""
    with open(LISTING) as f:
        tensors = [(t["name"], t["dtype"], t["shape"]) for t in json.load(f)["tensors"]]
    return [(n, d, [2] + s[1:] if n.startswith("output_") else s) for n, d, s in tensors]


def tf_checkpoint():
    """The data shard and the index entries {name: (dtype, shape, offset, size, crc)}; the shard
    ends with 64 bytes of NaN and 64 bytes of +Inf at `poison` and `poison + 64`."""
    shard, entries = bytearray(), {}
    for i, (name, dtype, shape) in enumerate(tf_tensors()):
        count = math.prod(shape)
        if dtype == "int64":
            raw = struct.pack("<q", 1234)
        else:
            values = [1.0] * count if name.endswith("gamma") else tiny_values(count, i + 1)
            raw = struct.pack(f"<{count}f", *values)
        entries[name] = (DTYPES[dtype], shape, len(shard), len(raw), masked_crc(raw))
        shard += raw
    poison = len(shard)
    shard += struct.pack("<16f", *[math.nan] * 16) + struct.pack("<16f", *[math.inf] * 16)
    return bytes(shard), entries, poison


def tf_index(entries, **kwargs):
    items = [(b"", bundle_header())]
    for name in sorted(entries):
        items.append((name.encode(), bundle_entry(*entries[name])))
    return table(items, **kwargs)


def tf_raw_index(items, **kwargs):
    return table([(b"", bundle_header())] + items, **kwargs)


# MARK: - Safetensors

def safetensors(header, data=b""):
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def hf_name(tf_name):
    """google-research/bert name -> Hugging Face name (the tensors bertc's graph needs)."""
    if tf_name == "output_weights":
        return "classifier.weight"
    if tf_name == "output_bias":
        return "classifier.bias"
    name = tf_name.replace("/", ".").replace("layer_", "layer.")
    name = name.replace("LayerNorm.gamma", "LayerNorm.weight").replace("LayerNorm.beta", "LayerNorm.bias")
    name = name.replace(".kernel", ".weight")
    if name.endswith("_embeddings"):
        name += ".weight"
    return name


def st_model(poison=None):
    """The tiny model in Hugging Face layout; `poison` = (tensor, value) puts one non-finite value in."""
    header, data = {"__metadata__": {"format": "pt"}}, bytearray()
    for i, (name, dtype, shape) in enumerate(tf_tensors()):
        if dtype != "float32" or "adam" in name or name.startswith("cls/"):
            continue
        count = math.prod(shape)
        values = [1.0] * count if name.endswith("gamma") else tiny_values(count, i + 1)
        if tf_name_is_kernel(name):
            shape = [shape[1], shape[0]]  # Hugging Face stores [out, in]
        key = hf_name(name)
        if poison and poison[0] == key:
            values[len(values) // 2] = poison[1]
        raw = struct.pack(f"<{count}f", *values)
        header[key] = {"dtype": "F32", "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    return safetensors(header, bytes(data))


def tf_name_is_kernel(name):
    return name.endswith("/kernel")


# MARK: - Text files

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = ["the", "a", "b", "c", "is", "was", "and", "of", "to", "in", "it", "that", "he", "she", "on", "for",
         "with", "as", "at", "by", "this", "##s", "##ed", "##ing", "said", "from", "his", "her", "they", "we",
         "you", "not", "are", "be", "have", "has", "had", "but", "or", "an", "one", "two", "new", "year",
         "company", "shares", "percent", "market", "stock", "price", "up", "down", "will", "would",
         ".", ",", "'", "$", "-"]
VOCAB = SPECIALS + WORDS[:64 - len(SPECIALS)]
MSR_HEADER = "Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n"
MSR_ROWS = [
    "1\t101\t102\tThe company said it will buy shares.\tThe company will buy shares, it said.\n",
    "0\t103\t104\tThe stock was up.\tShe said the price of the stock was down.\n",
    "1\t105\t106\tHe has a new company.\tHe has one new company.\n",
    "0\t107\t108\tThey are in the market.\tWe have two shares.\n",
]


def write(relative, content):
    path = os.path.join(OUT, relative)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    mode = "wb" if isinstance(content, bytes) else "w"
    with open(path, mode) as f:
        f.write(content)
    assert os.path.getsize(path) < 100_000, f"{relative} is too large for the corpus"


def write_json(relative, value):
    write(relative, json.dumps(value, indent=1, sort_keys=True) + "\n")


# MARK: - The corpus

def main():
    for sub in ["tf-model", "tf", "st-model", "st", "config", "vocab", "data", "tsv"]:
        shutil.rmtree(os.path.join(OUT, sub), ignore_errors=True)
    shard, entries, poison = tf_checkpoint()
    vocab = "".join(t + "\n" for t in VOCAB)

    # Valid models the cases copy and then damage.
    write("tf-model/bert_model.ckpt.data-00000-of-00001", shard)
    write("tf-model/bert_model.ckpt.index", tf_index(entries))
    write_json("tf-model/bert_config.json", CONFIG)
    write("tf-model/vocab.txt", vocab)
    write("st-model/model.safetensors", st_model())
    write_json("st-model/config.json", CONFIG)
    write("st-model/vocab.txt", vocab)

    # TensorFlow indexes with valid checksums and hostile contents.
    bias = "bert/pooler/dense/bias"
    dtype, shape, offset, size, crc = entries[bias]

    def variant(name, **change):
        e = dict(entries)
        e[name] = tuple(change.get(k, v) for k, v in zip(["dtype", "shape", "offset", "size", "crc"], e[name]))
        return e

    write("tf/offset-near-2p63.index", tf_index(variant(bias, offset=2**63 - 8)))
    write("tf/offset-past-shard.index", tf_index(variant(bias, offset=len(shard) + 4096)))
    write("tf/dims-2p40.index", tf_index(variant(bias, shape=[2**40, 2**40], size=64)))
    write("tf/dim-2p40-size-matches.index", tf_index(variant(bias, shape=[2**40], size=2**42)))
    write("tf/dim-near-2p63.index", tf_index(variant(bias, shape=[2**63 - 1], size=2**63 - 1)))
    write("tf/size-2p62.index", tf_index(variant(bias, size=2**62)))
    write("tf/negative-dim.index", tf_index(variant(bias, shape=[-1, 16])))
    write("tf/nan-weights.index", tf_index(variant(bias, offset=poison, crc=masked_crc(shard[poison:poison + 64]))))
    write("tf/inf-weights.index",
          tf_index(variant(bias, offset=poison + 64, crc=masked_crc(shard[poison + 64:poison + 128]))))
    items = [(b"w", bundle_entry(1, [4], 0, 16, masked_crc(shard[:16])))]
    write("tf/index-handle-2p62.index", tf_raw_index(items, index_handle=varint(2**62) + varint(16)))
    write("tf/index-handle-past-end.index", tf_raw_index(items, index_handle=varint(0x7FFF_FFF0) + varint(16)))
    write("tf/restart-count-huge.index", tf_raw_index(items, data_restart_count=0xFFFF_FFFF))
    write("tf/block-listed-twice.index", tf_raw_index(items, repeat_block=3))
    # Two keys whose invalid UTF-8 would decode to the same name (U+FFFD).
    write("tf/key-not-utf8.index", tf_raw_index([(b"w\xfe", items[0][1]), (b"w\xff", items[0][1])]))

    # Safetensors headers.
    f32 = struct.pack("<4f", 1, 2, 3, 4)
    write("st/header-length-2p63.safetensors", struct.pack("<Q", 2**63) + b"{}")
    write("st/offsets-past-end.safetensors", safetensors({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 4096]}}, f32))
    write("st/offsets-overlap.safetensors", safetensors({
        "a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
        "b": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}}, f32))
    write("st/shape-2p40.safetensors", safetensors({"w": {"dtype": "F32", "shape": [2**40, 2**40, 2**40], "data_offsets": [0, 16]}}, f32))
    write("st/offsets-near-2p63.safetensors",
          safetensors({"w": {"dtype": "F32", "shape": [4], "data_offsets": [2**63 - 16, 2**63 - 1]}}, f32))
    write("st/offsets-huge-number.safetensors", safetensors({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 1e300]}}, f32))
    write("st/negative-offset.safetensors", safetensors({"w": {"dtype": "F32", "shape": [4], "data_offsets": [-16, 0]}}, f32))
    write("st/unknown-dtype.safetensors", safetensors({"w": {"dtype": "F128", "shape": [1], "data_offsets": [0, 16]}}, f32))
    write("st/model-nan.safetensors", st_model(("bert.pooler.dense.bias", math.nan)))
    write("st/model-inf.safetensors", st_model(("bert.encoder.layer.1.output.dense.weight", -math.inf)))

    # Configs (for `bertc compile` and copied into model directories).
    def config(**change):
        c = dict(CONFIG)
        c.pop("id2label")
        c.update(change)
        return c
    write_json("config/hidden-2p40.json", config(hidden_size=2**40, num_attention_heads=1))
    write_json("config/vocab-2p62.json", config(vocab_size=2**62))
    write_json("config/positions-1e12.json", config(max_position_embeddings=10**12))
    write_json("config/heads-zero.json", config(num_attention_heads=0))
    write_json("config/layers-negative.json", config(num_hidden_layers=-3))
    write_json("config/heads-not-dividing.json", config(num_attention_heads=3))
    write_json("config/dropout-one.json", config(hidden_dropout_prob=1.0))
    write_json("config/eps-zero.json", config(layer_norm_eps=0))
    write_json("config/act-unknown.json", config(hidden_act="swishy"))
    write_json("config/id2label-gap.json", dict(CONFIG, id2label={"0": "0", "2": "1"}))
    write_json("config/label2id-mismatch.json", dict(CONFIG, label2id={"0": 1, "1": 0}))
    write_json("config/num-labels-mismatch.json", dict(CONFIG, num_labels=5))
    write_json("config/tokenizer-lowercase-string.json", {"do_lower_case": "yes"})

    # Vocabularies.
    write("vocab/empty.txt", "")
    write("vocab/no-cls.txt", "".join(t + "\n" for t in VOCAB if t != "[CLS]"))
    write("vocab/duplicate.txt", vocab.replace("said\n", "the\n"))
    write("vocab/not-utf8.txt", vocab.encode() + b"caf\xe9\n")
    write("vocab/long-line.txt", vocab + "x" * 5000 + "\n")
    write("vocab/larger-than-config.txt", vocab + "".join(f"extra{i}\n" for i in range(16)))

    # A data root and damaged MRPC files.
    write("data/glue/MRPC/msr_paraphrase_train.txt", MSR_HEADER + "".join(MSR_ROWS))
    write("data/glue/MRPC/dev_ids.tsv", "101\t102\n103\t104\n")
    write("tsv/wrong-columns.txt", MSR_HEADER + MSR_ROWS[0] + MSR_ROWS[1].replace("\t104", "") + MSR_ROWS[2])
    write("tsv/bad-label.txt", MSR_HEADER + MSR_ROWS[0] + "2" + MSR_ROWS[1][1:])
    write("tsv/not-utf8.txt", (MSR_HEADER + MSR_ROWS[0]).encode() + b"1\t103\t104\tcaf\xe9\tx\n")
    write("tsv/not-utf8-pair.tsv", b"caf\xe9 au lait\ta coffee\n")


if __name__ == "__main__":
    main()
