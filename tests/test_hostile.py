"""Hostile input: names that could reach the file system are rejected before anything touches it."""

import os

import pytest

from dagml import Pipeline, PipelineValidationError
from dagml.cli.main import main
from dagml.local.registry import ModelRegistry
from dagml.local.runner import run_pipeline
from dagml.local.store import RunNotFound, RunStore

HOSTILE = ["../evil", "a/b", "..", "x\x00y", "tab\there", "new\nline", "x" * 65, "back\\slash", " lead"]


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_step_names_never_reach_the_run_store(tmp_path, name):
    pipe = Pipeline("hostile")

    @pipe.step(name=name)
    def step():
        return 1

    home = tmp_path / "home"
    with pytest.raises(PipelineValidationError) as info:
        run_pipeline(pipe, home=str(home))
    assert info.value.kinds == {"invalid-name"}
    assert not home.exists()


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_param_dataset_and_group_names_are_invalid(name):
    pipe = Pipeline("hostile")
    p = pipe.param(name, 1)
    d = pipe.dataset(name + "d", local="x.csv")

    @pipe.step(kind="training")
    def fit(x=p, y=d):
        return 1

    pipe.register_model("Register", model=fit, group=name)
    with pytest.raises(PipelineValidationError) as info:
        pipe.validate()
    assert {p.kind for p in info.value.problems} == {"invalid-name"}
    assert len(info.value.problems) == 3


@pytest.mark.parametrize("name", ["../g", "a/b", "x" * 64, "bad\x00"])
def test_the_registry_refuses_hostile_group_names_before_the_database(tmp_path, name):
    registry = ModelRegistry(str(tmp_path / "home"))
    with pytest.raises(ValueError):
        registry.register(
            name, approval="Approved", metrics={}, artifact="a", pipeline="p", run_id="r", step="s", code_hash="h"
        )
    assert not os.path.exists(registry.db_path)


@pytest.mark.parametrize("run_id", ["../../etc", "/etc/passwd", "x\x00"])
def test_hostile_run_ids_are_not_found_and_create_nothing(tmp_path, run_id, capsys):
    home = tmp_path / "home"
    with pytest.raises(RunNotFound):
        RunStore(str(home)).run(run_id)
    assert sorted(os.listdir(home)) == ["runs.db"]
    assert main(["runs", "show", run_id, "--home", str(home)]) == 1
    assert "no run" in capsys.readouterr().err
    assert sorted(os.listdir(home)) == ["runs.db"]
