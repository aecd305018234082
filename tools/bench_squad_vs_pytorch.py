#!/usr/bin/env python3
"""SQuAD fine-tune of MiniLM-L6, bertc against PyTorch + transformers, side by side.

Run with the reference venv (torch, transformers, tokenizers, numpy; tools/reference-setup.sh):

    .venv-ref/bin/python tools/bench_squad_vs_pytorch.py --seeds 0,1          # both, two seeds (hours)
    .venv-ref/bin/python tools/bench_squad_vs_pytorch.py --table              # the table so far
    .venv-ref/bin/python tools/bench_squad_vs_pytorch.py --pytorch-only \\
        --max-questions 200 --max-steps 5 --max-eval-questions 50             # smoke test

The split is bertc's for a data root that holds only squad/dev-v1.1.json: train on its
articles 0-35 (the first answer of each question), evaluate on articles 36-47 (all answers),
in file order. Both sides fine-tune the same pretrained MiniLM-L6 with the recipe of
graphs/tasks/squad.json (epochs, batch size, learning rate, warmup, AdamW, clip norm).

PyTorch side: transformers' BertForQuestionAnswering (qa_outputs newly initialised) with Hugging
Face's standard question-answering processing, as transformers' examples/pytorch/
question-answering/run_qa.py and utils_qa.py do it: prepare_train_features /
prepare_validation_features (truncation "only_second", max_length 384, stride 128, overflowing
windows, offset mapping, padding "max_length"; no question-length limit) and
postprocess_qa_predictions (n_best 20, max answer length 30, answer text cut from the context by
offsets). Exact match and F1 are the official SQuAD v1.1 evaluation script's (x100).

bertc side: `bertc train --task squad --seed S --json`, whose summary carries exact_match and
f1 (x100) and train_seconds.

Training seconds are wall time of the training steps only on both sides (batch assembly,
forward, backward, optimizer update), without feature conversion, evaluation or checkpoints.
Examples/s counts training features (windows). Every (framework, seed, settings) run appends
one JSON line to the results file (default docs/results/squad-vs-pytorch.jsonl; with any
--max-* option .build/bench/squad-vs-pytorch-smoke.jsonl) and a rerun skips the runs already
there, so an interrupted benchmark resumes. Timings are benchmarks, not tests: check `uptime`.
"""
import argparse
import collections
import datetime
import json
import os
import re
import shlex
import string
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BERTC = ROOT / ".build" / "release" / "bertc"
THREADS = 2
ENV = dict(os.environ, OMP_NUM_THREADS=str(THREADS), OPENBLAS_NUM_THREADS=str(THREADS),
           MKL_NUM_THREADS=str(THREADS), TOKENIZERS_PARALLELISM="false")
RESULTS = ROOT / "docs" / "results" / "squad-vs-pytorch.jsonl"
SMOKE_RESULTS = ROOT / ".build" / "bench" / "squad-vs-pytorch-smoke.jsonl"
TRAIN_ARTICLES = range(0, 36)
EVAL_ARTICLES = range(36, 48)
CPU_FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx512_bf16")

# The recipe when graphs/tasks/squad.json is absent (and for any key it does not set).
DEFAULT_RECIPE = {"epochs": 2, "batch_size": 32, "eval_batch_size": 64, "max_seq_length": 384,
                  "doc_stride": 128, "learning_rate": 1e-4,
                  "warmup_fraction": 0.1, "weight_decay_rate": 0.01, "beta_1": 0.9, "beta_2": 0.999,
                  "epsilon": 1e-6, "exclude_from_weight_decay": ["LayerNorm", "layer_norm", "bias"],
                  "global_clipnorm": 1.0}
N_BEST_SIZE = 20
MAX_ANSWER_LENGTH = 30


# MARK: - Data and recipe

