"""Step builders: one validated-graph node -> one pipeline-definition step.

Shapes follow what the SageMaker SDK v3 emits for the same intent (see
docs/sagemaker.md for the mapping and the deliberate differences).
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from typing import Any

import attrs
import networkx as nx

from dagml import contract as c
from dagml.graph.lowered import lower_message
from dagml.graph.model import PipelineGraph
from dagml.graph.wiring import DATASET, OUTPUT, PARAM, STEP, Binding
from dagml.sagemaker.errors import CompileError
from dagml.sagemaker.expressions import as_string, get, output_of, value
from dagml.sagemaker.settings import Settings
from dagml.spec.specs import (
    ConditionSpec,
    FailSpec,
    FunctionSpec,
    ModelSpec,
    NodeSpec,
    RegisterSpec,
    StepOptions,
    TransformSpec,
)

DEFAULT_VOLUME_GB = 30
#: What a ProcessingS3Input's S3InputMode takes (API reference, ProcessingS3Input: "File | Pipe";
#: dagml refuses Pipe for every dataset, spec.params.INPUT_MODES).
PROCESSING_INPUT_MODES = ("File",)
#: CreateTrainingJob requires a StoppingCondition; this is SageMaker's own default (1 day).
DEFAULT_TRAINING_RUNTIME = 86400
CONTAINER_ROOT = c.DEFAULT_ROOT
#: Container paths of every processing step, joined once rather than per step.
_INPUT_ROOT = posixpath.join(CONTAINER_ROOT, c.PROCESSING_INPUT_DIR)
_CODE_DIR = posixpath.join(CONTAINER_ROOT, c.PROCESSING_CODE_DIR)
_ENTRYPOINT = ("python3", posixpath.join(_CODE_DIR, c.ENTRY_SCRIPT))
#: A training job in SageMaker's scikit-learn image runs the training toolkit's trainer by name. The image
#: has two `train` commands (sagemaker-training's and sagemaker-containers'; which one the image build
#: leaves on PATH is an install-order race); only sagemaker-training's keeps the failure reason dagml
#: writes (files.write_failure_file skips an existing file since 4.0.1), so FailureReason says what failed.
TRAINING_ENTRYPOINT = ("python3", "-m", "sagemaker_training.cli.train")
#: What the image's serving stack needs from a model container: CSV when a caller sends no Accept or
#: */* (sagemaker_containers' default is application/json), the region, and INFO logs.
DEFAULT_ACCEPT = "text/csv"


def depends_on(graph: PipelineGraph, spec: NodeSpec) -> list[str]:
    """``DependsOn``: the step's ``after=``, plus orderings the definition would otherwise lose.

    A RegisterModel reads its metrics report by a literal S3 URI (the schema
    allows no ``Std:Join`` there), which carries no dependency; when nothing else
    orders the metrics step first (a condition reading it, say), DependsOn does.
    """
    after = list(dict.fromkeys(spec.after))
    if isinstance(spec, RegisterSpec) and spec.metrics and spec.metrics not in after:
        direct = [
            src
            for src, _, reasons in graph.graph.in_edges(spec.name, data="reasons")
            if any(not (r.kind == "data" and r.via == "metrics=") for r in reasons)
        ]
        if not any(spec.metrics == d or spec.metrics in nx.ancestors(graph.graph, d) for d in direct):
            after.append(spec.metrics)
    return after


def step_metadata(graph: PipelineGraph, spec: NodeSpec) -> tuple[list[str], str | None, str | None, StepOptions | None]:
    """What every step type carries besides its arguments: (DependsOn, DisplayName, Description, options).

    Read by the compiler and by ``to_sdk`` alike, so both name and order steps the same way.
    """
    options: StepOptions | None = getattr(spec, "options", None)
    description = options.description if options else getattr(spec, "description", None)
    display_name = options.display_name if options else None
    return depends_on(graph, spec), display_name, description, options


def _common(ctx: Context, spec: NodeSpec, step_type: str, arguments: dict[str, Any]) -> dict[str, Any]:
    step: dict[str, Any] = {"Name": spec.name, "Type": step_type, "Arguments": arguments}
    after, display_name, description, options = step_metadata(ctx.graph, spec)
    if after:
        step["DependsOn"] = after
    if display_name:
        step["DisplayName"] = display_name
    if description and step_type != "RegisterModel":
        step["Description"] = description
    if options and options.retry:
        step["RetryPolicies"] = [
            {
                "ExceptionType": list(r.on),
                "MaxAttempts": r.max_attempts,
                "IntervalSeconds": r.interval_seconds,
                "BackoffRate": float(r.backoff_rate),
            }
            for r in options.retry
        ]
    if options and options.cache:
        step["CacheConfig"] = {"Enabled": True, "ExpireAfter": options.cache.expire_after}
    return step


def _extras(arguments: dict[str, Any], options: StepOptions) -> None:
    if options.environment:
        arguments["Environment"] = dict(options.environment)
    if options.tags:
        arguments["Tags"] = [{"Key": k, "Value": v} for k, v in options.tags]


def _instance(ctx: Context, options: StepOptions) -> tuple[Any, Any]:
    itype = options.instance_type if options.instance_type is not None else ctx.settings.instance_type
    return value(itype), value(options.instance_count)


def named_output(step: str, name: str) -> dict[str, Any]:
    """Where one execution wrote step ``step``'s named output ``name``, as a property reference."""
    return get(f"Steps.{step}.ProcessingOutputConfig.Outputs['{name}'].S3Output.S3Uri")


