"""SageMaker's model-quality report: the checker and the helper that builds one."""

import math

import pytest

import dagml
from dagml.spec.errors import ReportError
from dagml.spec.model_quality import problems, problems_of_paths

# The multiclass example of the "Model quality metrics" page of the SageMaker developer guide, cut short.
MONITOR = {
    "version": 0.0,
    "multiclass_classification_metrics": {
        "confusion_matrix": {"0": {"0": 1180, "1": 510}, "1": {"0": 268, "1": 138}},
        "accuracy": {"value": 0.6288167938931297, "standard_deviation": 0.00375663881299405},
        "weighted_f1": {"value": 0.6571162346664904, "standard_deviation": "NaN"},
    },
}
BINARY_CURVES = {
    "binary_classification_metrics": {
        "receiver_operating_characteristic_curve": {"false_positive_rates": [0.0, 1.0], "true_positive_rates": [0.0, 1.0]},
        "precision_recall_curve": {"precisions": [1.0], "recalls": [0.0]},
        "auc": {"value": 1.0},
    }
}


def test_model_monitors_own_reports_have_the_shape():
    assert problems(MONITOR) == [] and problems(BINARY_CURVES) == []
    assert problems(dagml.model_quality("regression", mse=0.3)) == []


@pytest.mark.parametrize(
    "report, says",
    [
        ({"accuracy": 0.97}, "it has no top-level 'regression_metrics' or 'binary_classification_metrics' or 'multiclass_classification_metrics' (it has 'accuracy')"),
        ({"regression_metrics": {"mse": {"value": 1}}, "binary_classification_metrics": {"auc": {"value": 1}}}, "it has 2 problem types"),
        ({"regression_metrics": {"mse": 0.3}}, "'regression_metrics.mse' is 0.3, not an object {'value': number, 'standard_deviation': number}"),
        ({"regression_metrics": {"mse": {"standard_deviation": 0.1}}}, "'regression_metrics.mse' has no 'value'"),
        ({"regression_metrics": {"mse": {"value": "low"}}}, "'regression_metrics.mse.value' is 'low', not a number"),
        ({"regression_metrics": {"mse": {"value": 1, "std": 0.1}}}, "'regression_metrics.mse.std' is not a field of a metric"),
        ({"binary_classification_metrics": {"precision_recall_curve": {"precisions": [1.0]}}}, "'binary_classification_metrics.precision_recall_curve.recalls' is missing or not a list"),
        ({"binary_classification_metrics": {"confusion_matrix": [[1, 2], [3, 4]]}}, "'binary_classification_metrics.confusion_matrix' is a list, not an object"),
    ],
)
def test_what_studio_cannot_show_is_named_by_its_path(report, says):
    assert says in problems(report)[0]


def test_known_paths_are_checked_without_their_values():
    assert problems_of_paths(["multiclass_classification_metrics.accuracy.value"]) == []
    assert problems_of_paths(["regression_metrics"]) == []  # its value is only known when it runs
    assert problems_of_paths(["regression_metrics.mse.val"]) == [
        "'regression_metrics.mse' has no 'value'",
        "'regression_metrics.mse.val' is not a field of a metric (only 'value' and 'standard_deviation')",
    ]
    assert "no top-level" in problems_of_paths(["accuracy"])[0]


def test_model_quality_builds_the_report_a_condition_reads_by_path():
    import numpy as np

    report = dagml.model_quality("regression", mse=np.float64(0.3), r2=(0.8, 0.01), rows=np.int64(7))
    assert report == {
        "regression_metrics": {"mse": {"value": 0.3}, "r2": {"value": 0.8, "standard_deviation": 0.01}, "rows": {"value": 7}}
    }
    assert type(report["regression_metrics"]["rows"]["value"]) is int
    matrix = {"0": {"0": 5, "1": 1}, "1": {"0": 0, "1": 4}}
    assert dagml.model_quality("binary", confusion_matrix=matrix, auc=1.0)["binary_classification_metrics"]["confusion_matrix"] == matrix


@pytest.mark.parametrize(
    "call, says",
    [
        (lambda: dagml.model_quality("regresion", mse=0.3), "unknown problem type.*'regression', 'binary', 'multiclass'"),
        (lambda: dagml.model_quality("regression"), "no metrics"),
        (lambda: dagml.model_quality("regression", mse=math.nan), "mse is nan; a metric is a finite number"),
        (lambda: dagml.model_quality("regression", mse=(0.3, math.inf)), "mse is inf"),
        (lambda: dagml.model_quality("multiclass", accuracy="high"), "accuracy is 'high'"),
        (lambda: dagml.model_quality("multiclass", accuracy=True), "accuracy is True"),
    ],
)
def test_model_quality_refuses_what_is_no_finite_number(call, says):
    with pytest.raises(ReportError, match=says) as info:
        call()
    assert isinstance(info.value, ValueError) and isinstance(info.value, dagml.DagmlError) and "Fix:" in str(info.value)