def squad_split(path, max_questions=None, max_eval_questions=None):
    """(train, eval) questions of dev-v1.1.json as Hugging Face's squad dataset rows:
    {id, question, context, answers: {text: [...], answer_start: [...]}}, in file order;
    training keeps each question's first answer. The first max_* questions of each when given."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))["data"]
    if len(data) < EVAL_ARTICLES.stop:
        raise SystemExit(f"{path}: {len(data)} articles; the split needs {EVAL_ARTICLES.stop} (dev-v1.1.json)")

    def rows(articles, first_answer_only):
        out = []
        for a in articles:
            for paragraph in data[a]["paragraphs"]:
                for qa in paragraph["qas"]:
                    answers = qa["answers"][:1] if first_answer_only else qa["answers"]
                    out.append({"id": qa["id"], "question": qa["question"], "context": paragraph["context"],
                                "answers": {"text": [x["text"] for x in answers],
                                            "answer_start": [x["answer_start"] for x in answers]}})
        return out

    train, dev = rows(TRAIN_ARTICLES, True), rows(EVAL_ARTICLES, False)
    return train[:max_questions], dev[:max_eval_questions]


def find_key(tree, key):
    """The first value of `key` anywhere in a nested JSON object (depth first), or None."""
    if isinstance(tree, dict):
        if key in tree:
            return tree[key]
        for value in tree.values():
            found = find_key(value, key)
            if found is not None:
                return found
    return None


def load_recipe(path):
    """The recipe values both sides use: graphs/tasks/squad.json's where it has them (the layout of
    mrpc.json: training.*, optimization.optimizer.adamw.*, learning_rate.polynomial.*,
    warmup.polynomial.*), else DEFAULT_RECIPE's."""
    tree = json.loads(Path(path).read_text()) if Path(path).exists() else {}
    recipe = dict(DEFAULT_RECIPE, source=str(path) if tree else "built-in defaults")
    aliases = {"learning_rate": "initial_learning_rate"}
    for key in DEFAULT_RECIPE:
        value = find_key(tree, aliases.get(key, key))
        if value is not None and not isinstance(value, dict):
            recipe[key] = value
    return recipe


# MARK: - Hugging Face question-answering processing (run_qa.py, utils_qa.py)

def prepare_train_features(tokenizer, examples, max_length, stride):
    """run_qa.py's prepare_train_features (pad_on_right): windows of every example with the token
    positions of its first answer, or [CLS] when the answer is not fully inside the window."""
    enc = tokenizer([e["question"].lstrip() for e in examples], [e["context"] for e in examples],
                    truncation="only_second", max_length=max_length, stride=stride,
                    return_overflowing_tokens=True, return_offsets_mapping=True, padding="max_length")
    starts, ends = [], []
    for i, offsets in enumerate(enc["offset_mapping"]):
        input_ids = enc["input_ids"][i]
        cls_index = input_ids.index(tokenizer.cls_token_id) if tokenizer.cls_token_id in input_ids else 0
        sequence_ids = enc.sequence_ids(i)
        answers = examples[enc["overflow_to_sample_mapping"][i]]["answers"]
        if not answers["answer_start"]:
            starts.append(cls_index)
            ends.append(cls_index)
            continue
        start_char = answers["answer_start"][0]
        end_char = start_char + len(answers["text"][0])
        token_start = 0
        while sequence_ids[token_start] != 1:
            token_start += 1
        token_end = len(input_ids) - 1
        while sequence_ids[token_end] != 1:
            token_end -= 1
        if not (offsets[token_start][0] <= start_char and offsets[token_end][1] >= end_char):
            starts.append(cls_index)
            ends.append(cls_index)
            continue
        while token_start < len(offsets) and offsets[token_start][0] <= start_char:
            token_start += 1
        starts.append(token_start - 1)
        while offsets[token_end][1] >= end_char:
            token_end -= 1
        ends.append(token_end + 1)
    return {"input_ids": enc["input_ids"], "token_type_ids": enc["token_type_ids"],
            "attention_mask": enc["attention_mask"], "start_positions": starts, "end_positions": ends}


def prepare_validation_features(tokenizer, examples, max_length, stride):
    """run_qa.py's prepare_validation_features: windows with their example's index and the offset
    mapping of context tokens only (None elsewhere)."""
    enc = tokenizer([e["question"].lstrip() for e in examples], [e["context"] for e in examples],
                    truncation="only_second", max_length=max_length, stride=stride,
                    return_overflowing_tokens=True, return_offsets_mapping=True, padding="max_length")
    offset_mapping = []
    for i, offsets in enumerate(enc["offset_mapping"]):
        sequence_ids = enc.sequence_ids(i)
        offset_mapping.append([o if sequence_ids[k] == 1 else None for k, o in enumerate(offsets)])
    return {"input_ids": enc["input_ids"], "token_type_ids": enc["token_type_ids"],
            "attention_mask": enc["attention_mask"], "example_index": list(enc["overflow_to_sample_mapping"]),
            "offset_mapping": offset_mapping}