def _input_source(ctx: Context, binding: Binding) -> Any:
    assert binding.ref is not None
    if binding.source == DATASET:
        return get(f"Parameters.{binding.ref}")
    if binding.source == OUTPUT:
        assert binding.output is not None
        return named_output(binding.ref, binding.output)
    return output_of(ctx.graph[binding.ref])


def delivery(graph: PipelineGraph, binding: Binding) -> tuple[str, str]:
    """(input mode, distribution) of an input: a dataset's own, else File and FullyReplicated."""
    if binding.source == DATASET:
        dataset = graph.dataset(binding.ref or "")
        return dataset.input_mode, dataset.distribution
    return "File", "FullyReplicated"


def processing(ctx: Context, spec: FunctionSpec) -> dict[str, Any]:
    bindings = ctx.graph.bindings[spec.name]
    inputs: list[dict[str, Any]] = []
    arguments: list[str | dict[str, Any]] = ["--mode", "processing", "--target", ctx.target, "--step", spec.name]
    for b in bindings:
        if b.source in (STEP, DATASET, OUTPUT):
            assert b.ref is not None
            if b.parameter == c.CODE_INPUT_NAME:
                raise CompileError(
                    f"pipeline {ctx.graph.name!r}, step {spec.name!r}: parameter 'code' clashes with the "
                    "processing input SageMaker reserves for code. Fix: rename the parameter and pass "
                    "the step by name with after= or bind it differently."
                )
            mode, distribution = delivery(ctx.graph, b)
            if mode not in PROCESSING_INPUT_MODES:  # validation refuses it first: a direct compile of an unchecked graph
                raise CompileError(
                    f"pipeline {ctx.graph.name!r}, step {spec.name!r}: dataset {b.ref!r} has input_mode={mode!r}, "
                    "which a processing job cannot use. Fix: input_mode='File'."
                )
            inputs.append(
                {
                    "InputName": b.parameter,
                    "S3Input": {
                        "LocalPath": posixpath.join(_INPUT_ROOT, b.parameter),
                        "S3Uri": _input_source(ctx, b),
                        "S3DataType": "S3Prefix",
                        "S3InputMode": mode,
                        "S3DataDistributionType": distribution,
                        "S3CompressionType": "None",
                    },
                }
            )
        elif b.source == PARAM:
            assert b.ref is not None
            arguments += ["--param", b.ref, as_string(ctx.graph.param(b.ref))]
    inputs.append(
        {
            "InputName": c.CODE_INPUT_NAME,
            "S3Input": {
                "LocalPath": _CODE_DIR,
                "S3Uri": ctx.code_prefix,
                "S3DataType": "S3Prefix",
                "S3InputMode": "File",
                "S3DataDistributionType": "FullyReplicated",
                "S3CompressionType": "None",
            },
        }
    )
    if spec.outputs:  # named outputs are all the step produces
        outputs = [
            _output(ctx, spec, o.name, posixpath.join(c.PROCESSING_OUTPUTS_DIR, o.name), o.s3) for o in spec.outputs
        ]
    else:
        outputs = [_output(ctx, spec, c.OUTPUT_NAME, c.PROCESSING_OUTPUT_DIR)]
    metrics = spec.name in ctx.graph.reports
    if metrics:
        outputs.append(_output(ctx, spec, c.METRICS_OUTPUT_NAME, c.PROCESSING_METRICS_DIR))
    if spec.name in ctx.graph.scored:
        outputs.append(_output(ctx, spec, c.CSV_OUTPUT_NAME, c.PROCESSING_CSV_DIR))
    itype, icount = _instance(ctx, spec.options)
    args: dict[str, Any] = {
        "ProcessingResources": {
            "ClusterConfig": {
                "InstanceType": itype,
                "InstanceCount": icount,
                "VolumeSizeInGB": spec.options.volume_size_gb or DEFAULT_VOLUME_GB,
            }
        },
        "AppSpecification": {
            "ImageUri": ctx.settings.image,
            "ContainerEntrypoint": list(_ENTRYPOINT),
            "ContainerArguments": arguments,
        },
        "RoleArn": ctx.settings.role_arn,
        "ProcessingInputs": inputs,
        "ProcessingOutputConfig": {"Outputs": outputs},
    }
    if spec.options.timeout:
        args["StoppingCondition"] = {"MaxRuntimeInSeconds": spec.options.timeout}
    _extras(args, spec.options)
    step = _common(ctx, spec, "Processing", args)
    if metrics:
        step["PropertyFiles"] = [
            {"PropertyFileName": c.PROPERTY_FILE_NAME, "OutputName": c.METRICS_OUTPUT_NAME, "FilePath": c.METRICS_FILE}
        ]
    return step


