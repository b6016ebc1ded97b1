"""Deciding conditions the way SageMaker does: by interpreting the compiled ``Conditions``.

The local runner lowers a condition's expression with the same code the
compiler uses (:func:`dagml.sagemaker.expressions.lower_conditions`) and
interprets the resulting JSON here, so a local run takes the branch the
compiled pipeline would take. :func:`evaluate_expression` evaluates the DSL
tree directly; a property test shows the two always agree. Any definition's
``Conditions`` (an imported one's too) are decided here, with the same meaning
the validation rules (dagml/graph/checks.py) and the drawings assume:

* ``Equals`` / ``In``: numbers by value (``1 == 1.0``), anything else equal only
  to a value of its own type (``"1" != 1``, ``True != 1``).
* ``GreaterThan`` and the other orderings: two numbers by value; two strings
  by code point, as Python orders them (``"10" < "9"``, ``"B" < "a"``), which
  is the service's answer in the SDK's integration test
  test_ppl_var_to_string_and_add (``"1" > "3"`` is false, ``"1" > "0"`` true);
  a date-time (``Execution.StartDateTime``, ``Execution.CurrentDateTime``)
  against another or against an ISO 8601 string (``"2020-12-01"``,
  ``"2020-12-01T10:00:00Z"``; no time zone means UTC), as instants, the way
  the SDK writes such conditions (tests/unit/sagemaker/workflow/test_condition_step.py).
  Anything else (a number and a string, booleans, a string that is no date
  against a date-time) is a :class:`ConditionError` naming both values:
  SageMaker documents no meaning for it, so dagml does not guess one.
* NaN is never equal, greater or less.
* ``Std:JsonGet``'s ``Path`` is keys joined by dots (``regression_metrics.mse.value``)
  into the step's report, and must end at a number: a missing key, an object, a
  list or a string is a :class:`ConditionError` naming the step, the path, what
  the report holds there and "did you mean" (a dagml metric is a number).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from dagml.local.errors import ConditionError
from dagml.spec.conditions import And, Compare, Expr, In, MetricRef, Not, Or
from dagml.spec.params import Param
from dagml.spec.reports import MetricLookupError, number_at

__all__ = ["ConditionError", "describe_values", "evaluate_conditions", "evaluate_expression"]


#: Step name -> its metrics report (a JSON object, maybe nested: dagml.spec.reports).
Metrics = Mapping[str, Mapping[str, Any]]


def _resolver(
    metrics: Metrics, params: Mapping[str, Any], where: str, execution: Mapping[str, Any]
) -> Callable[[Any], Any]:
    def resolve(value: Any) -> Any:
        if isinstance(value, dict) and "Get" in value:
            path = value["Get"]
            if path.startswith("Parameters."):
                name = path[len("Parameters.") :]
                if name not in params:
                    raise ConditionError(f"{where}: no value for parameter {name!r}.")
                return params[name]
            if path.startswith("Execution.") and path[len("Execution.") :] in execution:
                return execution[path[len("Execution.") :]]
            raise ConditionError(f"{where}: cannot resolve {path!r} locally.")
        if isinstance(value, dict) and "Std:JsonGet" in value:
            spec = value["Std:JsonGet"]
            step = spec["PropertyFile"]["Get"].split(".")[1]
            report = metrics.get(step)
            if report is None:
                raise ConditionError(f"{where}: step {step!r} produced no metrics report.")
            return _metric(report, step, spec["Path"], where)
        return value

    return resolve


def _metric(report: Mapping[str, Any], step: str, path: str, where: str) -> Any:
    """The number at ``path`` (dotted, as ``Std:JsonGet`` reads it) in ``step``'s report, or a
    ConditionError naming the step, the path, what the report holds there and "did you mean"."""
    try:
        return number_at(report, path)
    except MetricLookupError as exc:
        raise ConditionError(
            f"{where}: metrics report of {step!r} {exc}. Fix: return {path!r} from {step!r} "
            "(a number), or read a number its report holds."
        ) from None


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _equals(a: Any, b: Any) -> bool:
    if _number(a) and _number(b):
        return float(a) == float(b)
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return type(a) is type(b) and a == b


def _instant(value: Any) -> datetime | None:
    """A date-time, or an ISO 8601 string as one (UTC when it names no zone); None for anything else."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
        except ValueError:
            return None
    else:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def _comparable(a: Any, b: Any, op: str, where: str) -> tuple[Any, Any]:
    """The two values as ordering sees them (module docstring), or a ConditionError naming both."""
    if _number(a) and _number(b):
        return float(a), float(b)
    if isinstance(a, str) and isinstance(b, str):
        return a, b  # by code point
    if isinstance(a, datetime) or isinstance(b, datetime):
        x, y = _instant(a), _instant(b)
        if x is not None and y is not None:
            return x, y
    raise ConditionError(
        f"{where}: {op} needs two numbers, two strings or two date-times, got {a!r} and {b!r}. "
        "Fix: compare values of one type (a String param with a string, a metric with a number)."
    )


