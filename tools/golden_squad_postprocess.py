#!/usr/bin/env python3
"""Writes the SQuAD post-processing and metric goldens of golden/squad/ on fixed logits.

Run with the SQuAD reference venv that tools/reference-setup.sh makes (bert-tensorflow==1.0.4,
six, absl-py, transformers==4.57.6): `.venv-ref-squad/bin/python tools/golden_squad_postprocess.py`, after
tools/golden_squad_features.py (it reads golden/squad/dev-v2.0-small.json).

Post-processing is google-research/bert's write_predictions (with get_final_text,
_get_best_indexes, _compute_softmax) from run_squad.py of bert-tensorflow==1.0.4, called
unmodified: n_best_size 20, max_answer_length 30, do_lower_case True. The metrics are
transformers' `transformers.data.metrics.squad_metrics` (squad_evaluate, get_raw_scores,
make_eval_dict, apply_no_ans_threshold, find_all_best_thresh), which is adapted from the
official SQuAD v2.0 evaluation script; for v1.1 its exact/f1 are the official v1.1 numbers
(max over gold answers, mean, x100) as long as no gold answer normalizes to the empty string,
which the script asserts.

Logits (the same formula for v1.1 and v2.0; integers, so Swift recomputes them exactly):
  u = the feature's unique_id (run_squad.py numbers features from 1000000000 in the order
      convert_examples_to_features emits them, for the examples of the evaluated file only)
  p = position 0..383, h = 0 for start logits, 1 for end logits
  mix(u, p, h): every step modulo 2^32 (UInt32 with wrapping &* and &+)
      x = u * 2654435761 + p * 2246822519 + h * 3266489917
      x ^= x >> 15;  x *= 2246822507
      x ^= x >> 13;  x *= 3266489909
      x ^= x >> 16
  noise = (x mod 1024) - 512                       in -512...511
  logit = (noise + bump(u, p, h)) / 128            exact in Float and Double
  bump (0 where nothing below applies), with c = u mod 4 and (s, e) the feature's start and
  end positions as convert_examples_to_features gives them with is_training True (on a copy of
  the file in which each question keeps its first answer), when s != 0:
      c == 1 or 2:  +1024 at (h=0, p=s) and at (h=1, p=e)                  (right answer)
      c == 3:       +1024 at (h=0, p=s) and at (h=1, p=min(e + 2, len(tokens) - 2))
                                                                            (too long)
      c == 0:       none                                                    (noise only)
  v2.0 only, for both h:
      +256 at every position of the window's context (the keys of token_to_orig_map)
      at position 0 ([CLS]), on every feature of the question:
        impossible question: +1024 when c is 1 or 2, +256 when c == 3
        answerable question: +384 when c == 0
  (v1.1's noise alone leaves some questions without any valid span, which write_predictions
  answers with its nonce "empty"; in v2.0 mode the original then fails, since it finds no
  non-null entry, hence the context term.)
Logits of features are in 1/128 steps, so span scores (start + end) tie often: the ties are
exact in any precision and write_predictions breaks them by Python's stable sort.

Outputs (golden/squad/):
  postprocess-v1.1/  articles 36-47 of dev-v1.1.json (2,447 questions): features.jsonl (one
                     line per feature: [unique_id, question id, doc_span_index, s, e]),
                     predictions.json (as written), nbest_predictions.json (the questions with
                     several features and every 20th other question; compact JSON, same
                     values; also the questions answered with the nonce "empty"),
                     metrics.json (exact_match, f1, per-question exact and f1)
  postprocess-v2.0/  dev-v2.0-small.json, version_2_with_negative: features.jsonl,
                     nbest_predictions.json, null_odds.json, predictions-threshold-T.json
                     and metrics.json for null_score_diff_threshold T in THRESHOLDS
"""
import collections
import json
import sys
import tempfile
import types
from pathlib import Path

# Before squad_reference installs its TensorFlow stub, which transformers must not see.
from transformers.data.metrics import squad_metrics  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import squad_reference as ref  # noqa: E402
from golden_squad_features import first_answer_copy  # noqa: E402

# run_squad.py's default, and a value equal to the null odds of two questions of
# dev-v2.0-small.json, so that the strict `score_diff > threshold` is pinned down.
THRESHOLDS = (0.0, -7.234375)
MASK = 0xFFFFFFFF


