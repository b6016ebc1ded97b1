"""Paths into metrics reports: what a condition reads, and what it says when the report lacks it."""

import pytest
from hypothesis import given

from dagml.spec.reports import MetricLookupError, number_at, number_leaves, path_problem, resolve, split_path
from tests.strategies import metrics_reports

REPORT = {
    "regression_metrics": {
        "mse": {"value": 0.3, "standard_deviation": "NaN"},
        "r2": {"value": 0.8},
        "confusion_matrix": {"0": {"0": 3, "1": 1}},
    },
    "curve": [0.1, 0.2],
    "rows": 120,
}


def test_number_leaves_are_every_number_by_its_path():
    assert number_leaves(REPORT) == {
        "regression_metrics.mse.value": 0.3,
        "regression_metrics.r2.value": 0.8,
        "regression_metrics.confusion_matrix.0.0": 3,
        "regression_metrics.confusion_matrix.0.1": 1,
        "rows": 120,
    }
    assert number_leaves({"accuracy": 0.97, "ok": True}) == {"accuracy": 0.97}  # a boolean is no number


def test_a_path_is_keys_joined_by_dots():
    assert split_path("regression_metrics.mse.value") == ("regression_metrics", "mse", "value")
    assert path_problem("accuracy") is None and path_problem("a.b") is None
    assert path_problem("a..b") and path_problem(".a") and path_problem("")
    assert resolve(REPORT, "regression_metrics.mse") == {"value": 0.3, "standard_deviation": "NaN"}
    assert number_at(REPORT, "regression_metrics.mse.value") == 0.3 and number_at(REPORT, "rows") == 120


@pytest.mark.parametrize(
    "path, says",
    [
        ("regression_metrics.mes.value", "has no 'regression_metrics.mes.value' ('regression_metrics' holds 'confusion_matrix', 'mse', 'r2') (did you mean 'regression_metrics.mse.value'?)"),
        ("accuracy", "has no 'accuracy' (its top level holds 'curve', 'regression_metrics', 'rows')"),
        ("rows.count", "has no 'rows.count': 'rows' is 120, which holds no 'count'"),
        ("regression_metrics.mse", "has an object at 'regression_metrics.mse' (holding 'standard_deviation', 'value'), not a number (did you mean 'regression_metrics.mse.value'?)"),
        ("regression_metrics.mse.standard_deviation", "has a string ('NaN') at 'regression_metrics.mse.standard_deviation', not a number"),
        ("curve", "has a list at 'curve', not a number"),
    ],
)
def test_a_path_that_reads_no_number_says_where_it_stopped(path, says):
    with pytest.raises(MetricLookupError) as info:
        number_at(REPORT, path)
    assert str(info.value).startswith(says) and info.value.path == path
    assert isinstance(info.value, LookupError)


@given(metrics_reports())
def test_every_number_of_any_report_is_read_back_by_its_path(report):
    for path, number in number_leaves(report).items():
        assert number_at(report, path) == number
