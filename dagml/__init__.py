"""dagml: plain Python functions as SageMaker pipelines, validated, drawn, run locally.

The public surface is what this module exports; everything else is private
to its subpackages and may change.
"""

from dagml._version import __version__
from dagml.spec.conditions import all_of, any_of, not_
from dagml.spec.params import Dataset, Param
from dagml.spec.pipeline import Pipeline
from dagml.spec.specs import Cache, Retry
from dagml.spec.step import Node, Step
from dagml.errors import (
    ConditionUsageError,
    DagmlError,
    DagmlWarning,
    DeclarationError,
    PipelineValidationError,
    Problem,
    TargetError,
)
from dagml.graph.model import PipelineGraph

#: Return annotation of a step that returns a metrics report (a dict of numbers).
Metrics = dict[str, float]

__all__ = [
    "Cache",
    "ConditionUsageError",
    "DagmlError",
    "DagmlWarning",
    "Dataset",
    "DeclarationError",
    "Metrics",
    "Node",
    "Param",
    "Pipeline",
    "PipelineGraph",
    "PipelineValidationError",
    "Problem",
    "Retry",
    "Step",
    "TargetError",
    "__version__",
    "all_of",
    "any_of",
    "not_",
]
