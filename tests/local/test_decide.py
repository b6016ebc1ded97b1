"""Local decisions equal the decisions computed from the compiled JSON, every time."""

import pytest
from hypothesis import given

from dagml import Pipeline
from dagml.local.decide import ConditionError, describe_values, evaluate_conditions, evaluate_expression
from dagml.sagemaker.expressions import lower_conditions
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


def test_string_and_number_never_equal_and_ordering_needs_numbers():
    from dagml.dsl.conditions import eq

    pipe = Pipeline("p")
    mode = pipe.param("Mode", "1")
    assert evaluate_conditions(lower_conditions(eq(mode, "1")), {}, {"Mode": "1"}) is True
    conds = [{"Type": "Equals", "LeftValue": {"Get": "Parameters.Mode"}, "RightValue": 1}]
    assert evaluate_conditions(conds, {}, {"Mode": "1"}) is False
    with pytest.raises(ConditionError, match="needs two numbers"):
        evaluate_conditions([{"Type": "GreaterThan", "LeftValue": "a", "RightValue": 1}], {}, {})
