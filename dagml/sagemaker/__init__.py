"""Everything AWS-specific: compile to SageMaker's pipeline definition, and interop.

``import dagml`` never imports this package's AWS dependencies: compiling needs
neither boto3 nor the SageMaker SDK; ``to_sdk`` imports the SDK when called.
"""

from __future__ import annotations

from typing import Any

from dagml.graph.model import PipelineGraph
from dagml.sagemaker.compiler import CompiledPipeline, compile_pipeline, to_json
from dagml.sagemaker.errors import CompileError, SettingsError
from dagml.sagemaker.settings import Settings, load_settings


def to_sdk(pipeline: PipelineGraph, settings: Settings, *, session: Any = None) -> Any:
    """A ``sagemaker.mlops.workflow.pipeline.Pipeline`` built from the graph (needs ``dagml[sagemaker]``).

    See :func:`dagml.sagemaker.interop.to_sdk` for the environment the SDK needs.
    """
    from dagml.sagemaker.interop import to_sdk as _to_sdk

    return _to_sdk(pipeline, settings, session=session)


__all__ = [
    "CompileError",
    "CompiledPipeline",
    "Settings",
    "SettingsError",
    "compile_pipeline",
    "load_settings",
    "to_json",
    "to_sdk",
]
