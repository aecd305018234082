"""Shared fixtures for the command-line tests: the release binary and a tiny model directory."""
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(os.environ.get("BERTC_DATA", ROOT.parent / "shared" / "data"))
# Every bertc the tests start verifies the graph after each pass of its pipeline (the Swift
# tests do the same: tools/test.sh exports it for both).
os.environ["BERTC_VERIFY_PASSES"] = "1"


@pytest.fixture(scope="session")
def bertc():
    """The release bertc binary that tools/test.sh builds."""
    path = ROOT / ".build" / "release" / "bertc"
    if not path.exists():
        subprocess.run(["swift", "build", "-c", "release", "-Xswiftc", "-enable-testing", "--product", "bertc"],
                       cwd=ROOT, check=True)
    return str(path)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    """A model directory: the random bert-tiny of golden/forward with the uncased vocabulary."""
    d = tmp_path_factory.mktemp("bert-tiny")
    shutil.copy(ROOT / "graphs" / "bert-tiny.json", d / "config.json")
    shutil.copy(ROOT / "golden" / "forward" / "bert-tiny-random.weights.safetensors", d / "model.safetensors")
    shutil.copy(DATA / "vocab-bert-base-uncased.txt", d / "vocab.txt")
    return d


def run(bertc, *args, check=True):
    """Runs bertc with GRAPHS pointing at the repository and returns the completed process."""
    env = dict(os.environ, BERTC_GRAPHS=str(ROOT / "graphs"), BERTC_DATA=str(DATA))
    p = subprocess.run([bertc, *map(str, args)], capture_output=True, text=True, env=env, cwd=ROOT)
    if check and p.returncode != 0:
        raise AssertionError(f"bertc {' '.join(map(str, args))} failed ({p.returncode}):\n{p.stderr}")
    return p


def last_json(stdout):
    return json.loads(stdout.strip().splitlines()[-1])
