"""Compile a validated pipeline graph to a SageMaker pipeline definition.

Fast, offline and deterministic: the same pipeline and settings give the same
bytes, whatever the clock, the machine or the checkout path. Compile never
calls AWS; it hashes the code bundle and the local datasets so that deploy
knows where to upload them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

from dagml._gc import paused_gc
from dagml.graph.errors import PipelineValidationError
from dagml.graph.model import PipelineGraph
from dagml.runtime.bundle import content_hash
from dagml.sagemaker.definition import VERSION, CompiledPipeline, DatasetUpload, finish, stream, to_json
from dagml.sagemaker.errors import CompileError
from dagml.sagemaker.settings import Settings
from dagml.sagemaker.steps import Context

__all__ = ["CompiledPipeline", "compile_pipeline", "to_json"]  # the first and last re-exported from .definition

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


def _oldest_python(ctx: Context) -> tuple[int, int]:
    """The oldest Python any function step's image runs (an unknown one: the runtime's floor)."""
    from dagml.sagemaker.images import RUNTIME_PYTHON

    found = [ctx.image(spec).python or RUNTIME_PYTHON for spec in ctx.graph.function_steps]
    return min(found, default=ctx.settings.python)


def _check_image_python(graph: PipelineGraph, bundle: Any, python: tuple[int, int]) -> None:
    """The bundle's libraries and the user's code must import on the images' Python, and everything
    of the user's that the code imports must be in the bundle (see pycompat)."""
    from dagml.runtime.modules import user_modules
    from dagml.sagemaker.pycompat import Parsed, check_sources, outside_imports, reachable

    bundle.check_python(python, f"pipeline {graph.name!r}")
    start = bundle.target.partition(":")[0]
    python_files = [(rel, path) for rel, path in bundle.sources if rel.endswith(".py")]
    parsed = Parsed(python)
    reached = reachable(python_files, start, parsed)
    problems = check_sources(graph, reached, python, parsed)
    problems += outside_imports(graph, reached, bundle.root, user_modules(), parsed)
    if problems:
        raise PipelineValidationError(graph.name, problems)


@paused_gc()
def compile_pipeline(
    graph: PipelineGraph, settings: Settings | None, *, bundle: Any = None, write: Callable[[str], Any] | None = None
) -> CompiledPipeline:
    """Compile a validated graph; raise if lint finds what SageMaker would reject.

    An imported definition (``graph.imported``) is re-emitted as imported and
    needs no settings. ``bundle`` reuses a code bundle already built for this
    pipeline's file (:func:`dagml.runtime.bundle.make_bundle`) instead of
    building it again.

    ``write`` (a text file's ``write``) streams the definition's text out a step
    at a time, as each step is built and linted (``dagml compile -o``): memory
    stays flat in the number of steps, and the result's ``definition`` and
    ``json`` are made again only if asked for. On an error, part of the text
    has been written: the caller discards it.
    """
    from dagml.runtime.bundle import make_bundle

    if not isinstance(graph, PipelineGraph):
        raise TypeError(f"compile_pipeline takes a PipelineGraph (pipe.validate()), got {type(graph).__name__}")
    if graph.imported:  # an imported definition: its steps' JSON, unchanged
        from dagml.sagemaker.importer import compile_imported

        compiled = compile_imported(graph)
        if write is not None:
            write(compiled.json)
        return compiled
    if settings is None:
        raise TypeError(f"pipeline {graph.name!r}: compiling a declared pipeline needs its Settings")
    if not graph.source_file:
        raise CompileError(
            f"pipeline {graph.name!r} was not declared in a .py file, so its code cannot ship to SageMaker. "
            "Fix: declare it in a module and compile that file."
        )
    if bundle is None:
        bundle = make_bundle(
            graph.source_file,
            graph.provenance.attribute,
            include=settings.bundle_include,
            exclude=settings.bundle_exclude,
        )
    code_prefix = f"{settings.base_uri}/code/{bundle.sha256}/"
    dataset_uris, uploads = _datasets(graph, settings)
    ctx = Context(
        graph=graph,
        settings=settings,
        target=bundle.target,
        code_prefix=code_prefix,
        dataset_uris=dataset_uris,
    )
    _check_image_python(graph, bundle, _oldest_python(ctx))
    top = [name for name in graph.order if name not in graph.branch_of]
    head: dict[str, Any] = {
        "Version": VERSION,
        "Metadata": {},
        "Parameters": _parameters(graph, dataset_uris),
    }
    if settings.experiments:
        head["PipelineExperimentConfig"] = {
            "ExperimentName": {"Get": "Execution.PipelineName"},
            "TrialName": {"Get": "Execution.PipelineExecutionId"},
        }

    def steps() -> Iterator[dict[str, Any]]:
        """The top-level steps in order, each built once and then let go (a condition's with its branches)."""
        for name in top:
            step = ctx.build(name)
            ctx.built.clear()
            yield step

    if write is None:
        definition = {**head, "Steps": list(steps())}
        return finish(graph.name, definition, **_extras(ctx, bundle, code_prefix, uploads))

    def make() -> dict[str, Any]:
        return {**head, "Steps": list(steps())}

    return stream(
        graph.name, head, steps(), write, make=paused_gc()(make), extras=lambda: _extras(ctx, bundle, code_prefix, uploads)
    )


def _extras(ctx: Context, bundle: Any, code_prefix: str, uploads: tuple[DatasetUpload, ...]) -> dict[str, Any]:
    """What a compiled pipeline carries besides its definition, once every step is built."""
    return {
        "bundle": bundle,
        "code_prefix": code_prefix,
        "datasets": uploads,
        "notes": tuple(ctx.notes),
        "wheels": _wheel_uploads(ctx),
        "scripts": tuple(sorted(ctx.scripts.items())),
    }


def _wheel_uploads(ctx: Context) -> tuple[tuple[str, str], ...]:
    """Every wheel (and list) a step's requirements ship, once each, where the definition names them."""
    from dagml.contract import WHEELS_LIST

    found: dict[str, str] = {}
    for wheels in ctx.wheelhouses.values():
        if wheels is None:
            continue
        prefix = ctx.wheels_uri(wheels)
        for name, path in wheels.files:
            found[prefix + name] = path
        found[prefix + WHEELS_LIST] = os.path.join(wheels.directory, WHEELS_LIST)
    return tuple(sorted(found.items()))