def postprocess_qa_predictions(examples, features, start_logits, end_logits,
                               n_best_size=N_BEST_SIZE, max_answer_length=MAX_ANSWER_LENGTH):
    """utils_qa.py's postprocess_qa_predictions for SQuAD v1.1 (version_2_with_negative False):
    {question id: answer text}, the best-scoring valid span over every window of the question."""
    import numpy as np
    features_per_example = collections.defaultdict(list)
    for i, example_index in enumerate(features["example_index"]):
        features_per_example[example_index].append(i)
    predictions = {}
    for example_index, example in enumerate(examples):
        prelim = []
        for feature_index in features_per_example[example_index]:
            start, end = start_logits[feature_index], end_logits[feature_index]
            offsets = features["offset_mapping"][feature_index]
            start_indexes = np.argsort(start)[-1:-n_best_size - 1:-1].tolist()
            end_indexes = np.argsort(end)[-1:-n_best_size - 1:-1].tolist()
            for s in start_indexes:
                for e in end_indexes:
                    if (s >= len(offsets) or e >= len(offsets) or offsets[s] is None or len(offsets[s]) < 2
                            or offsets[e] is None or len(offsets[e]) < 2):
                        continue
                    if e < s or e - s + 1 > max_answer_length:
                        continue
                    prelim.append({"offsets": (offsets[s][0], offsets[e][1]), "score": start[s] + end[e]})
        best = sorted(prelim, key=lambda p: p["score"], reverse=True)[:n_best_size]
        context = example["context"]
        texts = [context[p["offsets"][0]:p["offsets"][1]] for p in best]
        # utils_qa answers "empty" when no span is valid (or the only one is empty).
        if not texts or (len(texts) == 1 and texts[0] == ""):
            texts.insert(0, "empty")
        predictions[example["id"]] = texts[0]
    return predictions


# MARK: - SQuAD v1.1 evaluation (the official evaluate-v1.1.py)

def normalize_answer(s):
    """Lower text and remove punctuation, articles and extra whitespace."""
    s = s.lower()
    s = "".join(ch for ch in s if ch not in set(string.punctuation))
    s = re.sub(r"\b(a|an|the)\b", " ", s)
    return " ".join(s.split())


def f1_score(prediction, ground_truth):
    prediction_tokens = normalize_answer(prediction).split()
    ground_truth_tokens = normalize_answer(ground_truth).split()
    common = collections.Counter(prediction_tokens) & collections.Counter(ground_truth_tokens)
    num_same = sum(common.values())
    if num_same == 0:
        return 0
    precision = 1.0 * num_same / len(prediction_tokens)
    recall = 1.0 * num_same / len(ground_truth_tokens)
    return (2 * precision * recall) / (precision + recall)


def exact_match_score(prediction, ground_truth):
    return normalize_answer(prediction) == normalize_answer(ground_truth)


def evaluate_v11(examples, predictions):
    """evaluate-v1.1.py's evaluate(): max over gold answers, mean over questions, x100; a question
    without a prediction scores 0 (the official script prints a message and counts it)."""
    exact_match = f1 = 0.0
    for example in examples:
        if example["id"] not in predictions:
            print(f"Unanswered question {example['id']} will receive score 0.", file=sys.stderr)
            continue
        golds = example["answers"]["text"]
        prediction = predictions[example["id"]]
        exact_match += max(exact_match_score(prediction, g) for g in golds)
        f1 += max(f1_score(prediction, g) for g in golds)
    total = len(examples)
    return {"exact_match": 100.0 * exact_match / total, "f1": 100.0 * f1 / total, "total": total}


# MARK: - PyTorch fine-tune (a subprocess of this script)

