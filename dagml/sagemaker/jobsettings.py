"""Job settings (dagml.spec.jobs) in the definition, and in the SDK oracle's objects.

:func:`apply` is the compiler's one call per step builder (processing, training and container,
model, transform; a RegisterModel step has none of these fields): it writes the step's role,
network, KMS keys, spot, checkpoint and warm-pool settings into the job's arguments, with the field
names and shapes of the SageMaker API:

- processing (CreateProcessingJob; a function step or a ``pipe.script`` in processing mode): ``RoleArn``; ``NetworkConfig`` {``EnableNetworkIsolation``,
  ``EnableInterContainerTrafficEncryption``, ``VpcConfig``}; ``ProcessingResources.ClusterConfig.
  VolumeKmsKeyId``; ``ProcessingOutputConfig.KmsKeyId``;
- training (CreateTrainingJob): ``RoleArn``; ``EnableNetworkIsolation``;
  ``EnableInterContainerTrafficEncryption``; ``VpcConfig``; ``EnableManagedSpotTraining`` with
  ``StoppingCondition.MaxWaitTimeInSeconds``; ``CheckpointConfig`` {``S3Uri``, ``LocalPath``};
  ``ResourceConfig.KeepAlivePeriodInSeconds`` and ``.VolumeKmsKeyId``; ``OutputDataConfig.KmsKeyId``;
- model (CreateModel): ``ExecutionRoleArn``; ``VpcConfig``; ``EnableNetworkIsolation``;
- transform (CreateTransformJob): ``TransformOutput.KmsKeyId``; ``TransformResources.VolumeKmsKeyId``.

Where the SDK v3 writes a field in a fixed way, dagml writes it the same way, so ``to_sdk`` builds the
same definition: a processing ``NetworkConfig`` always says ``EnableNetworkIsolation`` (``NetworkConfig.
_to_request_dict`` defaults it to false), a model says ``EnableNetworkIsolation`` only when true
(``Session._create_model_request``), and a ``CheckpointConfig`` always has its ``LocalPath`` (SageMaker's
default, ``/opt/ml/checkpoints``, when unset: ``CheckpointConfig.local_path``).

A function training step with network isolation cannot fetch its code from S3 (its training toolkit
downloads ``sagemaker_submit_directory`` itself, and an isolated container has no network): its code
prefix becomes a ``code`` channel, which SageMaker downloads, and ``sagemaker_submit_directory`` the
bundle's path in that channel. That is SDK v2's recipe for script mode under network isolation
(``Framework.CONTAINER_CODE_CHANNEL_SOURCEDIR_PATH``, the ``code`` channel of ``_Job``); the toolkit
extracts a local ``.tar.gz`` there exactly as a downloaded one (``files.download_and_extract``).

The ``sdk_*`` functions give :class:`dagml.sagemaker.sdk_steps.SdkBuilder` the same settings as the
SDK's own arguments (``Processor(network_config=..., volume_kms_key=..., output_kms_key=...)``,
``ModelTrainer(networking=..., checkpoint_config=..., compute=Compute(volume_kms_key_id=...,
keep_alive_period_in_seconds=..., enable_managed_spot_training=...), stopping_condition=
StoppingCondition(max_wait_time_in_seconds=...))``, ``ModelBuilder(network=...)``,
``Transformer(volume_kms_key=..., output_kms_key=...)``).
"""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING, Any

import attrs

from dagml import contract as c
from dagml.errors import ConfigurationError
from dagml.graph.jobchecks import CODE_CHANNEL, job_kind, job_of
from dagml.sagemaker.errors import CompileError
from dagml.sagemaker.expressions import value
from dagml.spec.jobs import Checkpoints, JobSettings, Spot
from dagml.spec.params import Param
from dagml.spec.specs import ContainerSpec, FunctionSpec, ModelSpec, NodeSpec, ScriptSpec, TransformSpec

if TYPE_CHECKING:
    from dagml.sagemaker.sdk_steps import SdkBuilder
    from dagml.sagemaker.steps import Context

