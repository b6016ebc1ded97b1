"""Validation of job settings (dagml.spec.jobs): what SageMaker would refuse, or silently drop.

Called from :func:`dagml.graph.checks.option_types`. Every problem is of kind ``"job-settings"``,
names the step (and the param, for a param of the wrong type), says what is wrong with the source
that says so, and ends with the fix. Sources (cited in each message):

- API reference, VpcConfig: ``Subnets`` (1 to 16) and ``SecurityGroupIds`` (1 to 5) are both
  required; each ID is 1 to 32 of ``[-0-9a-zA-Z]``.
- API reference, StoppingCondition: ``MaxWaitTimeInSeconds`` "must be equal to or greater than
  MaxRuntimeInSeconds". Developer guide, Managed Spot Training: "Set EnableManagedSpotTraining to True
  and specify the MaxWaitTimeInSeconds".
- API reference, ResourceConfig: ``KeepAlivePeriodInSeconds`` is 0 to 3600; ``VolumeKmsKeyId`` (and every
  output config's ``KmsKeyId``) matches ``[a-zA-Z0-9:/_-]*`` up to 2048 characters.
- API reference, CreateTrainingJob / CreateProcessingJob / CreateModel: ``RoleArn`` /
  ``ExecutionRoleArn`` matches ``arn:aws[a-z-]*:iam::<12 digits>:role/...``.
- API reference, CheckpointConfig: ``S3Uri`` matches ``(https|s3)://bucket/...``.
- A role param where no SDK passes one (a training job's or a model's; only the Processor documents
  ``role (str or PipelineVariable)``) is a warning: the schema allows it, nothing shows the service
  running it.
- The request syntax of CreateProcessingJob, CreateModel and CreateTransformJob: the fields each job
  does not have (a setting there would be dropped, so it is an error, not a no-op).
- Developer guide, "Run training and inference containers in internet-free mode": with network
  isolation "the containers can't make any outbound network calls, even to other AWS services such as
  Amazon S3". dagml's runtime needs no network: a processing job gets its code and wheels as
  ProcessingInputs (SageMaker downloads them), wheels install with ``pip --no-index``, and outputs are
  uploaded by SageMaker. Two containers dagml does not write do fetch code themselves: the training
  toolkit downloads ``sagemaker_submit_directory`` and the serving stack ``SAGEMAKER_SUBMIT_DIRECTORY``
  from S3. For an isolated function training step the compiler ships the bundle as a ``code`` channel
  instead (what SDK v2 does, ``Framework.CONTAINER_CODE_CHANNEL_SOURCEDIR_PATH``), so what cannot run
  isolated is a model serving a function or script step's model, and a training script (its own archive
  in S3): refused here.
- Developer guide, "Default cache key attributes by pipeline step type": ``CheckpointConfig`` is in a
  Training step's cache key (a warning: the job runs, it just never hits the cache).

Two training steps checkpointing to one literal S3 URI is dagml's own rule, a warning: the service
accepts it, and each job would resume from the other's checkpoints.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from dagml.graph.wiring import DATASET, OUTPUT, STEP
from dagml.spec.jobs import FIELDS, Checkpoints, JobSettings, Spot
from dagml.spec.params import Param
from dagml.spec.specs import ContainerSpec, FunctionSpec, ModelSpec, NodeSpec, ScriptSpec, TransformSpec

if TYPE_CHECKING:
    from dagml.errors import Severity
    from dagml.graph.protocols import Builder

__all__ = ["CODE_CHANNEL", "MAX_KEEP_ALIVE", "MAX_SECURITY_GROUPS", "MAX_SUBNETS", "check", "isolated", "job_kind", "job_of", "params_of"]

KIND = "job-settings"
#: API reference, VpcConfig.
MAX_SUBNETS, MAX_SECURITY_GROUPS = 16, 5
#: (These are patterns, not compiled ones: ``re`` compiles each the first time a job setting needs it.)
_VPC_ID = r"^[-0-9a-zA-Z]{1,32}$"
#: API reference, ResourceConfig: KeepAlivePeriodInSeconds, Valid Range 0 to 3600.
MAX_KEEP_ALIVE = 3600
#: API reference, ResourceConfig VolumeKmsKeyId / OutputDataConfig KmsKeyId: Pattern, Maximum length 2048.
_KMS = r"^[a-zA-Z0-9:/_-]{1,2048}$"
#: API reference, CreateTrainingJob RoleArn (CreateProcessingJob, CreateModel: the same).
_ROLE = r"^arn:aws[a-z\-]*:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$"
#: API reference, CheckpointConfig S3Uri.
_S3 = re.compile(r"^(https|s3)://([^/]+)/?(.*)$")
#: A training step's default MaxRuntimeInSeconds when ``timeout=`` is unset: SageMaker's own default,
#: the one the compiler writes (dagml.sagemaker.steps.DEFAULT_TRAINING_RUNTIME; a test keeps them equal).
DEFAULT_TRAINING_RUNTIME = 86400
#: The training channel an isolated function step's code arrives in (SDK v2's code channel name).
CODE_CHANNEL = "code"

#: Each setting's SageMaker field, for messages (docs/sagemaker.md, "Job settings").
SAGEMAKER_FIELD = {
    "role": "RoleArn",
    "subnets": "VpcConfig.Subnets",
    "security_groups": "VpcConfig.SecurityGroupIds",
    "volume_kms_key": "VolumeKmsKeyId",
    "output_kms_key": "an output KmsKeyId",
    "network_isolation": "EnableNetworkIsolation",
    "encrypt_inter_container": "EnableInterContainerTrafficEncryption",
    "spot": "EnableManagedSpotTraining",
    "checkpoints": "CheckpointConfig",
    "keep_alive": "ResourceConfig.KeepAlivePeriodInSeconds",
}
_API = {"processing": "CreateProcessingJob", "model": "CreateModel", "transform": "CreateTransformJob"}


def job_of(spec: NodeSpec | ScriptSpec) -> JobSettings | None:
    """The job settings a step runs with (the pipeline's merged in at declaration), if any."""
    if isinstance(spec, (FunctionSpec, ContainerSpec, ScriptSpec, TransformSpec)):
        return spec.options.job
    if isinstance(spec, ModelSpec):
        return spec.job
    return None


def job_kind(spec: NodeSpec | ScriptSpec) -> str:
    """The kind of job a step runs, for :data:`dagml.spec.jobs.FIELDS` (a script's: its mode)."""
    return spec.mode if isinstance(spec, ScriptSpec) else spec.kind


def params_of(spec: NodeSpec) -> tuple[Param, ...]:
    """Params a step's job settings use (so that validation does not call them unused)."""
    job = job_of(spec)
    return job.params() if job is not None else ()


def isolated(spec: NodeSpec) -> bool:
    """Whether the step's container runs with network isolation."""
    job = job_of(spec)
    return job is not None and job.network_isolation is True


def check(b: Builder) -> None:
    """Every job-settings problem of the pipeline (see the module docstring)."""
    shared: dict[str, list[str]] = {}
    for spec in b.specs.values():
        job = job_of(spec)
        if job is None:
            continue
        _applicable(b, spec, job)
        _values(b, spec, job)
        _vpc(b, spec, job)
        if isinstance(spec, (FunctionSpec, ContainerSpec, ScriptSpec)) and job_kind(spec) == "training":
            _spot(b, spec, job)
            _checkpoints(b, spec, job, shared)
        _isolation(b, spec, job)
    for uri, steps in shared.items():
        if len(steps) > 1:
            b.problem(
                KIND,
                tuple(steps),
                f"training steps {', '.join(map(repr, steps))} checkpoint to the same S3 URI {uri!r}, so each "
                "would resume from the other's checkpoints.",
                "Give each step its own dagml.Checkpoints(s3=...), or leave s3 unset: dagml then checkpoints each "
                "step to its own per-execution location.",
                severity="warning",
            )


def _problem(b: Builder, spec: NodeSpec | ScriptSpec, message: str, fix: str, *more: str, severity: Severity = "error") -> None:
    b.problem(KIND, (spec.name, *more), message, fix, severity=severity)


def _applicable(b: Builder, spec: NodeSpec, job: JobSettings) -> None:
    """A setting the step's job does not have would be dropped without a word: refuse it."""
    kind = job_kind(spec)
    for name in job.active():
        if name in FIELDS.get(kind, frozenset()):
            continue
        what = f"{name}= (SageMaker's {SAGEMAKER_FIELD[name]})"
        api = _API.get(kind, "the step's API")
        if kind == "transform" and name in FIELDS["model"]:
            assert isinstance(spec, TransformSpec)
            _problem(
                b,
                spec,
                f"{what}: a batch transform job runs with its model's role and network; {api} has no such field "
                f"(API reference, {api}).",
                f"Set it on model step {spec.model!r}: pipe.model(..., job=dagml.JobSettings({name}=...)).",
            )
        elif kind == "processing":
            _problem(
                b,
                spec,
                f"{what} is a training job's setting; a processing job has no such field (API reference, {api}).",
                "Drop it from this step's job=, or make the step a training step (kind='training').",
            )
        else:
            where = (
                "the training step that makes the model, or the batch transform that runs it"
                if kind == "model" and name in FIELDS["transform"]
                else "a training step"
            )
            _problem(
                b,
                spec,
                f"{what}: a {kind} step has no such field (API reference, {api}), so it would be ignored.",
                f"Drop it from this step's job=; it belongs on {where}.",
            )


def _string_values(job: JobSettings) -> list[tuple[str, str | Param]]:
    values: list[tuple[str, str | Param]] = []
    for name in ("role", "volume_kms_key", "output_kms_key"):
        value = getattr(job, name)
        if value is not None:
            values.append((name, value))
    values += [("subnets", v) for v in job.subnets or ()]
    values += [("security_groups", v) for v in job.security_groups or ()]
    if isinstance(job.checkpoints, Checkpoints) and job.checkpoints.s3 is not None:
        values.append(("checkpoints", job.checkpoints.s3))
    return values


def _values(b: Builder, spec: NodeSpec, job: JobSettings) -> None:
    """Each value as SageMaker's API accepts it: String params, and literals of the documented forms."""
    for name, value in _string_values(job):
        if isinstance(value, Param):
            if value.type != "String":
                _problem(
                    b,
                    spec,
                    f"{name} is bound to {value.type} param {value.name!r}; SageMaker's {SAGEMAKER_FIELD[name]} is a string.",
                    f"Bind a String param, e.g. pipe.param({value.name!r}, '<value>').",
                    value.name,
                )
            elif name == "role" and spec.kind != "processing":
                # The schema allows a Get in RoleArn / ExecutionRoleArn, but only the Processor takes a role
                # variable in either SDK (v2 and v3 document ``role (str or PipelineVariable)`` there alone;
                # v3's ModelTrainer and ModelBuilder type it as str): nothing shows the service running one.
                _problem(
                    b,
                    spec,
                    f"role is param {value.name!r}: the definition can say so, but no SageMaker SDK passes a role "
                    f"param to a {spec.kind} job (SDK v3's ModelTrainer and ModelBuilder take a string), so it is "
                    "untested; dagml.sagemaker.to_sdk cannot build it.",
                    "If SageMaker refuses it, give the role's ARN as a string; a processing step's role may be a param.",
                    value.name,
                    severity="warning",
                )
            continue
        if name == "role" and not re.match(_ROLE, value):
            _problem(
                b,
                spec,
                f"role {value!r} is not an IAM role ARN (API reference, CreateTrainingJob: RoleArn).",
                "Give the role's ARN, e.g. role='arn:aws:iam::111122223333:role/TeamSageMakerRole'.",
            )
        elif name.endswith("kms_key") and not re.match(_KMS, value):
            _problem(
                b,
                spec,
                f"{name} {value!r} is not a KMS key ID, alias or ARN SageMaker accepts (1 to 2048 letters, digits, "
                "':', '/', '_' and '-'; API reference, ResourceConfig: VolumeKmsKeyId).",
                f"Give the key's ID, ARN or alias, e.g. {name}='alias/sagemaker-jobs'.",
            )
        elif name in ("subnets", "security_groups") and not re.match(_VPC_ID, value):
            example = "subnet-0a1b2c3d4e5f67890" if name == "subnets" else "sg-0a1b2c3d4e5f67890"
            _problem(
                b,
                spec,
                f"{name[:-1].replace('_', ' ')} {value!r} is not an ID SageMaker accepts (1 to 32 letters, digits and "
                "'-'; API reference, VpcConfig).",
                f"Give the ID, not a name or ARN, e.g. {example!r}.",
            )
        elif name == "checkpoints" and not _S3.match(value):
            _problem(
                b,
                spec,
                f"checkpoints s3={value!r} is not an S3 URI (API reference, CheckpointConfig: S3Uri).",
                "Give it as dagml.Checkpoints(s3='s3://bucket/prefix'), or leave s3 unset for dagml's location.",
            )
    if job.keep_alive is not None and job.keep_alive > MAX_KEEP_ALIVE:
        _problem(
            b,
            spec,
            f"keep_alive={job.keep_alive} is longer than the {MAX_KEEP_ALIVE} seconds SageMaker keeps a warm pool "
            "(API reference, ResourceConfig: KeepAlivePeriodInSeconds).",
            f"Use keep_alive={MAX_KEEP_ALIVE} or less.",
        )


def _vpc(b: Builder, spec: NodeSpec, job: JobSettings) -> None:
    vpc = job.vpc
    if vpc is None:
        return
    subnets, groups = vpc
    if not subnets or not groups:
        has, lacks = ("subnets", "security groups") if subnets else ("security groups", "subnets")
        _problem(
            b,
            spec,
            f"the job has {has} but no {lacks}; SageMaker's VpcConfig requires both (API reference, VpcConfig).",
            f"Add {lacks.replace(' ', '_')}=[...] to job=, or set subnets=[] and security_groups=[] for no VPC.",
        )
    for name, items, most in (("subnets", subnets, MAX_SUBNETS), ("security_groups", groups, MAX_SECURITY_GROUPS)):
        if len(items) > most:
            _problem(
                b,
                spec,
                f"the job has {len(items)} {name.replace('_', ' ')}; SageMaker's VpcConfig takes at most {most} "
                "(API reference, VpcConfig).",
                f"List at most {most} {name.replace('_', ' ')}.",
            )


def _runtime(spec: FunctionSpec | ContainerSpec | ScriptSpec) -> tuple[int, str]:
    if spec.options.timeout:
        return spec.options.timeout, f"its timeout={spec.options.timeout}"
    return DEFAULT_TRAINING_RUNTIME, f"{DEFAULT_TRAINING_RUNTIME}s, the time limit of a training step without timeout="


def _spot(b: Builder, spec: FunctionSpec | ContainerSpec | ScriptSpec, job: JobSettings) -> None:
    if not isinstance(job.spot, Spot):
        return
    runtime, said = _runtime(spec)
    wait = job.spot.max_wait
    if wait is None:
        _problem(
            b,
            spec,
            "spot training has no max wait: SageMaker takes EnableManagedSpotTraining with "
            "StoppingCondition.MaxWaitTimeInSeconds (developer guide, Managed Spot Training).",
            f"Give one of at least the step's time limit: job=dagml.JobSettings(spot=dagml.Spot(max_wait={runtime})).",
        )
    elif wait < runtime:
        _problem(
            b,
            spec,
            f"spot max_wait={wait} is shorter than the step's time limit ({said}); SageMaker requires "
            "MaxWaitTimeInSeconds >= MaxRuntimeInSeconds (API reference, StoppingCondition).",
            f"Raise it, dagml.Spot(max_wait={runtime}), or lower the step's timeout= to {wait} or less.",
        )


def _checkpoints(
    b: Builder, spec: FunctionSpec | ContainerSpec | ScriptSpec, job: JobSettings, shared: dict[str, list[str]]
) -> None:
    if not isinstance(job.checkpoints, Checkpoints):
        return
    s3 = job.checkpoints.s3
    if isinstance(s3, str):
        shared.setdefault(s3.rstrip("/"), []).append(spec.name)
    elif s3 is None and spec.options.cache is not None:
        _problem(
            b,
            spec,
            "its checkpoints go to dagml's per-execution location, and CheckpointConfig is in a training step's "
            "cache key (developer guide, Default cache key attributes by pipeline step type), so cache= never "
            "hits.",
            "Give the checkpoints a fixed place, dagml.Checkpoints(s3='s3://...') (executions then share it), or "
            "drop cache=.",
            severity="warning",
        )


def _isolation(b: Builder, spec: NodeSpec, job: JobSettings) -> None:
    if job.network_isolation is not True:
        return
    if isinstance(spec, ModelSpec):
        source = b.specs.get(spec.model)
        if isinstance(source, (FunctionSpec, ScriptSpec)):  # a script's model is served by its own script, from S3
            what = "function" if isinstance(source, FunctionSpec) else "script"
            _problem(
                b,
                spec,
                f"network isolation: this model serves the model of {what} step {source.name!r}, and its serving "
                "container downloads the inference code from S3 itself (SAGEMAKER_SUBMIT_DIRECTORY); an isolated "
                "container 'can't make any outbound network calls, even to other AWS services such as Amazon S3' "
                "(developer guide, Run training and inference containers in internet-free mode).",
                "Turn it off for this model: job=dagml.JobSettings(network_isolation=False) (for a model a "
                "batch_transform declared, on that batch_transform); the training step can keep it.",
            )
    elif isinstance(spec, ScriptSpec) and spec.trains:
        _problem(
            b,
            spec,
            "network isolation: the training toolkit downloads this script's code (sagemaker_submit_directory) "
            "from S3 itself, and an isolated container 'can't make any outbound network calls, even to other AWS "
            "services such as Amazon S3' (developer guide, Run training and inference containers in internet-free "
            "mode).",
            "Drop network_isolation for this step (job=dagml.JobSettings(network_isolation=False)), or write it as "
            "a function step (@pipe.step(kind='training')), whose code dagml ships through a channel.",
        )
    elif isinstance(spec, FunctionSpec) and spec.kind == "training":
        for binding in b.bindings.get(spec.name, ()):
            if binding.parameter == CODE_CHANNEL and binding.source in (STEP, DATASET, OUTPUT):
                _problem(
                    b,
                    spec,
                    f"with network isolation dagml ships the step's code in a training channel named "
                    f"{CODE_CHANNEL!r} (the container cannot fetch it from S3), and parameter {CODE_CHANNEL!r} "
                    "would be a second channel of that name.",
                    "Rename the parameter (and bind what it reads by its new name).",
                )
