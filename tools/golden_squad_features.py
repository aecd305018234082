#!/usr/bin/env python3
"""Writes the SQuAD feature goldens of golden/squad/ from google-research/bert's run_squad.py.

Run with the SQuAD reference venv that tools/reference-setup.sh makes (bert-tensorflow==1.0.4,
six, absl-py; no TensorFlow): `.venv-ref-squad/bin/python tools/golden_squad_features.py`. Reads
squad/dev-v1.1.json from the data root and the MiniLM-L6 vocab.txt (uncased), and calls the
original read_squad_examples and convert_examples_to_features unmodified (see
tools/squad_reference.py) with max_seq_length 384, doc_stride 128, max_query_length 64, for
every question, once with is_training False and once with is_training True.

run_squad.py's training reader requires exactly one answer per question; dev-v1.1.json has up
to five, so the training conversion reads a copy of the file in which every question keeps
only its first answer (`answers[:1]`), which is what bertc's training on articles 0-35 does.

Canonical serialization (what features-digest.jsonl hashes, sha256 of its UTF-8 bytes):
one JSON object per feature with exactly the keys
  doc_span_index, end_position, input_ids, input_mask, segment_ids, start_position,
  token_is_max_context, token_to_orig_map, tokens
written with keys in that (sorted) order, no whitespace anywhere (separators "," and ":"),
integers in decimal, input_ids/input_mask/segment_ids with all 384 entries (padding included),
tokens as JSON strings holding the tokens' characters as raw UTF-8 (only `"` and `\\` are
escaped, as `\\"` and `\\\\`; tokens never hold control characters), token_to_orig_map as a
list of [position, word index] pairs and token_is_max_context as a list of [position,
true|false] pairs, both sorted by position, start_position/end_position as integers when
is_training is True and null when it is False. (Python: json.dumps(obj, sort_keys=True,
separators=(",", ":"), ensure_ascii=False).) The v2.0 features add "is_impossible" (true|false)
between "input_mask" and "segment_ids" by the same key order.

Outputs:
  features-digest.jsonl  one line per question of dev-v1.1.json, file order: {"article",
                         "eval": [sha256 of each feature, is_training False], "id", "n" (its
                         number of features), "train_positions": [[start, end] of each feature,
                         is_training True]}. The generator asserts that the training features
                         equal the others but for start/end, so these two fix both conversions.
  features-sample.jsonl  full canonical features (is_training False) of chosen questions, with
                         the training start/end of each feature and why the question was chosen
  features-summary.json  counts: questions and features, the articles 0-35 / 36-47 split
  dev-v2.0-small.json    a small SQuAD v2.0 file made from dev-v1.1.json (see make_v2_file)
  v2-features.jsonl      its features' digests (version_2_with_negative) and positions
"""
import collections
import json
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import squad_reference as ref  # noqa: E402

SAMPLE_SEED = 19


# MARK: - conversion

def first_answer_copy(data, directory):
    """A copy of a SQuAD file in which each question keeps only its first answer."""
    data = json.loads(json.dumps(data))
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                qa["answers"] = qa["answers"][:1]
    path = Path(directory) / "first-answer.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def article_of_question(data):
    return {qa["id"]: a for a, article in enumerate(data["data"])
            for paragraph in article["paragraphs"] for qa in paragraph["qas"]}


def by_question(examples, features):
    grouped = collections.defaultdict(list)
    for f in features:
        grouped[examples[f.example_index].qas_id].append(f)
    return grouped


def convert_both(run_squad, tok, path, data):
    """(eval examples, {id: eval features}, {id: train features}) of one SQuAD file."""
    eval_examples = run_squad.read_squad_examples(str(path), is_training=False)
    with tempfile.TemporaryDirectory() as d:
        train_examples = run_squad.read_squad_examples(first_answer_copy(data, d), is_training=True)
    eval_features = by_question(eval_examples, ref.convert(run_squad, eval_examples, tok, False))
    train_features = by_question(train_examples, ref.convert(run_squad, train_examples, tok, True))
    for qid, train in train_features.items():  # training changes nothing but the positions
        strip = [{**ref.canonical_feature(f), "start_position": None, "end_position": None} for f in train]
        assert strip == [ref.canonical_feature(f) for f in eval_features[qid]], qid
    return eval_examples, eval_features, train_features


# MARK: - choosing the sample

_word_offsets = {}