def torch_squad(spec):
    """Fine-tunes BertForQuestionAnswering from MiniLM-L6 and evaluates it; prints one JSON object."""
    import numpy as np
    import torch
    import transformers
    from transformers import BertForQuestionAnswering, BertTokenizerFast, get_linear_schedule_with_warmup
    transformers.logging.set_verbosity_error()
    torch.set_num_threads(THREADS)
    torch.manual_seed(spec["seed"])
    recipe = spec["recipe"]
    max_length, stride = recipe["max_seq_length"], recipe["doc_stride"]
    batch_size, epochs = recipe["batch_size"], recipe["epochs"]
    train_examples, eval_examples = squad_split(spec["squad"], spec["max_questions"], spec["max_eval_questions"])
    tokenizer = BertTokenizerFast.from_pretrained(spec["model"], do_lower_case=True)
    prepare_start = time.perf_counter()
    train = {k: torch.tensor(v) for k, v in prepare_train_features(tokenizer, train_examples, max_length, stride).items()}
    dev = prepare_validation_features(tokenizer, eval_examples, max_length, stride)
    prepare_seconds = time.perf_counter() - prepare_start

    model = BertForQuestionAnswering.from_pretrained(spec["model"], attn_implementation=spec["attn"])
    excluded = recipe["exclude_from_weight_decay"]
    decay = [p for n, p in model.named_parameters() if not any(e in n for e in excluded)]
    no_decay = [p for n, p in model.named_parameters() if any(e in n for e in excluded)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": recipe["weight_decay_rate"]},
                             {"params": no_decay, "weight_decay": 0.0}],
                            lr=recipe["learning_rate"], betas=(recipe["beta_1"], recipe["beta_2"]),
                            eps=recipe["epsilon"])
    features = len(train["input_ids"])
    steps_per_epoch = (features + batch_size - 1) // batch_size
    total = steps_per_epoch * epochs
    # Hugging Face's linear schedule (run_qa.py's default): linear warmup to the recipe's peak, then
    # linear decay to 0. bertc's polynomial recipe (Model Garden's) decays over the whole run and
    # peaks at the decayed rate, 0.9x the peak with 10% warmup; the runs differ in that alone.
    sched = get_linear_schedule_with_warmup(opt, int(recipe["warmup_fraction"] * total), total)
    max_steps = spec["max_steps"] or total
    rng = np.random.default_rng(spec["seed"])
    # CPU seconds per step besides wall seconds: on a loaded machine they still tell what a step costs.
    step_seconds, step_cpu_seconds, losses, trained = [], [], [], 0
    model.train()
    for _ in range(epochs):
        order = torch.from_numpy(rng.permutation(features))
        for b in range(steps_per_epoch):
            if len(step_seconds) == max_steps:
                break
            start, cpu_start = time.perf_counter(), time.process_time()
            rows = order[b * batch_size:(b + 1) * batch_size]
            loss = model(**{k: v[rows] for k, v in train.items()}).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), recipe["global_clipnorm"])
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            step_seconds.append(time.perf_counter() - start)
            step_cpu_seconds.append(time.process_time() - cpu_start)
            losses.append(loss.item())
            trained += len(rows)
    train_seconds = sum(step_seconds)

    model.eval()
    eval_start = time.perf_counter()
    starts, ends = [], []
    eval_batch = recipe["eval_batch_size"]
    with torch.inference_mode():
        for b in range(0, len(dev["input_ids"]), eval_batch):
            out = model(**{k: torch.tensor(dev[k][b:b + eval_batch])
                           for k in ("input_ids", "token_type_ids", "attention_mask")})
            starts.append(out.start_logits.numpy())
            ends.append(out.end_logits.numpy())
    start_logits, end_logits = np.concatenate(starts), np.concatenate(ends)
    predictions = postprocess_qa_predictions(eval_examples, dev, start_logits, end_logits)
    metrics = evaluate_v11(eval_examples, predictions)
    Path(spec["predictions"]).write_text(json.dumps(predictions, indent=2) + "\n", encoding="utf-8")
    def median_after_first(values):  # the first step also allocates
        later = sorted(values[1:] or values)
        return later[len(later) // 2]
    print(json.dumps({
        "exact_match": metrics["exact_match"], "f1": metrics["f1"], "eval_questions": metrics["total"],
        "eval_features": len(dev["input_ids"]), "train_questions": len(train_examples),
        "train_features": features, "steps": len(step_seconds), "planned_steps": total,
        "train_seconds": train_seconds, "examples_per_second": trained / train_seconds if train_seconds else 0.0,
        "millis_per_step": 1e3 * median_after_first(step_seconds), "first_step_millis": 1e3 * step_seconds[0],
        "cpu_millis_per_step": 1e3 * median_after_first(step_cpu_seconds),
        "loss_first": losses[0], "loss_last": losses[-1], "prepare_seconds": prepare_seconds,
        "eval_seconds": time.perf_counter() - eval_start, "attn": spec["attn"],
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__}}))


