#!/usr/bin/env python3
"""Golden files for bertc's TensorFlow checkpoint reader, produced by real TensorFlow.

Writes into golden/tf-checkpoint/:
  tiny_bert.ckpt.index, tiny_bert.ckpt.data-00000-of-00001
      A small checkpoint written by tf.compat.v1.train.Saver with google-research/bert's
      variable names (tiny config: vocab 64, hidden 16, 2 layers, 2 heads, intermediate 32,
      max_pos 32, type_vocab 2, 3 labels as run_classifier.py's output_weights/output_bias),
      plus what a pretraining/fine-tuning checkpoint also holds and bertc must ignore:
      global_step, Adam slots (.../adam_m, .../adam_v) and the cls/predictions and
      cls/seq_relationship pretraining heads.
  tiny_bert_values.bin   every float32 tensor as TF reads it back (tf.train.load_checkpoint),
                         raw little-endian, concatenated in the listing's order
  tiny_bert.json         config and listing: name, dtype, shape, byte offset into the .bin
                         (-1 for non-float tensors, whose values are stored inline)
  bert-mini-index-listing.json
                         names, shapes and dtypes of the shared fixture tf-bundle-index
                         as TF lists them. TF opens an index without its data file, but its
                         Python API does not expose BundleEntryProto offsets or sizes, so
                         those are not recorded here; the Swift test checks them
                         structurally instead (size == 4 * elements, entries tile the shard
                         without gaps or overlap).

Run with the reference venv: .venv-ref/bin/python tools/golden_tf_checkpoint.py
"""
import json
import os
import shutil
import sys
import tempfile

import numpy as np
import tensorflow as tf

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "golden", "tf-checkpoint")
# The shared fixtures sit beside the repository (../shared/fixtures) unless $BERTC_FIXTURES names them.
FIXTURES = os.environ.get("BERTC_FIXTURES", os.path.join(os.path.dirname(ROOT), "shared", "fixtures"))
FIXTURE = os.path.join(FIXTURES, "tf-bundle-index", "bert_model.ckpt.index")

CONFIG = dict(vocab_size=64, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
              intermediate_size=32, max_position_embeddings=32, type_vocab_size=2,
              hidden_act="gelu", num_labels=3)


def tiny_bert_variables(rng):
    """google-research/bert names (modeling.py + run_classifier.py) -> float32 values."""
    c = CONFIG
    h, i = c["hidden_size"], c["intermediate_size"]

    def normal(*shape):
        return (rng.standard_normal(shape) * 0.02).astype(np.float32)

    def gamma(n):
        return (1.0 + rng.standard_normal(n) * 0.1).astype(np.float32)

    v = {
        "bert/embeddings/word_embeddings": normal(c["vocab_size"], h),
        "bert/embeddings/position_embeddings": normal(c["max_position_embeddings"], h),
        "bert/embeddings/token_type_embeddings": normal(c["type_vocab_size"], h),
        "bert/embeddings/LayerNorm/gamma": gamma(h),
        "bert/embeddings/LayerNorm/beta": normal(h),
    }
    for layer in range(c["num_hidden_layers"]):
        p = f"bert/encoder/layer_{layer}"
        for part in ("query", "key", "value"):
            v[f"{p}/attention/self/{part}/kernel"] = normal(h, h)  # [in, out]
            v[f"{p}/attention/self/{part}/bias"] = normal(h)
        v[f"{p}/attention/output/dense/kernel"] = normal(h, h)
        v[f"{p}/attention/output/dense/bias"] = normal(h)
        v[f"{p}/attention/output/LayerNorm/gamma"] = gamma(h)
        v[f"{p}/attention/output/LayerNorm/beta"] = normal(h)
        v[f"{p}/intermediate/dense/kernel"] = normal(h, i)
        v[f"{p}/intermediate/dense/bias"] = normal(i)
        v[f"{p}/output/dense/kernel"] = normal(i, h)
        v[f"{p}/output/dense/bias"] = normal(h)
        v[f"{p}/output/LayerNorm/gamma"] = gamma(h)
        v[f"{p}/output/LayerNorm/beta"] = normal(h)
    v["bert/pooler/dense/kernel"] = normal(h, h)
    v["bert/pooler/dense/bias"] = normal(h)
    v["output_weights"] = normal(c["num_labels"], h)  # [labels, hidden], as run_classifier.py
    v["output_bias"] = normal(c["num_labels"])
    # Pretraining heads and optimizer state: present in real checkpoints, ignored by bertc.
    v["cls/predictions/output_bias"] = normal(c["vocab_size"])
    v["cls/predictions/transform/dense/kernel"] = normal(h, h)
    v["cls/seq_relationship/output_weights"] = normal(2, h)
    for name in ("bert/pooler/dense/kernel", "output_bias"):
        v[f"{name}/adam_m"] = normal(*v[name].shape)
        v[f"{name}/adam_v"] = np.abs(normal(*v[name].shape))
    return v