def word_offsets(tok, example):
    """WordPiece index of each whitespace word of a context (and the total), cached per paragraph."""
    key = id(example.doc_tokens)  # the questions of a paragraph share its doc_tokens list
    if key not in _word_offsets:
        offsets = [0]
        for word in example.doc_tokens:
            offsets.append(offsets[-1] + len(tok.tokenize(word)))
        _word_offsets[key] = offsets
    return _word_offsets[key]


def doc_spans(tok, example, feature):
    """The windows run_squad.py cuts (start, length in WordPiece tokens), checked against it."""
    n = word_offsets(tok, example)[-1]
    query = feature.tokens.index("[SEP]") - 1
    spans, start = [], 0
    while start < n:
        length = min(n - start, ref.MAX_SEQ_LENGTH - query - 3)
        spans.append((start, length))
        if start + length == n:
            break
        start += min(length, ref.DOC_STRIDE)
    return spans, query


def sample_categories(tok, examples, eval_features, train_features, data):
    """Question ids by the property that makes them worth comparing in full."""
    cats = collections.defaultdict(list)
    lengths = {}
    answers = {qa["id"]: (p["context"], qa["answers"][0]) for article in data["data"]
               for p in article["paragraphs"] for qa in p["qas"]}
    for e in examples:
        feats, train = eval_features[e.qas_id], train_features.get(e.qas_id)
        spans, query = doc_spans(tok, e, feats[0])
        assert [s[1] for s in spans] == [len(f.token_to_orig_map) for f in feats]
        lengths[e.qas_id] = spans[-1][0] + spans[-1][1]
        if any("[UNK]" in f.tokens for f in feats):
            cats["unk_token"].append(e.qas_id)
        if any(ord(c) > 127 for c in e.question_text):
            cats["non_ascii_question"].append(e.qas_id)
        if has_max_context_tie(spans):
            cats["max_context_tie"].append(e.qas_id)
        if train is None:
            cats["skipped_in_training"].append(e.qas_id)
            continue
        answer = next(f for f in train if f.start_position)
        start = answer.start_position - query - 2 + spans[answer.doc_span_index][0]
        end = answer.end_position - query - 2 + spans[answer.doc_span_index][0]
        if any(f.start_position == 0 for f in train):
            cats["answer_outside_some_window"].append(e.qas_id)
            if any((s <= start < s + n) != (s <= end < s + n) for s, n in spans):
                cats["answer_crosses_window_edge"].append(e.qas_id)
        context, first = answers[e.qas_id]
        if any(ord(c) > 127 for c in first["text"]):
            cats["non_ascii_answer"].append(e.qas_id)
        raw = raw_answer_span(tok, e, context, first)
        if raw != (start, end):
            cats["improved_answer_span"].append(e.qas_id)
    by_length = sorted(examples, key=lambda e: -lengths[e.qas_id])
    seen_contexts = set()
    for e in by_length:
        if id(e.doc_tokens) in seen_contexts:
            continue
        seen_contexts.add(id(e.doc_tokens))
        cats["longest_context"].append(e.qas_id)
        if len(cats["longest_context"]) == QUOTAS["longest_context"]:
            break
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            if paragraph["context"][:1].isspace() or paragraph["context"][-1:].isspace():
                cats["context_edge_whitespace"] += [qa["id"] for qa in paragraph["qas"][:2]]
    cats["file_start"] = [e.qas_id for e in examples[:4]]
    cats["random"] = [e.qas_id for e in examples]
    return cats


def has_max_context_tie(spans):
    """Whether some token's best windows tie on run_squad.py's score (min context, then length)."""
    for position in range(spans[-1][0] + spans[-1][1]):
        scores = [min(position - s, s + n - 1 - position) * 100 + n for s, n in spans if s <= position < s + n]
        if len(scores) != len(set(scores)):
            return True
    return False


def raw_answer_span(tok, example, context, answer):
    """WordPiece span of the first answer's words, before _improve_answer_span."""
    offsets = word_offsets(tok, example)
    char_to_word, words, prev_space = [], 0, True
    for c in context:  # run_squad.py's own whitespace rule
        space = c in " \t\r\n" or ord(c) == 0x202F
        if not space and prev_space:
            words += 1
        prev_space = space
        char_to_word.append(words - 1)
    first = char_to_word[answer["answer_start"]]
    last = char_to_word[answer["answer_start"] + len(answer["text"]) - 1]
    return offsets[first], offsets[last + 1] - 1


