"""Frozen specs: what a pipeline declares, step by step.

The DSL (:mod:`dagml.spec.pipeline`) turns decorator calls into these specs;
the graph builder (:mod:`dagml.graph`) reads them and nothing else. They
refer to other steps by *name* (a string), so a spec can name a step that is
declared later, or one that does not exist (which validation reports).
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal, TypeGuard, Union

import attrs

from dagml.spec.conditions import Expr, MetricRef
from dagml.spec.environment import Image
from dagml.spec.errors import DeclarationError
from dagml.spec.handlers import InferenceHandlers
from dagml.spec.jobs import JobSettings
from dagml.spec.outputs import Output, OutputRef
from dagml.spec.params import Dataset, Param

if TYPE_CHECKING:
    from dagml.spec.imported import ImportedCondition, ImportedSpec

__all__ = [
    "FUNCTION_KINDS",
    "KINDS",
    "Cache",
    "ConditionSpec",
    "ContainerSpec",
    "FailSpec",
    "FunctionKind",
    "FunctionSpec",
    "Kind",
    "ModelSpec",
    "NodeSpec",
    "Parameter",
    "RegisterSpec",
    "Retry",
    "ScriptSpec",
    "StepOptions",
    "TransformSpec",
    "imported_condition",
    "imported_step",
]

#: Kinds a decorated function can have.
FunctionKind = Literal["processing", "training"]
FUNCTION_KINDS: tuple[FunctionKind, ...] = ("processing", "training")
#: Every node kind in a pipeline graph ("other": a step of an imported definition of
#: another type, such as Lambda; see dagml.spec.imported). Dispatch on a spec's type
#: (``isinstance``) where its fields matter, so the type checker knows which spec it is.
Kind = Literal[
    "processing", "training", "container", "script", "model", "register", "transform", "fail", "condition", "other"
]
KINDS: tuple[Kind, ...] = (
    *FUNCTION_KINDS,
    "container",
    "script",
    "model",
    "register",
    "transform",
    "fail",
    "condition",
    "other",
)

#: What SageMaker retries: step-level exception types of a RetryPolicy.
RETRYABLE = (
    "Step.SERVICE_FAULT",
    "Step.THROTTLING",
    "SageMaker.JOB_INTERNAL_ERROR",
    "SageMaker.CAPACITY_ERROR",
    "SageMaker.RESOURCE_LIMIT",
)
MAX_RETRY_ATTEMPTS = 20
APPROVAL_STATUSES = ("Approved", "PendingManualApproval", "Rejected")
#: ISO 8601 duration (a pattern: ``re`` compiles it the first time a Cache has an expiry).
_DURATION = r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$"

IntOrParam = Union[int, Param]
StrOrParam = Union[str, Param]


def _positive_int(name: str, allow_param: bool = True) -> Callable[[Any, Any, Any], None]:
    def check(instance: Any, attribute: Any, value: Any) -> None:
        if value is None or (allow_param and isinstance(value, Param)):
            return
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise DeclarationError(
                f"{name}={value!r} must be a positive whole number"
                + (" or an Integer param" if allow_param else "")
                + "."
            )

    return check


def _str_or_param(name: str) -> Callable[[Any, Any, Any], None]:
    def check(instance: Any, attribute: Any, value: Any) -> None:
        if value is None or isinstance(value, (str, Param)):
            return
        raise DeclarationError(f"{name}={value!r} must be a string or a String param.")

    return check


def _str_mapping(value: Mapping[str, Any] | None) -> tuple[tuple[str, str], ...]:
    """Freeze a str->str mapping as sorted pairs (order has no meaning)."""
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        raise DeclarationError(f"expected a dict of strings, got {value!r}")
    for key, item in value.items():
        if not isinstance(key, str) or not isinstance(item, str):
            raise DeclarationError(
                f"environment and tags map strings to strings; {key!r}: {item!r} is not. "
                "Fix: convert the value with str()."
            )
    return tuple(sorted(value.items()))


def _tuple(value: Iterable[str]) -> tuple[str, ...]:
    # Not ``converter=tuple``: attrs reads a converter's signature, and a builtin's costs a tokenizer
    # regex compiled at import (5 ms of every cold start).
    return tuple(value)


@attrs.frozen
class Retry:
    """SageMaker RetryPolicy: retry a step on the given step-level failures."""

    on: tuple[str, ...] = attrs.field(default=("Step.SERVICE_FAULT", "Step.THROTTLING"), converter=_tuple)
    #: SageMaker allows at most 20 attempts per retry policy.
    max_attempts: int = attrs.field(default=3, validator=_positive_int("max_attempts", False))
    interval_seconds: int = attrs.field(default=1, validator=_positive_int("interval_seconds", False))
    backoff_rate: float = 2.0

    def __attrs_post_init__(self) -> None:
        if self.max_attempts > MAX_RETRY_ATTEMPTS:
            raise DeclarationError(
                f"Retry(max_attempts={self.max_attempts}): SageMaker allows at most {MAX_RETRY_ATTEMPTS} attempts. "
                f"Fix: use max_attempts <= {MAX_RETRY_ATTEMPTS}."
            )
        unknown = [e for e in self.on if e not in RETRYABLE]
        if unknown:
            raise DeclarationError(
                f"Retry(on=...) got unknown exception types {unknown!r}; "
                f"SageMaker retries {', '.join(RETRYABLE)}."
            )
        rate = self.backoff_rate
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not math.isfinite(rate) or rate < 1:
            raise DeclarationError(
                f"Retry(backoff_rate={rate!r}) must be a finite number >= 1. Fix: use e.g. backoff_rate=2.0."
            )


@attrs.frozen
class Cache:
    """SageMaker step caching: reuse a step's earlier result for ``expire_after``."""

    expire_after: str = "P30D"

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.expire_after, str) or not re.match(_DURATION, self.expire_after):
            raise DeclarationError(
                f"cache expire_after={self.expire_after!r} is not an ISO 8601 duration. "
                "Fix: use e.g. 'P30D' (30 days) or 'PT12H' (12 hours)."
            )


