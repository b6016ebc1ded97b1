"""The public API: the :class:`Pipeline` users declare on, and ``run``, ``render`` and ``compile``.

This is the top layer (docs/architecture.md): it may use every layer below, and
nothing below uses it. :class:`Pipeline` is the declaration
(:class:`dagml.spec.pipeline.PipelineDeclaration`) plus the conveniences users
rely on (``validate()``, ``run()``, ``render()``, displaying itself in a
notebook), each a call to the function of the same name here. Each function
takes the validated :class:`~dagml.PipelineGraph` that every consumer reads;
for convenience it also takes the :class:`Pipeline` and validates it first.

The layers above the graph are imported when a function is called, not when
``dagml`` is imported, so ``import dagml`` stays cheap (docs/performance.md).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dagml.graph.build import build_graph
from dagml.graph.errors import PipelineValidationError
from dagml.graph.model import PipelineGraph
from dagml.spec.pipeline import PipelineDeclaration

if TYPE_CHECKING:
    from dagml.drawing.output import Drawing
    from dagml.local.result import RunResult
    from dagml.sagemaker.definition import CompiledPipeline
    from dagml.sagemaker.settings import Settings

__all__ = ["Pipeline", "compile", "graph_of", "render", "run"]


class Pipeline(PipelineDeclaration):
    """A SageMaker-shaped pipeline declared with plain Python functions.

    >>> pipe = Pipeline("iris-classifier", description="Train and gate on accuracy")
    >>> threshold = pipe.param("AccuracyThreshold", 0.9)
    >>> @pipe.step
    ... def prepare():
    ...     return [1, 2, 3]
    >>> prepare()
    [1, 2, 3]
    """

    _graph: PipelineGraph | None = None
    _graph_revision: int = -1

    def validate(self) -> PipelineGraph:
        """Check the whole pipeline; return the immutable validated graph.

        Raises :class:`~dagml.PipelineValidationError` listing every problem.
        Warnings (e.g. unused params) are on the returned graph's ``warnings``
        and are also emitted as :class:`~dagml.DagmlWarning`. The graph is kept
        until the next declaration.
        """
        if self._graph is None or self._graph_revision != self.revision:
            self._graph = build_graph(self)
            self._graph_revision = self.revision
        elif self._graph.provenance != self.provenance:  # validated while its module was still loading
            self._graph = build_graph(self)
        return self._graph

    def run(
        self,
        params: Mapping[str, Any] | None = None,
        *,
        workers: int | None = None,
        cache: bool = True,
        resume: str | None = None,
        home: str | None = None,
    ) -> RunResult:
        """Run the pipeline locally: :func:`dagml.run` (the same as ``dagml run``)."""
        return run(self, params, workers=workers, cache=cache, resume=resume, home=home)

    def render(
        self, path: str | os.PathLike[str] | None = None, format: str | None = None, params: bool = False, **options: Any
    ) -> Drawing:
        """Draw the validated pipeline: :func:`dagml.render`."""
        return render(self, path, format=format, params=params, **options)

    # ------------------------------------------------------------ Jupyter
    def _repr_svg_(self) -> str:
        return self.render().svg()

    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict[str, str]:
        """What Jupyter shows: the drawing, or every problem as text when the pipeline is invalid.

        A missing ``dot`` raises :class:`~dagml.drawing.GraphvizNotFoundError`, which Jupyter shows.
        """
        try:
            drawing = self.render()
        except PipelineValidationError as exc:
            return {"text/plain": f"{self!r}\n{exc}"}
        return {"image/svg+xml": drawing.svg(), "text/plain": repr(self)}


def graph_of(pipeline: PipelineDeclaration | PipelineGraph) -> PipelineGraph:
    """The validated graph of ``pipeline`` (a Pipeline is validated; a graph is itself)."""
    if isinstance(pipeline, PipelineGraph):
        return pipeline
    if isinstance(pipeline, Pipeline):
        return pipeline.validate()
    if isinstance(pipeline, PipelineDeclaration):
        return build_graph(pipeline)
    raise TypeError(
        f"expected a dagml Pipeline or its validated PipelineGraph, got {pipeline!r} ({type(pipeline).__name__}). "
        "Fix: pass the Pipeline object, or pipe.validate()."
    )


def run(
    pipeline: PipelineDeclaration | PipelineGraph,
    params: Mapping[str, Any] | None = None,
    *,
    workers: int | None = None,
    cache: bool = True,
    resume: str | None = None,
    home: str | None = None,
) -> RunResult:
    """Run the pipeline locally; return a :class:`dagml.local.result.RunResult`.

    Same semantics as ``dagml run``: steps run in worker processes through the
    SageMaker step runtime, conditions decide as the compiled pipeline would,
    results land in the run store (``$DAGML_HOME`` or ``.dagml``). Call it under
    ``if __name__ == "__main__":`` in a script, since workers re-load the
    pipeline's file.
    """
    from dagml.local.runner import run_pipeline

    return run_pipeline(graph_of(pipeline), params=params, workers=workers, cache=cache, resume=resume, home=home)


def render(
    pipeline: PipelineDeclaration | PipelineGraph,
    path: str | os.PathLike[str] | None = None,
    **options: Any,
) -> Drawing:
    """Draw the pipeline; write it to ``path`` (.svg, .png, .dot, .mmd, .md) when given.

    Returns a :class:`dagml.drawing.Drawing` (which displays itself in Jupyter).
    Options as :func:`dagml.drawing.render`.
    """
    from dagml.drawing.output import render as draw

    return draw(graph_of(pipeline), path, **options)


def compile(  # noqa: A001 - dagml.compile, as the issue and docs name it; the builtin is untouched
    pipeline: PipelineDeclaration | PipelineGraph, settings: Settings | None = None, **options: Any
) -> CompiledPipeline:
    """Compile the pipeline to a SageMaker pipeline definition (``.json``: its text).

    ``settings`` is a :class:`dagml.sagemaker.Settings`; without it, ``options``
    (``role_arn=``, ``bucket=``, ``region=``, ...) are resolved like the CLI's
    flags, with ``DAGML_*`` variables and ``[tool.dagml]`` of pyproject.toml
    (docs/sagemaker.md). Compile never calls AWS.
    """
    from dagml.errors import did_you_mean
    from dagml.sagemaker.compiler import compile_pipeline
    from dagml.sagemaker.settings import FIELDS, load_settings

    graph = graph_of(pipeline)
    unknown = sorted(set(options) - set(FIELDS))
    if unknown:
        raise TypeError(
            f"pipeline {graph.name!r}: compile() got unknown setting {unknown[0]!r}{did_you_mean(unknown[0], FIELDS)}; "
            f"the settings are {', '.join(FIELDS)}"
        )
    if settings is None and not graph.imported:
        start = os.path.dirname(graph.source_file) if graph.source_file else None
        settings = load_settings(options, start=start, pipeline=graph.name)
    elif options:
        raise TypeError(f"pipeline {graph.name!r}: give settings= or setting options ({', '.join(sorted(options))}), not both")
    return compile_pipeline(graph, settings)