__all__ = ["DEFAULT_CHECKPOINT_DIR", "ISOLATED_SUBMIT_DIRECTORY", "SdkTraining", "apply"]

#: CheckpointConfig.LocalPath when unset: SageMaker's default (API reference, CheckpointConfig).
DEFAULT_CHECKPOINT_DIR = "/opt/ml/checkpoints"
#: Where an isolated training job's bundle arrives: its ``code`` channel.
ISOLATED_SUBMIT_DIRECTORY = posixpath.join(c.DEFAULT_ROOT, c.TRAINING_CHANNEL_DIR, CODE_CHANNEL, c.BUNDLE_NAME)


def apply(ctx: Context, spec: NodeSpec | ScriptSpec, args: dict[str, Any]) -> None:
    """Write the step's job settings into its job's arguments (see the module docstring)."""
    job = job_of(spec)
    if job is None:
        return
    if isinstance(spec, ModelSpec):
        _model(job, args)
    elif isinstance(spec, TransformSpec):
        _transform(job, args)
    elif isinstance(spec, (FunctionSpec, ScriptSpec)) and job_kind(spec) == "processing":
        _processing(job, args)
    elif isinstance(spec, (FunctionSpec, ContainerSpec, ScriptSpec)):
        _training(ctx, spec, job, args)


def _vpc(job: JobSettings) -> dict[str, Any] | None:
    vpc = job.vpc
    if vpc is None:
        return None
    return {"Subnets": [value(s) for s in vpc[0]], "SecurityGroupIds": [value(g) for g in vpc[1]]}


def _processing(job: JobSettings, args: dict[str, Any]) -> None:
    if job.role is not None:
        args["RoleArn"] = value(job.role)
    if job.volume_kms_key is not None:
        args["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"] = value(job.volume_kms_key)
    if job.output_kms_key is not None and "ProcessingOutputConfig" in args:  # a script may write nothing
        args["ProcessingOutputConfig"]["KmsKeyId"] = value(job.output_kms_key)
    vpc = _vpc(job)
    if vpc is not None or job.network_isolation is not None or job.encrypt_inter_container is not None:
        network: dict[str, Any] = {"EnableNetworkIsolation": bool(job.network_isolation)}
        if job.encrypt_inter_container is not None:
            network["EnableInterContainerTrafficEncryption"] = job.encrypt_inter_container
        if vpc is not None:
            network["VpcConfig"] = vpc
        args["NetworkConfig"] = network


def _training(
    ctx: Context, spec: FunctionSpec | ContainerSpec | ScriptSpec, job: JobSettings, args: dict[str, Any]
) -> None:
    if job.role is not None:
        args["RoleArn"] = value(job.role)
    if job.network_isolation is not None:
        args["EnableNetworkIsolation"] = job.network_isolation
    if job.encrypt_inter_container is not None:
        args["EnableInterContainerTrafficEncryption"] = job.encrypt_inter_container
    vpc = _vpc(job)
    if vpc is not None:
        args["VpcConfig"] = vpc
    if isinstance(job.spot, Spot):
        args["EnableManagedSpotTraining"] = True
        if job.spot.max_wait is not None:
            args["StoppingCondition"]["MaxWaitTimeInSeconds"] = job.spot.max_wait
    if isinstance(job.checkpoints, Checkpoints):
        args["CheckpointConfig"] = {
            "S3Uri": checkpoint_uri(ctx, spec.name, job.checkpoints),
            "LocalPath": job.checkpoints.local_path or DEFAULT_CHECKPOINT_DIR,
        }
    if job.keep_alive:
        args["ResourceConfig"]["KeepAlivePeriodInSeconds"] = job.keep_alive
    if job.volume_kms_key is not None:
        args["ResourceConfig"]["VolumeKmsKeyId"] = value(job.volume_kms_key)
    if job.output_kms_key is not None:
        args["OutputDataConfig"]["KmsKeyId"] = value(job.output_kms_key)
    if job.network_isolation is True and isinstance(spec, FunctionSpec):
        channels = args.setdefault("InputDataConfig", [])
        if any(ch.get("ChannelName") == CODE_CHANNEL for ch in channels):  # validation refuses it first
            raise CompileError(
                f"pipeline {ctx.graph.name!r}, step {spec.name!r}: parameter {CODE_CHANNEL!r} clashes with the channel "
                "an isolated training step gets its code from. Fix: rename the parameter."
            )
        args["HyperParameters"]["sagemaker_submit_directory"] = ISOLATED_SUBMIT_DIRECTORY
        channels.append(
            {
                "ChannelName": CODE_CHANNEL,
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": ctx.code_prefix,
                        "S3DataDistributionType": "FullyReplicated",
                    }
                },
                "InputMode": "File",
            }
        )


