"""Checks tools/bench_squad_vs_pytorch.py's own processing: the split, the v1.1 metric, the
Hugging Face post-processing on hand-made windows, the recipe reader and the results table.

Needs only numpy (the light venv); the feature check on the real file also needs transformers
and the MiniLM-L6 vocabulary (the reference venv) and is skipped without them.
"""
import json
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import bench_squad_vs_pytorch as bench  # noqa: E402

DATA = Path(os.environ.get("BERTC_DATA", ROOT.parent / "shared" / "data"))
SQUAD = DATA / "squad" / "dev-v1.1.json"
MODEL = Path(os.path.expanduser(os.environ.get("BERTC_MODEL_CACHE", "~/.cache/bertc/models"))) / "minilm-l6"


def example(qid, context, answers):
    return {"id": qid, "question": "q?", "context": context,
            "answers": {"text": [a for a, _ in answers], "answer_start": [s for _, s in answers]}}


def test_v11_metric_takes_the_best_gold_answer_and_normalizes():
    examples = [example("a", "", [("the Eiffel Tower", 0), ("Eiffel", 0)]),
                example("b", "", [("Paris, France", 0)]),
                example("c", "", [("1889", 0)])]
    predictions = {"a": "eiffel tower!", "b": "France"}  # c unanswered: scores 0
    result = bench.evaluate_v11(examples, predictions)
    assert result["total"] == 3
    assert result["exact_match"] == pytest.approx(100 / 3)
    assert result["f1"] == pytest.approx(100 * (1 + 2 / 3) / 3)  # "france" vs "paris france": P 1, R 1/2


def test_postprocess_picks_the_best_valid_span_across_windows():
    np = pytest.importorskip("numpy")
    context = "alpha beta gamma delta"
    examples = [example("x", context, [("gamma", 11)]), example("y", context, [("beta", 6)])]
    # Positions: 0 [CLS], 1 question, 2 [SEP], 3.. context words, last [SEP].
    words = [(0, 5), (6, 10), (11, 16), (17, 22)]
    window = [None, None, None] + words + [None]
    features = {"example_index": [0, 0, 1], "offset_mapping": [window, window, window]}
    start, end = np.full((3, 8), -5.0), np.full((3, 8), -5.0)
    start[:, 0] = end[:, 0] = 9.0  # [CLS] is never an answer in v1.1
    start[0, 4], end[0, 4] = 1.0, 1.0  # window 1 of x: "beta", score 2
    start[1, 5], end[1, 5] = 2.0, 2.0  # window 2 of x: "gamma", score 4: the best
    start[1, 6], end[1, 5] = 8.0, 2.0  # start after end: invalid however high
    start[2, 3], end[2, 6] = 3.0, 3.0  # y: "alpha beta gamma delta" (4 tokens)
    predictions = bench.postprocess_qa_predictions(examples, features, start, end)
    assert predictions == {"x": "gamma", "y": "alpha beta gamma delta"}
    shorter = bench.postprocess_qa_predictions(examples, features, start, end, max_answer_length=3)
    assert shorter["y"] != "alpha beta gamma delta"


def test_postprocess_answers_empty_when_no_span_is_valid():
    np = pytest.importorskip("numpy")
    features = {"example_index": [0], "offset_mapping": [[None] * 4]}
    predictions = bench.postprocess_qa_predictions([example("z", "abc", [("abc", 0)])], features,
                                                   np.zeros((1, 4)), np.zeros((1, 4)))
    assert predictions == {"z": "empty"}


def test_recipe_reads_the_task_file_layout_and_falls_back_to_the_defaults(tmp_path):
    missing = bench.load_recipe(tmp_path / "squad.json")
    assert missing["source"] == "built-in defaults"
    assert (missing["epochs"], missing["batch_size"], missing["learning_rate"]) == (2, 32, 1e-4)
    mrpc = bench.load_recipe(ROOT / "graphs" / "tasks" / "mrpc.json")
    assert (mrpc["epochs"], mrpc["max_seq_length"], mrpc["global_clipnorm"]) == (5, 128, 1.0)
    assert mrpc["exclude_from_weight_decay"] == ["LayerNorm", "layer_norm", "bias"]


def test_table_means_and_ratios(tmp_path):
    settings = {"max_questions": None, "max_steps": None, "max_eval_questions": None, "attn": "eager",
                "bertc_args": ""}
    path = tmp_path / "results.jsonl"
    for framework, seed, em, f1, seconds in [("pytorch", 0, 70.0, 80.0, 1000.0), ("pytorch", 1, 72.0, 82.0, 1200.0),
                                             ("bertc", 0, 73.0, 82.0, 500.0), ("bertc", 1, 71.0, 82.0, 600.0)]:
        bench.append_result(path, {"framework": framework, "seed": seed, "settings": settings, "exact_match": em,
                                   "f1": f1, "train_seconds": seconds, "examples_per_second": 8000 / seconds})
    rows = bench.read_results(path)
    assert len(rows) == 4
    text = bench.table(rows)
    assert "| PyTorch | 0,1 | 71.00 | 81.00 | 1100.0 |" in text
    assert "| bertc | 0,1 | 72.00 | 82.00 | 550.0 |" in text
    assert "| +1.00 | +1.00 | 0.50x |" in text