def _output(ctx: Context, spec: NodeSpec, name: str, local_dir: str, destination: Any = None) -> dict[str, Any]:
    """A ProcessingOutput: under the execution's id, or at the ``destination`` the user chose."""
    return {
        "OutputName": name,
        "S3Output": {
            "LocalPath": posixpath.join(CONTAINER_ROOT, local_dir),
            "S3Uri": ctx.step_uri(spec.name, name) if destination is None else value(destination),
            "S3UploadMode": "EndOfJob",
        },
    }


def base_hyperparameters(ctx: Context, spec: FunctionSpec) -> dict[str, Any]:
    """Script mode (the bundle and its entry script) and what the runtime should run."""
    return {
        "sagemaker_program": c.ENTRY_SCRIPT,
        "sagemaker_submit_directory": ctx.bundle_uri,
        c.HP_MODE: "training",
        c.HP_TARGET: ctx.target,
        c.HP_STEP: spec.name,
    }


def training(ctx: Context, spec: FunctionSpec) -> dict[str, Any]:
    hyper = base_hyperparameters(ctx, spec)
    channels = []
    for b in ctx.graph.bindings[spec.name]:
        if b.source == PARAM:
            assert b.ref is not None
            hyper[b.ref] = as_string(ctx.graph.param(b.ref))
        elif b.source in (STEP, DATASET, OUTPUT):
            mode, distribution = delivery(ctx.graph, b)
            channels.append(
                {
                    "ChannelName": b.parameter,
                    "DataSource": {
                        "S3DataSource": {
                            "S3DataType": "S3Prefix",
                            "S3Uri": _input_source(ctx, b),
                            "S3DataDistributionType": distribution,
                        }
                    },
                    "InputMode": mode,
                }
            )
    itype, icount = _instance(ctx, spec.options)
    algorithm: dict[str, Any] = {"TrainingImage": ctx.settings.image, "TrainingInputMode": "File"}
    if ctx.settings.sklearn_image:
        algorithm["ContainerEntrypoint"] = list(TRAINING_ENTRYPOINT)
    args: dict[str, Any] = {
        "AlgorithmSpecification": algorithm,
        "HyperParameters": hyper,
        "OutputDataConfig": {"S3OutputPath": ctx.step_uri(spec.name, "model")},
        "ResourceConfig": {
            "InstanceType": itype,
            "InstanceCount": icount,
            "VolumeSizeInGB": spec.options.volume_size_gb or DEFAULT_VOLUME_GB,
        },
        "RoleArn": ctx.settings.role_arn,
        "StoppingCondition": {"MaxRuntimeInSeconds": spec.options.timeout or DEFAULT_TRAINING_RUNTIME},
    }
    if channels:
        args["InputDataConfig"] = channels
    _extras(args, spec.options)
    return _common(ctx, spec, "Training", args)


