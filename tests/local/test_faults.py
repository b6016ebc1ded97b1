"""The run store's disk fills up mid-run: the step that hit it fails alone, nothing finished is
lost, and resume completes once there is room again. Uses a real, small tmpfs (the test machines
run as root; a missing permission fails the test rather than skipping it)."""

import os
import subprocess
import sys
import textwrap

import pytest

from dagml.api import graph_of
from dagml.local.registry import ModelRegistry
from dagml.local.runner import run_pipeline
from dagml.spec.target import load_target

FLOW = """
from dagml import Pipeline

pipe = Pipeline("disk-filler")


@pipe.step(kind="training")
def small():
    return {"weights": list(range(100))}


@pipe.step(metrics=True)
def score(small):
    return {"multiclass_classification_metrics": {"accuracy": {"value": 1.0}}}


@pipe.step
def big(small):
    return b"x" * (12 * 1024 * 1024)


@pipe.step
def after_big(big):
    return len(big)


pipe.register_model("Register", model=small, group="DiskModels", approval="Approved", metrics=score)
"""


@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)], capture_output=True, text=True)
    assert done.returncode == 0, f"this test needs root to mount a tmpfs: {done.stderr}"
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_full_run_store_fails_one_step_and_resume_completes(tmp_path, small_disk):
    path = tmp_path / "filler.py"
    path.write_text(textwrap.dedent(FLOW))
    sys.modules.pop("filler", None)
    pipe = load_target(str(path))
    home = str(small_disk / "home")
    result = run_pipeline(graph_of(pipe), home=home, workers=1)
    steps = result.steps
    assert result.status == "Failed"
    assert steps["big"].status == "failed" and "No space left on device" in steps["big"].error
    assert steps["after_big"].status == "not run"
    assert {steps[n].status for n in ("small", "score", "Register")} == {"succeeded"}
    assert result.output("small") == {"weights": list(range(100))}
    (version,) = ModelRegistry(home).versions("DiskModels")
    assert version.run_id == result.run_id
    leftovers = [f for _, _, files in os.walk(result.step_dir("big")) for f in files if f.endswith(".tmp")]
    assert leftovers == []  # a failed write leaves no partial file behind
    remount = subprocess.run(["mount", "-o", "remount,size=64m", str(small_disk)], capture_output=True, text=True)
    assert remount.returncode == 0, remount.stderr
    resumed = run_pipeline(graph_of(pipe), home=home, resume=result.run_id, workers=1)
    assert resumed.ok, resumed.error
    assert resumed.output("after_big") == 12 * 1024 * 1024
    assert resumed.steps["small"].finished == steps["small"].finished  # not re-run
    assert [v.version for v in ModelRegistry(home).versions("DiskModels")] == [1]
