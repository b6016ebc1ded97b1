"""Conditions lowered to the pipeline definition's ``Conditions`` form: the one IR of a decision.

The compiler writes these lists into each ConditionStep, and the local runner
interprets the same lists (:mod:`dagml.local.decide`), so a local run takes the
branch the compiled pipeline would. The graph lowers every condition once, at
build (:attr:`dagml.graph.model.PipelineGraph.lowered`); nobody lowers again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dagml import contract
from dagml.spec.conditions import And, Compare, Expr, In, MetricRef, Not, Operand, Or
from dagml.spec.params import Param

__all__ = ["COMPARISONS", "get", "json_get", "lower_conditions", "lower_message", "value"]

#: dagml comparison -> SageMaker condition type (``!=`` is Not(Equals)).
COMPARISONS = {
    "==": "Equals",
    "<": "LessThan",
    "<=": "LessThanOrEqualTo",
    ">": "GreaterThan",
    ">=": "GreaterThanOrEqualTo",
}


def get(path: str) -> dict[str, Any]:
    return {"Get": path}


def value(v: Any) -> Any:
    """A param becomes ``{"Get": "Parameters.X"}``; anything else is itself."""
    return get(f"Parameters.{v.name}") if isinstance(v, Param) else v


def json_get(step: str, key: str) -> dict[str, Any]:
    """A number from a step's metrics report (its ``EvaluationReport`` property file)."""
    return {
        "Std:JsonGet": {
            "PropertyFile": get(f"Steps.{step}.PropertyFiles.{contract.PROPERTY_FILE_NAME}"),
            "Path": key,
        }
    }


def _operand(o: Operand) -> Any:
    if isinstance(o, MetricRef):
        return json_get(o.step, o.key)
    return value(o)


def _lower(expr: Expr) -> dict[str, Any]:
    if isinstance(expr, Compare):
        equals_like = "==" if expr.op == "!=" else expr.op
        cond = {"Type": COMPARISONS[equals_like], "LeftValue": _operand(expr.left), "RightValue": _operand(expr.right)}
        return {"Type": "Not", "Condition": cond} if expr.op == "!=" else cond
    if isinstance(expr, In):
        return {"Type": "In", "QueryValue": _operand(expr.value), "Values": [_operand(o) for o in expr.options]}
    if isinstance(expr, Or):
        return {"Type": "Or", "Conditions": [_lower(t) for t in expr.terms]}
    if isinstance(expr, Not):
        return {"Type": "Not", "Condition": _lower(expr.term)}
    if isinstance(expr, And):
        # SageMaker has no And inside Or/Not: a and b == not (not a or not b).
        return {"Type": "Not", "Condition": {"Type": "Or", "Conditions": [{"Type": "Not", "Condition": _lower(t)} for t in expr.terms]}}
    raise TypeError(f"not a condition expression: {expr!r}")


def lower_message(parts: Sequence[str | Param | MetricRef]) -> Any:
    """A Fail step's ``ErrorMessage``: its text, or a ``Std:Join`` of text, params and metrics.

    The compiler writes it; the local runner resolves the same value (:func:`dagml.local.decide.join_text`).
    """
    if not parts:
        return ""
    if len(parts) == 1 and isinstance(parts[0], str):
        return parts[0]
    return {"Std:Join": {"On": "", "Values": [_operand(p) for p in parts]}}


def lower_conditions(expr: Expr) -> list[dict[str, Any]]:
    """A condition step's ``Conditions`` list: the top-level list is an implicit and."""
    terms = expr.terms if isinstance(expr, And) else (expr,)
    return [_lower(t) for t in terms]
