#!/usr/bin/env python3
"""Writes golden/metrics/glue.json: accuracy, F1, Matthews (scikit-learn) and Pearson,
Spearman (SciPy) on seeded random predictions, including ties and degenerate cases."""
import json
from pathlib import Path

import numpy as np
from scipy.stats import pearsonr, spearmanr
from sklearn.metrics import accuracy_score, f1_score, matthews_corrcoef

rng = np.random.default_rng(7)
cases = []
for n in (1, 5, 40, 408):
    labels = rng.integers(0, 2, n)
    preds = np.where(rng.random(n) < 0.8, labels, 1 - labels)
    cases.append({"labels": labels.tolist(), "predictions": preds.tolist(),
                  "accuracy": accuracy_score(labels, preds), "f1": f1_score(labels, preds, zero_division=0),
                  "matthews": matthews_corrcoef(labels, preds)})
cases.append({"labels": [0, 0, 0], "predictions": [0, 0, 0], "accuracy": 1.0,
              "f1": f1_score([0, 0, 0], [0, 0, 0], zero_division=0), "matthews": matthews_corrcoef([0, 0, 0], [0, 0, 0])})
regression = []
for n in (3, 50):
    x = rng.normal(size=n)
    y = 0.5 * x + rng.normal(size=n)
    x = np.round(x, 1)  # ties, which Spearman averages
    regression.append({"x": x.tolist(), "y": y.tolist(), "pearson": float(pearsonr(x, y)[0]),
                       "spearman": float(spearmanr(x, y)[0])})
out = Path(__file__).resolve().parent.parent / "golden" / "metrics" / "glue.json"
out.write_text(json.dumps({"classification": cases, "regression": regression}, indent=1))
print("wrote", out)
