"""Container steps and requirements in local runs: stand-ins, clear refusals, honest cache keys."""

from __future__ import annotations

import os

import pytest

from dagml.api import graph_of
from dagml.graph.errors import PipelineValidationError
from dagml.local.runner import run_pipeline
from dagml.spec.target import load_target
from tests.local.test_runner import write_pipeline

CONTAINER = """
from dagml import Image

@pipe.step(outputs=["train"])
def prep(outputs):
    (outputs["train"] / "train.csv").write_text("1,2\\n")

fit = pipe.container(
    "fit", image=Image("xgboost", "1.7-1"), inputs={"train": prep.outputs["train"]},
    hyperparameters={"num_round": 5}, content_type="text/csv", {local}
)

@pipe.step(metrics=True)
def evaluate(fit):
    import os
    with open(os.path.join(fit, "xgboost-model")) as f:
        return {"regression_metrics": {"size": {"value": float(len(f.read()))}}}

model = pipe.model("FitModel", model=fit)
scores = pipe.batch_transform("Score", model=model, data=prep.outputs["train"])
pipe.register_model("Register", model=fit, group="Fits", metrics=evaluate)
"""


@pytest.fixture
def home(tmp_path):
    return str(tmp_path / "home")


def _pipeline(tmp_path, local):
    path = write_pipeline(tmp_path, "pipe = Pipeline('containers')\n" + CONTAINER.replace("{local}", local))
    return graph_of(path)


def test_a_container_step_runs_locally_on_its_stand_in(tmp_path, home):
    (tmp_path / "standin").mkdir()
    (tmp_path / "standin" / "xgboost-model").write_text("trees")
    result = run_pipeline(_pipeline(tmp_path, "local='standin'"), home=home)
    status = {name: r.status for name, r in result.steps.items()}
    assert status["fit"] == "succeeded" and status["evaluate"] == "succeeded" and status["Register"] == "succeeded"
    assert result.metrics("evaluate") == {"regression_metrics": {"size": {"value": 5.0}}}
    assert os.path.isfile(os.path.join(result.outputs("fit")["model"], "xgboost-model"))
    # The image's own serving stack does not run here: the transform says so and how to go on.
    assert status["Score"] == "failed"
    assert "served by image xgboost 1.7-1's own serving stack" in result.steps["Score"].error
    assert result.steps["Register"].detail["artifact"].endswith(os.path.join("fit", "model"))


def test_without_a_stand_in_the_container_step_fails_saying_why_and_what_to_do(tmp_path, home):
    result = run_pipeline(_pipeline(tmp_path, ""), home=home)
    fit = result.steps["fit"]
    assert fit.status == "failed"
    assert "dagml runs no containers locally" in fit.error and "local='path/to/model_dir'" in fit.error
    assert result.steps["prep"].status == "succeeded"
    assert result.steps["evaluate"].status == "not run"


def test_a_stand_in_that_changes_is_not_a_cache_hit(tmp_path, home):
    (tmp_path / "standin").mkdir()
    (tmp_path / "standin" / "xgboost-model").write_text("trees")
    graph = _pipeline(tmp_path, "local='standin'")
    run_pipeline(graph, home=home)
    assert run_pipeline(graph, home=home).steps["evaluate"].status == "cached"
    (tmp_path / "standin" / "xgboost-model").write_text("more trees")
    again = run_pipeline(graph, home=home)
    assert again.steps["evaluate"].status == "succeeded" and again.metrics("evaluate")["regression_metrics"]["size"]["value"] == 10.0


def test_a_step_whose_requirements_are_not_installed_fails_before_it_starts(tmp_path, home):
    path = write_pipeline(
        tmp_path,
        """
pipe = Pipeline("reqs")

@pipe.step(requirements=["dagml-surely-not-installed==1.0", "attrs"])
def needs() -> None:
    raise AssertionError("never called")
""",
    )
    result = run_pipeline(graph_of(path), home=home)
    error = result.steps["needs"].error
    assert result.steps["needs"].status == "failed"
    assert "requires dagml-surely-not-installed==1.0, which is not installed" in error
    assert "pip install 'dagml-surely-not-installed==1.0'" in error and "attrs" not in error.split("requires")[1]


