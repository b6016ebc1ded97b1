"""Enterprise job settings: the role, network, encryption and capacity a step's SageMaker job runs with.

``dagml.JobSettings`` holds what a company's account rules usually dictate, and what the SageMaker
APIs take for each job: the execution role, the VPC (subnets and security groups), KMS keys for the
job's volumes and for what it writes to S3, network isolation, encryption of the traffic between the
instances of one job, managed spot training (:class:`Spot`), checkpoints (:class:`Checkpoints`)
and warm pools (``keep_alive``).

Where it is declared, and how the levels combine:

- ``Pipeline(name, job=JobSettings(...))`` sets defaults for every step;
- ``@pipe.step(job=...)``, ``pipe.container(job=...)``, ``pipe.model(job=...)`` and
  ``pipe.batch_transform(job=...)`` override them *field by field*: a field the step leaves unset
  (``None``) inherits the pipeline's; one it sets replaces it. :class:`Spot` and
  :class:`Checkpoints` merge the same way, one level down. To switch an inherited setting off,
  set its "off" value: ``network_isolation=False``, ``encrypt_inter_container=False``,
  ``spot=False``, ``checkpoints=False``, ``keep_alive=0``, ``subnets=[]`` with
  ``security_groups=[]`` (no VPC).
- A pipeline-wide field applies to the steps whose SageMaker job has it and is ignored by the
  others (the pipeline's ``spot=`` reaches training steps, not processing steps; its
  ``output_kms_key`` reaches processing, training and transform jobs, not models):
  :data:`FIELDS` says which. A field a *step* sets that its job does not have is a validation
  error (dagml.graph.jobchecks), because it would be silently dropped.

Why field by field: a company sets the VPC and the KMS keys once, and a step changes one thing
(another role, spot capacity) without restating the rest. Why a pipeline's value is ignored where
it does not apply: ``spot=`` on the pipeline means "train on spot", not "every step is a
training step".

Pipeline params: the string fields (``role``, the KMS keys, each subnet and security group,
``Checkpoints.s3``) may be String params, which the definition references (``{"Get":
"Parameters.X"}``, a ``StringArgumentValue`` in the published schema), so an execution can run in
another account's VPC or with another key. Booleans and times are literals: dagml checks them at
validation (max wait against the time limit, network isolation against what the step needs),
which needs their values, and SDK v3's ``ModelTrainer`` types them as plain ``bool``/``int``
(``Networking``, ``StoppingCondition``). A param in the *pipeline's* ``job=`` is declared on the
pipeline by that (``Pipeline(..., job=JobSettings(volume_kms_key=dagml.Param("KmsKey", ...)))``),
since the pipeline does not exist yet to declare it with ``pipe.param``.

Local runs ignore all of it (no job is created); validation still checks it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Literal, Union

import attrs

from dagml.spec.errors import DeclarationError
from dagml.spec.params import Param

__all__ = ["FIELDS", "Checkpoints", "JobSettings", "Spot", "for_companion", "resolve", "to_job"]

StrOrParam = Union[str, Param]

#: Every field of :class:`JobSettings`, in declaration order.
ALL_FIELDS = (
    "role",
    "subnets",
    "security_groups",
    "volume_kms_key",
    "output_kms_key",
    "network_isolation",
    "encrypt_inter_container",
    "spot",
    "checkpoints",
    "keep_alive",
)
_NETWORK = ("role", "subnets", "security_groups", "network_isolation")
#: Step kind -> the fields its SageMaker job has (API reference: CreateProcessingJob, CreateTrainingJob,
#: CreateModel, CreateTransformJob). A RegisterModel step (CreateModelPackage) has none of them: a model
#: package carries no role, VPC or job keys; whoever deploys it chooses them.
FIELDS: dict[str, frozenset[str]] = {
    "processing": frozenset(
        {*_NETWORK, "volume_kms_key", "output_kms_key", "encrypt_inter_container"}
    ),
    "training": frozenset(ALL_FIELDS),
    "container": frozenset(ALL_FIELDS),
    "model": frozenset(_NETWORK),
    "transform": frozenset({"volume_kms_key", "output_kms_key"}),
}


def _str_or_param(name: str) -> Callable[[Any, Any, Any], None]:
    def check(instance: Any, attribute: Any, value: Any) -> None:
        if value is not None and not isinstance(value, (str, Param)):
            raise DeclarationError(f"{name}={value!r} must be a string or a String param.")

    return check


def _flag(name: str) -> Callable[[Any, Any, Any], None]:
    def check(instance: Any, attribute: Any, value: Any) -> None:
        if value is not None and not isinstance(value, bool):
            raise DeclarationError(
                f"{name}={value!r} must be True or False (a literal: dagml checks it at validation)."
            )

    return check


def _seconds(name: str, least: int) -> Callable[[Any, Any, Any], None]:
    def check(instance: Any, attribute: Any, value: Any) -> None:
        if value is None:
            return
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise DeclarationError(
                f"{name}={value!r} must be a whole number of seconds >= {least} (a literal: dagml checks it at "
                "validation)."
            )

    return check


def _ids(name: str, value: object) -> tuple[StrOrParam, ...] | None:
    if value is None:
        return None
    if isinstance(value, (str, Param)):
        raise DeclarationError(f"{name}={value!r} must be a list of IDs. Fix: {name}=[{value!r}].")
    if not isinstance(value, Iterable):
        raise DeclarationError(f"{name}={value!r} must be a list of IDs (strings or String params).")
    items = tuple(value)
    bad = [v for v in items if not isinstance(v, (str, Param))]
    if bad:
        raise DeclarationError(f"{name}: {bad[0]!r} is not an ID; each must be a string or a String param.")
    return items


def _subnets(value: object) -> tuple[StrOrParam, ...] | None:
    return _ids("subnets", value)


def _security_groups(value: object) -> tuple[StrOrParam, ...] | None:
    return _ids("security_groups", value)


@attrs.frozen
class Spot:
    """Managed spot training: ``EnableManagedSpotTraining`` and ``StoppingCondition.MaxWaitTimeInSeconds``.

    ``max_wait`` is how long, in seconds, SageMaker may take to finish the job, waiting for spot
    capacity included; it must be at least the step's ``timeout`` (its MaxRuntimeInSeconds, 86400
    when unset). It is kept with spot, not beside it, because SageMaker refuses a max wait on a job
    that is not spot ("Invalid MaxWaitTimeInSeconds. It is only supported when
    EnableManagedSpotTraining is set to true"). ``Spot()`` without it inherits the pipeline's;
    validation refuses spot with no max wait at all. Pair it with :class:`Checkpoints` so an
    interrupted job resumes instead of starting over.
    """

    max_wait: int | None = attrs.field(default=None, validator=_seconds("Spot(max_wait=...)", 1))

    def over(self, base: Spot) -> Spot:
        """These settings, with ``base``'s where unset."""
        return Spot(max_wait=self.max_wait if self.max_wait is not None else base.max_wait)


@attrs.frozen
class Checkpoints:
    """A training job's ``CheckpointConfig``: SageMaker copies ``local_path`` to ``s3`` while the job
    runs and back when it restarts (after a spot interruption, say).

    ``s3`` is an ``s3://`` URI or a String param; unset, each step checkpoints under its own
    per-execution location, ``<base>/<pipeline>/<execution id>/<step>/checkpoints``, like every output
    dagml writes, so steps and executions never resume from each other's checkpoints (CheckpointConfig
    is in a training step's cache key, so such a step is never a cache hit: validation warns when it
    has ``cache=``). ``local_path`` defaults to SageMaker's ``/opt/ml/checkpoints``.

    A separate setting from :class:`Spot` because CreateTrainingJob has them apart: checkpoints help
    any long job, and a step can turn spot off (``spot=False``) and keep the pipeline's checkpoints.
    """

    s3: StrOrParam | None = attrs.field(default=None, validator=_str_or_param("Checkpoints(s3=...)"))
    local_path: str | None = attrs.field(default=None, kw_only=True)

    def __attrs_post_init__(self) -> None:
        if self.local_path is not None and not (isinstance(self.local_path, str) and self.local_path.startswith("/")):
            raise DeclarationError(
                f"Checkpoints(local_path={self.local_path!r}) must be an absolute path in the container. "
                "Fix: leave it unset for SageMaker's /opt/ml/checkpoints, or give e.g. '/opt/ml/checkpoints/run'."
            )

    def over(self, base: Checkpoints) -> Checkpoints:
        """These settings, with ``base``'s where unset."""
        return Checkpoints(
            self.s3 if self.s3 is not None else base.s3,
            local_path=self.local_path if self.local_path is not None else base.local_path,
        )


def _to_spot(value: object) -> Spot | Literal[False] | None:
    if value is None or value is False or isinstance(value, Spot):
        return value
    if value is True:
        return Spot()
    raise DeclarationError(f"spot={value!r}: use dagml.Spot(max_wait=<seconds>), True, or False to turn it off.")


def _to_checkpoints(value: object) -> Checkpoints | Literal[False] | None:
    if value is None or value is False or isinstance(value, Checkpoints):
        return value
    if value is True:
        return Checkpoints()
    raise DeclarationError(
        f"checkpoints={value!r}: use dagml.Checkpoints(s3=...), True (dagml's location), or False to turn them off."
    )


@attrs.frozen
class JobSettings:
    """How a step's SageMaker job runs: role, network, encryption, spot capacity, warm pool.

    Every field is optional; unset (``None``) inherits the pipeline's ``job=`` (see the module
    docstring). Each maps to one SageMaker field (docs/sagemaker.md, "Job settings"):

    - ``role``: the job's execution role ARN (``RoleArn``; a model's ``ExecutionRoleArn``). The
      pipeline's own role stays ``Settings.role_arn`` (``--role-arn``), which is also every job's
      default.
    - ``subnets``, ``security_groups``: the VPC (``VpcConfig``; a processing job's
      ``NetworkConfig.VpcConfig``); both or neither, at most 16 subnets and 5 security groups.
    - ``volume_kms_key``: encrypts the instances' storage volumes (``VolumeKmsKeyId``).
    - ``output_kms_key``: encrypts what the job writes to S3 (the output config's ``KmsKeyId``).
    - ``network_isolation``: no network in the container (``EnableNetworkIsolation``).
    - ``encrypt_inter_container``: encrypt traffic between a job's instances
      (``EnableInterContainerTrafficEncryption``).
    - ``spot``: :class:`Spot`, training only; ``checkpoints``: :class:`Checkpoints`, training only.
    - ``keep_alive``: seconds a training job's instances stay in a warm pool
      (``ResourceConfig.KeepAlivePeriodInSeconds``, 0 to 3600).
    """

    role: StrOrParam | None = attrs.field(default=None, validator=_str_or_param("role"))
    subnets: tuple[StrOrParam, ...] | None = attrs.field(default=None, converter=_subnets)
    security_groups: tuple[StrOrParam, ...] | None = attrs.field(default=None, converter=_security_groups)
    volume_kms_key: StrOrParam | None = attrs.field(default=None, validator=_str_or_param("volume_kms_key"))
    output_kms_key: StrOrParam | None = attrs.field(default=None, validator=_str_or_param("output_kms_key"))
    network_isolation: bool | None = attrs.field(default=None, validator=_flag("network_isolation"))
    encrypt_inter_container: bool | None = attrs.field(default=None, validator=_flag("encrypt_inter_container"))
    spot: Spot | Literal[False] | None = attrs.field(default=None, converter=_to_spot)
    checkpoints: Checkpoints | Literal[False] | None = attrs.field(default=None, converter=_to_checkpoints)
    keep_alive: int | None = attrs.field(default=None, validator=_seconds("keep_alive", 0))

    def over(self, base: JobSettings | None) -> JobSettings:
        """These settings, with ``base``'s wherever a field is unset (Spot and Checkpoints field by field)."""
        if base is None:
            return self
        values: dict[str, Any] = {}
        for name in ALL_FIELDS:
            mine, theirs = getattr(self, name), getattr(base, name)
            values[name] = theirs if mine is None else _nested(mine, theirs)
        return JobSettings(**values)

    def only(self, names: Iterable[str]) -> JobSettings | None:
        """A copy keeping only the fields ``names`` (None when none of them is set)."""
        keep = set(names)
        values = {name: getattr(self, name) for name in ALL_FIELDS if name in keep and getattr(self, name) is not None}
        return JobSettings(**values) if values else None

    def active(self) -> tuple[str, ...]:
        """The fields set to something that does anything (not unset and not an "off" value)."""
        return tuple(name for name in ALL_FIELDS if _on(getattr(self, name)))

    def params(self) -> tuple[Param, ...]:
        """Every param used as a value, in field order."""
        found: list[Param] = []
        for value in (
            self.role,
            *(self.subnets or ()),
            *(self.security_groups or ()),
            self.volume_kms_key,
            self.output_kms_key,
            self.checkpoints.s3 if isinstance(self.checkpoints, Checkpoints) else None,
        ):
            if isinstance(value, Param) and not any(value is p for p in found):
                found.append(value)
        return tuple(found)

    @property
    def vpc(self) -> tuple[tuple[StrOrParam, ...], tuple[StrOrParam, ...]] | None:
        """(subnets, security groups) when either is non-empty, else None (no VPC)."""
        if not self.subnets and not self.security_groups:
            return None
        return self.subnets or (), self.security_groups or ()


def _nested(mine: object, theirs: object) -> object:
    """A set field over the base's: Spot and Checkpoints merge field by field, anything else replaces."""
    if isinstance(mine, Spot) and isinstance(theirs, Spot):
        return mine.over(theirs)
    if isinstance(mine, Checkpoints) and isinstance(theirs, Checkpoints):
        return mine.over(theirs)
    return mine


def _on(value: object) -> bool:
    """Whether a field's value does anything: None, False, 0 and an empty list do not."""
    if value is None or value is False:
        return False
    if isinstance(value, tuple):
        return bool(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value > 0
    return True


def to_job(value: object, where: str) -> JobSettings | None:
    """``job=`` as declared: a :class:`JobSettings` or None."""
    if value is None or isinstance(value, JobSettings):
        return value
    raise DeclarationError(
        f"{where}: job={value!r} is not job settings. Fix: job=dagml.JobSettings(role=..., subnets=[...], ...)."
    )


def resolve(pipeline: JobSettings | None, own: JobSettings | None, kind: str) -> JobSettings | None:
    """What a step of ``kind`` runs with: every field it sets (applicable or not: validation refuses
    one its job lacks), and the pipeline's for the fields it leaves unset that its job has."""
    applies = FIELDS.get(kind, frozenset())
    base = pipeline.only(applies) if pipeline is not None else None
    if own is None:
        return base
    return own.over(base)


def for_companion(own: JobSettings | None) -> tuple[JobSettings | None, JobSettings | None]:
    """Split a ``batch_transform(job=...)`` whose model step dagml declares for it: (the model's part,
    the transform's part). A transform job runs with its model's role and network (CreateTransformJob
    has no RoleArn, VpcConfig or EnableNetworkIsolation), so those go to the model it declares."""
    if own is None:
        return None, None
    model = own.only(FIELDS["model"])
    rest = own.only(name for name in ALL_FIELDS if name not in FIELDS["model"])
    return model, rest