def checkpoint_uri(ctx: Context, step: str, checkpoints: Checkpoints) -> Any:
    """The checkpoints' S3 location: the one given, or the step's per-execution ``.../<step>/checkpoints``."""
    return value(checkpoints.s3) if checkpoints.s3 is not None else ctx.step_uri(step, "checkpoints")


def _model(job: JobSettings, args: dict[str, Any]) -> None:
    if job.role is not None:
        args["ExecutionRoleArn"] = value(job.role)
    vpc = _vpc(job)
    if vpc is not None:
        args["VpcConfig"] = vpc
    if job.network_isolation:
        args["EnableNetworkIsolation"] = True


def _transform(job: JobSettings, args: dict[str, Any]) -> None:
    if job.output_kms_key is not None:
        args["TransformOutput"]["KmsKeyId"] = value(job.output_kms_key)
    if job.volume_kms_key is not None:
        args["TransformResources"]["VolumeKmsKeyId"] = value(job.volume_kms_key)


# ---------------------------------------------------------------- the SDK oracle (to_sdk)


def _sdk_value(b: SdkBuilder, v: Any) -> Any:
    return b.value(v) if isinstance(v, Param) else v


def _sdk_ids(b: SdkBuilder, job: JobSettings) -> tuple[list[Any], list[Any]] | None:
    vpc = job.vpc
    if vpc is None:
        return None
    return [_sdk_value(b, s) for s in vpc[0]], [_sdk_value(b, g) for g in vpc[1]]


def _role(b: SdkBuilder, job: JobSettings | None, strict: str = "") -> Any:
    """The job's role for the SDK; ``strict``: the step whose SDK class takes the role as a string only."""
    if job is None or job.role is None:
        return b.settings.role_arn
    if isinstance(job.role, Param) and strict:
        raise ConfigurationError(
            f"to_sdk: {strict} has role param {job.role.name!r}, but SDK v3's ModelTrainer and ModelBuilder "
            "take the role as a string, so the SDK cannot build it (dagml's compiled definition has it). "
            "Fix: give the role's ARN as a string to compare with the SDK."
        )
    return _sdk_value(b, job.role)


def sdk_processor(b: SdkBuilder, spec: FunctionSpec | ScriptSpec) -> dict[str, Any]:
    """``Processor`` keyword arguments: role, volume and output keys, network config."""
    job = spec.options.job
    kwargs: dict[str, Any] = {"role": _role(b, job)}
    if job is None:
        return kwargs
    if job.volume_kms_key is not None:
        kwargs["volume_kms_key"] = _sdk_value(b, job.volume_kms_key)
    if job.output_kms_key is not None:
        kwargs["output_kms_key"] = _sdk_value(b, job.output_kms_key)
    ids = _sdk_ids(b, job)
    if ids is not None or job.network_isolation is not None or job.encrypt_inter_container is not None:
        kwargs["network_config"] = b.sdk.NetworkConfig(
            enable_network_isolation=job.network_isolation,
            subnets=ids[0] if ids else None,
            security_group_ids=ids[1] if ids else None,
            encrypt_inter_container_traffic=job.encrypt_inter_container,
        )
    return kwargs


