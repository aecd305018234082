#!/usr/bin/env python3
"""Writes golden/optimizer/adamw.json: reference AdamW updates and learning-rate schedules.

Run with the reference venv:  .venv-ref/bin/python tools/golden_adamw.py

- `adamw_pytorch` cases run the real torch.optim.AdamW (param groups: weight decay 0.01, and
  0.0 for LayerNorm and bias parameters) with torch.nn.utils.clip_grad_norm_, float32.
- `adamw` (Model Garden's legacy_adamw.AdamWeightDecay: a Keras Adam plus decoupled decay
  `var -= lr * rate * var`) runs the real Keras 3 `keras.optimizers.AdamW` (same update
  formula; exclusions by `exclude_from_weight_decay(var_names=...)`, `global_clipnorm`) in a
  subprocess, because TensorFlow and torch abort when loaded into one process. Model Garden
  itself (tf-models-official) is not installed.
- `bert_adam` (google-research/bert AdamWeightDecayOptimizer, TF1 code that no installed
  package ships) is re-implemented in float64 numpy, line by line from optimization.py.
- Learning rates: Model Garden's PolynomialDecay / PolynomialWarmUp / LinearWarmup
  (official/modeling/optimization/lr_schedule.py) and google-research/bert's warmup are
  re-implemented in float64 Python (TF computes them in float32), since Model Garden is not
  installed; the decay part is asserted against Keras' own PolynomialDecay (within 1e-6 of the
  initial rate).
  The per-step rates are fed to torch and Keras as plain numbers.
"""
import json
import math
import os
import re
import subprocess
import sys

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "golden", "optimizer", "adamw.json")



# ---------------------------------------------------------------- learning-rate schedules
def decayed(cfg, step, total):
    """Keras PolynomialDecay (cycle=False), or a constant rate."""
    lr = cfg["learning_rate"]
    if lr["type"] == "constant":
        return lr["constant"]["learning_rate"]
    p = lr["polynomial"]
    decay_steps = p.get("decay_steps") or total
    done = min(step, decay_steps) / decay_steps
    return (p["initial_learning_rate"] - p["end_learning_rate"]) * (1 - done) ** p["power"] + p["end_learning_rate"]


def warmup_steps(cfg, total):
    w = cfg["warmup"]
    if w["type"] == "none":
        return 0
    s = w[w["type"]]
    if s.get("warmup_steps") is not None:
        return s["warmup_steps"]
    return int(s["warmup_fraction"] * total)  # like BERT's int(num_train_steps * warmup_proportion)


def learning_rate(cfg, step, total):
    """The rate of the update made after `step` updates (Keras optimizer.iterations)."""
    w = cfg["warmup"]
    n = warmup_steps(cfg, total)
    if step >= n:
        return decayed(cfg, step, total)
    s = w[w["type"]]
    if w["type"] == "polynomial":  # PolynomialWarmUp: peak is the decayed rate at `n`
        return decayed(cfg, n, total) * (max(step, 1.0) / n) ** s["power"]
    if w["type"] == "linear":  # LinearWarmup
        lo = s.get("warmup_learning_rate", 0.0)
        return lo + step / n * (decayed(cfg, n, total) - lo)
    if w["type"] == "bert":  # google-research/bert optimization.py: init_lr * step / warmup
        lr = cfg["learning_rate"]
        init = lr["polynomial"]["initial_learning_rate"] if lr["type"] == "polynomial" else lr["constant"]["learning_rate"]
        return init * step / n
    raise ValueError(w["type"])


# ---------------------------------------------------------------- updates
def decays(name, patterns):
    return not any(re.search(p, name) for p in patterns)


