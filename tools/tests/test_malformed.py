"""Hostile and malformed inputs through the real command line (Tests/Malformed/*/cases.json).

Each case runs bertc on a malformed file and checks what a user is promised: a non-zero exit
without a signal, within a time limit, with a message that names what is wrong, no crash
report, and every file that existed before the run byte-identical after it.

A case is an object in a `cases.json` list:
    name     short id
    args     bertc arguments
    stderr   substrings the error must contain (compared case-insensitively)
    setup    optional steps run in order before the command, paths relative to {tmp}:
             ["fifo", p], ["symlink", target, p], ["copytree", src, p], ["copy", src, p],
             ["write", p, text], ["truncate", p, size], ["mkdir", p]
    timeout  optional seconds (default 60)
Placeholders: {case} a fresh copy of the case's folder, {tmp} a fresh working directory,
{model} the random bert-tiny model directory, {minilm} the pretrained MiniLM-L6 directory,
{data} the data root.
"""
import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import DATA, ROOT

MALFORMED = ROOT / "Tests" / "Malformed"
MODEL_CACHE = Path(os.environ.get("BERTC_MODEL_CACHE", Path.home() / ".cache" / "bertc" / "models"))
CRASH_MARKS = ["Fatal error", "Stack dump", "Traceback", "NSCocoaErrorDomain", "Segmentation fault",
               "Illegal instruction", "💣"]


def _cases():
    for spec in sorted(MALFORMED.glob("*/cases.json")):
        for case in json.loads(spec.read_text()):
            yield pytest.param(spec.parent, case, id=f"{spec.parent.name}/{case['name']}")


def _fill(value, places):
    if isinstance(value, str):
        for key, path in places.items():
            value = value.replace("{" + key + "}", str(path))
        return value
    if isinstance(value, list):
        return [_fill(v, places) for v in value]
    return value


def _setup(step, tmp):
    op, *rest = step
    where = lambda p: Path(p) if os.path.isabs(p) else tmp / p  # noqa: E731
    if op == "fifo":
        where(rest[0]).parent.mkdir(parents=True, exist_ok=True)
        os.mkfifo(where(rest[0]))
    elif op == "symlink":
        where(rest[1]).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(rest[0], where(rest[1]))
    elif op == "copytree":
        shutil.copytree(rest[0], where(rest[1]), symlinks=True)
    elif op == "copy":
        where(rest[1]).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(rest[0], where(rest[1]))
    elif op == "write":
        where(rest[0]).parent.mkdir(parents=True, exist_ok=True)
        where(rest[0]).write_text(rest[1])
    elif op == "truncate":
        os.truncate(where(rest[0]), int(rest[1]))
    elif op == "mkdir":
        where(rest[0]).mkdir(parents=True, exist_ok=True)
    else:
        raise ValueError(f"unknown setup step {op!r}")


def _snapshot(*roots):
    """Regular files under the roots (not following links) and their sha256."""
    seen = {}
    for root in roots:
        for dirpath, _, files in os.walk(root):
            for name in files:
                p = Path(dirpath) / name
                if p.is_symlink() or not p.is_file():
                    continue
                seen[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return seen


def test_corpus_is_large_enough():
    files = [p for p in MALFORMED.rglob("*") if p.is_file() and p.name != "cases.json"]
    cases = list(_cases())
    assert len(cases) >= 60 or len(files) >= 60, f"{len(cases)} cases, {len(files)} files"


@pytest.mark.parametrize("folder,case", list(_cases()))
def test_malformed_input(bertc, tiny_model, tmp_path, folder, case):
    copy = tmp_path / "case"
    shutil.copytree(folder, copy, symlinks=True)
    work = tmp_path / "work"
    work.mkdir()
    places = {"case": copy, "tmp": work, "model": tiny_model, "minilm": MODEL_CACHE / "minilm-l6", "data": DATA}
    if "{minilm}" in json.dumps(case) and not (MODEL_CACHE / "minilm-l6" / "model.safetensors").exists():
        pytest.skip("the pretrained model is not installed (tools/setup.sh model)")
    for step in case.get("setup", []):
        _setup(_fill(step, places), work)
    before = _snapshot(copy, work)
    env = dict(os.environ, BERTC_GRAPHS=str(ROOT / "graphs"), BERTC_DATA=str(DATA), SWIFT_BACKTRACE="enable=no")
    args = _fill(case["args"], places)
    try:
        p = subprocess.run([bertc, *args], capture_output=True, text=True, env=env, cwd=work,
                           timeout=case.get("timeout", 60), stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        pytest.fail(f"bertc {' '.join(args)} did not finish within {case.get('timeout', 60)} s (a hang)")
    where = f"bertc {' '.join(args)}\nstderr:\n{p.stderr}"
    assert p.returncode > 0, f"exit {p.returncode} (negative: killed by a signal)\n{where}"
    for mark in CRASH_MARKS:
        assert mark not in p.stderr, f"crash report {mark!r}\n{where}"
    for want in case.get("stderr", []):
        assert _fill(want, places).lower() in p.stderr.lower(), f"message lacks {want!r}\n{where}"
    after = _snapshot(copy, work)
    changed = [path for path, digest in before.items() if after.get(path) != digest]
    assert not changed, f"files changed or removed: {changed}\n{where}"
