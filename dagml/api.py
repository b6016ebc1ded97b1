"""The public API: the :class:`Pipeline` users declare on, and ``run``, ``render`` and ``compile``.

This is the top layer (docs/architecture.md): it may use every layer below, and
nothing below uses it. :class:`Pipeline` is the declaration
(:class:`dagml.spec.pipeline.PipelineDeclaration`) plus the conveniences users
rely on (``validate()``, ``run()``, ``render()``, displaying itself in a
notebook), each a call to the function of the same name here. Each function
takes the validated :class:`~dagml.PipelineGraph` that every consumer reads;
for convenience it also takes the :class:`Pipeline` and validates it first.

The graph layer (and networkx) and the layers above it are imported when a
function is called, not when ``dagml`` is imported: declaring a pipeline
imports only the spec layer, so ``import dagml`` stays cheap
(docs/performance.md).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dagml.graph.errors import PipelineValidationError
from dagml.spec.pipeline import PipelineDeclaration

if TYPE_CHECKING:
    from dagml.drawing.output import Drawing
    from dagml.graph.model import PipelineGraph
    from dagml.local.imageenv import ImageEnvPlan
    from dagml.local.result import RunResult
    from dagml.sagemaker.definition import CompiledPipeline
    from dagml.sagemaker.settings import Settings

__all__ = ["Pipeline", "compile", "graph_of", "image_env_plan", "render", "run"]


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
        from dagml.graph.build import build_graph

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
        image_env: bool = False,
    ) -> RunResult:
        """Run the pipeline locally: :func:`dagml.run` (the same as ``dagml run``)."""
        return run(self, params, workers=workers, cache=cache, resume=resume, home=home, image_env=image_env)

    def render(
        self, path: str | os.PathLike[str] | None = None, format: str | None = None, params: bool = False, **options: Any
    ) -> Drawing:
        """Draw the validated pipeline: :func:`dagml.render`."""
        return render(self, path, format=format, params=params, **options)

    # ------------------------------------------------------------ Jupyter
    def _repr_mimebundle_(self, include: object = None, exclude: object = None) -> dict[str, str]:
        """What Jupyter shows: the drawing, or every problem as text when the pipeline is invalid.

        The only display method: IPython also calls a ``_repr_svg_`` for a format this bundle does not
        carry, which would raise for an invalid pipeline after its problems were shown. A missing
        ``dot`` raises :class:`~dagml.drawing.GraphvizNotFoundError`, which Jupyter shows.
        """
        try:
            drawing = self.render()
        except PipelineValidationError as exc:
            return {"text/plain": f"{self!r}\n{exc}"}
        return {"image/svg+xml": drawing.svg(), "text/plain": repr(self)}


def graph_of(pipeline: PipelineDeclaration | PipelineGraph) -> PipelineGraph:
    """The validated graph of ``pipeline`` (a Pipeline is validated; a graph is itself)."""
    from dagml.graph.build import build_graph
    from dagml.graph.model import PipelineGraph

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


def _loadable(pipeline: PipelineDeclaration | PipelineGraph) -> PipelineGraph:
    """The validated graph of a pipeline that worker processes and SageMaker's jobs can load: its own,
    or, for a pipeline declared in notebook cells, that of the module dagml writes from the cells."""
    graph = graph_of(pipeline)
    if graph.source_file or graph.imported or not isinstance(pipeline, PipelineDeclaration) or not pipeline.cells:
        return graph
    return _from_notebook(pipeline, graph)


def _from_notebook(pipe: PipelineDeclaration, graph: PipelineGraph) -> PipelineGraph:
    """Write ``<cwd>/<name>_notebook.py`` from the cells (dagml.spec.notebook), load it, and check
    that it declares the very pipeline the session holds."""
    import sys

    from dagml.spec.notebook import HEADER, NotebookExportError, declared_by, export_source, module_name
    from dagml.spec.target import load_target

    namespace = vars(sys.modules["__main__"])
    names = declared_by(namespace, pipe)
    if not names:
        raise NotebookExportError(
            f"pipeline {pipe.name!r} was declared in notebook cells but no top-level name of the notebook holds it, "
            "so a module written from the cells could not name it. Fix: bind it, pipe = Pipeline(...)."
        )
    text = export_source(pipe, names[0], namespace)
    stem = module_name(pipe.name)
    path = os.path.join(os.getcwd(), stem + ".py")
    if os.path.exists(path):
        with open(path, encoding="utf-8", errors="replace") as f:
            current = f.read()
        if not current.startswith(HEADER):
            raise NotebookExportError(
                f"pipeline {pipe.name!r}: dagml writes the module of a notebook pipeline to {path!r}, but a file of "
                "yours is there. Fix: rename that file, or the pipeline."
            )
    else:
        current = None
    if current != text:
        from dagml.runtime.artifacts import atomic_write

        atomic_write(path, text.encode("utf-8"))
    loaded_module = sys.modules.get(stem)
    if loaded_module is not None and os.path.abspath(getattr(loaded_module, "__file__", "") or "") == path:
        del sys.modules[stem]  # the cells may have changed since it was last loaded
    exported = graph_of(load_target(f"{path}:{names[0]}"))
    if _shape(exported) != _shape(graph):
        differing = sorted(set(exported.nodes) ^ set(graph.nodes)) or sorted(
            n for n in graph.nodes if n in exported.nodes and exported.upstream(n) != graph.upstream(n)
        )
        raise NotebookExportError(
            f"pipeline {pipe.name!r}: the module dagml wrote from the notebook's cells ({path}) declares a different "
            f"pipeline than the session holds{' (steps ' + ', '.join(map(repr, differing)) + ')' if differing else ''}. "
            "A declaration inside a loop, an if or a function that a cell only displays, or a cell re-run out of order, "
            "can cause it. Fix: declare each step at the top level of a cell and run the cells in order (Restart & Run "
            "All), or declare the pipeline in a .py file."
        )
    return exported


def _shape(graph: PipelineGraph) -> object:
    """What must agree between a session's pipeline and the module written from its cells."""
    edges = sorted((a, b, tuple(sorted(r.kind for r in reasons))) for a, b, reasons in graph.graph.edges(data="reasons"))
    bindings = sorted((k, tuple(v)) for k, v in graph.bindings.items())
    summary = graph.summary()
    summary.pop("warnings", None)
    return summary, edges, bindings


