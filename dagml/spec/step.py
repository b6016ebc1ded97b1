"""Handles returned by the DSL: what a user holds after declaring a step."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, TypeVar

from dagml.spec.conditions import MetricRef, metric_path
from dagml.spec.outputs import Outputs
from dagml.spec.specs import FunctionSpec, NodeSpec

if TYPE_CHECKING:
    from typing_extensions import ParamSpec

    from dagml.spec.pipeline import PipelineDeclaration as Pipeline

    P = ParamSpec("P")
else:  # ParamSpec is only needed by type checkers
    P = TypeVar("P")

R = TypeVar("R")

__all__ = ["Node", "Step"]


class Node:
    """A declared step of any kind: its name, its frozen spec, its pipeline.

    Pass it wherever a step is expected (``then=[register]``, ``after=[...]``,
    ``model=train``).
    """

    __slots__ = ("_pipeline", "_spec")

    def __init__(self, spec: NodeSpec, pipeline: Pipeline) -> None:
        self._spec = spec
        self._pipeline = pipeline

    @property
    def name(self) -> str:
        return self._spec.name

    @property
    def kind(self) -> str:
        return self._spec.kind

    @property
    def spec(self) -> NodeSpec:
        return self._spec

    @property
    def pipeline(self) -> Pipeline:
        return self._pipeline

    def __repr__(self) -> str:
        return f"<{self.kind} step {self.name!r} of pipeline {self._pipeline.name!r}>"


class Step(Node, Generic[P, R]):
    """A decorated function: still the plain function when called.

    ``step(...)`` runs the user's function unchanged (unit-test it directly);
    ``step["accuracy"]`` refers to a number of its metrics report, for
    conditions; ``step.spec`` is the frozen :class:`FunctionSpec`.
    """

    def __init__(self, spec: FunctionSpec, pipeline: Pipeline) -> None:
        super().__init__(spec, pipeline)
        functools.update_wrapper(self, spec.fn)

    @property
    def spec(self) -> FunctionSpec:
        return self._spec  # type: ignore[return-value]

    @property
    def fn(self) -> Callable[P, R]:
        """The plain, undecorated function."""
        return self._spec.fn  # type: ignore[union-attr]

    @property
    def outputs(self) -> Outputs:
        """The step's named outputs: ``preprocess.outputs["train"]`` binds one to a downstream parameter."""
        return Outputs(self.name, tuple(o.name for o in self.spec.outputs))

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self._spec.fn(*args, **kwargs)  # type: ignore[union-attr, no-any-return]

    def __getitem__(self, key: str) -> MetricRef:
        """A number of the step's metrics report: ``evaluate["accuracy"]``; in a nested report, its
        path, ``evaluate["regression_metrics"]["mse"]["value"]`` (or ``"regression_metrics.mse.value"``)."""
        return MetricRef(self.name, metric_path(self.name, key))