QUOTAS = collections.OrderedDict([
    ("file_start", 4), ("longest_context", 5), ("answer_crosses_window_edge", 5),
    ("max_context_tie", 5), ("answer_outside_some_window", 8), ("skipped_in_training", 5),
    ("context_edge_whitespace", 4), ("non_ascii_answer", 24), ("non_ascii_question", 8),
    ("unk_token", 10), ("improved_answer_span", 12), ("random", 40)])


def choose_sample(cats):
    rng = random.Random(SAMPLE_SEED)
    chosen = collections.OrderedDict()
    for cat, quota in QUOTAS.items():
        pool = [q for q in cats.get(cat, []) if q not in chosen]
        if cat not in ("file_start", "longest_context") and len(pool) > quota:
            pool = rng.sample(pool, quota)
        for qid in pool[:quota]:
            chosen[qid] = cat
    for cat, qids in cats.items():  # every reason a chosen question qualifies
        for qid in qids:
            if qid in chosen and cat != "random" and cat not in chosen[qid].split(","):
                chosen[qid] += "," + cat
    return chosen


# MARK: - v2.0

def make_v2_file(data):
    """A small SQuAD v2.0 file: 40 answerable and 40 impossible questions on 10 paragraphs.

    Paragraphs come from articles 36-47: the longest paragraph of two articles (two windows
    each) and one paragraph of each of eight other articles. Each keeps all but one of its own
    questions as answerable (with all their answers), 40 in all; the first answerable question
    of paragraphs 0 and 2 is repeated six times so it is longer than max_query_length. The one
    (chosen at random) left over is marked impossible with its answers as plausible_answers, as SQuAD 2.0 writes
    them, and three questions of articles 0-35 (answers removed) are added as impossible.
    """
    rng = random.Random(SAMPLE_SEED)
    longest = sorted(((len(p["context"]), a, i) for a in ref.EVAL_ARTICLES
                      for i, p in enumerate(data["data"][a]["paragraphs"])), reverse=True)
    picks = [(a, i) for _, a, i in longest[:1]]
    picks += [next((a, i) for _, a, i in longest if a != picks[0][0])]
    other_articles = rng.sample([a for a in ref.EVAL_ARTICLES if a not in {a for a, _ in picks}], 8)
    for a in other_articles:  # one of the paragraphs with the most questions
        paragraphs = data["data"][a]["paragraphs"]
        most = max(len(p["qas"]) for p in paragraphs)
        picks.append((a, rng.choice([i for i, p in enumerate(paragraphs) if len(p["qas"]) == most])))
    strangers = [qa for a in ref.TRAIN_ARTICLES for p in data["data"][a]["paragraphs"] for qa in p["qas"]]
    capacity = [len(data["data"][a]["paragraphs"][i]["qas"]) - 1 for a, i in picks]
    quotas = capacity[:2] + [0] * 8
    while sum(quotas) < 40:  # round robin over the other eight while they have questions
        k = min((k for k in range(2, 10) if quotas[k] < capacity[k]), key=lambda k: quotas[k])
        quotas[k] += 1
    articles = []
    for k, ((a, i), quota) in enumerate(zip(picks, quotas)):
        paragraph = data["data"][a]["paragraphs"][i]
        own = rng.sample(paragraph["qas"], quota + 1)
        qas = []
        for j, qa in enumerate(own[:quota]):
            question = " ".join([qa["question"]] * 6) if j == 0 and k in (0, 2) else qa["question"]
            qas.append({"id": qa["id"], "question": question, "answers": qa["answers"], "is_impossible": False})
        qa = own[quota]
        qas.append({"id": qa["id"] + "-impossible", "question": qa["question"], "answers": [],
                    "plausible_answers": qa["answers"], "is_impossible": True})
        for qa in rng.sample(strangers, 3):
            qas.append({"id": qa["id"] + "-impossible", "question": qa["question"], "answers": [],
                        "is_impossible": True})
        rng.shuffle(qas)
        articles.append({"title": data["data"][a]["title"],
                         "paragraphs": [{"context": paragraph["context"], "qas": qas}]})
    assert sum(not q["is_impossible"] for a in articles for q in a["paragraphs"][0]["qas"]) == 40
    assert sum(q["is_impossible"] for a in articles for q in a["paragraphs"][0]["qas"]) == 40
    return {"version": "v2.0", "data": articles}


# MARK: - main

