"""Handles returned by the DSL: what a user holds after declaring a step."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import attrs

from dagml.spec.conditions import MetricRef, metric_path
from dagml.spec.errors import DeclarationError
from dagml.spec.handlers import InferenceHandlers, add_handler
from dagml.spec.outputs import Outputs
from dagml.spec.specs import FunctionSpec, NodeSpec, ScriptSpec

if TYPE_CHECKING:
    from typing_extensions import ParamSpec

    from dagml.spec.pipeline import PipelineDeclaration as Pipeline

    P = ParamSpec("P")
else:  # ParamSpec is only needed by type checkers
    P = TypeVar("P")

R = TypeVar("R")
#: A handler keeps its own type: the decorators return it unchanged.
H = TypeVar("H", bound=Callable[..., Any])

__all__ = ["Node", "Script", "Step"]


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

    # Custom inference (dagml.spec.handlers): SageMaker's handler contract, declared on a training
    # step; each decorator records the function on the step's spec and returns it unchanged.
    def model_fn(self, fn: H) -> H:
        """Load the model: ``model_fn(model_dir)`` (default: dagml's ``model.pkl``)."""
        return self._handler("model_fn", fn)

    def input_fn(self, fn: H) -> H:
        """Parse a request: ``input_fn(request_body, request_content_type)`` (default: CSV rows of numbers)."""
        return self._handler("input_fn", fn)

    def predict_fn(self, fn: H) -> H:
        """Predict: ``predict_fn(input_data, model)`` (default: ``model.predict(input_data)``)."""
        return self._handler("predict_fn", fn)

    def output_fn(self, fn: H) -> H:
        """Write the answer: ``output_fn(prediction, accept)`` returns ``str``/``bytes`` or
        ``(body, content_type)`` (default: one CSV line per prediction)."""
        return self._handler("output_fn", fn)

    def _handler(self, role: str, fn: H) -> H:
        if isinstance(fn, Node):
            raise DeclarationError(
                f"step {self.name!r}: @{self.name}.{role} got {fn!r}, a step; a handler is a plain function. "
                f"Fix: decorate the function with @{self.name}.{role} only."
            )
        spec, kind = self._spec, str(self._spec.kind)
        if isinstance(spec, FunctionSpec):
            handlers = spec.handlers
        else:  # a container or script step's image serves its model with its own code
            handlers, kind = InferenceHandlers(), f"{spec.kind} (not a decorated function)"
        new = add_handler(self.name, kind, handlers, role, fn)
        assert isinstance(spec, FunctionSpec)  # add_handler refused every other kind
        self._pipeline._redeclare(self, attrs.evolve(spec, handlers=new))
        return fn


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


class Script(Node):
    """A declared script step (``pipe.script``): ``script.outputs["train"]`` names one of its outputs."""

    __slots__ = ()

    @property
    def spec(self) -> ScriptSpec:
        return self._spec  # type: ignore[return-value]

    @property
    def outputs(self) -> Outputs:
        """The script's outputs: ``split.outputs["train"]`` is what a downstream step reads."""
        return Outputs(self.name, tuple(o.name for o in self.spec.outputs))
