"""A killed export never leaves its destination missing or half-written.

Each case exports over an existing bundle or ONNX file with --overwrite while strace kills the
process (SIGKILL) at one system call of the publication: before the atomic exchange (bundle) or
rename (ONNX), and while the old bundle is being deleted after the exchange. The destination
must still be a complete export that verifies, and the next export must remove the staging
folder the killed one left.
"""
import os
import shutil
import subprocess

import pytest

from conftest import DATA, ROOT, run

# (format, system call, which call of it is killed) for the publication of an export.
KILL_POINTS = [("bundle", "renameat2", 1), ("bundle", "unlink", 2), ("bundle", "rmdir", 2), ("onnx", "rename", 2)]


def _export(bertc, model, fmt, out, *extra):
    return ["export", "--format", fmt, "--model", str(model), "--out", str(out), *extra]


@pytest.mark.skipif(shutil.which("strace") is None, reason="needs strace for fault injection")
@pytest.mark.parametrize("fmt,syscall,when", KILL_POINTS)
def test_killed_export_keeps_the_destination(bertc, tiny_model, tmp_path, fmt, syscall, when):
    out = tmp_path / ("bundle" if fmt == "bundle" else "model.onnx")
    run(bertc, *_export(bertc, tiny_model, fmt, out))
    env = dict(os.environ, BERTC_GRAPHS=str(ROOT / "graphs"), BERTC_DATA=str(DATA), SWIFT_BACKTRACE="enable=no")
    killed = subprocess.run(["strace", "-f", "-qq", "-o", os.devnull, "-e", f"trace={syscall}",
                             "-e", f"inject={syscall}:signal=KILL:when={when}",
                             bertc, *_export(bertc, tiny_model, fmt, out, "--overwrite")],
                            capture_output=True, text=True, env=env, cwd=ROOT)
    assert killed.returncode in (-9, 128 + 9), f"not killed at {syscall} #{when}: {killed.returncode}\n{killed.stderr}"
    if fmt == "bundle":
        run(bertc, "verify", "--bundle", out)
    else:
        run(bertc, "inspect", out)
    assert any(p.name.startswith(f".{out.name}.partial-") for p in tmp_path.iterdir()), "nothing was staged"

    run(bertc, *_export(bertc, tiny_model, fmt, out, "--overwrite"))
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name], "staging of the killed export left behind"
