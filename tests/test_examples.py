"""The iris example: validates, and its steps are plain functions a user can unit-test."""

import pytest

from dagml.spec.target import load_target

from .conftest import EXAMPLES


@pytest.fixture(scope="module")
def iris():
    return load_target(f"{EXAMPLES}/iris_pipeline.py")


def test_iris_validates_with_the_gate(iris):
    g = iris.validate()
    assert g.order[:4] == ("prepare", "train", "evaluate", "CheckAccuracy")
    check = g["CheckAccuracy"]
    assert check.then == ("RegisterModel", "BatchTransformModel", "BatchTransform")
    assert check.otherwise == ("AccuracyTooLow",)
    assert g["RegisterModel"].group == "SklearnIris" and g["RegisterModel"].approval == "Approved"
    assert [p.name for p in g.params] == ["AccuracyThreshold", "NEstimators", "MinSamplesLeaf", "TestSize"]
    assert g.warnings == ()


def test_iris_steps_run_as_plain_functions(iris):
    data = iris["prepare"](0.3)
    model = iris["train"](data, 10, 3)
    report = iris["evaluate"](model, data)
    assert report.keys() == {"multiclass_classification_metrics"}  # SageMaker's model-quality format
    assert report["multiclass_classification_metrics"]["accuracy"]["value"] > 0.9


# ---------------------------------------------------------------- abalone (issue #15)
@pytest.fixture(scope="module")
def abalone():
    return load_target(f"{EXAMPLES}/abalone_pipeline.py")


def test_abalone_validates_with_named_outputs_and_the_mse_gate(abalone):
    g = abalone.validate()
    assert g.order[:4] == ("preprocess", "train", "evaluate", "AbaloneMseCheck")
    assert [o.name for o in g["preprocess"].outputs] == ["train", "validation", "test"]
    check = g["AbaloneMseCheck"]
    assert check.then == ("RegisterAbaloneModel", "AbaloneModel", "AbaloneTransform")
    assert check.otherwise == ("AbaloneMseFail",)
    assert g.describe_condition("AbaloneMseCheck") == "evaluate.regression_metrics.mse.value <= MseThreshold (6.0)"
    assert g.warnings == ()


def test_abalone_steps_run_as_plain_functions(abalone, tmp_path):
    outputs = {name: tmp_path / name for name in ("train", "validation", "test")}
    for directory in outputs.values():
        directory.mkdir()
    abalone["preprocess"](outputs=outputs, raw=f"{EXAMPLES}/data/abalone.csv")
    sizes = {name: len((d / f"{name}.csv").read_text().splitlines()) for name, d in outputs.items()}
    assert sizes == {"train": 840, "validation": 180, "test": 180}
    model = abalone["train"](str(outputs["train"]), str(outputs["validation"]))
    report = abalone["evaluate"](model, str(outputs["test"]))
    mse = report["regression_metrics"]["mse"]
    assert 0 < mse["value"] < 6.0 and mse["standard_deviation"] > 0


@pytest.mark.parametrize("threshold, registered", [(None, True), ("1.0", False)])
def test_abalone_runs_locally_down_both_branches(abalone, tmp_path, threshold, registered):
    from dagml.local.runner import run_pipeline

    params = {} if threshold is None else {"MseThreshold": threshold}
    result = run_pipeline(abalone.validate(), params=params, home=str(tmp_path / "home"))
    mse = result.metrics("evaluate")["regression_metrics"]["mse"]["value"]
    if registered:
        assert result.ok, result.error
        assert result.steps["RegisterAbaloneModel"].status == "succeeded"
        with open(result.outputs("AbaloneTransform")["predictions"]) as f:
            predictions = [float(x) for x in f.read().split()]
        assert len(predictions) == 60 and all(1 < p < 30 for p in predictions)
    else:
        assert not result.ok and result.steps["AbaloneMseFail"].status == "failed"
        assert result.steps["RegisterAbaloneModel"].status == "skipped"
        assert f"Execution failed: test MSE {mse} is above the threshold 1.0" in result.error