def write_tiny_checkpoint():
    rng = np.random.default_rng(20261123)
    values = tiny_bert_variables(rng)
    work = tempfile.mkdtemp()
    prefix = os.path.join(work, "tiny_bert.ckpt")
    graph = tf.Graph()
    with graph.as_default():
        var_list = {name: tf.compat.v1.Variable(value, name=name.replace("/", "_"))
                    for name, value in values.items()}
        var_list["global_step"] = tf.compat.v1.Variable(np.int64(1234), name="global_step")
        saver = tf.compat.v1.train.Saver(var_list=var_list)
        with tf.compat.v1.Session(graph=graph) as session:
            session.run(tf.compat.v1.global_variables_initializer())
            saver.save(session, prefix, write_meta_graph=False, write_state=False)
    for suffix in (".index", ".data-00000-of-00001"):
        shutil.copyfile(prefix + suffix, os.path.join(OUT, "tiny_bert.ckpt" + suffix))
    shutil.rmtree(work)

    # Read back with TF itself: the golden values are what TF reads, not what we meant to write.
    reader = tf.train.load_checkpoint(os.path.join(OUT, "tiny_bert.ckpt"))
    shapes = reader.get_variable_to_shape_map()
    dtypes = reader.get_variable_to_dtype_map()
    listing, blob, offset = [], bytearray(), 0
    for name in sorted(shapes):
        value = reader.get_tensor(name)
        entry = {"name": name, "dtype": dtypes[name].name, "shape": list(shapes[name])}
        if value.dtype == np.float32:
            raw = np.ascontiguousarray(value, dtype="<f4").tobytes()
            entry["offset"] = offset
            blob += raw
            offset += len(raw)
        else:
            entry["offset"] = -1
            entry["values"] = np.asarray(value).reshape(-1).tolist()
        listing.append(entry)
    with open(os.path.join(OUT, "tiny_bert_values.bin"), "wb") as f:
        f.write(bytes(blob))
    with open(os.path.join(OUT, "tiny_bert.json"), "w") as f:
        json.dump({"generator": "tools/golden_tf_checkpoint.py", "tensorflow": tf.__version__,
                   "config": CONFIG, "tensors": listing}, f, indent=1)
        f.write("\n")


def write_fixture_listing():
    work = tempfile.mkdtemp()
    shutil.copyfile(FIXTURE, os.path.join(work, "bert_model.ckpt.index"))
    reader = tf.train.load_checkpoint(os.path.join(work, "bert_model.ckpt"))
    shapes = reader.get_variable_to_shape_map()
    dtypes = reader.get_variable_to_dtype_map()
    tensors = [{"name": n, "dtype": dtypes[n].name, "shape": list(shapes[n])} for n in sorted(shapes)]
    shutil.rmtree(work)
    with open(os.path.join(OUT, "bert-mini-index-listing.json"), "w") as f:
        json.dump({"generator": "tools/golden_tf_checkpoint.py", "tensorflow": tf.__version__,
                   "source": os.path.relpath(FIXTURE, os.path.dirname(FIXTURES)), "tensors": tensors}, f, indent=1)
        f.write("\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    write_tiny_checkpoint()
    if os.path.exists(FIXTURE):
        write_fixture_listing()
    else:
        print(f"skipping the BERT-Mini listing: {FIXTURE} not found", file=sys.stderr)


if __name__ == "__main__":
    main()