def test_container_channels_are_checked_and_read_like_any_input(tmp_path):
    path = write_pipeline(
        tmp_path,
        """
from dagml import Image
pipe = Pipeline("channels")
eta = pipe.param("Eta", "0.2")

@pipe.step
def fail_me(): ...

pipe.container("fit", image=Image("xgboost", "1.7-1"), inputs={"bad name": "prep", "x": fail_me},
               hyperparameters={"eta": eta})
""",
    )
    with pytest.raises(PipelineValidationError) as caught:
        graph_of(path)
    kinds = {(p.kind, p.steps) for p in caught.value.problems}
    assert ("invalid-option", ("fit", "bad name")) in kinds
    assert ("unknown-step", ("fit", "prep")) in kinds
    assert not any("Eta" in p.steps for p in caught.value.problems)


SCRIPTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "pipelines", "scripts.py")


def test_existing_scripts_run_locally_with_sagemakers_folder_layout(home):
    result = run_pipeline(graph_of(load_target(SCRIPTS)), home=home)
    status = {name: r.status for name, r in result.steps.items()}
    assert status == {"split": "succeeded", "fit": "succeeded", "check": "succeeded", "FitModel": "succeeded", "ScoreTest": "failed"}
    assert result.metrics("check") == {"max_error": 0.0}
    outputs = result.outputs("split")
    assert sorted(outputs) == ["outputs/test", "outputs/train"]
    assert sorted(os.listdir(outputs["outputs/train"])) == ["train.csv"]
    with open(os.path.join(result.outputs("fit")["model"], "model.json")) as f:
        assert f.read() == '{"a": 2.0, "b": 1.0}'
    log = open(os.path.join(home, "runs", result.run_id, "steps", "split", "log.txt")).read()
    assert "split 20 rows: 15 train, 5 test (every 4th)" in log  # its argument, a param, arrived
    assert "served by the image's serving stack running fit.py's model_fn" in result.steps["ScoreTest"].error


def test_a_script_that_fails_fails_its_step_with_its_log(tmp_path, home):
    (tmp_path / "bad.py").write_text("import sys\nprint('boom')\nsys.exit(3)\n")
    path = write_pipeline(tmp_path, "pipe = Pipeline('bad')\npipe.script('bad', path='bad.py', outputs=['x'])\n")
    result = run_pipeline(graph_of(path), home=home)
    assert result.steps["bad"].status == "failed" and "exited with status 3" in result.steps["bad"].error


@pytest.mark.parametrize(
    ("call", "match"),
    [
        ("pipe.script('s', path='missing.py')", "is not a Python script"),
        ("pipe.script('s', path='ok.py', kind='serving')", "a script runs as 'processing' or 'training'"),
        ("pipe.script('s', path='ok.py', kind='training', outputs=['x'])", "outputs= and arguments= are for kind='processing'"),
        ("pipe.script('s', path='ok.py', hyperparameters={'a': 1})", "not hyperparameters"),
        ("pipe.script('s', path='ok.py', arguments=[None])", "must be a string, a number or a param"),
    ],
)
def test_script_declarations_are_checked(tmp_path, call, match):
    from dagml import DeclarationError

    (tmp_path / "ok.py").write_text("print('ok')\n")
    with pytest.raises(DeclarationError, match=match):
        write_pipeline(tmp_path, f"pipe = Pipeline('s')\n{call}\n")


def test_reading_a_processing_script_without_outputs_or_serving_it_is_a_validation_error(tmp_path):
    (tmp_path / "ok.py").write_text("print('ok')\n")
    path = write_pipeline(
        tmp_path,
        """
pipe = Pipeline("s")
prep = pipe.script("prep", path="ok.py")

@pipe.step
def use(prep): ...

pipe.model("M", model=prep)
""",
    )
    with pytest.raises(PipelineValidationError) as caught:
        graph_of(path)
    kinds = {(p.kind, p.steps) for p in caught.value.problems}
    assert ("not-data", ("use", "prep")) in kinds and ("wrong-kind", ("M", "prep")) in kinds
