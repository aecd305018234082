#!/usr/bin/env python3
"""Writes gradient goldens from PyTorch + transformers (reference venv, not CI): one batch of
8 MRPC dev pairs padded to 128, dropout off, mean softmax cross-entropy; the gradient of every
parameter.

golden/gradients/bert-tiny-random.safetensors: for the random bert-tiny of golden/forward,
every gradient in full except the word-embedding table, of which only the rows of the ids in
the batch are stored (all other rows are zero; "word_rows" lists them).
golden/gradients/minilm-l6.safetensors: for the pretrained MiniLM-L6 with the seeded head of
golden/forward, every gradient's L2 norm and 1,024 entries at seeded random positions (and the
used word-embedding rows in full), to keep the file small.
golden/gradients/bert-tiny-span.safetensors: the span head (BertForQuestionAnswering) on the
random bert-tiny encoder, the same 8 pairs with seeded start and end positions inside each
pair's real tokens; the loss is (CE(start) + CE(end)) / 2 with the logits of padding
positions set to -inf (bertc's masked span loss). Stores the seeded qa_outputs weights, every
gradient as bert-tiny-random.safetensors does, and the positions.

Run: .venv-ref/bin/python tools/golden_gradients.py [tiny] [minilm] [span] (default: all).
"""
import sys
import json
import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from transformers import BertConfig, BertForQuestionAnswering, BertForSequenceClassification

ROOT = Path(__file__).resolve().parent.parent
MODEL = Path(os.environ.get("BERTC_MODEL_CACHE", Path.home() / ".cache/bertc/models")) / "minilm-l6"
OUT = ROOT / "golden" / "gradients"
BATCH = 8
SAMPLES = 1024


def batch_from_forward_golden(name):
    g = load_file(str(ROOT / "golden" / "forward" / f"{name}.safetensors"))
    ids, types, mask = g["input_ids"][:BATCH], g["token_type_ids"][:BATCH], g["attention_mask"][:BATCH]
    labels = torch.tensor([1, 0, 1, 1, 0, 1, 0, 0], dtype=torch.int64)
    return g, ids, types, mask, labels


def gradients(model, ids, types, mask, labels):
    model.train()  # dropout probabilities are 0, so train mode changes nothing but is honest
    model.zero_grad()
    out = model(input_ids=ids, token_type_ids=types, attention_mask=mask, labels=labels)
    out.loss.backward()
    return out.loss.detach(), {n: p.grad.detach().clone() for n, p in model.named_parameters()}