def _to_cache(value: object) -> Cache | None:
    if value is None or value is False:
        return None
    if value is True:
        return Cache()
    if isinstance(value, str):
        return Cache(value)
    if isinstance(value, Cache):
        return value
    raise DeclarationError(
        f"cache={value!r}: use True, False, an ISO 8601 duration like 'P7D', or dagml.Cache(...)."
    )


def _to_retry(value: object) -> tuple[Retry, ...]:
    if value is None:
        return ()
    if isinstance(value, Retry):
        return (value,)
    if isinstance(value, (list, tuple)) and all(isinstance(v, Retry) for v in value):
        return tuple(value)
    raise DeclarationError(f"retry={value!r}: use dagml.Retry(...) or a list of them.")


@attrs.frozen
class StepOptions:
    """Options every job-running step accepts (processing, training, transform)."""

    instance_type: StrOrParam | None = attrs.field(default=None, validator=_str_or_param("instance_type"))
    instance_count: IntOrParam = attrs.field(default=1, validator=_positive_int("instance_count"))
    volume_size_gb: int | None = attrs.field(default=None, validator=_positive_int("volume_size_gb", False))
    timeout: int | None = attrs.field(default=None, validator=_positive_int("timeout", False))
    retry: tuple[Retry, ...] = attrs.field(default=(), converter=_to_retry)
    cache: Cache | None = attrs.field(default=None, converter=_to_cache)
    environment: tuple[tuple[str, str], ...] = attrs.field(default=None, converter=_str_mapping)
    tags: tuple[tuple[str, str], ...] = attrs.field(default=None, converter=_str_mapping)
    display_name: str | None = None
    description: str | None = None
    #: Role, network, encryption, spot, warm pool: the step's own merged over the pipeline's (dagml.spec.jobs).
    job: JobSettings | None = attrs.field(default=None, validator=attrs.validators.optional(attrs.validators.instance_of(JobSettings)))

    def params(self) -> tuple[Param, ...]:
        """Params used as option values (instance type and count)."""
        return tuple(v for v in (self.instance_type, self.instance_count) if isinstance(v, Param))