# MARK: - logits

def mix(u, p, h):
    x = (u * 2654435761 + p * 2246822519 + h * 3266489917) & MASK
    x ^= x >> 15
    x = (x * 2246822507) & MASK
    x ^= x >> 13
    x = (x * 3266489909) & MASK
    x ^= x >> 16
    return x


def logits(feature, answer, impossible, v2):
    """(start, end) logits of one feature; `answer` is its training (s, e)."""
    u = feature.unique_id
    c = u % 4
    ints = [[(mix(u, p, h) % 1024) - 512 for p in range(ref.MAX_SEQ_LENGTH)] for h in (0, 1)]
    s, e = answer
    if s != 0 and c in (1, 2, 3):
        ints[0][s] += 1024
        ints[1][e if c != 3 else min(e + 2, len(feature.tokens) - 2)] += 1024
    if v2:
        for p in feature.token_to_orig_map:  # the window's context tokens
            ints[0][p] += 256
            ints[1][p] += 256
        cls = ({1: 1024, 2: 1024, 3: 256}.get(c, 0) if impossible else (384 if c == 0 else 0))
        ints[0][0] += cls
        ints[1][0] += cls
    return [[v / 128 for v in row] for row in ints]


# MARK: - running write_predictions

def run(path, data, v2, thresholds):
    """Examples, features, training answers and write_predictions' outputs per threshold."""
    run_squad, _ = ref.load(version_2_with_negative=v2)
    tok = ref.tokenizer()
    examples = run_squad.read_squad_examples(str(path), is_training=False)
    features = ref.convert(run_squad, examples, tok, False)
    with tempfile.TemporaryDirectory() as d:
        train_examples = run_squad.read_squad_examples(first_answer_copy(data, d), is_training=True)
    assert [e.qas_id for e in train_examples] == [e.qas_id for e in examples]
    answers = {(train_examples[f.example_index].qas_id, f.doc_span_index): (f.start_position, f.end_position)
               for f in ref.convert(run_squad, train_examples, tok, True)}
    impossible = {e.qas_id: e.is_impossible for e in train_examples}
    results, rows = [], []
    for f in features:
        qid = examples[f.example_index].qas_id
        answer = answers[(qid, f.doc_span_index)]
        start, end = logits(f, answer, impossible[qid], v2)
        results.append(run_squad.RawResult(unique_id=f.unique_id, start_logits=start, end_logits=end))
        rows.append([f.unique_id, qid, f.doc_span_index, *answer])
    outputs = {}
    for threshold in thresholds:
        run_squad, _ = ref.load(version_2_with_negative=v2, null_score_diff_threshold=threshold)
        with tempfile.TemporaryDirectory() as d:
            files = [Path(d) / n for n in ("predictions.json", "nbest_predictions.json", "null_odds.json")]
            run_squad.write_predictions(examples, features, results, ref.N_BEST_SIZE, ref.MAX_ANSWER_LENGTH,
                                        ref.DO_LOWER_CASE, *map(str, files))
            outputs[threshold] = [f.read_text(encoding="utf-8") if f.exists() else None for f in files]
    return examples, features, rows, outputs


# MARK: - metrics

def gold_examples(data):
    """Duck-typed examples for squad_metrics: qas_id and answers, file order."""
    return [types.SimpleNamespace(qas_id=qa["id"], answers=qa["answers"])
            for article in data["data"] for p in article["paragraphs"] for qa in p["qas"]]


def evaluate(data, predictions, null_odds=None):
    sm = squad_metrics
    golds = gold_examples(data)
    exact, f1 = sm.get_raw_scores(golds, predictions)
    result = dict(sm.squad_evaluate(golds, predictions))
    if null_odds is not None:  # evaluate-v2.0.py ... --na-prob-file null_odds.json (threshold 1.0)
        result = {"plain": result, "with_null_odds": dict(sm.squad_evaluate(golds, predictions, null_odds, 1.0))}
    return result, {q: [exact[q], f1[q]] for q in exact}