def inference_environment(ctx: Context) -> dict[str, str]:
    """A model container's environment (Model and RegisterModel alike)."""
    return {
        "SAGEMAKER_CONTAINER_LOG_LEVEL": "20",
        "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": DEFAULT_ACCEPT,
        "SAGEMAKER_PROGRAM": c.INFERENCE_SCRIPT,
        "SAGEMAKER_REGION": ctx.settings.region,
        "SAGEMAKER_SUBMIT_DIRECTORY": ctx.bundle_uri,
    }


def model(ctx: Context, spec: ModelSpec) -> dict[str, Any]:
    args = {
        "ExecutionRoleArn": ctx.settings.role_arn,
        "PrimaryContainer": {
            "Image": ctx.settings.image,
            "Environment": inference_environment(ctx),
            "ModelDataUrl": output_of(ctx.graph[spec.model]),
        },
    }
    return _common(ctx, spec, "Model", args)


def register(ctx: Context, spec: RegisterSpec) -> dict[str, Any]:
    environment = inference_environment(ctx)
    args: dict[str, Any] = {
        "ModelPackageGroupName": value(spec.group),
        "ModelApprovalStatus": value(spec.approval),
        "InferenceSpecification": {
            "Containers": [
                {"Image": ctx.settings.image, "Environment": environment, "ModelDataUrl": output_of(ctx.graph[spec.model])}
            ],
            "SupportedContentTypes": list(spec.content_types),
            "SupportedResponseMIMETypes": list(spec.response_types),
            "SupportedRealtimeInferenceInstanceTypes": list(spec.inference_instances),
            "SupportedTransformInstanceTypes": list(spec.transform_instances),
        },
        "SkipModelValidation": "None",
    }
    if spec.metrics is not None:
        # The metrics step's own output (its execution's location, or the cached execution's when
        # the step was a cache hit), so a registered version points at the report that judged it.
        metrics_dir = get(f"Steps.{spec.metrics}.ProcessingOutputConfig.Outputs['{c.METRICS_OUTPUT_NAME}'].S3Output.S3Uri")
        report = {"Std:Join": {"On": "/", "Values": [metrics_dir, c.METRICS_FILE]}}
        args["ModelMetrics"] = {"ModelQuality": {"Statistics": {"ContentType": "application/json", "S3Uri": report}}}
    if spec.description:
        args["ModelPackageDescription"] = spec.description
    return _common(ctx, spec, "RegisterModel", args)


