#!/usr/bin/env python3
"""Writes golden/ops/<case>.json: random inputs and PyTorch's outputs for every runtime op.

Forward ops are computed with torch.nn.functional; backward ops are what torch.autograd gives
for the matching forward op. The Swift tests (Tests/BertRuntimeTests) run each case through
the Interpreter on a one-node graph and compare with explicit tolerances.

Run: .venv-ref/bin/python tools/golden_ops.py
Format: {"case", "op", "attributes", "inputs": [tensor], "outputs": [tensor]} with
tensor = {"dtype": "f32"|"i32"|"i64", "shape": [...], "data": [... row-major ...]}.
"""
import json
import math
import pathlib

import torch
import torch.nn.functional as F

OUT = pathlib.Path(__file__).resolve().parent.parent / "golden" / "ops"
torch.manual_seed(20261123)


def tensor(t):
    dtype = {torch.float32: "f32", torch.int32: "i32", torch.int64: "i64"}[t.dtype]
    flat = t.detach().contiguous().reshape(-1).tolist()
    return {"dtype": dtype, "shape": list(t.shape), "data": flat}


CASES = []


def case(name, op, attributes, inputs, outputs):
    CASES.append({"case": name, "op": op, "attributes": attributes,
                  "inputs": [tensor(t) for t in inputs], "outputs": [tensor(t) for t in outputs]})


def randn(*shape, scale=1.0):
    return (torch.randn(*shape) * scale).float()


def grad_of(fn, args, dy, wrt):
    """Gradients of sum(fn(*args) * dy) with respect to args[i] for i in wrt."""
    args = [a.clone().requires_grad_(i in wrt) for i, a in enumerate(args)]
    y = fn(*args)
    y.backward(dy)
    return [args[i].grad for i in wrt]


# Embedding and indexing.
table = randn(10, 8)
ids = torch.tensor([[1, 4, 9], [4, 0, 4]], dtype=torch.int32)
case("gather", "gather", {}, [table, ids], [F.embedding(ids.long(), table)])
dy = randn(2, 3, 8)
case("gather_grad", "gather_grad", {"rows": 10}, [dy, ids],
     grad_of(lambda t: F.embedding(ids.long(), t), [table], dy, [0]))
ids64 = torch.randint(0, 30, (2, 5), dtype=torch.int64)
case("positions", "positions", {}, [ids64], [torch.arange(5, dtype=torch.int64)])
x = randn(2, 3, 8)
case("select", "select", {"axis": 1, "index": 0}, [x], [x[:, 0]])
dy = randn(2, 8)
case("select_grad", "select_grad", {"axis": 1, "index": 0, "size": 3}, [dy],
     grad_of(lambda t: t[:, 0], [x], dy, [0]))

# Elementwise.
x, y = randn(2, 3, 8), randn(2, 3, 8)
case("add", "add", {}, [x, y], [x + y])
case("mul", "mul", {}, [x, y], [x * y])
b1, b2 = randn(8), randn(3, 8)
case("add_broadcast", "add", {}, [x, b1], [x + b1])
case("add_broadcast_rank2", "add", {}, [x, b2], [x + b2])
case("mul_broadcast", "mul", {}, [x, b1], [x * b1])
case("scale", "scale", {"factor": 0.125}, [x], [x * 0.125])
x = randn(2, 3, 37, scale=3.0)
dy = randn(2, 3, 37)
for form in ("erf", "tanh"):
    approximate = "none" if form == "erf" else "tanh"
    gelu = lambda t, a=approximate: F.gelu(t, approximate=a)
    case(f"gelu_{form}", "gelu", {"approximation": form}, [x], [gelu(x)])
    case(f"gelu_grad_{form}", "gelu_grad", {"approximation": form}, [dy, x], grad_of(gelu, [x], dy, [0]))
case("tanh", "tanh", {}, [x], [torch.tanh(x)])
case("tanh_grad", "tanh_grad", {}, [dy, torch.tanh(x)], grad_of(torch.tanh, [x], dy, [0]))

# Matrix products.
a = randn(2, 3, 4)
bn, bt = randn(4, 5), randn(5, 4)
case("matmul_nn", "matmul", {"transpose_a": False, "transpose_b": False}, [a, bn], [a @ bn])
case("matmul_nt", "matmul", {"transpose_a": False, "transpose_b": True}, [a, bt], [a @ bt.T])
b = randn(2, 3, 5)
case("matmul_tn", "matmul", {"transpose_a": True, "transpose_b": False}, [a, b],
     [a.reshape(-1, 4).T @ b.reshape(-1, 5)])
for ta in (False, True):
    for tb in (False, True):
        a = randn(2, 3, 6, 4) if ta else randn(2, 3, 4, 6)
        b = randn(2, 3, 5, 6) if tb else randn(2, 3, 6, 5)
        ref = (a.transpose(-1, -2) if ta else a) @ (b.transpose(-1, -2) if tb else b)
        name = "batch_matmul_" + ("t" if ta else "n") + ("t" if tb else "n")
        case(name, "batch_matmul", {"transpose_a": ta, "transpose_b": tb}, [a, b], [ref])

