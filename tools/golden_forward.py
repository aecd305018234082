#!/usr/bin/env python3
"""Writes forward-pass goldens from PyTorch + transformers (run with the reference venv:
tools/reference-setup.sh, not CI).

golden/forward/minilm-l6.safetensors: the pretrained MiniLM-L6 with a seeded random
classifier head (saved with it): logits, pooled output and (for the first pairs) sequence
output on the first 32 MRPC dev pairs padded to 128, and logits/pooled output for pairs run
one at a time at their natural lengths.
golden/forward/bert-tiny-random.*: a randomly initialised bert-tiny (weights saved), same
outputs.
"""
import json
import os
import sys
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file
from tokenizers import BertWordPieceTokenizer
from transformers import BertConfig, BertForSequenceClassification, BertModel

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("BERTC_DATA", ROOT.parent / "shared" / "data"))
MODEL = Path(os.environ.get("BERTC_MODEL_CACHE", Path.home() / ".cache/bertc/models")) / "minilm-l6"
OUT = ROOT / "golden" / "forward"
PAIRS, SEQ_PAIRS, NATURAL = 32, 4, 8


def mrpc_dev_pairs(n):
    """The first n pairs of the official MRPC dev split (MSR train rows listed in dev_ids.tsv)."""
    mrpc = DATA / "glue" / "MRPC"
    dev_ids = {tuple(l.strip().split("\t")) for l in open(mrpc / "dev_ids.tsv", encoding="utf-8-sig") if l.strip()}
    pairs = []
    with open(mrpc / "msr_paraphrase_train.txt", encoding="utf-8-sig") as f:
        next(f)
        for line in f:
            q, id1, id2, s1, s2 = line.rstrip("\n").split("\t")
            if (id1, id2) in dev_ids:
                pairs.append((s1, s2))
    assert len(pairs) == 408, len(pairs)
    return pairs[:n]


def encode(tok, pairs, pad):
    tok.no_padding()
    tok.enable_truncation(max_length=128, strategy="longest_first")
    if pad:
        tok.enable_padding(length=128)
    enc = [tok.encode(a, b) for a, b in pairs]
    ids = torch.tensor([e.ids for e in enc], dtype=torch.int64) if pad else [torch.tensor([e.ids]) for e in enc]
    types = torch.tensor([e.type_ids for e in enc], dtype=torch.int64) if pad else [torch.tensor([e.type_ids]) for e in enc]
    mask = torch.tensor([e.attention_mask for e in enc], dtype=torch.int64) if pad else [torch.tensor([e.attention_mask]) for e in enc]
    return ids, types, mask


@torch.no_grad()
def run(model, ids, types, mask):
    out = model(input_ids=ids, token_type_ids=types, attention_mask=mask, output_hidden_states=True)
    seq = out.hidden_states[-1]
    pooled = model.bert.pooler(seq)
    return out.logits, pooled, seq


def write(name, model, tok, pairs, weights):
    ids, types, mask = encode(tok, pairs, pad=True)
    logits, pooled, seq = run(model, ids, types, mask)
    tensors = {
        "input_ids": ids, "token_type_ids": types, "attention_mask": mask,
        "logits": logits, "pooled_output": pooled, "sequence_output": seq[:SEQ_PAIRS].contiguous(),
    }
    nids, ntypes, nmask = encode(tok, pairs[:NATURAL], pad=False)
    nl, npooled = [], []
    for k in range(NATURAL):
        l, p, s = run(model, nids[k], ntypes[k], nmask[k])
        tensors[f"natural.{k}.input_ids"] = nids[k]
        tensors[f"natural.{k}.token_type_ids"] = ntypes[k]
        nl.append(l[0]); npooled.append(p[0])
    tensors["natural.logits"] = torch.stack(nl)
    tensors["natural.pooled_output"] = torch.stack(npooled)
    tensors.update(weights)
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(OUT / f"{name}.safetensors"),
              metadata={"generator": "tools/golden_forward.py", "torch": torch.__version__})
    print(f"wrote {name}: logits {tuple(logits.shape)}, natural lengths {[int(x.shape[1]) for x in nids]}")


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(2)
    pairs = mrpc_dev_pairs(PAIRS)
    tok = BertWordPieceTokenizer(str(DATA / "vocab-bert-base-uncased.txt"), lowercase=True)

    # Pretrained MiniLM-L6 + seeded classifier head.
    cfg = BertConfig.from_pretrained(str(MODEL), num_labels=2, attn_implementation="eager")
    model = BertForSequenceClassification(cfg)
    base = BertModel.from_pretrained(str(MODEL), attn_implementation="eager")
    model.bert.load_state_dict(base.state_dict(), strict=False)
    torch.manual_seed(1234)
    torch.nn.init.normal_(model.classifier.weight, std=0.02)
    torch.nn.init.zeros_(model.classifier.bias)
    model.eval()
    write("minilm-l6", model, tok, pairs,
          {"classifier.weight": model.classifier.weight.detach(), "classifier.bias": model.classifier.bias.detach()})

    # Random bert-tiny: all weights saved beside the outputs.
    tiny = json.load(open(ROOT / "graphs" / "bert-tiny.json"))
    torch.manual_seed(0)
    cfg = BertConfig(**tiny, num_labels=2, attn_implementation="eager")
    model = BertForSequenceClassification(cfg).eval()
    state = {k: v.detach().clone() for k, v in model.state_dict().items() if k != "bert.embeddings.position_ids"}
    save_file(state, str(OUT / "bert-tiny-random.weights.safetensors"))
    write("bert-tiny-random", model, tok, pairs, {})


if __name__ == "__main__":
    sys.exit(main())