@pytest.mark.skipif(not SQUAD.exists(), reason=f"{SQUAD} not found")
def test_split_is_articles_0_35_and_36_47():
    train, dev = bench.squad_split(SQUAD)
    assert (len(train), len(dev)) == (8123, 2447)  # golden/squad/README.md's counts
    assert all(len(e["answers"]["text"]) == 1 for e in train)
    assert max(len(e["answers"]["text"]) for e in dev) > 1
    head, tail = bench.squad_split(SQUAD, 10, 5)
    assert head == train[:10] and tail == dev[:5]


@pytest.mark.skipif(not SQUAD.exists() or not (MODEL / "vocab.txt").exists(), reason="SQuAD file or MiniLM-L6 absent")
def test_train_features_point_at_the_answer_text():
    transformers = pytest.importorskip("transformers")
    tokenizer = transformers.BertTokenizerFast.from_pretrained(str(MODEL), do_lower_case=True)
    train, _ = bench.squad_split(SQUAD, 1500)
    features = bench.prepare_train_features(tokenizer, train, 384, 128)
    enc = tokenizer([e["question"].lstrip() for e in train], [e["context"] for e in train], truncation="only_second",
                    max_length=384, stride=128, return_overflowing_tokens=True, return_offsets_mapping=True)
    assert len(features["input_ids"]) == len(enc["input_ids"]) > len(train)
    answered = 0
    for i, (s, e) in enumerate(zip(features["start_positions"], features["end_positions"])):
        assert len(features["input_ids"][i]) == 384
        if s == 0:
            assert e == 0
            continue
        answered += 1
        question = train[enc["overflow_to_sample_mapping"][i]]
        offsets = enc["offset_mapping"][i]
        span = question["context"][offsets[s][0]:offsets[e][1]]
        assert bench.normalize_answer(span) == bench.normalize_answer(question["answers"]["text"][0]) or \
            question["answers"]["text"][0].strip() in span, (question["id"], span)
    assert answered >= len(train)
    print(json.dumps({"questions": len(train), "features": len(features["input_ids"]), "answered": answered}))


STUB = """#!/usr/bin/env python3
import json, sys
with open(__file__ + ".calls", "a") as f:
    f.write(json.dumps(sys.argv[1:]) + "\\n")
if "--fail" in __file__:
    sys.exit("Error: unknown task squad")
seed = int(sys.argv[sys.argv.index("--seed") + 1])
print(json.dumps({"exact_match": 60.0 + seed, "f1": 70.0 + seed, "loss": 1.5, "train_seconds": 100.0,
                  "examples_per_second": 8.0, "steps": 5, "epochs": 1}))
"""


def run_script(tmp_path, stub_name, *extra):
    import subprocess
    stub = tmp_path / stub_name
    stub.write_text(STUB)
    stub.chmod(0o755)
    model = tmp_path / "model"
    model.mkdir(exist_ok=True)
    (model / "config.json").write_text("{}")
    (model / "vocab.txt").write_text("")
    command = [sys.executable, str(ROOT / "tools" / "bench_squad_vs_pytorch.py"), "--bertc-only", "--bertc",
               str(stub), "--model", str(model), "--data-dir", str(DATA), "--results",
               str(tmp_path / "results.jsonl"), *extra]
    return subprocess.run(command, capture_output=True, text=True), stub


@pytest.mark.skipif(not SQUAD.exists(), reason=f"{SQUAD} not found")
def test_bertc_runs_are_recorded_once_and_skipped_on_rerun(tmp_path):
    out, stub = run_script(tmp_path, "bertc", "--seeds", "0,1", "--max-steps", "3", "--bertc-args", "--pack-tokens 0")
    assert out.returncode == 0, out.stderr
    calls = [json.loads(line) for line in Path(str(stub) + ".calls").read_text().splitlines()]
    assert [c[c.index("--seed") + 1] for c in calls] == ["0", "1"]
    assert calls[0][:4] == ["train", "--model", str(tmp_path / "model"), "--task"]
    assert calls[0][calls[0].index("--limit") + 1] == "96" and calls[0][calls[0].index("--epochs") + 1] == "1"
    assert calls[0][-2:] == ["--pack-tokens", "0"]
    rows = bench.read_results(tmp_path / "results.jsonl")
    assert [(r["framework"], r["seed"], r["exact_match"]) for r in rows] == [("bertc", 0, 60.0), ("bertc", 1, 61.0)]
    assert set(rows[0]["cpu"]["flags"]) == set(bench.CPU_FLAGS)
    assert "| bertc | 0,1 | 60.50 | 70.50 | 100.0 | 8.00 |" in out.stdout
    again, _ = run_script(tmp_path, "bertc", "--seeds", "0,1", "--max-steps", "3", "--bertc-args", "--pack-tokens 0")
    assert again.returncode == 0 and "already in" in again.stderr
    assert len(Path(str(stub) + ".calls").read_text().splitlines()) == 2
    other, _ = run_script(tmp_path, "bertc", "--seeds", "0", "--max-steps", "4", "--bertc-args", "--pack-tokens 0")
    assert other.returncode == 0 and len(bench.read_results(tmp_path / "results.jsonl")) == 3  # other settings


@pytest.mark.skipif(not SQUAD.exists(), reason=f"{SQUAD} not found")
def test_a_failed_run_is_reported_and_not_recorded(tmp_path):
    out, _ = run_script(tmp_path, "bertc--fail", "--seeds", "0", "--max-steps", "1")
    assert out.returncode != 0
    assert "unknown task squad" in out.stderr and "failed: bertc seed 0" in out.stderr
    assert not (tmp_path / "results.jsonl").exists()
