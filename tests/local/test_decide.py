"""Local decisions equal the decisions computed from the compiled JSON, every time."""

import pytest
from hypothesis import given

from dagml import Pipeline
from dagml.graph.lowered import lower_conditions
from dagml.local.decide import ConditionError, describe_values, evaluate_conditions, evaluate_expression
from tests.strategies import condition_cases


@given(condition_cases())
def test_local_decision_equals_the_compiled_decision(case):
    expr, metrics, params = case
    assert evaluate_conditions(lower_conditions(expr), metrics, params) == evaluate_expression(expr, metrics, params)


def parts():
    pipe = Pipeline("p")
    t = pipe.param("T", 0.9)

    @pipe.step(metrics=True)
    def evaluate():
        return {}

    return evaluate, t


def test_the_gate_and_its_values_in_words():
    evaluate, t = parts()
    expr = evaluate["accuracy"] >= t
    conds = lower_conditions(expr)
    assert evaluate_conditions(conds, {"evaluate": {"accuracy": 0.97}}, {"T": 0.9}) is True
    assert evaluate_conditions(conds, {"evaluate": {"accuracy": 0.97}}, {"T": 1.01}) is False
    assert describe_values(expr, {"evaluate": {"accuracy": 0.97}}, {"T": 0.9}) == "0.97 >= 0.9"


def test_a_missing_metric_is_an_error_not_false():
    evaluate, t = parts()
    with pytest.raises(ConditionError, match="has no 'accuracy'.*Fix: return 'accuracy'"):
        evaluate_conditions(lower_conditions(evaluate["accuracy"] >= t), {"evaluate": {"acc": 1.0}}, {"T": 0.9})
    with pytest.raises(ConditionError, match="no metrics report"):
        evaluate_conditions(lower_conditions(evaluate["accuracy"] >= t), {}, {"T": 0.9})


NESTED = {"evaluate": {"regression_metrics": {"mse": {"value": 0.3, "standard_deviation": "NaN"}}, "curve": [0.1]}}


def test_a_nested_metric_is_read_by_its_dotted_path():
    evaluate, t = parts()
    expr = evaluate["regression_metrics"]["mse"]["value"] <= t
    assert lower_conditions(expr)[0]["LeftValue"]["Std:JsonGet"]["Path"] == "regression_metrics.mse.value"
    assert evaluate_conditions(lower_conditions(expr), NESTED, {"T": 0.9}) is True
    assert evaluate_expression(expr, NESTED, {"T": 0.1}) is False
    assert describe_values(expr, NESTED, {"T": 0.9}) == "0.3 <= 0.9"


@pytest.mark.parametrize(
    "path, says",
    [
        ("regression_metrics.mse.valeu", r"has no 'regression_metrics.mse.valeu' \('regression_metrics.mse' holds 'standard_deviation', 'value'\) \(did you mean 'regression_metrics.mse.value'\?\)"),
        ("regression_metrics.mse", r"has an object at 'regression_metrics.mse' \(holding 'standard_deviation', 'value'\), not a number \(did you mean 'regression_metrics.mse.value'\?\)"),
        ("regression_metrics.mse.standard_deviation", r"has a string \('NaN'\) at 'regression_metrics.mse.standard_deviation', not a number"),
        ("curve", "has a list at 'curve', not a number"),
    ],
)
def test_a_path_that_reads_no_number_fails_the_condition_both_ways(path, says):
    evaluate, t = parts()
    expr = evaluate[path] >= t
    for decide in (lambda: evaluate_conditions(lower_conditions(expr), NESTED, {"T": 0.9}, "condition 'Gate'"),
                   lambda: evaluate_expression(expr, NESTED, {"T": 0.9})):
        with pytest.raises(ConditionError, match=f"metrics report of 'evaluate' {says}.*Fix:"):
            decide()
    assert describe_values(expr, NESTED, {"T": 0.9}) == "? >= 0.9"


