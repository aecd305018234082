#!/usr/bin/env python3
"""Golden listing of the pretrained MiniLM-L6 safetensors file, as the safetensors library reads it.

Writes golden/safetensors/minilm-l6-listing.json: every tensor's name, dtype and shape, and the
first 8 values (flattened) of a few tensors, for bertc's SafetensorsReader test. The model
comes from `tools/setup.sh model` ($BERTC_MODEL_CACHE or ~/.cache/bertc/models).

Run with the reference venv: .venv-ref/bin/python tools/golden_safetensors_listing.py
"""
import json
import os

from safetensors import safe_open

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.environ.get("BERTC_MODEL_CACHE", os.path.expanduser("~/.cache/bertc/models"))
MODEL = os.path.join(CACHE, "minilm-l6", "model.safetensors")
OUT = os.path.join(ROOT, "golden", "safetensors", "minilm-l6-listing.json")
SAMPLED = ["embeddings.word_embeddings.weight", "encoder.layer.3.attention.self.key.weight",
           "encoder.layer.5.output.LayerNorm.weight", "embeddings.position_ids"]


def main():
    tensors, samples = [], {}
    with safe_open(MODEL, framework="numpy") as f:
        for name in sorted(f.keys()):
            s = f.get_slice(name)
            tensors.append({"name": name, "dtype": s.get_dtype(), "shape": list(s.get_shape())})
        for name in SAMPLED:
            samples[name] = f.get_tensor(name).reshape(-1)[:8].tolist()
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as out:
        json.dump({"generator": "tools/golden_safetensors_listing.py", "tensors": tensors,
                   "first_values": samples}, out, indent=1)
        out.write("\n")


if __name__ == "__main__":
    main()
