"""Interop with the official SageMaker Python SDK v3 (``pip install 'dagml[sagemaker]'``).

:func:`to_sdk` builds a ``sagemaker.mlops.workflow.pipeline.Pipeline`` from the
validated graph with the SDK's own classes, so code written against the SDK
can take a dagml pipeline further (add steps, call ``upsert``). Its
``definition()`` is dagml's compiled definition up to the differences listed
in docs/sagemaker.md ("Differences from the SageMaker SDK v3").

Every location comes from dagml's compiler (the content-hashed code prefix,
the dataset URIs, each step's output URI), so both point at the same S3
objects. Nothing is uploaded: every S3 URI is explicit and the code is
already in S3, so no step has an ``entry_point`` or ``source_code``.

The SDK is imported inside the functions: ``import dagml`` never imports it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from dagml.graph.model import PipelineGraph
from dagml.sagemaker import compiler
from dagml.sagemaker.sdk_steps import SdkBuilder, import_sdk
from dagml.sagemaker.settings import Settings
from dagml.sagemaker.steps import Context

if TYPE_CHECKING:
    from sagemaker.core.workflow.pipeline_context import PipelineSession
    from sagemaker.mlops.workflow.pipeline import Pipeline as SdkPipeline

__all__ = ["offline_sdk_environment", "pipeline_session", "to_sdk"]

#: The environment variables offline_sdk_environment sets (and restores).
_ENV_KEYS = (
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "SAGEMAKER_VALIDATE_ROLE",
    "AWS_EC2_METADATA_DISABLED",
    "SAGEMAKER_USER_CONFIG_OVERRIDE",
    "SAGEMAKER_ADMIN_CONFIG_OVERRIDE",
)


@contextlib.contextmanager
def offline_sdk_environment(region: str) -> Iterator[None]:
    """Let the SDK build and print pipelines without calling AWS; undo it all on exit.

    Inside the block:

    - ``AWS_REGION`` / ``AWS_DEFAULT_REGION`` are ``region`` (``import sagemaker.mlops``
      itself creates a boto3 client, so it fails without a region);
    - ``SAGEMAKER_VALIDATE_ROLE=false`` (otherwise ``ModelTrainer`` checks the role with IAM);
    - ``AWS_EC2_METADATA_DISABLED=true`` (no credentials lookup on the instance metadata endpoint);
    - ``SAGEMAKER_USER_CONFIG_OVERRIDE`` and ``SAGEMAKER_ADMIN_CONFIG_OVERRIDE`` name an empty
      config file (``{}``), so local SageMaker defaults files cannot change the output;
    - the SDK's telemetry sender is a no-op (its decorators otherwise call STS and S3).

    Credentials are left alone: none are needed. Use it around both :func:`to_sdk` and
    ``definition()`` (the SDK re-runs each job function when it prints the definition).
    """
    saved_env = {k: os.environ.get(k) for k in _ENV_KEYS}
    with tempfile.TemporaryDirectory(prefix="dagml-sdk-") as tmp:
        config = os.path.join(tmp, "sagemaker-config.yaml")
        with open(config, "w", encoding="utf-8") as f:
            f.write("{}\n")
        os.environ.update(
            {
                "AWS_REGION": region,
                "AWS_DEFAULT_REGION": region,
                "SAGEMAKER_VALIDATE_ROLE": "false",
                "AWS_EC2_METADATA_DISABLED": "true",
                "SAGEMAKER_USER_CONFIG_OVERRIDE": config,
                "SAGEMAKER_ADMIN_CONFIG_OVERRIDE": config,
            }
        )
        try:
            from sagemaker.core.telemetry import telemetry_logging
        except ImportError:
            _restore(saved_env)
            raise
        saved_sender = telemetry_logging._send_telemetry_request
        telemetry_logging._send_telemetry_request = _no_telemetry
        try:
            yield
        finally:
            telemetry_logging._send_telemetry_request = saved_sender
            _restore(saved_env)


def _no_telemetry(*args: Any, **kwargs: Any) -> None:
    return None


def _restore(saved: dict[str, str | None]) -> None:
    for key, old in saved.items():
        if old is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = old


def pipeline_session(settings: Settings) -> PipelineSession:
    """A ``PipelineSession`` in ``settings.region`` whose default bucket is ``settings.bucket``.

    The bucket is pre-filled in the session's cache (``_default_bucket``): otherwise the
    first ``default_bucket()`` call (``ModelBuilder.register`` makes one even with no code
    to upload) checks or creates the bucket in S3.
    """
    import boto3
    from sagemaker.core.workflow.pipeline_context import PipelineSession

    session = PipelineSession(
        boto_session=boto3.Session(region_name=settings.region), default_bucket=settings.bucket
    )
    session._default_bucket = settings.bucket
    return session


def to_sdk(
    graph: PipelineGraph, settings: Settings, *, session: PipelineSession | None = None
) -> SdkPipeline:
    """The pipeline as a ``sagemaker.mlops.workflow.pipeline.Pipeline`` (SDK v3).

    ``session`` defaults to :func:`pipeline_session`. The SDK needs, at import and while
    building: a region (``AWS_REGION``), and either ``SAGEMAKER_VALIDATE_ROLE=false`` or
    network access to IAM; its telemetry calls AWS unless opted out. Offline (tests, CI),
    wrap both the call and the result's ``definition()`` in :func:`offline_sdk_environment`,
    which sets all of that and restores it afterwards; this function changes no global state.
    Raises what :func:`~dagml.sagemaker.compile_pipeline` raises for an invalid pipeline.
    """
    compiled = compiler.compile_pipeline(graph, settings)
    defaults = {p["Name"]: p["DefaultValue"] for p in compiled.definition["Parameters"]}
    ctx = Context(
        graph=graph,
        settings=settings,
        target=compiled.bundle.target,
        code_prefix=compiled.code_prefix,
        dataset_uris={d.name: defaults[d.name] for d in graph.datasets},
    )
    sdk = import_sdk()  # before pipeline_session: it explains a missing SDK or region
    return SdkBuilder(sdk, ctx, session if session is not None else pipeline_session(settings)).pipeline()