def test_string_and_number_never_equal_and_ordering_needs_numbers():
    from dagml.spec.conditions import eq

    pipe = Pipeline("p")
    mode = pipe.param("Mode", "1")
    assert evaluate_conditions(lower_conditions(eq(mode, "1")), {}, {"Mode": "1"}) is True
    conds = [{"Type": "Equals", "LeftValue": {"Get": "Parameters.Mode"}, "RightValue": 1}]
    assert evaluate_conditions(conds, {}, {"Mode": "1"}) is False
    with pytest.raises(ConditionError, match="needs two numbers, two strings or two date-times, got .a. and 1"):
        evaluate_conditions([{"Type": "GreaterThan", "LeftValue": "a", "RightValue": 1}], {}, {})


# ---------------------------------------------------------------- what newly decides (docs/deploy.md)


def gt(left, right):
    return [{"Type": "GreaterThan", "LeftValue": left, "RightValue": right}]


def test_strings_order_by_code_point_as_the_service_answered():
    """test_ppl_var_to_string_and_add: GreaterThan("1", "3") is false and GreaterThan("1", "0") true."""
    mine = {"Get": "Parameters.MyString"}
    assert evaluate_conditions(gt(mine, "3"), {}, {"MyString": "1"}) is False
    assert evaluate_conditions(gt(mine, "0"), {}, {"MyString": "1"}) is True
    # by code point, not as numbers and not by locale
    assert evaluate_conditions(gt("9", "10"), {}, {}) is True
    assert evaluate_conditions(gt("a", "B"), {}, {}) is True


def test_execution_start_date_time_orders_as_an_instant():
    from datetime import datetime, timezone

    start = {"Get": "Execution.StartDateTime"}
    execution = {"StartDateTime": datetime(2021, 3, 4, 12, 0, tzinfo=timezone.utc)}
    assert evaluate_conditions(gt(start, "2020-12-01"), {}, {}, execution=execution) is True
    assert evaluate_conditions(gt(start, "2021-03-04T13:00:00+01:00"), {}, {}, execution=execution) is False
    assert evaluate_conditions(gt(start, "2021-03-04T11:59:59Z"), {}, {}, execution=execution) is True
    equal = [{"Type": "Equals", "LeftValue": start, "RightValue": "2021-03-04T12:00:00Z"}]
    assert evaluate_conditions(equal, {}, {}, execution=execution) is True
    with pytest.raises(ConditionError, match="cannot resolve 'Execution.StartDateTime' locally"):
        evaluate_conditions(gt(start, "2020-12-01"), {}, {})
    with pytest.raises(ConditionError, match="got datetime.datetime.*and 'soon'"):
        evaluate_conditions(gt(start, "soon"), {}, {}, execution=execution)


@pytest.mark.parametrize("left, right", [("a", 1), (1, "a"), (True, False), (True, 1), (None, 1)])
def test_ordering_a_mix_is_an_error_naming_both_values(left, right):
    with pytest.raises(ConditionError) as info:
        evaluate_conditions(gt(left, right), {}, {}, where="condition 'C'")
    assert f"got {left!r} and {right!r}" in str(info.value) and str(info.value).startswith("condition 'C'")


def test_the_dsl_and_the_compiled_conditions_order_strings_alike():
    pipe = Pipeline("p")
    mode = pipe.param("Mode", "b")
    for value, expected in (("a", True), ("b", False), ("c", False), ("B", True)):
        expr = mode > value
        assert evaluate_conditions(lower_conditions(expr), {}, {"Mode": "b"}) is expected
        assert evaluate_expression(expr, {}, {"Mode": "b"}) is expected


def test_a_fail_message_is_the_compiled_value_resolved():
    """The local runner resolves the ErrorMessage the compiler writes (graph.lowered.lower_message)."""
    from dagml.graph.lowered import lower_message
    from dagml.local.decide import join_text
    from dagml.spec.conditions import MetricRef
    from dagml.spec.params import Param

    limit = Param("Limit", 6.0)
    message = lower_message(["MSE ", MetricRef("evaluate", "mse"), " > ", limit])
    assert join_text(message, {"evaluate": {"mse": 7.25}}, {"Limit": 6.5}, "fail 'F'") == "MSE 7.25 > 6.5"
    assert join_text(lower_message(["plain"]), {}, {}, "fail 'F'") == "plain"
    with pytest.raises(ConditionError, match=r"fail 'F': metrics report of 'evaluate' has no 'mse'"):
        join_text(message, {"evaluate": {"rmse": 1.0}}, {"Limit": 6.5}, "fail 'F'")
