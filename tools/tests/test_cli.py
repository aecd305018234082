"""The command line's contracts (DESIGN.md): subcommands, --json objects, clear errors."""
import json

from conftest import ROOT, last_json, run


def test_help_lists_every_subcommand(bertc):
    out = run(bertc, "--help").stdout
    for sub in ["compile", "train", "eval", "predict", "export", "verify", "tokenize", "inspect", "bench"]:
        assert f"  {sub}" in out, f"{sub} missing from bertc --help"


def test_compile_json(bertc):
    report = last_json(run(bertc, "compile", "bert-tiny", "--json").stdout)
    assert report["parameters"] == 4386178  # Hugging Face's count for BertForSequenceClassification(bert-tiny, 2 labels)
    assert report["nodes"] > 0 and report["flopsPerExample"] > 0
    train = last_json(run(bertc, "compile", "bert-tiny", "--mode", "train", "--json").stdout)
    for key in ["arenaBytes", "naiveBytes", "parameterBytes", "optimizerStateBytes", "compileMillis"]:
        assert key in train
    assert train["arenaBytes"] <= train["naiveBytes"]


def test_compile_writes_dot(bertc, tmp_path):
    run(bertc, "compile", "bert-tiny", "--dot", tmp_path / "g.dot")
    assert (tmp_path / "g.dot").read_text().startswith("digraph")


def test_compile_prints_the_memory_plan(bertc):
    out = run(bertc, "compile", "bert-tiny", "--batch", "2", "--seq", "8", "--print-plan").stdout
    report = last_json(run(bertc, "compile", "bert-tiny", "--batch", "2", "--seq", "8", "--json").stdout)
    lines = out.splitlines()
    assert lines[0].startswith(f"arena {report['arenaBytes']} bytes (naive {report['naiveBytes']}, ")
    assert "(in place of " in out and len(lines) > 10


def test_predict_json_shape(bertc, tiny_model):
    out = last_json(run(bertc, "predict", "--model", tiny_model, "--sentence1", "A cat sat.",
                        "--sentence2", "A cat was sitting.", "--json").stdout)
    assert set(out) == {"logits", "class_id", "class"}
    assert len(out["logits"]) == 1 and len(out["logits"][0]) == 2
    assert out["class_id"][0] == max(range(2), key=lambda i: out["logits"][0][i])


def test_predict_bad_tsv_names_file_and_line(bertc, tiny_model, tmp_path):
    bad = tmp_path / "pairs.tsv"
    bad.write_text("one\ttwo\nthree\tfour\tfive\n")
    p = run(bertc, "predict", "--model", tiny_model, "--input", bad, check=False)
    assert p.returncode != 0
    assert f"{bad}:2" in p.stderr


def test_missing_model_is_a_clear_error(bertc, tmp_path):
    p = run(bertc, "eval", "--model", tmp_path / "nope", "--task", "mrpc", check=False)
    assert p.returncode != 0 and "does not exist" in p.stderr


def test_train_writes_metrics_and_tensorboard_events(bertc, tiny_model, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out = tmp_path / "run"
    summary = last_json(run(bertc, "train", "--model", tiny_model, "--task", "mrpc", "--out", out, "--limit", "64",
                            "--epochs", "1", "--batch-size", "16", "--seq-len", "64", "--json").stdout)
    for key in ["accuracy", "f1", "loss", "train_seconds"]:
        assert key in summary
    lines = [json.loads(l) for l in (out / "metrics.jsonl").read_text().splitlines()]
    evals = [l for l in lines if l["kind"] == "eval"]
    trains = [l for l in lines if l["kind"] == "train"]
    assert [e["epoch"] for e in evals] == [0, 1]
    assert abs(evals[-1]["accuracy"] - summary["accuracy"]) < 1e-12

    acc = EventAccumulator(str(out))
    acc.Reload()
    tags = acc.Tags()["scalars"]
    for tag in ["train/loss", "train/learning_rate", "dev/accuracy", "dev/f1", "dev/loss"]:
        assert tag in tags, f"{tag} missing from the event file: {tags}"
    losses = acc.Scalars("train/loss")
    assert [e.step for e in losses] == [t["step"] for t in trains]
    for event, line in zip(losses, trains):
        assert abs(event.value - line["loss"]) <= 1e-6 * max(1.0, abs(line["loss"]))
    assert abs(acc.Scalars("dev/f1")[-1].value - summary["f1"]) < 1e-6
    assert (out / "learning_rate.svg").read_text().startswith("<svg")
    assert (out / "model" / "config.json").exists() and (out / "checkpoint" / "state.json").exists()

    # A second fresh run into the same directory is refused; the first run is untouched.
    p = run(bertc, "train", "--model", tiny_model, "--task", "mrpc", "--out", out, "--limit", "8", "--epochs", "1",
            check=False)
    assert p.returncode != 0 and "--resume" in p.stderr

    # The fine-tuned model evaluates to the same dev metrics.
    ev = last_json(run(bertc, "eval", "--model", out, "--task", "mrpc", "--split", "dev", "--seq-len", "64",
                       "--json").stdout)
    assert ev["examples"] == 408
    assert abs(ev["accuracy"] - summary["accuracy"]) < 1e-12