def run(
    pipeline: PipelineDeclaration | PipelineGraph,
    params: Mapping[str, Any] | None = None,
    *,
    workers: int | None = None,
    cache: bool = True,
    resume: str | None = None,
    home: str | None = None,
    image_env: bool = False,
) -> RunResult:
    """Run the pipeline locally; return a :class:`dagml.local.result.RunResult`.

    Same semantics as ``dagml run``: steps run in worker processes through the
    SageMaker step runtime, conditions decide as the compiled pipeline would,
    results land in the run store (``$DAGML_HOME`` or ``.dagml``). Call it under
    ``if __name__ == "__main__":`` in a script, since workers re-load the
    pipeline's file. A pipeline declared in notebook cells runs from the module
    dagml writes from them (docs/notebooks.md).

    ``image_env=True`` (``dagml run --image-env``) runs each function step whose image dagml knows
    in a local stand-in for that image: its Python and its pinned packages (:func:`image_env_plan`,
    docs/local.md).
    """
    from dagml.local.runner import run_pipeline

    graph = _loadable(pipeline)
    plan = image_env_plan(graph) if image_env else None
    return run_pipeline(
        graph, params=params, workers=workers, cache=cache, resume=resume, home=home, image_envs=plan
    )


def image_env_plan(pipeline: PipelineDeclaration | PipelineGraph) -> ImageEnvPlan:
    """Where each job step runs under ``dagml run --image-env``.

    A function step runs in its image's environment when that image, the one compile gives its job
    (the step's, the pipeline's, or the settings' default: SageMaker's scikit-learn image), is a
    SageMaker framework image dagml knows: its Python (>= 3.10) and its exact pins. Its requirements
    are the wheels compile ships (resolved once, then cached). Any other step runs in this Python,
    with a note saying why. The facts come from :mod:`dagml.sagemaker`, which the local runner does
    not import (docs/architecture.md): this layer hands them over.
    """
    from dagml.local.imageenv import ImageEnv, ImageEnvPlan, StepPlace
    from dagml.sagemaker.environments import job_image, step_wheels
    from dagml.sagemaker.errors import CompileError
    from dagml.sagemaker.settings import configured_region, load_settings
    from dagml.spec.specs import FunctionSpec, TransformSpec

    graph = graph_of(pipeline)
    start = os.path.dirname(graph.source_file) if graph.source_file else None
    # The image settings are the user's (flags aside); nothing is deployed, so the required ones may be stand-ins.
    stand_ins = {
        "role_arn": "arn:aws:iam::111122223333:role/dagml-local-run",
        "bucket": "dagml-local-run",
        "region": configured_region(start=start) or "us-east-1",
    }
    settings = load_settings(stand_ins, start=start, pipeline=graph.name)
    steps: dict[str, StepPlace] = {}
    for name in graph.order:
        spec = graph[name]
        if isinstance(spec, TransformSpec):
            steps[name] = StepPlace(note="--image-env runs function steps only, not batch transforms")
        if not isinstance(spec, FunctionSpec):
            continue
        try:
            found = job_image(graph.name, spec, settings)
        except CompileError as exc:  # an image known to run too old a Python: compile refuses it too
            steps[name] = StepPlace(note=str(exc))
            continue
        if found.framework is None or found.version is None:
            note = f"image {found.uri} is not a SageMaker framework image dagml knows, so it cannot stand in for it"
        elif found.python is None:
            note = f"dagml does not know the Python of image {found.framework} {found.version}"
        elif not found.packages:
            note = f"dagml knows no package pins of image {found.framework} {found.version}"
        else:
            wheels = step_wheels(graph.name, spec, found)
            packages = tuple(sorted(f"{n}=={v}" for n, v in found.packages.items()))
            image = ImageEnv(f"{found.framework} {found.version}", found.python, packages)
            steps[name] = StepPlace(
                image, found.uri, wheels.directory if wheels else None, wheels.sha256 if wheels else ""
            )
            continue
        steps[name] = StepPlace(uri=found.uri, note=note)
    return ImageEnvPlan(steps, settings.bundle_include, settings.bundle_exclude)


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

    graph = _loadable(pipeline)
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
