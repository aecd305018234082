"""A training run killed (SIGKILL) at any point and resumed ends bit-identical to a run that was
never killed: the same fine-tuned weights, checkpoint and optimizer state, every step logged
once in metrics.jsonl and in the TensorBoard event file, and no staging leftovers.

The kill points are the ones bertc marks between the file operations of a run
(BERTC_CRASH_TRACE=1 lists them, BERTC_KILL_AT=N kills the process at the Nth).
"""
import json
import os
import shutil
import struct
import subprocess

import pytest

from conftest import DATA, ROOT

ARGS = ["--task", "mrpc", "--limit", "16", "--epochs", "2", "--batch-size", "8", "--seq-len", "32"]
TIMING = {"examples_per_second"}


def _train(bertc, model, out, *extra, env=None):
    full = dict(os.environ, BERTC_GRAPHS=str(ROOT / "graphs"), BERTC_DATA=str(DATA), **(env or {}))
    return subprocess.run([bertc, "train", "--model", str(model), "--out", str(out), *ARGS, *extra],
                          capture_output=True, text=True, env=full, timeout=300, stdin=subprocess.DEVNULL)


def _metrics(run):
    lines = [json.loads(l) for l in (run / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in line.items() if k not in TIMING} for line in lines]


def _event_steps(run):
    """(tag, step) of every scalar in the run's event files, in file order."""
    from tensorboard.compat.proto import event_pb2

    seen = []
    files = sorted(p for p in run.iterdir() if p.name.startswith("events.out.tfevents."))
    for path in files:
        data = path.read_bytes()
        at = 0
        while at < len(data):
            (length,) = struct.unpack_from("<Q", data, at)
            event = event_pb2.Event.FromString(data[at + 12:at + 12 + length])
            at += 12 + length + 4
            seen += [(v.tag, event.step) for v in event.summary.value]
    return files, seen


def _outputs(run):
    return {name: (run / name).read_bytes() for name in
            ["model/model.safetensors", "checkpoint/model.safetensors", "checkpoint/optimizer.safetensors"]}


@pytest.fixture(scope="module")
def reference(bertc, tiny_model, tmp_path_factory):
    out = tmp_path_factory.mktemp("crash") / "reference"
    p = _train(bertc, tiny_model, out, env={"BERTC_CRASH_TRACE": "1"})
    assert p.returncode == 0, p.stderr
    points = [l for l in p.stderr.splitlines() if l.startswith("crash point ")]
    assert len(points) >= 20, points
    return out, len(points)


def _check_like_reference(run, reference):
    assert _outputs(run) == _outputs(reference)
    assert _metrics(run) == _metrics(reference)
    files, steps = _event_steps(run)
    assert len(files) == 1, f"one event file, found {files}"
    assert steps == _event_steps(reference)[1], "every scalar logged once, in order"
    leftovers = [p.name for p in run.iterdir() if p.name.startswith(".") and p.name != ".lock"]
    leftovers += [p.name for p in (run / "checkpoints").iterdir() if p.name != os.readlink(run / "checkpoint").split("/")[1]]
    assert not leftovers, leftovers


def test_kill_at_every_point_then_resume(bertc, tiny_model, tmp_path, reference):
    ref, count = reference
    for k in range(1, count + 1):
        out = tmp_path / f"kill-{k}"
        p = _train(bertc, tiny_model, out, env={"BERTC_KILL_AT": str(k)})
        assert p.returncode == -9, f"kill point {k}: exit {p.returncode}\n{p.stderr}"
        p = _train(bertc, tiny_model, out, "--resume")
        assert p.returncode == 0, f"resume after kill point {k}:\n{p.stderr}"
        _check_like_reference(out, ref)


def test_killed_twice_then_resumed(bertc, tiny_model, tmp_path, reference):
    """A resumed run killed again (including inside the checkpoint save it repeats)."""
    ref, count = reference
    for first, second in [(4, 2), (8, 3), (12, 1), (19, 6), (count - 1, 1)]:
        out = tmp_path / f"kill-{first}-{second}"
        assert _train(bertc, tiny_model, out, env={"BERTC_KILL_AT": str(first)}).returncode == -9
        assert _train(bertc, tiny_model, out, "--resume", env={"BERTC_KILL_AT": str(second)}).returncode == -9
        p = _train(bertc, tiny_model, out, "--resume")
        assert p.returncode == 0, p.stderr
        _check_like_reference(out, ref)


def test_resume_refuses_changed_settings(bertc, tiny_model, tmp_path, reference):
    out = tmp_path / "run"
    assert _train(bertc, tiny_model, out, env={"BERTC_KILL_AT": "13"}).returncode == -9
    p = _train(bertc, tiny_model, out, "--resume", "--lr", "0.5")
    assert p.returncode != 0 and "learning_rate" in p.stderr and "0.5" in p.stderr, p.stderr
    p = _train(bertc, tiny_model, out, "--resume", "--task", "rte")
    assert p.returncode != 0 and "mrpc run" in p.stderr, p.stderr
    # Without options, --resume continues with the run's own settings.
    full = dict(os.environ, BERTC_GRAPHS=str(ROOT / "graphs"), BERTC_DATA=str(DATA))
    p = subprocess.run([bertc, "train", "--model", str(tiny_model), "--out", str(out), "--resume",
                        "--limit", "16"], capture_output=True, text=True, env=full, timeout=300)
    assert p.returncode == 0, p.stderr
    _check_like_reference(out, reference[0])


