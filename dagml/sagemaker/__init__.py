"""Everything AWS-specific: compile to SageMaker's pipeline definition, and interop.

``import dagml`` never imports this package's AWS dependencies: compiling needs
neither boto3 nor the SageMaker SDK; ``to_sdk`` imports the SDK when called.
"""

from dagml.sagemaker.compiler import CompiledPipeline, compile_pipeline, to_json
from dagml.sagemaker.settings import Settings, SettingsError, load_settings
from dagml.sagemaker.steps import CompileError


def to_sdk(pipeline, settings, *, session=None):  # type: ignore[no-untyped-def]
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
