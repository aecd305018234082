"""Checks that the SQuAD goldens of golden/squad/ are well formed and agree with each other.

They are written by tools/golden_squad_features.py and tools/golden_squad_postprocess.py from
google-research/bert's run_squad.py; these tests need only the standard library (the light
venv), and read squad/dev-v1.1.json from the data root when it is there. The comparisons with
bertc's own conversion and post-processing are Swift tests.
"""
import collections
import hashlib
import json
import os
import re
import string
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "golden" / "squad"
DATA = Path(os.environ.get("BERTC_DATA", ROOT.parent / "shared" / "data"))
SEQ = 384


def jsonl(name):
    return [json.loads(line) for line in (GOLDEN / name).read_text(encoding="utf-8").splitlines()]


def load(name):
    return json.loads((GOLDEN / name).read_text(encoding="utf-8"))


def digest(feature):
    """sha256 of the canonical serialization (golden/squad/README.md)."""
    text = json.dumps(feature, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@pytest.fixture(scope="module")
def digests():
    return jsonl("features-digest.jsonl")


@pytest.fixture(scope="module")
def squad_v11():
    path = DATA / "squad" / "dev-v1.1.json"
    if not path.exists():
        pytest.skip(f"{path} is not here")
    return json.loads(path.read_text(encoding="utf-8"))


def test_sizes_stay_small():
    sizes = {p.relative_to(GOLDEN).as_posix(): p.stat().st_size for p in GOLDEN.rglob("*") if p.is_file()}
    assert sum(sizes.values()) < 5_000_000, sizes
    assert sizes["features-sample.jsonl"] < 2_000_000
    assert sizes["dev-v2.0-small.json"] < 200_000


def test_digest_counts_match_summary(digests):
    summary = load("features-summary.json")
    assert len(digests) == summary["questions"] == 10570
    assert len({d["id"] for d in digests}) == len(digests)
    assert sum(d["n"] for d in digests) == summary["features"]
    assert sum(len(d["train_positions"]) for d in digests) == summary["training_features"]
    for d in digests:
        assert d["n"] == len(d["eval"]) >= 1
        assert len(d["train_positions"]) in (0, d["n"])
        assert all(re.fullmatch("[0-9a-f]{64}", h) for h in d["eval"])
    for part in ("train_split", "eval_split"):
        first, last = summary[part]["articles"]
        rows = [d for d in digests if first <= d["article"] <= last]
        assert len(rows) == summary[part]["questions"]
        assert sum(d["n"] for d in rows) == summary[part]["features"]
    assert summary["train_split"]["questions"] + summary["eval_split"]["questions"] == summary["questions"]


def test_digest_follows_the_data_file(digests, squad_v11):
    questions = [(a, qa["id"]) for a, article in enumerate(squad_v11["data"])
                 for p in article["paragraphs"] for qa in p["qas"]]
    assert questions == [(d["article"], d["id"]) for d in digests]


def test_sample_features_hash_to_the_digest(digests):
    by_id = {d["id"]: d for d in digests}
    sample = jsonl("features-sample.jsonl")
    assert 100 <= len(sample) and len({s["id"] for s in sample}) == len(sample)
    for s in sample:
        d = by_id[s["id"]]
        assert [digest(f) for f in s["features"]] == d["eval"], s["id"]
        assert s["train_positions"] == d["train_positions"], s["id"]
    why = collections.Counter(w for s in sample for w in s["why"])
    for needed in ("longest_context", "answer_crosses_window_edge", "answer_outside_some_window",
                   "non_ascii_answer", "max_context_tie", "improved_answer_span", "unk_token"):
        assert why[needed] > 0, needed


def check_feature(f, train_position):
    n = len(f["tokens"])
    assert f["tokens"][0] == "[CLS]" and f["tokens"][-1] == "[SEP]"
    query = f["tokens"].index("[SEP]") - 1
    assert all(len(f[k]) == SEQ for k in ("input_ids", "input_mask", "segment_ids"))
    assert f["input_mask"] == [1] * n + [0] * (SEQ - n)
    assert f["segment_ids"] == [0] * (query + 2) + [1] * (n - query - 2) + [0] * (SEQ - n)
    assert f["input_ids"][0] == 101 and f["input_ids"][n - 1] == 102 and f["input_ids"][n:] == [0] * (SEQ - n)
    positions = list(range(query + 2, n - 1))
    assert [k for k, _ in f["token_to_orig_map"]] == positions
    assert [k for k, _ in f["token_is_max_context"]] == positions
    words = [w for _, w in f["token_to_orig_map"]]
    assert words == sorted(words)
    assert f["start_position"] is None and f["end_position"] is None
    if train_position is not None:
        s, e = train_position
        assert (s, e) == (0, 0) or query + 2 <= s <= e < n - 1


def test_sample_features_are_well_formed():
    for s in jsonl("features-sample.jsonl"):
        trains = s["train_positions"] or [None] * len(s["features"])
        assert [f["doc_span_index"] for f in s["features"]] == list(range(len(s["features"])))
        for f, t in zip(s["features"], trains):
            check_feature(f, t)
        # windows start every doc_stride (128) WordPiece tokens; each token is the max context of one
        best = collections.Counter()
        for k, f in enumerate(s["features"]):
            first = f["tokens"].index("[SEP]") + 1
            best.update(128 * k + p - first for p, m in f["token_is_max_context"] if m)
        assert set(best.values()) == {1} and sorted(best) == list(range(len(best))), s["id"]


# MARK: - post-processing

def normalize(text):
    """The official SQuAD normalisation: lower, drop punctuation, articles, extra spaces."""
    text = "".join(c for c in text.lower() if c not in set(string.punctuation))
    return " ".join(re.sub(r"\b(a|an|the)\b", " ", text).split())


def f1(prediction, gold):
    p, g = normalize(prediction).split(), normalize(gold).split()
    same = sum((collections.Counter(p) & collections.Counter(g)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(p), same / len(g)
    return 2 * precision * recall / (precision + recall)


def test_v11_postprocess_is_consistent(digests):
    out = GOLDEN / "postprocess-v1.1"
    rows = [json.loads(line) for line in (out / "features.jsonl").read_text().splitlines()]
    evaluated = [d for d in digests if d["article"] >= 36]
    assert [r[0] for r in rows] == list(range(1_000_000_000, 1_000_000_000 + len(rows)))
    assert [(r[1], r[2]) for r in rows] == [(d["id"], k) for d in evaluated for k in range(d["n"])]
    assert [r[3:] for r in rows] == [p for d in evaluated for p in d["train_positions"]]
    predictions = json.loads((out / "predictions.json").read_text(encoding="utf-8"))
    assert list(predictions) == [d["id"] for d in evaluated]
    nbest = json.loads((out / "nbest_predictions.json").read_text(encoding="utf-8"))
    for qid, entries in nbest.items():
        assert entries[0]["text"] == predictions[qid] and 1 <= len(entries) <= 20
        assert abs(sum(e["probability"] for e in entries) - 1) < 1e-9
        scores = [e["start_logit"] + e["end_logit"] for e in entries]
        assert scores == sorted(scores, reverse=True)
    metrics = load("postprocess-v1.1/metrics.json")
    scores = metrics["per_question"]
    assert list(scores) == list(predictions) and metrics["total"] == len(predictions) == 2447
    assert abs(100 * sum(s[0] for s in scores.values()) / len(scores) - metrics["exact_match"]) < 1e-9
    assert abs(100 * sum(s[1] for s in scores.values()) / len(scores) - metrics["f1"]) < 1e-9


def test_v11_metrics_equal_the_official_v11_formula(squad_v11):
    """Max over gold answers (all of them, as the v1.1 script keeps them), mean, x100."""
    metrics = load("postprocess-v1.1/metrics.json")
    predictions = json.loads((GOLDEN / "postprocess-v1.1" / "predictions.json").read_text(encoding="utf-8"))
    golds = {qa["id"]: [a["text"] for a in qa["answers"]] for article in squad_v11["data"][36:]
             for p in article["paragraphs"] for qa in p["qas"]}
    exact = [max(float(normalize(predictions[q]) == normalize(g)) for g in golds[q]) for q in golds]
    f1s = [max(f1(predictions[q], g) for g in golds[q]) for q in golds]
    assert abs(100 * sum(exact) / len(exact) - metrics["exact_match"]) < 1e-9
    assert abs(100 * sum(f1s) / len(f1s) - metrics["f1"]) < 1e-9


def test_v20_file_and_features():
    v2 = load("dev-v2.0-small.json")
    qas = [qa for article in v2["data"] for p in article["paragraphs"] for qa in p["qas"]]
    assert v2["version"] == "v2.0" and len(qas) == 80
    assert sum(qa["is_impossible"] for qa in qas) == 40
    assert all(qa["answers"] == [] for qa in qas if qa["is_impossible"])
    assert all(qa["answers"] for qa in qas if not qa["is_impossible"])
    assert any("plausible_answers" in qa for qa in qas)
    rows = jsonl("v2-features.jsonl")
    assert [r["id"] for r in rows] == [qa["id"] for qa in qas]
    for r, qa in zip(rows, qas):
        assert r["is_impossible"] == qa["is_impossible"]
        assert r["n"] == len(r["eval"]) == len(r["train"]) == len(r["train_positions"])
        if qa["is_impossible"]:
            assert r["train_positions"] == [[0, 0]] * r["n"]
    assert any(r["n"] > 1 for r in rows)


def test_v20_predictions_follow_the_null_threshold():
    out = GOLDEN / "postprocess-v2.0"
    null_odds = json.loads((out / "null_odds.json").read_text())
    nbest = json.loads((out / "nbest_predictions.json").read_text(encoding="utf-8"))
    metrics = load("postprocess-v2.0/metrics.json")
    v2 = load("dev-v2.0-small.json")
    has_answer = {qa["id"]: bool(qa["answers"]) for a in v2["data"] for p in a["paragraphs"] for qa in p["qas"]}
    assert list(null_odds) == list(nbest) == list(has_answer)
    for threshold, result in metrics["thresholds"].items():
        predictions = json.loads((out / f"predictions-threshold-{threshold}.json").read_text(encoding="utf-8"))
        for qid, prediction in predictions.items():
            best_non_null = next(e["text"] for e in nbest[qid] if e["text"])
            assert prediction == ("" if null_odds[qid] > float(threshold) else best_non_null), qid
        plain, scores = result["plain"], result["per_question"]
        assert plain["HasAns_total"] == plain["NoAns_total"] == 40
        assert abs(100 * sum(s[0] for s in scores.values()) / 80 - plain["exact"]) < 1e-9
        # with the null odds as na-prob file (threshold 1.0) questions with odds > 1 count as "no answer"
        exact = [float(not has_answer[q]) if null_odds[q] > 1.0 else s[0] for q, s in scores.items()]
        assert abs(100 * sum(exact) / 80 - result["with_null_odds"]["exact"]) < 1e-9