# Reductions.
x = randn(4, 3, 8)
for keep in (0, 1, 2):
    case(f"sum_leading_{keep}", "sum_leading", {"keep_rank": keep}, [x],
         [x.sum(dim=tuple(range(3 - keep))) if keep < 3 else x])

# Normalisation.
x = randn(2, 3, 37, scale=2.0) + 0.5
gamma, beta, dy = randn(37), randn(37), randn(2, 3, 37)
eps = 1e-12
ln = lambda t, g, b: F.layer_norm(t, (37,), g, b, eps)
case("layer_norm", "layer_norm", {"epsilon": eps}, [x, gamma, beta], [ln(x, gamma, beta)])
case("layer_norm_grad", "layer_norm_grad", {"epsilon": eps}, [dy, x, gamma],
     grad_of(ln, [x, gamma, beta], dy, [0, 1, 2]))
scores = randn(2, 3, 4, 13, scale=2.0)
mask = torch.ones(2, 13, dtype=torch.int32)
mask[0, 10:] = 0
mask[1, 6:] = 0
masked = lambda s: F.softmax(s + (1.0 - mask[:, None, None, :].float()) * -10000.0, dim=-1)
probs = masked(scores)
case("masked_softmax", "masked_softmax", {}, [scores, mask], [probs])
dy = randn(2, 3, 4, 13)
case("softmax_grad", "softmax_grad", {}, [dy, probs],
     grad_of(lambda s: F.softmax(s, dim=-1), [scores], dy, [0]))
# Recompute softmax_grad's input as the softmax of scores so (dy, y) agree with autograd.
CASES[-1]["inputs"][1] = tensor(F.softmax(scores, dim=-1))

# Layout.
x = randn(2, 3, 4, 5)
case("reshape", "reshape", {"shape": [6, 20]}, [x], [x.reshape(6, 20)])
case("transpose_0213", "transpose", {"perm": [0, 2, 1, 3]}, [x], [x.permute(0, 2, 1, 3)])
case("transpose_2031", "transpose", {"perm": [2, 0, 3, 1]}, [x], [x.permute(2, 0, 3, 1)])

# Losses.
logits = randn(4, 3, scale=3.0)
labels = torch.tensor([2, 0, 1, 2], dtype=torch.int32)
ce = lambda l: F.cross_entropy(l, labels.long())
case("softmax_cross_entropy", "softmax_cross_entropy", {}, [logits, labels], [ce(logits)])
dloss = torch.tensor(1.7)
case("softmax_cross_entropy_grad", "softmax_cross_entropy_grad", {}, [dloss, logits, labels],
     grad_of(ce, [logits], dloss, [0]))
predictions, targets = randn(4, 1), randn(4)
mse = lambda p: F.mse_loss(p[:, 0], targets)
case("mean_squared_error", "mean_squared_error", {}, [predictions, targets], [mse(predictions)])
dloss = torch.tensor(0.6)
case("mean_squared_error_grad", "mean_squared_error_grad", {}, [dloss, predictions, targets],
     grad_of(mse, [predictions], dloss, [0]))

# Constants.
case("fill", "fill", {"value": 1.5, "shape": [2, 3]}, [], [torch.full((2, 3), 1.5)])

# Packed tokens (after the others, so that their random draws stay as they were): the real
# rows of a padded [batch, seq, h] batch, and back.
x = randn(2, 4, 8)
rows = torch.tensor([0, 1, 2, 4, 5, 7], dtype=torch.int32)
case("gather_rows", "gather_rows", {}, [x, rows], [x.reshape(-1, 8)[rows.long()]])
dy = randn(6, 8)
case("scatter_rows", "scatter_rows", {"leading": [2, 4]}, [dy, rows],
     [torch.zeros(8, 8).index_add(0, rows.long(), dy).reshape(2, 4, 8)])

# The span loss of SQuAD (after the others, so that their random draws stay as they were):
# cross-entropy over the positions the mask keeps, which is BertForQuestionAnswering's loss
# with the logits of the masked-out positions set to -inf.
logits = randn(3, 6, scale=3.0)
mask = torch.tensor([[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0], [1, 1, 0, 0, 0, 0]], dtype=torch.int32)
positions = torch.tensor([5, 2, 0], dtype=torch.int32)
mce = lambda l: F.cross_entropy(l.masked_fill(mask == 0, float("-inf")), positions.long())
case("masked_softmax_cross_entropy", "masked_softmax_cross_entropy", {}, [logits, mask, positions], [mce(logits)])
dloss = torch.tensor(0.8)
case("masked_softmax_cross_entropy_grad", "masked_softmax_cross_entropy_grad", {}, [dloss, logits, mask, positions],
     grad_of(mce, [logits], dloss, [0]))

OUT.mkdir(parents=True, exist_ok=True)
for old in OUT.glob("*.json"):
    old.unlink()
for c in CASES:
    (OUT / f"{c['case']}.json").write_text(json.dumps(c, separators=(",", ":")) + "\n")
print(f"wrote {len(CASES)} cases to {OUT}")
