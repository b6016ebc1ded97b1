import pytest

from dagml import ConditionUsageError, DeclarationError, Pipeline, all_of, any_of, not_
from dagml.spec.conditions import And, Compare, In, MetricRef, Not, Or, describe, eq


@pytest.fixture
def parts():
    pipe = Pipeline("p")
    t = pipe.param("Threshold", 0.9)

    @pipe.step
    def evaluate() -> dict[str, float]:
        return {"accuracy": 0.97}

    return pipe, evaluate, t


@pytest.mark.parametrize("op", ["==", "!=", "<", "<=", ">", ">="])
def test_all_six_comparisons_build_a_compare(parts, op):
    _, evaluate, t = parts
    left = evaluate["accuracy"]
    expr = {"==": left == t, "!=": left != t, "<": left < t, "<=": left <= t, ">": left > t, ">=": left >= t}[op]
    assert isinstance(expr, Compare) and expr.op == op
    assert isinstance(expr.left, MetricRef) and (expr.left.step, expr.left.key) == ("evaluate", "accuracy")
    assert expr.right is t


def test_reflected_comparisons_keep_meaning(parts):
    _, evaluate, t = parts
    expr = evaluate["accuracy"] > 0.5  # Python reflects to accuracy > 0.5
    assert isinstance(expr, Compare) and expr.op == ">" and expr.right == 0.5
    expr = t == evaluate["accuracy"]  # Param has identity ==, so the metric's __eq__ runs
    assert isinstance(expr, Compare) and expr.op == "=="


def test_and_or_not_isin_build_one_tree_and_flatten(parts):
    _, evaluate, t = parts
    a, b, c = evaluate["accuracy"] >= t, evaluate["f1"] > 0.5, evaluate["loss"] < 1
    both = a & b & c
    assert isinstance(both, And) and len(both.terms) == 3
    either = a | b | c
    assert isinstance(either, Or) and len(either.terms) == 3
    assert isinstance(~a, Not) and (~a).term is a
    member = evaluate["k"].isin([1, 2, 3])
    assert isinstance(member, In) and member.options == (1, 2, 3)
    assert isinstance(all_of(a, b), And) and isinstance(any_of(a, b), Or) and isinstance(not_(a), Not)


def test_describe_uses_param_names_and_defaults(parts):
    _, evaluate, t = parts
    expr = (evaluate["accuracy"] >= t) | ~(evaluate["loss"].isin([1, 2]))
    assert describe(expr) == "evaluate.accuracy >= Threshold (0.9) or not evaluate.loss in [1, 2]"
    assert describe(expr, defaults=False).startswith("evaluate.accuracy >= Threshold or")


def test_bool_of_an_expression_is_a_clear_error(parts):
    _, evaluate, t = parts
    with pytest.raises(ConditionUsageError, match=r"evaluate.accuracy > 0.9.*pipe.condition"):
        if evaluate["accuracy"] > 0.9:
            pass
    with pytest.raises(ConditionUsageError):
        bool(evaluate["accuracy"])
    with pytest.raises(ConditionUsageError):
        (evaluate["accuracy"] > 1) and (evaluate["accuracy"] < 2)


@pytest.mark.parametrize("bad", [None, [1], object(), {"a": 1}])
def test_operands_must_be_metrics_params_or_literals(parts, bad):
    _, evaluate, _ = parts
    with pytest.raises(DeclarationError, match="cannot be used in a condition"):
        _ = evaluate["accuracy"] >= bad


def test_combining_non_expressions_is_refused(parts):
    _, evaluate, _ = parts
    with pytest.raises(DeclarationError, match="takes condition expressions"):
        (evaluate["accuracy"] > 1) & True
    with pytest.raises(DeclarationError, match="isin"):
        evaluate["accuracy"].isin("abc")
    with pytest.raises(DeclarationError, match="at least one"):
        evaluate["accuracy"].isin([])
    with pytest.raises(DeclarationError, match="unknown comparison"):
        from dagml.spec.conditions import compare

        compare("=~", 1, 2)


def test_eq_helper_compares_a_param_with_a_literal(parts):
    pipe, _, _ = parts
    mode = pipe.param("Mode", "fast")
    expr = eq(mode, "slow")
    assert isinstance(expr, Compare) and expr.left is mode and expr.right == "slow"


# ---------------------------------------------------------------- a metric is a path into a nested report
def test_indexing_a_metric_extends_its_path_to_the_json_get_path(parts):
    _, evaluate, t = parts
    nested = evaluate["regression_metrics"]["mse"]["value"]
    assert isinstance(nested, MetricRef) and (nested.step, nested.key) == ("evaluate", "regression_metrics.mse.value")
    assert evaluate["regression_metrics.mse.value"].key == nested.key
    assert evaluate["regression_metrics.mse"]["value"].key == nested.key
    assert describe(nested <= t) == "evaluate.regression_metrics.mse.value <= Threshold (0.9)"


@pytest.mark.parametrize(
    "ref, says",
    [
        (lambda e: e["a..b"], "metric path 'a..b' has an empty key"),
        (lambda e: e[".a"], "metric path '.a' has an empty key"),
        (lambda e: e["a."], "metric path 'a.' has an empty key"),
        (lambda e: e[""], "metric key '' must be a non-empty string"),
        (lambda e: e["a"][""], "metric key '' must be a non-empty string"),
        (lambda e: e["a"][0], "metric key 0 must be a non-empty string"),
        (lambda e: e["a"]["b.c"], r"'b.c', one key of the path under 'a', contains '.'.*Fix: one key per \[...\], evaluate\['a'\]\['b'\]\['c'\]"),
    ],
)
def test_a_path_with_an_empty_key_or_a_dotted_key_on_its_own_is_refused(parts, ref, says):
    _, evaluate, _ = parts
    with pytest.raises(DeclarationError, match=says) as info:
        ref(evaluate)
    assert "step 'evaluate'" in str(info.value) and ("Fix:" in str(info.value) or "e.g." in str(info.value))
