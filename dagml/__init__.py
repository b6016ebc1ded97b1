"""dagml: plain Python functions as SageMaker pipelines, validated, drawn, run locally.

The public surface is what this module exports; everything else is private
to its subpackages and may change. The layers under it, and the rule that
keeps them apart, are in docs/architecture.md.
"""

from __future__ import annotations

from dagml._version import __version__

#: ``typing.TYPE_CHECKING`` without importing typing (2 ms of ``dagml --version``): type checkers
#: treat any constant of this name as true.
TYPE_CHECKING = False
if TYPE_CHECKING:  # what type checkers and IDEs see; at run time each name is imported on first use
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

#: Where each public name lives: ``dagml.X`` imports its module on first use (PEP 562), so
#: ``import dagml`` (or ``dagml.cli``, or a submodule) costs only what is used: declaring a pipeline
#: imports neither networkx nor the drawing, the local runner or the compiler (docs/performance.md).
_LAZY = {
    "Cache": "dagml.spec.specs",
    "Checkpoints": "dagml.spec.jobs",
    "ConditionUsageError": "dagml.spec.errors",
    "ConfigurationError": "dagml.errors",
    "DagmlError": "dagml.errors",
    "DagmlWarning": "dagml.errors",
    "Dataset": "dagml.spec.params",
    "DeclarationError": "dagml.spec.errors",
    "Image": "dagml.spec.environment",
    "JobSettings": "dagml.spec.jobs",
    "Node": "dagml.spec.step",
    "Output": "dagml.spec.outputs",
    "Param": "dagml.spec.params",
    "Pipeline": "dagml.api",
    "PipelineGraph": "dagml.graph.model",
    "PipelineValidationError": "dagml.graph.errors",
    "Problem": "dagml.errors",
    "Retry": "dagml.spec.specs",
    "Spot": "dagml.spec.jobs",
    "Step": "dagml.spec.step",
    "TargetError": "dagml.spec.errors",
    "all_of": "dagml.spec.conditions",
    "any_of": "dagml.spec.conditions",
    "compile": "dagml.api",
    "model_quality": "dagml.spec.model_quality",
    "not_": "dagml.spec.conditions",
    "render": "dagml.api",
    "run": "dagml.api",
}


if not TYPE_CHECKING:  # type checkers see the imports above, and no catch-all __getattr__ to hide a typo

    def __getattr__(name: str) -> object:
        """Import a public name's module on first use and keep the name here (PEP 562)."""
        module = _LAZY.get(name)
        if module is None:
            raise AttributeError(f"module 'dagml' has no attribute {name!r}")
        import importlib

        value = getattr(importlib.import_module(module), name)
        globals()[name] = value
        return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