def assert_v11_equals_v20_scoring(data, predictions):
    """squad_metrics' get_raw_scores is the v2.0 script's: it drops gold answers that normalize
    to "" (dev-v1.1.json has three, all ".") and scores an empty prediction F1 1 against an
    empty gold. The v1.1 script keeps them, so there an empty-normalizing prediction gets exact
    match 1. The two agree whenever no such question gets such a prediction."""
    for gold in gold_examples(data):
        if not all(squad_metrics.normalize_answer(a["text"]) for a in gold.answers):
            assert squad_metrics.normalize_answer(predictions[gold.qas_id]), gold.qas_id


# MARK: - files

def write_compact(path, obj):
    path.write_text(json.dumps(obj, separators=(",", ":"), ensure_ascii=False) + "\n", encoding="utf-8")


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows))


def eval_split_file(directory):
    data = json.loads(ref.SQUAD_V11.read_text(encoding="utf-8"))
    split = {"version": data["version"], "data": [data["data"][a] for a in ref.EVAL_ARTICLES]}
    path = Path(directory) / "dev-v1.1-articles-36-47.json"
    path.write_text(json.dumps(split), encoding="utf-8")
    return path, split


def v11():
    out = ref.GOLDEN / "postprocess-v1.1"
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as d:
        path, data = eval_split_file(d)
        examples, features, rows, outputs = run(path, data, v2=False, thresholds=(0.0,))
    predictions_text, nbest_text, _ = outputs[0.0]
    predictions = json.loads(predictions_text)
    nbest = json.loads(nbest_text, object_pairs_hook=collections.OrderedDict)
    per_question = collections.Counter(r[1] for r in rows)
    keep = [e.qas_id for i, e in enumerate(examples)
            if per_question[e.qas_id] > 1 or i % 20 == 0 or predictions[e.qas_id] == "empty"]
    write_jsonl(out / "features.jsonl", rows)
    (out / "predictions.json").write_text(predictions_text, encoding="utf-8")
    write_compact(out / "nbest_predictions.json", collections.OrderedDict((q, nbest[q]) for q in keep))
    assert_v11_equals_v20_scoring(data, predictions)
    metrics, scores = evaluate(data, predictions)
    write_compact(out / "metrics.json", {
        "exact_match": metrics["exact"], "f1": metrics["f1"], "total": metrics["total"],
        "questions": len(examples), "features": len(features), "nbest_questions": len(keep),
        "per_question": scores})
    return metrics


def v20():
    out = ref.GOLDEN / "postprocess-v2.0"
    out.mkdir(parents=True, exist_ok=True)
    path = ref.GOLDEN / "dev-v2.0-small.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    examples, features, rows, outputs = run(path, data, v2=True, thresholds=THRESHOLDS)
    write_jsonl(out / "features.jsonl", rows)
    nbest_text, null_odds_text = outputs[THRESHOLDS[0]][1:]
    assert all(outputs[t][1:] == [nbest_text, null_odds_text] for t in THRESHOLDS)  # only predictions move
    null_odds = json.loads(null_odds_text)
    assert sum(v == THRESHOLDS[1] for v in null_odds.values()) >= 1
    write_compact(out / "nbest_predictions.json", json.loads(nbest_text, object_pairs_hook=collections.OrderedDict))
    (out / "null_odds.json").write_text(null_odds_text, encoding="utf-8")
    metrics = {"questions": len(examples), "features": len(features), "thresholds": {}}
    for t in THRESHOLDS:
        (out / f"predictions-threshold-{t}.json").write_text(outputs[t][0], encoding="utf-8")
        result, scores = evaluate(data, json.loads(outputs[t][0]), null_odds)
        metrics["thresholds"][str(t)] = {**result, "per_question": scores}
    write_compact(out / "metrics.json", metrics)
    return metrics


def main():
    if ref.sha256_file(ref.SQUAD_V11) != ref.SQUAD_V11_SHA256:
        raise SystemExit(f"{ref.SQUAD_V11}: not the SQuAD v1.1 dev file this golden is made from")
    m1 = v11()
    print("v1.1 articles 36-47:", json.dumps(m1))
    m2 = v20()
    for t, r in m2["thresholds"].items():
        print(f"v2.0 threshold {t}:", json.dumps({k: v for k, v in r.items() if k != "per_question"}))


if __name__ == "__main__":
    main()
