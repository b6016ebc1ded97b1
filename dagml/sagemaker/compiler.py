"""Compile a validated pipeline graph to a SageMaker pipeline definition.

Fast, offline and deterministic: the same pipeline and settings give the same
bytes, whatever the clock, the machine or the checkout path. Compile never
calls AWS; it hashes the code bundle and the local datasets so that deploy
knows where to upload them.
"""

from __future__ import annotations

import os
from typing import Any

import attrs

from dagml._gc import paused_gc
from dagml.spec.conditions import MetricRef, operands
from dagml.spec.pipeline import Pipeline
from dagml.spec.specs import FunctionSpec, RegisterSpec, TransformSpec
from dagml.errors import PipelineValidationError, Problem
from dagml.graph.model import PipelineGraph
from dagml.runtime.bundle import content_hash
from dagml.sagemaker import jsontext
from dagml.sagemaker.lint import lint
from dagml.sagemaker.settings import Settings
from dagml.sagemaker.steps import BUILDERS, CompileError
from dagml.spec.target import attr_of

__all__ = ["CompiledPipeline", "compile_pipeline", "to_json"]

VERSION = "2020-12-01"


@attrs.frozen
class DatasetUpload:
    """A local dataset deploy must upload to ``uri`` before executions read it."""

    name: str
    local_path: str
    uri: str


@attrs.frozen(eq=False)
class CompiledPipeline:
    """The definition plus what deploy needs to make it runnable."""

    name: str
    definition: dict[str, Any]
    json: str
    #: Lint notes that do not stop deployment (e.g. "send through S3").
    notes: tuple[Problem, ...]
    bundle: Any  # dagml.runtime.bundle.Bundle
    code_prefix: str
    datasets: tuple[DatasetUpload, ...]


def to_json(definition: dict[str, Any]) -> str:
    """Canonical text: sorted keys, two-space indent, a trailing newline.

    The same text as ``json.dumps(definition, sort_keys=True, indent=2, ensure_ascii=False)``,
    written by :mod:`dagml.sagemaker.jsontext` (twice as fast on large definitions).
    """
    return jsontext.dumps(definition, end="\n")


@attrs.define
class Context:
    """What step builders read while compiling one pipeline."""

    graph: PipelineGraph
    settings: Settings
    target: str
    code_prefix: str
    dataset_uris: dict[str, str]
    metrics_steps: frozenset[str]
    csv_steps: frozenset[str]
    built: dict[str, dict[str, Any]] = attrs.Factory(dict)
    #: Step name -> its index in ``graph.order``.
    position: dict[str, int] = attrs.Factory(lambda self: {n: i for i, n in enumerate(self.graph.nodes)}, takes_self=True)

    @property
    def bundle_uri(self) -> str:
        from dagml import contract

        return self.code_prefix + contract.BUNDLE_NAME

    def step_uri(self, step: str, name: str) -> str:
        return f"{self.settings.base_uri}/{self.graph.name}/{step}/{name}"

    def build(self, name: str) -> dict[str, Any]:
        if name not in self.built:
            spec = self.graph[name]
            self.built[name] = BUILDERS[spec.kind](self, spec)
        return self.built[name]


def _metrics_steps(graph: PipelineGraph) -> frozenset[str]:
    read = {o.step for c in graph.conditions for o in operands(c.expression) if isinstance(o, MetricRef)}
    read |= {s.metrics for s in graph if isinstance(s, RegisterSpec) and s.metrics}
    read |= {s.name for s in graph if isinstance(s, FunctionSpec) and s.returns == "metrics"}
    return frozenset(read)


def _csv_steps(graph: PipelineGraph) -> frozenset[str]:
    return frozenset(
        s.data for s in graph if isinstance(s, TransformSpec) and not s.data_is_dataset and graph[s.data].kind == "processing"
    )


def _datasets(graph: PipelineGraph, settings: Settings) -> tuple[dict[str, str], tuple[DatasetUpload, ...]]:
    uris, uploads = {}, []
    base_dir = os.path.dirname(graph.source_file) if graph.source_file else os.getcwd()
    for d in graph.datasets:
        if d.s3:
            uris[d.name] = d.s3
            continue
        assert d.local is not None
        path = os.path.normpath(os.path.join(base_dir, d.local))
        if not os.path.exists(path):
            raise CompileError(
                f"pipeline {graph.name!r}, dataset {d.name!r}: local path {d.local!r} does not exist "
                f"(looked for {path}) and no s3= location is given. Fix: create the file or give s3='s3://...'."
            )
        name = os.path.basename(path.rstrip(os.sep))
        uri = f"{settings.base_uri}/data/{content_hash(path)}/{name}"
        if os.path.isdir(path):
            uri += "/"
        uris[d.name] = uri
        uploads.append(DatasetUpload(d.name, path, uri))
    return uris, tuple(uploads)


