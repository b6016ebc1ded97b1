"""Pipeline-definition expressions for values and step outputs (conditions: :mod:`dagml.graph.lowered`)."""

from __future__ import annotations

from typing import Any

from dagml import contract
from dagml.graph.lowered import get, json_get, value
from dagml.spec.params import Param
from dagml.spec.specs import NodeSpec

__all__ = ["as_string", "get", "json_get", "output_of", "value"]

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
    if spec.kind in ("training", "container", "script"):  # a script read as a whole trains (validation)
        return get(f"Steps.{spec.name}.ModelArtifacts.S3ModelArtifacts")
    if spec.kind == "transform":
        return get(f"Steps.{spec.name}.TransformOutput.S3OutputPath")
    if spec.kind == "model":
        return get(f"Steps.{spec.name}.ModelName")
    return get(f"Steps.{spec.name}.ProcessingOutputConfig.Outputs['{contract.OUTPUT_NAME}'].S3Output.S3Uri")
