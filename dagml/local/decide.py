"""Deciding conditions the way SageMaker does: by interpreting the compiled ``Conditions``.

The local runner lowers a condition's expression with the same code the
compiler uses (:func:`dagml.sagemaker.expressions.lower_conditions`) and
interprets the resulting JSON here, so a local run takes the branch the
compiled pipeline would take. :func:`evaluate_expression` evaluates the DSL
tree directly; a property test shows the two always agree.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Mapping

from dagml.dsl.conditions import And, Compare, Expr, In, MetricRef, Not, Or
from dagml.dsl.params import Param
from dagml.errors import DagmlError

__all__ = ["ConditionError", "describe_values", "evaluate_conditions", "evaluate_expression"]


class ConditionError(DagmlError, ValueError):
    """A condition cannot be decided (a metric is missing or not a number)."""


Metrics = Mapping[str, Mapping[str, float]]


def _resolver(metrics: Metrics, params: Mapping[str, Any], where: str) -> Callable[[Any], Any]:
    def resolve(value: Any) -> Any:
        if isinstance(value, dict) and "Get" in value:
            path = value["Get"]
            if path.startswith("Parameters."):
                name = path[len("Parameters.") :]
                if name not in params:
                    raise ConditionError(f"{where}: no value for parameter {name!r}.")
                return params[name]
            raise ConditionError(f"{where}: cannot resolve {path!r} locally.")
        if isinstance(value, dict) and "Std:JsonGet" in value:
            spec = value["Std:JsonGet"]
            step = spec["PropertyFile"]["Get"].split(".")[1]
            key = spec["Path"]
            report = metrics.get(step)
            if report is None:
                raise ConditionError(f"{where}: step {step!r} produced no metrics report.")
            if key not in report:
                raise ConditionError(
                    f"{where}: metrics report of {step!r} has no {key!r} (it has {', '.join(sorted(report)) or 'nothing'}). "
                    f"Fix: return {key!r} from {step!r}."
                )
            return report[key]
        return value

    return resolve


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _equals(a: Any, b: Any) -> bool:
    if _number(a) and _number(b):
        return float(a) == float(b)
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return type(a) is type(b) and a == b


def _order(op: str, a: Any, b: Any, where: str) -> bool:
    if not (_number(a) and _number(b)):
        raise ConditionError(f"{where}: {op} needs two numbers, got {a!r} and {b!r}.")
    x, y = float(a), float(b)
    if math.isnan(x) or math.isnan(y):
        return False
    return {"GreaterThan": x > y, "GreaterThanOrEqualTo": x >= y, "LessThan": x < y, "LessThanOrEqualTo": x <= y}[op]


def _decide(cond: Mapping[str, Any], resolve: Callable[[Any], Any], where: str) -> bool:
    kind = cond["Type"]
    if kind == "Not":
        return not _decide(cond["Condition"], resolve, where)
    if kind == "Or":
        return any(_decide(c, resolve, where) for c in cond["Conditions"])
    if kind == "In":
        value = resolve(cond["QueryValue"])
        return any(_equals(value, resolve(v)) for v in cond["Values"])
    left, right = resolve(cond["LeftValue"]), resolve(cond["RightValue"])
    if kind == "Equals":
        return _equals(left, right)
    return _order(kind, left, right, where)


def evaluate_conditions(conditions: list[Mapping[str, Any]], metrics: Metrics, params: Mapping[str, Any], where: str = "condition") -> bool:
    """Decide a compiled ``Conditions`` list (all must hold) with these metrics and params."""
    resolve = _resolver(metrics, params, where)
    return all(_decide(c, resolve, where) for c in conditions)


def _value(o: Any, metrics: Metrics, params: Mapping[str, Any]) -> Any:
    if isinstance(o, MetricRef):
        return metrics[o.step][o.key]
    if isinstance(o, Param):
        return params[o.name]
    return o


def evaluate_expression(expr: Expr, metrics: Metrics, params: Mapping[str, Any]) -> bool:
    """Decide the DSL expression directly, with Python's own meaning of each operator."""
    if isinstance(expr, Compare):
        a, b = _value(expr.left, metrics, params), _value(expr.right, metrics, params)
        if expr.op == "==":
            return _equals(a, b)
        if expr.op == "!=":
            return not _equals(a, b)
        return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[expr.op]
    if isinstance(expr, In):
        v = _value(expr.value, metrics, params)
        return any(_equals(v, _value(o, metrics, params)) for o in expr.options)
    if isinstance(expr, And):
        return all(evaluate_expression(t, metrics, params) for t in expr.terms)
    if isinstance(expr, Or):
        return any(evaluate_expression(t, metrics, params) for t in expr.terms)
    if isinstance(expr, Not):
        return not evaluate_expression(expr.term, metrics, params)
    raise TypeError(f"not a condition expression: {expr!r}")


def describe_values(expr: Expr, metrics: Metrics, params: Mapping[str, Any]) -> str:
    """The expression with actual values: ``0.97 >= 0.9``."""
    def show(o: Any) -> str:
        try:
            v = _value(o, metrics, params)
        except KeyError:
            return "?"
        return f"{v:g}" if _number(v) else repr(v)

    if isinstance(expr, Compare):
        return f"{show(expr.left)} {expr.op} {show(expr.right)}"
    if isinstance(expr, In):
        return f"{show(expr.value)} in [{', '.join(show(o) for o in expr.options)}]"
    if isinstance(expr, And):
        return " and ".join(f"({describe_values(t, metrics, params)})" for t in expr.terms)
    if isinstance(expr, Or):
        return " or ".join(f"({describe_values(t, metrics, params)})" for t in expr.terms)
    if isinstance(expr, Not):
        return f"not ({describe_values(expr.term, metrics, params)})"
    return repr(expr)