def transform(ctx: Context, spec: TransformSpec) -> dict[str, Any]:
    if spec.data_is_dataset:
        source: Any = get(f"Parameters.{spec.data}")
    elif spec.data_output is not None:
        source = named_output(spec.data, spec.data_output)
    elif ctx.graph[spec.data].kind == "processing":
        source = get(f"Steps.{spec.data}.ProcessingOutputConfig.Outputs['{c.CSV_OUTPUT_NAME}'].S3Output.S3Uri")
    else:
        source = output_of(ctx.graph[spec.data])
    itype, icount = _instance(ctx, spec.options)
    args: dict[str, Any] = {
        "ModelName": get(f"Steps.{spec.model}.ModelName"),
        "TransformInput": {
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": source}},
            "ContentType": spec.content_type,
            "SplitType": spec.split_type,
        },
        "TransformOutput": {
            "S3OutputPath": ctx.step_uri(spec.name, "predictions"),
            "Accept": spec.content_type,
            "AssembleWith": spec.split_type,
        },
        "TransformResources": {"InstanceType": itype, "InstanceCount": icount},
    }
    _extras(args, spec.options)
    return _common(ctx, spec, "Transform", args)


def fail(ctx: Context, spec: FailSpec) -> dict[str, Any]:
    return _common(ctx, spec, "Fail", {"ErrorMessage": lower_message(spec.message)})


def condition(ctx: Context, spec: ConditionSpec) -> dict[str, Any]:
    def members(names: tuple[str, ...]) -> list[dict[str, Any]]:
        # In graph order, through the context's index: scanning the whole order per condition was quadratic.
        return [ctx.build(name) for name in sorted(set(names), key=ctx.position.__getitem__)]

    args = {
        "Conditions": list(ctx.graph.lowered[spec.name]),
        "IfSteps": members(spec.then),
        "ElseSteps": members(spec.otherwise),
    }
    return _common(ctx, spec, "Condition", args)


BUILDERS: dict[str, Callable[[Context, Any], dict[str, Any]]] = {
    "processing": processing,
    "training": training,
    "model": model,
    "register": register,
    "transform": transform,
    "fail": fail,
    "condition": condition,
}

#: The execution variable that keeps executions apart in S3.
EXECUTION_ID = "Execution.PipelineExecutionId"

__all__ = ["BUILDERS", "EXECUTION_ID", "CompileError", "Context"]


@attrs.define
class Context:
    """What step builders read while compiling one pipeline."""

    graph: PipelineGraph
    settings: Settings
    target: str
    code_prefix: str
    dataset_uris: dict[str, str]
    built: dict[str, dict[str, Any]] = attrs.Factory(dict)
    #: Step name -> its index in ``graph.order``.
    position: dict[str, int] = attrs.Factory(lambda self: {n: i for i, n in enumerate(self.graph.nodes)}, takes_self=True)

    @property
    def bundle_uri(self) -> str:
        return self.code_prefix + c.BUNDLE_NAME

    def step_uri(self, step: str, *parts: str) -> dict[str, Any]:
        """Where one execution's output ``step/parts`` goes: under the execution's id, so two
        executions never write to the same place (``base/pipeline/<execution id>/step/parts``).

        The SDK writes the same Join by default (sagemaker/core/processing.py, transformer.py);
        output locations are not in any step type's cache key ("Default cache key attributes by
        pipeline step type", SageMaker developer guide), so caching still hits (docs/sagemaker.md).
        """
        return {"Std:Join": {"On": "/", "Values": [*self.location_prefix(), step, *parts]}}

    def location_prefix(self) -> list[Any]:
        return [self.settings.base_uri, self.graph.name, get(EXECUTION_ID)]

    def build(self, name: str) -> dict[str, Any]:
        if name not in self.built:
            spec = self.graph[name]
            self.built[name] = BUILDERS[spec.kind](self, spec)
        return self.built[name]
