"""Hostile input: names that could reach the file system are rejected before anything touches it."""

import os

import pytest

from dagml import Pipeline, PipelineValidationError
from dagml.api import graph_of
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
        run_pipeline(graph_of(pipe), home=str(home))
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


# ---------------------------------------------------------------- untrusted text on the terminal (issue 12)

ANSI, NUL, RTL = "\x1b[2J\x1b[31mred", "nul\x00byte", "rtl\u202eevil"
RAW = ("\x1b", "\x00", "\u202e")


def hostile_definition(tmp_path, *, depend_on_condition=False):
    """An imported definition whose step names hold an ANSI escape, a NUL and a right-to-left override."""
    import json

    steps = [
        {"Name": ANSI, "Type": "Processing", "Arguments": {}},
        {
            "Name": NUL,
            "Type": "Condition",
            "DependsOn": [ANSI],
            "Arguments": {
                "Conditions": [{"Type": "Equals", "LeftValue": {"Get": "Parameters.Mode"}, "RightValue": "go\u202e"}],
                "IfSteps": [{"Name": RTL, "Type": "Fail", "Arguments": {"ErrorMessage": "bad\x1b[0m"}}],
                "ElseSteps": [],
            },
        },
    ]
    if depend_on_condition:
        steps.append({"Name": "after\u2066", "Type": "Processing", "Arguments": {}, "DependsOn": [NUL]})
    path = tmp_path / "hostile.json"
    params = [{"Name": "Mode", "Type": "String", "DefaultValue": "go"}]
    path.write_text(json.dumps({"Version": "2020-12-01", "Parameters": params, "Steps": steps}))
    return str(path)


def assert_escaped(text):
    assert not any(ch in text for ch in RAW), repr(text)
    assert not any(0x80 <= ord(ch) <= 0x9F or 0x2066 <= ord(ch) <= 0x2069 for ch in text), repr(text)


def test_show_prints_hostile_step_names_as_visible_escapes(tmp_path, capsys):
    assert main(["show", hostile_definition(tmp_path)]) == 0
    out, err = capsys.readouterr()
    assert_escaped(out + err)
    assert "\\x1b[2J\\x1b[31mred (processing)" in out
    assert "nul\\x00byte" in out and "rtl\\u202eevil" in out
    # the schema-only name rule is a warning, printed escaped too
    assert "warnings (3):" in out


@pytest.mark.parametrize("suffix", [".dot", ".mmd", ".md"])
def test_drawings_of_hostile_names_hold_no_control_characters(tmp_path, capsys, suffix):
    out_file = tmp_path / f"g{suffix}"
    assert main(["show", hostile_definition(tmp_path), "-o", str(out_file)]) == 0
    text = out_file.read_text()
    assert_escaped(text + capsys.readouterr().out)
    assert "rtl\\u202eevil" in text.replace("\\\\", "\\")


def test_problems_and_errors_with_hostile_names_are_escaped(tmp_path, capsys):
    assert main(["show", hostile_definition(tmp_path, depend_on_condition=True)]) == 1
    err = capsys.readouterr().err
    assert_escaped(err)
    assert "after\\u2066: runs after= condition 'nul\\x00byte'" in err


def test_a_problem_line_is_one_line_whatever_its_names_hold():
    from dagml.errors import Problem

    line = str(Problem("cycle", ("a\nb",), "x \x1b[1m y\u202e", "fix\r"))
    assert line == "a\\x0ab: x \\x1b[1m y\\u202e Fix: fix\\x0d"
    assert str(Problem("k", (), line)) == line  # escaping twice changes nothing