def _order(op: str, a: Any, b: Any, where: str) -> bool:
    x, y = _comparable(a, b, op, where)
    if isinstance(x, float) and (math.isnan(x) or math.isnan(y)):
        return False
    return bool({"GreaterThan": x > y, "GreaterThanOrEqualTo": x >= y, "LessThan": x < y, "LessThanOrEqualTo": x <= y}[op])


def _equals_values(a: Any, b: Any) -> bool:
    """Equality, with a date-time equal to the ISO 8601 string of the same instant."""
    if isinstance(a, datetime) or isinstance(b, datetime):
        x, y = _instant(a), _instant(b)
        return x is not None and x == y
    return _equals(a, b)


def _decide(cond: Mapping[str, Any], resolve: Callable[[Any], Any], where: str) -> bool:
    kind = cond["Type"]
    if kind == "Not":
        return not _decide(cond["Condition"], resolve, where)
    if kind == "Or":
        return any(_decide(c, resolve, where) for c in cond["Conditions"])
    if kind == "In":
        value = resolve(cond["QueryValue"])
        return any(_equals_values(value, resolve(v)) for v in cond["Values"])
    left, right = resolve(cond["LeftValue"]), resolve(cond["RightValue"])
    if kind == "Equals":
        return _equals_values(left, right)
    if kind == "NotEquals":  # in the published schema, not written by the SDK
        return not _equals_values(left, right)
    return _order(kind, left, right, where)


def evaluate_conditions(
    conditions: Sequence[Mapping[str, Any]],
    metrics: Metrics,
    params: Mapping[str, Any],
    where: str = "condition",
    execution: Mapping[str, Any] | None = None,
) -> bool:
    """Decide a compiled ``Conditions`` list (all must hold) with these metrics and params.

    ``execution`` holds the execution variables a definition may read (``{"StartDateTime":
    datetime(...)}`` for ``Get Execution.StartDateTime``); without it such a read is an error.
    """
    resolve = _resolver(metrics, params, where, execution or {})
    return all(_decide(c, resolve, where) for c in conditions)


def join_text(value: Any, metrics: Metrics, params: Mapping[str, Any], where: str) -> str:
    """A definition's text value (a Fail step's ``ErrorMessage``) as the service makes it: a
    ``Std:Join`` joins its resolved values, each as SageMaker passes a value as text."""
    from dagml.runtime.entry import param_text

    resolve = _resolver(metrics, params, where, {})
    if isinstance(value, dict) and "Std:Join" in value:
        join = value["Std:Join"]
        return str(join["On"]).join(param_text(resolve(v)) for v in join["Values"])
    return param_text(resolve(value))


def _value(o: Any, metrics: Metrics, params: Mapping[str, Any]) -> Any:
    if isinstance(o, MetricRef):
        if o.step not in metrics:
            raise ConditionError(f"condition: step {o.step!r} produced no metrics report.")
        return _metric(metrics[o.step], o.step, o.key, "condition")
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
        if not (_number(a) and _number(b)) and not (isinstance(a, str) and isinstance(b, str)):
            raise ConditionError(f"condition: {expr.op} needs two numbers or two strings, got {a!r} and {b!r}.")
        return bool({"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[expr.op])
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
        except (KeyError, ConditionError):
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
