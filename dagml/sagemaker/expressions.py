"""Lowering dagml values and condition trees to pipeline-definition expressions."""

from __future__ import annotations

from typing import Any

from dagml.spec.conditions import And, Compare, Expr, In, MetricRef, Not, Operand, Or
from dagml.spec.params import Param
from dagml.spec.specs import NodeSpec
from dagml import contract

__all__ = ["as_string", "get", "json_get", "lower_conditions", "output_of", "value"]

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


def as_string(param: Param) -> dict[str, Any]:
    """A param where SageMaker expects a string (job arguments, hyperparameters).

    The service refuses an Integer, Float or Boolean reference there ("Cannot
    assign property reference [Parameters.X] to argument of type [String]",
    aws/sagemaker-python-sdk#4867), so those are joined into a string, as the
    SDK's ``param.to_string()`` does.
    """
    ref = get(f"Parameters.{param.name}")
    return ref if param.type == "String" else {"Std:Join": {"On": "", "Values": [ref]}}


def output_of(spec: NodeSpec) -> dict[str, Any]:
    """The S3 location of what a step produces, as a property reference."""
    if spec.kind == "training":
        return get(f"Steps.{spec.name}.ModelArtifacts.S3ModelArtifacts")
    if spec.kind == "transform":
        return get(f"Steps.{spec.name}.TransformOutput.S3OutputPath")
    if spec.kind == "model":
        return get(f"Steps.{spec.name}.ModelName")
    return get(f"Steps.{spec.name}.ProcessingOutputConfig.Outputs['{contract.OUTPUT_NAME}'].S3Output.S3Uri")


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


def lower_conditions(expr: Expr) -> list[dict[str, Any]]:
    """A condition step's ``Conditions`` list: the top-level list is an implicit and."""
    terms = expr.terms if isinstance(expr, And) else (expr,)
    return [_lower(t) for t in terms]