def span_golden():
    """The span head on the random bert-tiny encoder (its pooler and classifier are unused)."""
    torch.manual_seed(19)
    tiny = json.load(open(ROOT / "graphs" / "bert-tiny.json"))
    tiny.update(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    model = BertForQuestionAnswering(BertConfig(**tiny, attn_implementation="eager"))
    weights = load_file(str(ROOT / "golden" / "forward" / "bert-tiny-random.weights.safetensors"))
    missing, _ = model.load_state_dict({k: v for k, v in weights.items() if not k.startswith(("bert.pooler.", "classifier."))},
                                       strict=False)
    assert sorted(missing) == ["qa_outputs.bias", "qa_outputs.weight"], missing
    with torch.no_grad():
        model.qa_outputs.weight.normal_(0, 0.1)
        model.qa_outputs.bias.normal_(0, 0.1)
    _, ids, types, mask, _ = batch_from_forward_golden("bert-tiny-random")
    lengths = mask.sum(dim=1)
    starts = torch.stack([torch.randint(0, int(n), ()) for n in lengths]).to(torch.int32)
    ends = torch.stack([torch.randint(0, int(n), ()) for n in lengths]).to(torch.int32)
    model.train()
    model.zero_grad()
    out = model(input_ids=ids, token_type_ids=types, attention_mask=mask)
    padding = mask == 0
    start_loss = F.cross_entropy(out.start_logits.masked_fill(padding, float("-inf")), starts.long())
    end_loss = F.cross_entropy(out.end_logits.masked_fill(padding, float("-inf")), ends.long())
    loss = (start_loss + end_loss) / 2
    loss.backward()
    grads = {n: p.grad.detach().clone() for n, p in model.named_parameters()}
    word = "bert.embeddings.word_embeddings.weight"
    rows = torch.unique(ids)
    result = {k: v for k, v in grads.items() if k != word}
    result["word_rows"] = rows.to(torch.int64)
    result[word + ".rows"] = grads[word][rows]
    result["qa_outputs.weight.value"] = model.qa_outputs.weight.detach().clone()
    result["qa_outputs.bias.value"] = model.qa_outputs.bias.detach().clone()
    result.update(input_ids=ids, token_type_ids=types, attention_mask=mask, start_positions=starts,
                  end_positions=ends, loss=loss.detach().reshape(1))
    save_file({k: v.contiguous() for k, v in result.items()}, str(OUT / "bert-tiny-span.safetensors"))
    print(f"bert-tiny span head: loss {loss.item():.6f}, {len(grads)} gradients")


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(2)
    parts = set(sys.argv[1:]) or {"tiny", "minilm", "span"}
    if "span" in parts:
        span_golden()
    if "tiny" in parts:
        # Random bert-tiny.
        tiny = json.load(open(ROOT / "graphs" / "bert-tiny.json"))
        tiny.update(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
        cfg = BertConfig(**tiny, num_labels=2, attn_implementation="eager")
        model = BertForSequenceClassification(cfg)
        model.load_state_dict(load_file(str(ROOT / "golden" / "forward" / "bert-tiny-random.weights.safetensors")), strict=False)
        _, ids, types, mask, labels = batch_from_forward_golden("bert-tiny-random")
        loss, grads = gradients(model, ids, types, mask, labels)
        rows = torch.unique(ids)
        word = "bert.embeddings.word_embeddings.weight"
        out = {k: v for k, v in grads.items() if k != word}
        out["word_rows"] = rows.to(torch.int64)
        out[word + ".rows"] = grads[word][rows]
        out.update(input_ids=ids, token_type_ids=types, attention_mask=mask, labels=labels, loss=loss.reshape(1))
        save_file({k: v.contiguous() for k, v in out.items()}, str(OUT / "bert-tiny-random.safetensors"))
        print(f"bert-tiny: loss {loss.item():.6f}, {len(grads)} gradients")

    if "minilm" in parts:
        # Pretrained MiniLM-L6 + the forward golden's head.
        word = "bert.embeddings.word_embeddings.weight"
        cfg = BertConfig.from_pretrained(str(MODEL), num_labels=2, attn_implementation="eager",
                                         hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
        model = BertForSequenceClassification(cfg)
        base = load_file(str(MODEL / "model.safetensors"))
        model.bert.load_state_dict({k: v for k, v in base.items() if k != "embeddings.position_ids"}, strict=False)
        g, ids, types, mask, labels = batch_from_forward_golden("minilm-l6")
        model.classifier.weight.data.copy_(g["classifier.weight"])
        model.classifier.bias.data.copy_(g["classifier.bias"])
        loss, grads = gradients(model, ids, types, mask, labels)
        rng = np.random.default_rng(0)
        out = {}
        for name, grad in grads.items():
            flat = grad.reshape(-1)
            index = torch.from_numpy(np.sort(rng.choice(flat.numel(), min(SAMPLES, flat.numel()), replace=False))).to(torch.int64)
            out[name + ".index"] = index
            out[name + ".values"] = flat[index]
            out[name + ".norm"] = flat.norm().reshape(1)
        rows = torch.unique(ids)
        out["word_rows"] = rows.to(torch.int64)
        out[word + ".rows"] = grads[word][rows]
        out.update(input_ids=ids, token_type_ids=types, attention_mask=mask, labels=labels, loss=loss.reshape(1))
        save_file({k: v.contiguous() for k, v in out.items()}, str(OUT / "minilm-l6.safetensors"))
        print(f"minilm-l6: loss {loss.item():.6f}, {len(grads)} gradients")


if __name__ == "__main__":
    main()