def digest_line(qid, article, evals, trains):
    return {"article": article, "eval": [ref.feature_digest(ref.canonical_feature(f)) for f in evals],
            "id": qid, "n": len(evals), "train_positions": [[f.start_position, f.end_position] for f in trains]}


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n")


def main():
    if ref.sha256_file(ref.SQUAD_V11) != ref.SQUAD_V11_SHA256:
        raise SystemExit(f"{ref.SQUAD_V11}: not the SQuAD v1.1 dev file this golden is made from")
    ref.GOLDEN.mkdir(parents=True, exist_ok=True)
    run_squad, _ = ref.load(version_2_with_negative=False)
    tok = ref.tokenizer()
    data = json.loads(ref.SQUAD_V11.read_text(encoding="utf-8"))
    articles = article_of_question(data)
    examples, eval_features, train_features = convert_both(run_squad, tok, ref.SQUAD_V11, data)

    write_jsonl(ref.GOLDEN / "features-digest.jsonl",
                (digest_line(e.qas_id, articles[e.qas_id], eval_features[e.qas_id],
                             train_features.get(e.qas_id, [])) for e in examples))

    cats = sample_categories(tok, examples, eval_features, train_features, data)
    chosen = choose_sample(cats)
    order = {e.qas_id: i for i, e in enumerate(examples)}
    rows = []
    for qid in sorted(chosen, key=order.get):
        rows.append({"article": articles[qid], "features": [ref.canonical_feature(f) for f in eval_features[qid]],
                     "id": qid, "train_positions": [[f.start_position, f.end_position]
                                                    for f in train_features.get(qid, [])],
                     "why": chosen[qid].split(",")})
    write_jsonl(ref.GOLDEN / "features-sample.jsonl", rows)

    def part(article_range):
        ids = [e.qas_id for e in examples if articles[e.qas_id] in article_range]
        return {"articles": [article_range.start, article_range.stop - 1], "questions": len(ids),
                "features": sum(len(eval_features[q]) for q in ids),
                "training_features": sum(len(train_features.get(q, [])) for q in ids)}

    summary = {
        "reference": "google-research/bert run_squad.py as published in bert-tensorflow==1.0.4",
        "data": {"file": "squad/dev-v1.1.json", "sha256": ref.SQUAD_V11_SHA256},
        "vocab": {"file": "minilm-l6/vocab.txt", "sha256": ref.VOCAB_SHA256, "do_lower_case": ref.DO_LOWER_CASE},
        "max_seq_length": ref.MAX_SEQ_LENGTH, "doc_stride": ref.DOC_STRIDE, "max_query_length": ref.MAX_QUERY_LENGTH,
        "questions": len(examples),
        "features": sum(len(v) for v in eval_features.values()),
        "training_questions": len(train_features),
        "training_features": sum(len(v) for v in train_features.values()),
        "training_features_without_answer": sum(f.start_position == 0 for v in train_features.values() for f in v),
        "features_per_question": dict(sorted(collections.Counter(len(v) for v in eval_features.values()).items())),
        "questions_longer_than_max_query_length": sum(len(tok.tokenize(e.question_text)) > ref.MAX_QUERY_LENGTH
                                                      for e in examples),
        "train_split": part(ref.TRAIN_ARTICLES), "eval_split": part(ref.EVAL_ARTICLES),
        "category_sizes": {c: len(v) for c, v in sorted(cats.items())},
        "sample_questions": len(rows), "sample_features": sum(len(r["features"]) for r in rows),
    }
    (ref.GOLDEN / "features-summary.json").write_text(json.dumps(summary, indent=1) + "\n")

    v2 = make_v2_file(data)
    v2_path = ref.GOLDEN / "dev-v2.0-small.json"
    v2_path.write_text(json.dumps(v2, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    run_squad, _ = ref.load(version_2_with_negative=True)
    v2_examples, v2_eval, v2_train = convert_both(run_squad, tok, v2_path, v2)
    rows = []
    for e in v2_examples:
        evals, trains = v2_eval[e.qas_id], v2_train[e.qas_id]
        rows.append({"eval": [ref.feature_digest(ref.canonical_feature(f, True)) for f in evals],
                     "id": e.qas_id, "is_impossible": any(f.is_impossible for f in trains), "n": len(evals),
                     "train": [ref.feature_digest(ref.canonical_feature(f, True)) for f in trains],
                     "train_positions": [[f.start_position, f.end_position] for f in trains]})
    write_jsonl(ref.GOLDEN / "v2-features.jsonl", rows)
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
