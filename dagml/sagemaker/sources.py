"""Where ``dagml show`` and ``dagml diff`` read a pipeline from.

A source is ``deployed:NAME`` (``DescribePipeline``), a definition file
(``*.json``), or a pipeline ``TARGET`` (compiled with the settings, then
imported, so that every source compares like with like).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable

from dagml.errors import DagmlWarning
from dagml.graph.build import build_graph
from dagml.graph.model import PipelineGraph
from dagml.sagemaker.aws import Aws
from dagml.sagemaker.importer import import_definition, load_definition
from dagml.sagemaker.settings import Settings
from dagml.spec.errors import TargetError

__all__ = ["DEPLOYED", "is_definition", "load_source"]

DEPLOYED = "deployed:"


def is_definition(source: str) -> bool:
    """A definition file or ``deployed:NAME`` (as opposed to a pipeline TARGET)."""
    return source.startswith(DEPLOYED) or source.lower().endswith(".json")


def load_deployed(name: str, aws: Aws) -> PipelineGraph:
    from dagml.sagemaker.deploy import read_deployed

    if not name:
        raise TargetError("deployed: needs a pipeline name. Fix: write deployed:NAME.")
    response = read_deployed(aws, name)
    if response is None:
        raise TargetError(
            f"there is no deployed pipeline {name!r} in {aws.where}. "
            "Fix: check the name and the region (--region), or deploy it with dagml deploy."
        )
    return import_definition(
        response.get("PipelineDefinition", ""),
        name=name,
        description=response.get("PipelineDescription"),
        source=f"deployed:{name}",
    )


def load_source(
    source: str,
    *,
    aws: Callable[[], Aws],
    settings: Callable[[str], Settings] | None = None,
) -> PipelineGraph:
    """Import ``source``; ``aws`` and ``settings`` are called only when that source needs them."""
    if source.startswith(DEPLOYED):
        return load_deployed(source[len(DEPLOYED) :], aws())
    if source.lower().endswith(".json"):
        if not os.path.isfile(source):
            raise TargetError(f"no such definition file: {source!r}. Fix: check the path.")
        return load_definition(source)
    if settings is None:
        raise TargetError(
            f"{source!r} is not a definition: give a .json file or deployed:NAME "
            "(for a pipeline file, use dagml validate or dagml render)."
        )
    from dagml.sagemaker.compiler import compile_pipeline
    from dagml.spec.target import load_target

    pipe = load_target(source)
    compiled = compile_pipeline(build_graph(pipe), settings(pipe.name))
    with warnings.catch_warnings():  # its warnings were given as the pipeline's, just now
        warnings.simplefilter("ignore", DagmlWarning)
        return import_definition(compiled.definition, name=pipe.name, description=pipe.description, source=source)
