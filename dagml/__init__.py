"""dagml: plain Python functions as SageMaker pipelines, validated, drawn, run locally.

The public surface is what this module exports; everything else is private
to its subpackages and may change. The layers under it, and the rule that
keeps them apart, are in docs/architecture.md.
"""

from dagml._version import __version__
from dagml.api import Pipeline, compile, render, run
from dagml.errors import ConfigurationError, DagmlError, DagmlWarning, Problem
from dagml.graph.errors import PipelineValidationError
from dagml.graph.model import PipelineGraph
from dagml.spec.conditions import all_of, any_of, not_
from dagml.spec.environment import Image
from dagml.spec.errors import ConditionUsageError, DeclarationError, TargetError
from dagml.spec.jobs import Checkpoints, JobSettings, Spot
from dagml.spec.model_quality import model_quality
from dagml.spec.outputs import Output
from dagml.spec.params import Dataset, Param
from dagml.spec.specs import Cache, Retry
from dagml.spec.step import Node, Step

#: Return annotation of a step that returns a metrics report (a dict of numbers).
Metrics = dict[str, float]

__all__ = [
    "Cache",
    "Checkpoints",
    "ConditionUsageError",
    "ConfigurationError",
    "DagmlError",
    "DagmlWarning",
    "Dataset",
    "DeclarationError",
    "Image",
    "JobSettings",
    "Metrics",
    "Node",
    "Output",
    "Param",
    "Pipeline",
    "PipelineGraph",
    "PipelineValidationError",
    "Problem",
    "Retry",
    "Spot",
    "Step",
    "TargetError",
    "__version__",
    "all_of",
    "any_of",
    "compile",
    "model_quality",
    "not_",
    "render",
    "run",
]