def test_a_run_killed_before_its_first_checkpoint_restarts(bertc, tiny_model, tmp_path, reference):
    out = tmp_path / "run"
    assert _train(bertc, tiny_model, out, env={"BERTC_KILL_AT": "3"}).returncode == -9
    p = _train(bertc, tiny_model, out)
    assert p.returncode != 0 and "--resume" in p.stderr, p.stderr
    p = _train(bertc, tiny_model, out, "--resume")
    assert p.returncode == 0 and "from the beginning" in p.stderr, p.stderr
    _check_like_reference(out, reference[0])


def test_corrupt_state_is_refused(bertc, tiny_model, tmp_path, reference):
    out = tmp_path / "run"
    assert _train(bertc, tiny_model, out, env={"BERTC_KILL_AT": "13"}).returncode == -9
    state_path = out / "checkpoint" / "state.json"
    good = state_path.read_text()
    for epoch in [-1, 10**15]:
        state = json.loads(good)
        state["epoch"] = epoch
        state_path.write_text(json.dumps(state))
        p = _train(bertc, tiny_model, out, "--resume")
        assert p.returncode > 0 and "state.json" in p.stderr and "Fatal" not in p.stderr, p.stderr
    state_path.write_text(good)
    assert _train(bertc, tiny_model, out, "--resume").returncode == 0


def test_damaged_run_directories(bertc, tiny_model, tmp_path, reference):
    out = tmp_path / "run"
    assert _train(bertc, tiny_model, out, env={"BERTC_KILL_AT": "13"}).returncode == -9
    # A training.json that is not JSON: named, nothing changed.
    recipe = (out / "training.json").read_text()
    (out / "training.json").write_text("{ not json")
    p = _train(bertc, tiny_model, out, "--resume")
    assert p.returncode > 0 and "training.json" in p.stderr, p.stderr
    (out / "training.json").write_text(recipe)
    # metrics.jsonl shorter than the checkpoint recorded.
    metrics = (out / "metrics.jsonl").read_bytes()
    (out / "metrics.jsonl").write_bytes(metrics[:10])
    p = _train(bertc, tiny_model, out, "--resume")
    assert p.returncode > 0 and "metrics.jsonl" in p.stderr, p.stderr
    (out / "metrics.jsonl").write_bytes(metrics)
    # A checkpoint link that points outside the run is not followed: the published folder is.
    os.unlink(out / "checkpoint")
    os.symlink("/etc", out / "checkpoint")
    p = _train(bertc, tiny_model, out, "--resume")
    assert p.returncode == 0, p.stderr
    _check_like_reference(out, reference[0])


FILE_CALLS = ["mkdir", "rename", "symlink", "unlink", "rmdir", "truncate"]


@pytest.mark.skipif(shutil.which("strace") is None, reason="strace is not installed (tools/setup.sh installs it)")
def test_kill_before_every_file_system_call(bertc, tiny_model, tmp_path, reference):
    """strace kills the process as it enters each mkdir, rename, symlink, unlink, rmdir and
    truncate of a run in turn (fault injection, not bertc's own crash points)."""
    ref, _ = reference
    log = tmp_path / "calls.log"
    counted = _strace(bertc, tiny_model, tmp_path / "count", ["-o", str(log), "-e", "trace=" + ",".join(FILE_CALLS)])
    assert counted.returncode == 0, counted.stderr
    lines = [l for l in log.read_text().splitlines() if "resumed>" not in l and "+++" not in l]
    tried = 0
    for call in FILE_CALLS:
        count = sum(1 for l in lines if l.split(" ", 1)[-1].lstrip().startswith(call + "("))
        for n in range(1, count + 1):
            out = tmp_path / f"{call}-{n}"
            p = _strace(bertc, tiny_model, out, ["-e", f"trace={call}", "-e", f"inject={call}:signal=KILL:when={n}"])
            assert p.returncode == -9, f"{call} #{n}: exit {p.returncode}\n{p.stderr[-2000:]}"
            p = _train(bertc, tiny_model, out, "--resume")
            assert p.returncode == 0, f"resume after a kill at {call} #{n}:\n{p.stderr}"
            _check_like_reference(out, ref)
            tried += 1
    assert tried >= 30, f"only {tried} calls to kill at"


def _strace(bertc, model, out, options):
    full = dict(os.environ, BERTC_GRAPHS=str(ROOT / "graphs"), BERTC_DATA=str(DATA))
    return subprocess.run(["strace", "-f", "-qq", *options, bertc, "train", "--model", str(model), "--out", str(out), *ARGS],
                          capture_output=True, text=True, env=full, timeout=300, stdin=subprocess.DEVNULL)