def pytorch_run(args, seed, recipe, settings):
    # The run's predictions.json goes to a fresh directory beside bertc's runs.
    run = ROOT / ".build" / "bench" / time.strftime(f"squad-pytorch-%Y%m%d-%H%M%S-s{seed}")
    run.mkdir(parents=True)
    spec = {"seed": seed, "recipe": recipe, "squad": str(args.squad_file), "model": str(args.model),
            "max_questions": settings["max_questions"], "max_eval_questions": settings["max_eval_questions"],
            "max_steps": settings["max_steps"], "attn": settings["attn"], "predictions": str(run / "predictions.json")}
    out = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)], env=ENV,
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"PyTorch run failed: {out.stderr[-3000:]}")
    return {**json.loads(out.stdout.strip().splitlines()[-1]), "run": str(run.relative_to(ROOT))}


# MARK: - bertc fine-tune

def bertc_command(args, seed, recipe, settings, run):
    command = [str(args.bertc), "train", "--model", str(args.model), "--task", "squad", "--out", str(run),
               "--seed", str(seed), "--data-dir", str(args.data_dir), "--json"]
    # bertc has no step limit: a smoke run trains one epoch on the first max_steps batches.
    limit = settings["max_steps"] and settings["max_steps"] * recipe["batch_size"]
    if settings["max_questions"] or limit:
        command += ["--limit", str(min(x for x in (settings["max_questions"], limit) if x))]
    if settings["max_steps"]:
        command += ["--epochs", "1"]
    return command + shlex.split(settings["bertc_args"])


def bertc_run(args, seed, recipe, settings):
    if not Path(args.bertc).exists():
        raise RuntimeError(f"{args.bertc} does not exist: build it (drop --no-build) or use --pytorch-only")
    # bertc never trains over an existing run directory: a fresh one each time.
    run = ROOT / ".build" / "bench" / time.strftime(f"squad-run-%Y%m%d-%H%M%S-s{seed}")
    command = bertc_command(args, seed, recipe, settings, run)
    print(" ".join(command[1:]), "...", file=sys.stderr)
    out = subprocess.run(command, env=ENV, capture_output=True, text=True, cwd=ROOT)
    if out.returncode != 0:
        raise RuntimeError(f"bertc train failed ({out.returncode}): {out.stderr[-3000:]}")
    summary = json.loads(out.stdout.strip().splitlines()[-1])
    if summary.get("exact_match") is None:
        raise RuntimeError(f"bertc's summary has no exact_match (is --task squad built in?): {summary}")
    return {"exact_match": summary["exact_match"], "f1": summary["f1"], "train_seconds": summary["train_seconds"],
            "examples_per_second": summary["examples_per_second"], "steps": summary.get("steps"),
            "loss_last": summary.get("loss"), "run": str(run.relative_to(ROOT))}


def build():
    print("building bertc (release)...", file=sys.stderr)
    flags = subprocess.run([str(ROOT / "tools" / "swift-flags.sh")], check=True, capture_output=True,
                           text=True).stdout.split()
    subprocess.run(["swift", "build", "-c", "release", *flags, "--product", "bertc"], cwd=ROOT, check=True)


# MARK: - Results file