def run_torch(cfg, total, names, params, grads):
    o = cfg["optimizer"][cfg["optimizer"]["type"]]
    tensors = [torch.nn.Parameter(torch.tensor(p, dtype=torch.float32)) for p in params]
    groups = [
        {"params": [t for n, t in zip(names, tensors) if decays(n, o["exclude_from_weight_decay"])],
         "weight_decay": o["weight_decay_rate"]},
        {"params": [t for n, t in zip(names, tensors) if not decays(n, o["exclude_from_weight_decay"])],
         "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=0.0, betas=(o["beta_1"], o["beta_2"]), eps=o["epsilon"])
    history = []
    for step, g in enumerate(grads):
        for t, gi in zip(tensors, g):
            t.grad = torch.tensor(gi, dtype=torch.float32)
        if o.get("global_clipnorm") is not None:
            torch.nn.utils.clip_grad_norm_(tensors, o["global_clipnorm"])
        for group in opt.param_groups:
            group["lr"] = learning_rate(cfg, step, total)
        opt.step()
        history.append([t.detach().numpy().astype(np.float64).ravel().tolist() for t in tensors])
    m = [opt.state[t]["exp_avg"].numpy().ravel().tolist() for t in tensors]
    v = [opt.state[t]["exp_avg_sq"].numpy().ravel().tolist() for t in tensors]
    return history, m, v


def run_keras(cfg, total, names, params, grads):
    """Model Garden `adamw` through keras.optimizers.AdamW, in a child process."""
    job = {"config": cfg, "total": total, "names": names,
           "params": [p.tolist() for p in params], "grads": [[g.tolist() for g in s] for s in grads],
           "learning_rates": [learning_rate(cfg, s, total) for s in range(len(grads))]}
    out = subprocess.run([sys.executable, __file__, "--keras"], input=json.dumps(job), capture_output=True,
                         text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return result["history"], result["m"], result["v"], result["keras"]


def keras_decay_child():
    """Runs in a child: Keras' own PolynomialDecay at the requested steps (float32)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    out = []
    for job in json.load(sys.stdin):
        decay = keras.optimizers.schedules.PolynomialDecay(
            job["initial"], job["decay_steps"], end_learning_rate=job["end"], power=job["power"])
        out.append([float(decay(s)) for s in job["steps"]])
    print(json.dumps(out))


def check_decay_against_keras(schedules):
    """Asserts that the float64 PolynomialDecay here matches Keras' float32 one."""
    jobs, expected = [], []
    for s in schedules:
        lr = s["config"]["learning_rate"]
        if lr["type"] != "polynomial":
            continue
        p = lr["polynomial"]
        jobs.append({"initial": p["initial_learning_rate"], "end": p["end_learning_rate"], "power": p["power"],
                     "decay_steps": p.get("decay_steps") or s["total_steps"], "steps": s["steps"]})
        expected.append((p["initial_learning_rate"], [decayed(s["config"], step, s["total_steps"]) for step in s["steps"]]))
    out = subprocess.run([sys.executable, __file__, "--keras-decay"], input=json.dumps(jobs), capture_output=True,
                         text=True, check=True)
    got = json.loads(out.stdout.strip().splitlines()[-1])
    for g, (initial, e) in zip(got, expected):
        for a, b in zip(g, e):  # float32 rounding of 1 - step / decay_steps: relative to the initial rate
            assert abs(a - b) <= 1e-6 * initial, f"Keras PolynomialDecay {a} vs {b}"


def keras_child():
    """Runs in the child: reads a job on stdin, prints the result as one JSON line."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    job = json.load(sys.stdin)
    o = job["config"]["optimizer"]["adamw"]
    variables = [keras.Variable(np.array(p, dtype=np.float32), name=n) for n, p in zip(job["names"], job["params"])]
    opt = keras.optimizers.AdamW(learning_rate=0.0, weight_decay=o["weight_decay_rate"], beta_1=o["beta_1"],
                                 beta_2=o["beta_2"], epsilon=o["epsilon"], global_clipnorm=o["global_clipnorm"])
    opt.exclude_from_weight_decay(var_names=o["exclude_from_weight_decay"])
    history = []
    for lr, g in zip(job["learning_rates"], job["grads"]):
        opt.learning_rate = lr
        opt.apply_gradients(zip([np.array(x, dtype=np.float32) for x in g], variables))
        history.append([np.asarray(v.numpy(), dtype=np.float64).ravel().tolist() for v in variables])
    m = [np.asarray(opt._momentums[i].numpy()).ravel().tolist() for i in range(len(variables))]
    v = [np.asarray(opt._velocities[i].numpy()).ravel().tolist() for i in range(len(variables))]
    print(json.dumps({"history": history, "m": m, "v": v, "keras": keras.__version__}))


def run_numpy(cfg, total, names, params, grads):
    """`bert_adam`: google-research/bert AdamWeightDecayOptimizer, clip_by_global_norm(1.0).
    (`adamw` here is the Keras legacy Adam form, kept as a cross-check of run_keras.)"""
    kind = cfg["optimizer"]["type"]
    o = cfg["optimizer"][kind]
    b1, b2, eps, rate = o["beta_1"], o["beta_2"], o["epsilon"], o["weight_decay_rate"]
    p = [np.array(x, dtype=np.float64) for x in params]
    m = [np.zeros_like(x) for x in p]
    v = [np.zeros_like(x) for x in p]
    history = []
    for step, g in enumerate(grads):
        g = [np.array(x, dtype=np.float64) for x in g]
        clip = o.get("global_clipnorm")
        if clip is not None:
            norm = math.sqrt(sum(float((x * x).sum()) for x in g))
            g = [x * clip / max(norm, clip) for x in g]
        lr = learning_rate(cfg, step, total)
        t = step + 1
        for i, name in enumerate(names):
            wd = rate if decays(name, o["exclude_from_weight_decay"]) else 0.0
            m[i] = b1 * m[i] + (1 - b1) * g[i]
            v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
            if kind == "adamw":
                p[i] = p[i] - lr * p[i] * wd
                lr_t = lr * math.sqrt(1 - b2 ** t) / (1 - b1 ** t)
                p[i] = p[i] - lr_t * m[i] / (np.sqrt(v[i]) + eps)
            else:
                update = m[i] / (np.sqrt(v[i]) + eps) + wd * p[i]
                p[i] = p[i] - lr * update
        history.append([x.ravel().tolist() for x in p])
    return history, [x.ravel().tolist() for x in m], [x.ravel().tolist() for x in v]


# ---------------------------------------------------------------- cases
def adamw_config(kind, eps, clip, lr, warmup):
    return {
        "optimizer": {"type": kind, kind: {
            "weight_decay_rate": 0.01, "beta_1": 0.9, "beta_2": 0.999, "epsilon": eps,
            "exclude_from_weight_decay": ["LayerNorm", "layer_norm", "bias"], "global_clipnorm": clip}},
        "learning_rate": lr,
        "warmup": warmup,
    }


def poly(init, end=0.0, power=1.0, decay_steps=None):
    return {"type": "polynomial", "polynomial": {
        "initial_learning_rate": init, "end_learning_rate": end, "power": power, "decay_steps": decay_steps}}


def warm(kind, fraction=0.1, steps=None, power=1.0, lo=0.0):
    if kind == "none":
        return {"type": "none"}
    s = {"warmup_steps": steps, "warmup_fraction": fraction, "power": power}
    if kind == "linear":
        s["warmup_learning_rate"] = lo
    return {"type": kind, kind: s}


def main():
    rng = np.random.default_rng(20261123)
    names = ["bert.encoder.layer.0.attention.self.query.weight", "bert.encoder.layer.0.attention.self.query.bias",
             "bert.embeddings.LayerNorm.weight", "bert.embeddings.LayerNorm.bias", "classifier.weight"]
    shapes = [[4, 3], [4], [3], [3], [2, 3]]
    params = [(rng.standard_normal(s) * 0.5).astype(np.float32) for s in shapes]
    # Step 0 and 2: global norm well above 1 (clipped); step 1: below 1.
    grads = []
    for scale in (1.0, 0.1, 3.0):
        grads.append([(rng.standard_normal(s) * scale).astype(np.float32) for s in shapes])

    total = 30
    cases = [
        ("pytorch_clip_eps1e-6", adamw_config("adamw_pytorch", 1e-6, 1.0, poly(0.05), warm("polynomial"))),
        ("pytorch_noclip_eps1e-8", adamw_config("adamw_pytorch", 1e-8, None, {"type": "constant", "constant": {"learning_rate": 0.01}}, warm("none"))),
        ("model_garden_adamw", adamw_config("adamw", 1e-6, 1.0, poly(0.05), warm("polynomial"))),
        ("bert_adam", adamw_config("bert_adam", 1e-6, 1.0, poly(0.05), warm("bert", fraction=0.1))),
    ]
    out_cases = []
    for name, cfg in cases:
        kind = cfg["optimizer"]["type"]
        if kind == "adamw_pytorch":
            history, m, v = run_torch(cfg, total, names, params, grads)
            reference = f"torch.optim.AdamW, torch {torch.__version__} (float32)"
        elif kind == "adamw":
            history, m, v, version = run_keras(cfg, total, names, params, grads)
            check, _, _ = run_numpy(cfg, total, names, params, grads)
            worst = max(abs(a - b) for s1, s2 in zip(history, check) for t1, t2 in zip(s1, s2) for a, b in zip(t1, t2))
            assert worst < 1e-6, f"Keras and the numpy Keras-Adam formula differ by {worst}"
            reference = f"keras.optimizers.AdamW, Keras {version} (float32)"
        else:
            history, m, v = run_numpy(cfg, total, names, params, grads)
            reference = "numpy re-implementation of google-research/bert optimization.py (float64)"
        out_cases.append({
            "name": name, "config": cfg, "total_steps": total, "reference": reference,
            "learning_rates": [learning_rate(cfg, s, total) for s in range(len(grads))],
            "params_after_step": history, "m": m, "v": v,
        })

    schedules = []
    steps = [0, 1, 2, 5, 9, 10, 11, 50, 79, 80, 99, 100, 120]
    for name, cfg, total in [
        ("polynomial_warmup", {"learning_rate": poly(2e-5), "warmup": warm("polynomial")}, 100),
        ("polynomial_warmup_power2_steps7", {"learning_rate": poly(3e-5, 1e-6, 2.0, 80), "warmup": warm("polynomial", steps=7, power=2.0)}, 100),
        ("linear_warmup", {"learning_rate": poly(2e-5), "warmup": warm("linear", lo=1e-6)}, 100),
        ("bert_warmup", {"learning_rate": poly(5e-5), "warmup": warm("bert")}, 100),
        ("no_warmup", {"learning_rate": poly(2e-5, 0.0, 1.0, 60), "warmup": warm("none")}, 100),
        ("constant_with_warmup", {"learning_rate": {"type": "constant", "constant": {"learning_rate": 1e-4}}, "warmup": warm("polynomial")}, 100),
    ]:
        cfg = dict(cfg, optimizer={"type": "adamw"})
        schedules.append({"name": name, "config": cfg, "total_steps": total, "steps": steps,
                          "learning_rates": [learning_rate(cfg, s, total) for s in steps]})

    check_decay_against_keras(schedules)

    golden = {
        "generator": "tools/golden_adamw.py",
        "torch": torch.__version__,
        "names": names, "shapes": shapes,
        "initial_params": [p.astype(np.float64).ravel().tolist() for p in params],
        "gradients": [[g.astype(np.float64).ravel().tolist() for g in step] for step in grads],
        "cases": out_cases,
        "schedules": schedules,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(golden, f, indent=1)
        f.write("\n")
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)", file=sys.stderr)


if __name__ == "__main__":
    if sys.argv[1:] == ["--keras"]:
        keras_child()
    elif sys.argv[1:] == ["--keras-decay"]:
        keras_decay_child()
    else:
        main()