@attrs.frozen
class Parameter:
    """One parameter of a step function, as declared (before wiring)."""

    name: str
    has_default: bool
    default: Any = attrs.field(default=None, eq=False, repr=False)

    @property
    def bound(self) -> Param | Dataset | OutputRef | None:
        """The param, dataset or step output (``step.outputs["train"]``) bound as this parameter's default."""
        return self.default if isinstance(self.default, (Param, Dataset, OutputRef)) else None


@attrs.frozen
class FunctionSpec:
    """A decorated Python function: a Processing or Training step."""

    name: str
    kind: FunctionKind
    fn: Callable[..., Any] = attrs.field(eq=False, repr=False)
    parameters: tuple[Parameter, ...]
    after: tuple[str, ...] = ()
    options: StepOptions = StepOptions()
    #: "metrics", "model", "none", or None when only running it would tell.
    returns: str | None = None
    #: Metric keys known from the declaration (a dict literal returned), if any.
    metric_keys: tuple[str, ...] | None = None
    #: Named outputs (``@pipe.step(outputs=[...])``, dagml.spec.outputs): each a directory of its own.
    outputs: tuple[Output, ...] = ()
    #: The image its job runs in (the step's, else the pipeline's; None: the compile settings' image).
    image: Image | None = None
    #: Packages installed, offline, at container start: the pipeline's, then the step's (dagml.spec.environment).
    requirements: tuple[str, ...] = ()
    #: Where it was declared, for error messages: "file.py:12".
    origin: str = ""
    #: A training step's inference functions (``@train.input_fn``...; dagml.spec.handlers), empty: dagml's defaults.
    handlers: InferenceHandlers = attrs.field(default=InferenceHandlers(), eq=False)

    @property
    def qualname(self) -> str:
        return f"{getattr(self.fn, '__module__', '?')}.{getattr(self.fn, '__qualname__', '?')}"


@attrs.frozen
class ContainerSpec:
    """An image run as a SageMaker Training job with its own entry point and hyperparameters
    (``pipe.container``), such as SageMaker's built-in XGBoost algorithm. Its output is the model
    directory the image writes (``model.tar.gz`` on SageMaker): a model step can serve it with the
    same image, and a function step that reads it receives the directory's path."""

    name: str
    image: Image
    #: Channel name -> what it receives: a dataset, a step's named output, or a step (by name).
    inputs: tuple[tuple[str, Dataset | OutputRef | str], ...] = ()
    #: Hyperparameters as SageMaker passes them: strings, or String-rendered params.
    hyperparameters: tuple[tuple[str, str | Param], ...] = ()
    #: The ContentType of every channel (the built-in algorithms read it), if any.
    content_type: str | None = None
    #: ContainerEntrypoint (None: the image's own ENTRYPOINT).
    entrypoint: tuple[str, ...] | None = None
    options: StepOptions = StepOptions()
    #: A directory standing in for the image's model directory in local runs (dagml runs no containers).
    local: str | None = None
    after: tuple[str, ...] = ()
    origin: str = ""
    kind: Literal["container"] = attrs.field(default="container", init=False)


@attrs.frozen
class ScriptSpec:
    """An existing SageMaker-style script run unchanged (``pipe.script``): a Processing job that runs
    ``python3 <script> <arguments>``, or a Training job in the image's script mode."""

    name: str
    #: The script's absolute path.
    path: str
    mode: FunctionKind
    #: The image (None: the compile settings' image).
    image: Image | None = None
    #: Input (processing) or channel (training) name -> a dataset, a step's named output, or a step.
    inputs: tuple[tuple[str, Dataset | OutputRef | str], ...] = ()
    #: Processing: its outputs, each ``/opt/ml/processing/output/<name>``.
    outputs: tuple[Output, ...] = ()
    #: Processing: its command-line arguments.
    arguments: tuple[str | Param, ...] = ()
    #: Training: its hyperparameters (``--name value`` arguments of the script).
    hyperparameters: tuple[tuple[str, str | Param], ...] = ()
    options: StepOptions = StepOptions()
    after: tuple[str, ...] = ()
    origin: str = ""
    kind: Literal["script"] = attrs.field(default="script", init=False)

    @property
    def trains(self) -> bool:
        """Whether its job is a Training job (its output a model directory)."""
        return self.mode == "training"


