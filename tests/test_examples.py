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
    assert set(report) == {"accuracy"} and report["accuracy"] > 0.9