def cpu_description():
    """The CPU's model name and the SIMD flags that decide the kernels either side can use."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return {"model": None, "flags": {}}
    model = re.search(r"^model name\s*:\s*(.*)$", text, re.M)
    flag_line = re.search(r"^flags\s*:\s*(.*)$", text, re.M)
    flags = set(flag_line.group(1).split()) if flag_line else set()
    return {"model": model.group(1).strip() if model else None, "flags": {f: f in flags for f in CPU_FLAGS}}


def git_commit():
    def git(*a):
        return subprocess.run(["git", *a], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    commit = git("rev-parse", "--short=12", "HEAD")
    return commit + ("-dirty" if git("status", "--porcelain", "--untracked-files=no") else "")


def read_results(path):
    if not Path(path).exists():
        return []
    rows = []
    for n, line in enumerate(Path(path).read_text().splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise SystemExit(f"{path}:{n}: not a JSON line ({e})")
    return rows


def append_result(path, row):
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(row, sort_keys=True) + "\n")
        f.flush()
        os.fsync(f.fileno())


def settings_key(settings):
    return json.dumps(settings, sort_keys=True)


# MARK: - Table

def mean(values):
    return sum(values) / len(values) if values else float("nan")


def table(rows):
    """Markdown: per settings, each framework's mean EM, F1 and training seconds over its seeds,
    then bertc - PyTorch for EM and F1 and bertc / PyTorch for time."""
    lines = []
    groups = collections.OrderedDict()
    for r in rows:
        groups.setdefault(settings_key(r["settings"]), []).append(r)
    for key, group in groups.items():
        settings = json.loads(key)
        smoke = {k: v for k, v in settings.items() if k.startswith("max_") and v}
        title = "full split" if not smoke else "smoke: " + ", ".join(f"{k} {v}" for k, v in smoke.items())
        extra = [f"PyTorch attention {settings['attn']}"] + ([f"bertc {settings['bertc_args']}"] if settings["bertc_args"] else [])
        lines += [f"SQuAD v1.1, MiniLM-L6, {title} ({'; '.join(extra)})", "",
                  "| framework | seeds | EM | F1 | training s | examples/s |", "|---|---|---|---|---|---|"]
        means = {}
        for framework in ("bertc", "pytorch"):
            mine = [r for r in group if r["framework"] == framework]
            if not mine:
                continue
            means[framework] = {k: mean([r[k] for r in mine])
                                for k in ("exact_match", "f1", "train_seconds", "examples_per_second")}
            m = means[framework]
            seeds = ",".join(str(r["seed"]) for r in sorted(mine, key=lambda r: r["seed"]))
            lines.append(f"| {'bertc' if framework == 'bertc' else 'PyTorch'} | {seeds} | {m['exact_match']:.2f} | "
                         f"{m['f1']:.2f} | {m['train_seconds']:.1f} | {m['examples_per_second']:.2f} |")
        if len(means) == 2:
            b, p = means["bertc"], means["pytorch"]
            lines.append(f"| bertc - PyTorch, bertc / PyTorch | | {b['exact_match'] - p['exact_match']:+.2f} | "
                         f"{b['f1'] - p['f1']:+.2f} | {b['train_seconds'] / p['train_seconds']:.2f}x | "
                         f"{b['examples_per_second'] / p['examples_per_second']:.2f}x |")
        lines.append("")
    return "\n".join(lines)


# MARK: - Entry point

def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        torch_squad(json.loads(sys.argv[2]))
        return
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seeds", default="0,1", help="comma-separated seeds, each run by both frameworks")
    p.add_argument("--data-dir", default=None,
                   help="data root holding squad/dev-v1.1.json (default $BERTC_DATA, else ../shared/data)")
    p.add_argument("--model", default=None,
                   help="pretrained model directory (default $BERTC_MODEL_CACHE/minilm-l6, else ~/.cache/bertc/models/minilm-l6)")
    p.add_argument("--results", default=None, help=f"results file (default {RESULTS.relative_to(ROOT)})")
    p.add_argument("--table", action="store_true", help="print the markdown table of the results file and stop")
    p.add_argument("--pytorch-only", action="store_true", help="run only the PyTorch side")
    p.add_argument("--bertc-only", action="store_true", help="run only the bertc side")
    p.add_argument("--bertc-args", default="", help="extra `bertc train` options (shell words), part of the settings")
    p.add_argument("--attn", default="eager", choices=["eager", "sdpa"], help="PyTorch attention implementation")
    p.add_argument("--max-questions", type=int, default=None, help="train on the first N questions (smoke runs)")
    p.add_argument("--max-steps", type=int, default=None,
                   help="stop after N training steps (smoke runs; bertc: one epoch of N batches)")
    p.add_argument("--max-eval-questions", type=int, default=None, help="evaluate the first N questions (smoke runs)")
    p.add_argument("--no-build", action="store_true", help="use the existing .build/release/bertc")
    p.add_argument("--bertc", default=None, help="the bertc binary to run (implies --no-build)")
    args = p.parse_args()
    for name in ("max_questions", "max_steps", "max_eval_questions"):
        if getattr(args, name) is not None and getattr(args, name) <= 0:
            p.error(f"--{name.replace('_', '-')} must be positive")
    if args.pytorch_only and args.bertc_only:
        p.error("--pytorch-only and --bertc-only leave nothing to run")
    smoke = any(getattr(args, n) for n in ("max_questions", "max_steps", "max_eval_questions"))
    results = Path(args.results) if args.results else (SMOKE_RESULTS if smoke else RESULTS)
    if args.table:
        rows = read_results(results)
        print(table(rows) if rows else f"{results}: no results yet")
        return

    args.data_dir = Path(args.data_dir or os.environ.get("BERTC_DATA") or ROOT.parent / "shared" / "data")
    args.squad_file = args.data_dir / "squad" / "dev-v1.1.json"
    models = Path(os.path.expanduser(os.environ.get("BERTC_MODEL_CACHE", "~/.cache/bertc/models")))
    args.model = Path(args.model) if args.model else models / "minilm-l6"
    for path in (args.squad_file, args.model / "config.json", args.model / "vocab.txt"):
        if not path.exists():
            raise SystemExit(f"{path} does not exist")
    recipe = load_recipe(ROOT / "graphs" / "tasks" / "squad.json")
    print(f"recipe from {recipe['source']}: {recipe['epochs']} epochs, batch {recipe['batch_size']}, "
          f"lr {recipe['learning_rate']}, warmup {recipe['warmup_fraction']}", file=sys.stderr)
    frameworks = [f for f, skip in (("bertc", args.pytorch_only), ("pytorch", args.bertc_only)) if not skip]
    if "bertc" in frameworks and not (args.no_build or args.bertc):
        build()
    args.bertc = Path(args.bertc or BERTC).resolve()
    settings = {"max_questions": args.max_questions, "max_steps": args.max_steps,
                "max_eval_questions": args.max_eval_questions, "attn": args.attn, "bertc_args": args.bertc_args}
    done = {(r["framework"], r["seed"], settings_key(r["settings"])) for r in read_results(results)}
    cpu = cpu_description()
    failures = []
    for seed in [int(s) for s in args.seeds.split(",") if s]:
        for framework in frameworks:
            if (framework, seed, settings_key(settings)) in done:
                print(f"{framework} seed {seed}: already in {results}, skipped", file=sys.stderr)
                continue
            print(f"{framework} seed {seed} (load {os.getloadavg()[0]:.2f}) ...", file=sys.stderr)
            load_before = os.getloadavg()[0]
            try:
                run = (bertc_run if framework == "bertc" else pytorch_run)(args, seed, recipe, settings)
            except RuntimeError as error:  # the other runs still go ahead; this one stays to do
                print(f"  {framework} seed {seed} failed: {error}", file=sys.stderr)
                failures.append(f"{framework} seed {seed}")
                continue
            row = {"date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
                   "commit": git_commit(), "cpu": cpu, "threads": THREADS, "framework": framework,
                   "seed": seed, "settings": settings, "recipe": recipe,
                   "load": [load_before, os.getloadavg()[0]], **run}
            append_result(results, row)
            print(f"  EM {run['exact_match']:.2f}  F1 {run['f1']:.2f}  {run['train_seconds']:.1f} s of training "
                  f"({run['examples_per_second']:.2f} examples/s)", file=sys.stderr)
    rows = read_results(results)
    if rows:
        print(table(rows))
    print(f"results in {results}", file=sys.stderr)
    if failures:
        raise SystemExit(f"failed: {', '.join(failures)} (rerun to retry them)")


if __name__ == "__main__":
    main()