def _parameters(graph: PipelineGraph, dataset_uris: dict[str, str]) -> list[dict[str, Any]]:
    params = []
    for p in graph.params:
        entry: dict[str, Any] = {"Name": p.name, "Type": p.type, "DefaultValue": p.default}
        if p.enum and p.type == "String":
            entry["EnumValues"] = list(p.enum)
        params.append(entry)
    for d in graph.datasets:
        params.append({"Name": d.name, "Type": "String", "DefaultValue": dataset_uris[d.name]})
    return params


def _check_image_python(graph: PipelineGraph, bundle: Any, settings: Settings) -> None:
    """The bundle's libraries and the user's code must import on the image's Python, and everything
    of the user's that the code imports must be in the bundle (see pycompat)."""
    from dagml.runtime.bundle import code_root, user_files
    from dagml.runtime.modules import user_modules
    from dagml.sagemaker.pycompat import check_sources, outside_imports, reachable

    bundle.check_python(settings.python, f"pipeline {graph.name!r}")
    assert graph.source_file is not None
    start = bundle.target.partition(":")[0]
    files = user_files(graph.source_file, include=settings.bundle_include, exclude=settings.bundle_exclude)
    python_files = [(rel, path) for rel, path in files if rel.endswith(".py")]
    reached = reachable(python_files, start)
    problems = check_sources(graph, reached, settings.python)
    problems += outside_imports(graph, reached, code_root(graph.source_file), user_modules())
    if problems:
        raise PipelineValidationError(graph.name, problems)


@paused_gc()
def compile_pipeline(pipeline: Pipeline | PipelineGraph, settings: Settings, *, bundle: Any = None) -> CompiledPipeline:
    """Validate (if needed) and compile; raise if lint finds what SageMaker would reject.

    ``bundle`` reuses a code bundle already built for this pipeline's file
    (:func:`dagml.runtime.bundle.make_bundle`) instead of building it again.
    """
    from dagml.runtime.bundle import make_bundle
    from dagml.sagemaker.importer import ImportedPipeline, compile_imported

    if isinstance(pipeline, ImportedPipeline):  # an imported definition: its steps' JSON, unchanged
        return compile_imported(pipeline)  # type: ignore[no-any-return]
    pipe = pipeline if isinstance(pipeline, Pipeline) else None
    graph = pipeline.validate() if isinstance(pipeline, Pipeline) else pipeline
    if not graph.source_file:
        raise CompileError(
            f"pipeline {graph.name!r} was not declared in a .py file, so its code cannot ship to SageMaker. "
            "Fix: declare it in a module and compile that file."
        )
    if bundle is None:
        bundle = make_bundle(
            graph.source_file,
            attr_of(pipe) if pipe is not None else None,
            include=settings.bundle_include,
            exclude=settings.bundle_exclude,
        )
    _check_image_python(graph, bundle, settings)
    code_prefix = f"{settings.base_uri}/code/{bundle.sha256}/"
    dataset_uris, uploads = _datasets(graph, settings)
    ctx = Context(
        graph=graph,
        settings=settings,
        target=bundle.target,
        code_prefix=code_prefix,
        dataset_uris=dataset_uris,
        metrics_steps=_metrics_steps(graph),
        csv_steps=_csv_steps(graph),
    )
    top = [name for name in graph.order if name not in graph.branch_of]
    definition: dict[str, Any] = {
        "Version": VERSION,
        "Metadata": {},
        "Parameters": _parameters(graph, dataset_uris),
        "Steps": [ctx.build(name) for name in top],
    }
    if settings.experiments:
        definition["PipelineExperimentConfig"] = {
            "ExperimentName": {"Get": "Execution.PipelineName"},
            "TrialName": {"Get": "Execution.PipelineExecutionId"},
        }
    return finish(graph.name, definition, bundle=bundle, code_prefix=code_prefix, datasets=uploads)


def finish(
    name: str,
    definition: dict[str, Any],
    *,
    bundle: Any = None,
    code_prefix: str = "",
    datasets: tuple[DatasetUpload, ...] = (),
) -> CompiledPipeline:
    """Canonical text and pre-flight lint: raise what SageMaker would reject, keep the notes."""
    text = to_json(definition)
    problems = lint(name, definition, text)
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise PipelineValidationError(name, errors)
    return CompiledPipeline(
        name=name,
        definition=definition,
        json=text,
        notes=tuple(p for p in problems if p.severity != "error"),
        bundle=bundle,
        code_prefix=code_prefix,
        datasets=datasets,
    )