@attrs.frozen
class ModelSpec:
    """A SageMaker model (CreateModel) from a training step's artifact."""

    name: str
    model: str
    after: tuple[str, ...] = ()
    description: str | None = None
    origin: str = ""
    #: Role, VPC, network isolation: the step's own merged over the pipeline's (dagml.spec.jobs).
    job: JobSettings | None = None
    kind: Literal["model"] = attrs.field(default="model", init=False)


@attrs.frozen
class RegisterSpec:
    """Register a training step's model as a new version in a model package group."""

    name: str
    model: str
    group: StrOrParam
    approval: StrOrParam = "PendingManualApproval"
    metrics: str | None = None
    content_types: tuple[str, ...] = ("text/csv",)
    response_types: tuple[str, ...] = ("text/csv",)
    inference_instances: tuple[str, ...] = ("ml.m5.large",)
    transform_instances: tuple[str, ...] = ("ml.m5.large",)
    after: tuple[str, ...] = ()
    description: str | None = None
    origin: str = ""
    kind: Literal["register"] = attrs.field(default="register", init=False)


@attrs.frozen
class TransformSpec:
    """Batch transform: run a model over a dataset or a step's output."""

    name: str
    model: str
    #: Name of the dataset or step whose output is scored.
    data: str
    data_is_dataset: bool
    #: The named output of step ``data`` that is scored (``data=step.outputs["test"]``), if one is.
    data_output: str | None = None
    content_type: str = "text/csv"
    split_type: str = "Line"
    options: StepOptions = StepOptions()
    after: tuple[str, ...] = ()
    origin: str = ""
    kind: Literal["transform"] = attrs.field(default="transform", init=False)


@attrs.frozen
class FailSpec:
    """Stop the execution as Failed with a message: literal text, params and metrics, joined in order."""

    name: str
    message: tuple[str | Param | MetricRef, ...]
    after: tuple[str, ...] = ()
    origin: str = ""
    kind: Literal["fail"] = attrs.field(default="fail", init=False)


@attrs.frozen
class ConditionSpec:
    """If/else: run ``then`` when the expression holds, ``otherwise`` when not."""

    name: str
    expression: Expr = attrs.field(eq=False)
    then: tuple[str, ...] = ()
    otherwise: tuple[str, ...] = ()
    after: tuple[str, ...] = ()
    origin: str = ""
    kind: Literal["condition"] = attrs.field(default="condition", init=False)


#: ``ImportedSpec`` (dagml.spec.imported) is a step of an imported definition.
NodeSpec = Union[
    FunctionSpec,
    ContainerSpec,
    ScriptSpec,
    ModelSpec,
    RegisterSpec,
    TransformSpec,
    FailSpec,
    ConditionSpec,
    "ImportedSpec",
]


# An imported definition's specs live in dagml.spec.imported, which only the importer loads (dagml
# show, dagml diff): until it is loaded no such spec exists, so these tests need not load it either,
# and a declared pipeline's validate and compile never do (docs/performance.md).
def imported_step(spec: object) -> TypeGuard[ImportedSpec]:
    """Whether ``spec`` is a step of an imported definition (not its conditions)."""
    module = sys.modules.get("dagml.spec.imported")
    return module is not None and isinstance(spec, module.ImportedSpec)


def imported_condition(spec: object) -> TypeGuard[ImportedCondition]:
    """Whether ``spec`` is a condition step of an imported definition."""
    module = sys.modules.get("dagml.spec.imported")
    return module is not None and isinstance(spec, module.ImportedCondition)