@attrs.frozen
class SdkTraining:
    """What a step's job settings add to ``ModelTrainer``: its role, extra keyword arguments of its
    ``Compute``, ``StoppingCondition`` and ``OutputDataConfig``, and its ``networking`` and
    ``checkpoint_config``."""

    role: Any
    compute: dict[str, Any] = attrs.Factory(dict)
    stopping: dict[str, Any] = attrs.Factory(dict)
    output: dict[str, Any] = attrs.Factory(dict)
    networking: Any = None
    checkpoint: Any = None


def sdk_training(b: SdkBuilder, spec: FunctionSpec | ContainerSpec | ScriptSpec) -> SdkTraining:
    """The job settings of a training or container step as ``ModelTrainer`` takes them."""
    job = spec.options.job
    found = SdkTraining(role=_role(b, job, f"step {spec.name!r}"))
    if job is None:
        return found
    sdk = b.sdk
    if isinstance(job.spot, Spot):
        found.compute["enable_managed_spot_training"] = True
        if job.spot.max_wait is not None:
            found.stopping["max_wait_time_in_seconds"] = job.spot.max_wait
    if job.keep_alive:
        found.compute["keep_alive_period_in_seconds"] = job.keep_alive
    if job.volume_kms_key is not None:
        found.compute["volume_kms_key_id"] = _sdk_value(b, job.volume_kms_key)
    if job.output_kms_key is not None:
        found.output["kms_key_id"] = _sdk_value(b, job.output_kms_key)
    ids = _sdk_ids(b, job)
    networking = None
    if ids is not None or job.network_isolation is not None or job.encrypt_inter_container is not None:
        networking = sdk.Networking(
            subnets=ids[0] if ids else None,
            security_group_ids=ids[1] if ids else None,
            enable_network_isolation=job.network_isolation,
            enable_inter_container_traffic_encryption=job.encrypt_inter_container,
        )
    checkpoint = None
    if isinstance(job.checkpoints, Checkpoints):
        s3 = job.checkpoints.s3
        checkpoint = sdk.CheckpointConfig(
            s3_uri=_sdk_value(b, s3) if s3 is not None else b.location(spec.name, "checkpoints"),
            local_path=job.checkpoints.local_path or DEFAULT_CHECKPOINT_DIR,
        )
    return attrs.evolve(found, networking=networking, checkpoint=checkpoint)


def sdk_isolated_code(b: SdkBuilder, spec: FunctionSpec, hyper: dict[str, Any], channels: list[Any]) -> None:
    """An isolated function training step: its code as the ``code`` channel (see the module docstring)."""
    job = spec.options.job
    if job is None or job.network_isolation is not True:
        return
    hyper["sagemaker_submit_directory"] = ISOLATED_SUBMIT_DIRECTORY
    channels.append(b.sdk.InputData(channel_name=CODE_CHANNEL, data_source=b.ctx.code_prefix))


def sdk_model(b: SdkBuilder, job: JobSettings | None) -> dict[str, Any]:
    """``ModelBuilder`` keyword arguments: role and network (``network=Networking(...)``)."""
    kwargs: dict[str, Any] = {"role_arn": _role(b, job, "a model step")}
    if job is None:
        return kwargs
    ids = _sdk_ids(b, job)
    if ids is not None or job.network_isolation:
        kwargs["network"] = b.sdk.Networking(
            subnets=ids[0] if ids else None,
            security_group_ids=ids[1] if ids else None,
            enable_network_isolation=job.network_isolation,
        )
    return kwargs


def sdk_transformer(b: SdkBuilder, spec: TransformSpec) -> dict[str, Any]:
    """``Transformer`` keyword arguments: volume and output keys."""
    job = spec.options.job
    kwargs: dict[str, Any] = {}
    if job is not None and job.volume_kms_key is not None:
        kwargs["volume_kms_key"] = _sdk_value(b, job.volume_kms_key)
    if job is not None and job.output_kms_key is not None:
        kwargs["output_kms_key"] = _sdk_value(b, job.output_kms_key)
    return kwargs
