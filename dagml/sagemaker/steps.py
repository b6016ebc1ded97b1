"""Step builders: one validated-graph node -> one pipeline-definition step.

Shapes follow what the SageMaker SDK v3 emits for the same intent (see
docs/sagemaker.md for the mapping and the deliberate differences).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import posixpath
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs
import networkx as nx

from dagml import contract as c
from dagml.errors import Problem
from dagml.graph.lowered import lower_message
from dagml.graph.model import PipelineGraph
from dagml.graph.wiring import DATASET, OUTPUT, PARAM, STEP, Binding
from dagml.sagemaker.environments import JobImage, assumed_python, job_image, step_wheels
from dagml.sagemaker.errors import CompileError
from dagml.sagemaker.expressions import as_string, get, output_of, value
from dagml.sagemaker.jobsettings import apply as apply_job
from dagml.sagemaker.settings import Settings
from dagml.spec.params import Param
from dagml.spec.specs import (
    ConditionSpec,
    ContainerSpec,
    FailSpec,
    FunctionSpec,
    ModelSpec,
    NodeSpec,
    RegisterSpec,
    ScriptSpec,
    StepOptions,
    TransformSpec,
)

if TYPE_CHECKING:
    from dagml.sagemaker.wheels import Wheelhouse

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
    inputs.append(_code_input(c.CODE_INPUT_NAME, _CODE_DIR, ctx.code_prefix))
    wheels = ctx.wheels(spec)
    if wheels is not None:
        inputs.append(
            _code_input(
                c.WHEELS_INPUT_NAME, posixpath.join(CONTAINER_ROOT, c.WHEELS_DIRS[0]), ctx.wheels_uri(wheels)
            )
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
    args: dict[str, Any] = {
        "ProcessingResources": _cluster(ctx, spec.options),
        "AppSpecification": {
            "ImageUri": ctx.image(spec).uri,
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
    apply_job(ctx, spec, args)
    step = _common(ctx, spec, "Processing", args)
    if metrics:
        step["PropertyFiles"] = [
            {"PropertyFileName": c.PROPERTY_FILE_NAME, "OutputName": c.METRICS_OUTPUT_NAME, "FilePath": c.METRICS_FILE}
        ]
    return step


def _cluster(ctx: Context, options: StepOptions) -> dict[str, Any]:
    """A processing job's ``ProcessingResources``."""
    itype, icount = _instance(ctx, options)
    volume = options.volume_size_gb or DEFAULT_VOLUME_GB
    return {"ClusterConfig": {"InstanceType": itype, "InstanceCount": icount, "VolumeSizeInGB": volume}}


def _code_input(name: str, local_path: str, uri: str) -> dict[str, Any]:
    """A ProcessingInput of files dagml ships (the code bundle, a step's wheels)."""
    return {
        "InputName": name,
        "S3Input": {
            "LocalPath": local_path,
            "S3Uri": uri,
            "S3DataType": "S3Prefix",
            "S3InputMode": "File",
            "S3DataDistributionType": "FullyReplicated",
            "S3CompressionType": "None",
        },
    }


def _channel(
    name: str, uri: Any, mode: str = "File", distribution: str = "FullyReplicated"
) -> dict[str, Any]:
    return {
        "ChannelName": name,
        "DataSource": {
            "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri, "S3DataDistributionType": distribution}
        },
        "InputMode": mode,
    }


def _output(
    ctx: Context, spec: NodeSpec, name: str, local_dir: str, destination: Any = None
) -> dict[str, Any]:
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
            channels.append(_channel(b.parameter, _input_source(ctx, b), *delivery(ctx.graph, b)))
    wheels = ctx.wheels(spec)
    if wheels is not None:
        channels.append(_channel(c.WHEELS_INPUT_NAME, ctx.wheels_uri(wheels)))
    image = ctx.image(spec)
    algorithm: dict[str, Any] = {"TrainingImage": image.uri, "TrainingInputMode": "File"}
    if image.proven:
        algorithm["ContainerEntrypoint"] = list(TRAINING_ENTRYPOINT)
    return _training_job(ctx, spec, algorithm, hyper, channels)


def container(ctx: Context, spec: ContainerSpec) -> dict[str, Any]:
    """A container step: its image with its own entry point, channels and hyperparameters."""
    hyper = {key: as_string(item) if isinstance(item, Param) else item for key, item in spec.hyperparameters}
    channels = []
    for b in ctx.graph.bindings[spec.name]:
        channel = _channel(b.parameter, _input_source(ctx, b), *delivery(ctx.graph, b))
        if spec.content_type is not None:
            channel["ContentType"] = spec.content_type
        channels.append(channel)
    algorithm: dict[str, Any] = {"TrainingImage": ctx.image(spec).uri, "TrainingInputMode": "File"}
    if spec.entrypoint is not None:
        algorithm["ContainerEntrypoint"] = list(spec.entrypoint)
    return _training_job(ctx, spec, algorithm, hyper, channels)


def script(ctx: Context, spec: ScriptSpec) -> dict[str, Any]:
    """An existing script, unchanged: a Processing job running ``python3 <script> <arguments>``, or a
    Training job in the image's script mode (``sagemaker_program`` in a ``sourcedir.tar.gz``)."""
    image = ctx.image(spec)
    if spec.trains:
        hyper: dict[str, Any] = {
            "sagemaker_program": os.path.basename(spec.path),
            "sagemaker_submit_directory": ctx.script_upload(spec, source_archive(spec.path)),
        }
        hyper.update({key: as_string(v) if isinstance(v, Param) else v for key, v in spec.hyperparameters})
        channels = [_channel(b.parameter, _input_source(ctx, b), *delivery(ctx.graph, b)) for b in ctx.graph.bindings[spec.name]]
        algorithm: dict[str, Any] = {"TrainingImage": image.uri, "TrainingInputMode": "File"}
        if image.proven:
            algorithm["ContainerEntrypoint"] = list(TRAINING_ENTRYPOINT)
        return _training_job(ctx, spec, algorithm, hyper, channels)
    inputs = []
    for b in ctx.graph.bindings[spec.name]:
        if b.parameter == c.CODE_INPUT_NAME:
            raise CompileError(
                f"pipeline {ctx.graph.name!r}, step {spec.name!r}: input 'code' clashes with the processing input "
                "that carries the script. Fix: name the input differently."
            )
        mode, distribution = delivery(ctx.graph, b)
        inputs.append(_code_input(b.parameter, posixpath.join(_INPUT_ROOT, b.parameter), _input_source(ctx, b)))
        inputs[-1]["S3Input"].update({"S3InputMode": mode, "S3DataDistributionType": distribution})
    with open(spec.path, "rb") as handle:
        code = ctx.script_upload(spec, handle.read(), os.path.basename(spec.path))
    inputs.append(_code_input(c.CODE_INPUT_NAME, _CODE_DIR, code.rsplit("/", 1)[0] + "/"))
    outputs = [
        _output(ctx, spec, o.name, posixpath.join(c.SCRIPT_OUTPUT_DIR, o.name), o.s3) for o in spec.outputs
    ]
    args: dict[str, Any] = {
        "ProcessingResources": _cluster(ctx, spec.options),
        "AppSpecification": {
            "ImageUri": image.uri,
            "ContainerEntrypoint": ["python3", posixpath.join(_CODE_DIR, os.path.basename(spec.path))],
        },
        "RoleArn": ctx.settings.role_arn,
        "ProcessingInputs": inputs,
    }
    if spec.arguments:
        args["AppSpecification"]["ContainerArguments"] = [as_string(a) if isinstance(a, Param) else a for a in spec.arguments]
    if outputs:
        args["ProcessingOutputConfig"] = {"Outputs": outputs}
    if spec.options.timeout:
        args["StoppingCondition"] = {"MaxRuntimeInSeconds": spec.options.timeout}
    _extras(args, spec.options)
    apply_job(ctx, spec, args)
    return _common(ctx, spec, "Processing", args)


def source_archive(path: str) -> bytes:
    """``sourcedir.tar.gz`` of one script, byte for byte the same for the same script (no times, owners).

    Beside the script, dagml's in-tree build backend (dagml.runtime.bundle): the serving stack runs
    ``pip install .`` in this directory when a model container starts, which, for a directory with no
    build configuration, needs setuptools from the network; with it, nothing is downloaded.
    """
    import tarfile

    from dagml.runtime.bundle import BUILD_BACKEND, PYPROJECT, PYPROJECT_SOURCE, backend_source

    name = os.path.basename(path)
    with open(path, "rb") as handle:
        members = [
            (name, handle.read()),
            (BUILD_BACKEND, backend_source(name).encode("utf-8")),
            (PYPROJECT, PYPROJECT_SOURCE.encode("utf-8")),
        ]
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as zipped, tarfile.open(fileobj=zipped, mode="w") as tar:
        for member, data in members:
            info = tarfile.TarInfo(member)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _training_job(
    ctx: Context,
    spec: FunctionSpec | ContainerSpec | ScriptSpec,
    algorithm: dict[str, Any],
    hyper: dict[str, Any],
    channels: list[dict[str, Any]],
) -> dict[str, Any]:
    itype, icount = _instance(ctx, spec.options)
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
    apply_job(ctx, spec, args)
    return _common(ctx, spec, "Training", args)


def inference_environment(ctx: Context, source: FunctionSpec | None = None) -> dict[str, str]:
    """A model container's environment (Model and RegisterModel alike). When training step ``source``
    declares inference handlers (``@train.input_fn``...), also the pipeline and step the container
    takes them from (dagml.runtime.inference): the bundle the container runs holds both, so a
    registered model stays self-contained; a step without handlers gets neither."""
    environment = {
        "SAGEMAKER_CONTAINER_LOG_LEVEL": "20",
        "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": DEFAULT_ACCEPT,
        "SAGEMAKER_PROGRAM": c.INFERENCE_SCRIPT,
        "SAGEMAKER_REGION": ctx.settings.region,
        "SAGEMAKER_SUBMIT_DIRECTORY": ctx.bundle_uri,
    }
    if source is not None and source.handlers:
        from dagml.runtime import inference

        environment[inference.TARGET_ENV] = ctx.target
        environment[inference.STEP_ENV] = source.name
    return environment


def model_container(ctx: Context, trained_by: str) -> dict[str, Any]:
    """The container that serves the model of training step ``trained_by``: dagml's inference
    program in that step's image, or a container step's own image as it is."""
    source = ctx.graph[trained_by]
    assert isinstance(source, (FunctionSpec, ContainerSpec, ScriptSpec))  # validation: model= trains
    container: dict[str, Any] = {"Image": ctx.image(source, "inference").uri}
    if isinstance(source, FunctionSpec):
        container["Environment"] = inference_environment(ctx, source)
    elif isinstance(source, ScriptSpec):  # script mode serving: the script's own model_fn, as the SDK's framework models
        container["Environment"] = {
            "SAGEMAKER_CONTAINER_LOG_LEVEL": "20",
            # CSV when a caller sends no Accept, as dagml's own models (the serving stack's default is JSON).
            "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": DEFAULT_ACCEPT,
            "SAGEMAKER_PROGRAM": os.path.basename(source.path),
            "SAGEMAKER_REGION": ctx.settings.region,
            "SAGEMAKER_SUBMIT_DIRECTORY": ctx.script_upload(source, source_archive(source.path)),
        }
    container["ModelDataUrl"] = output_of(source)
    return container


def model(ctx: Context, spec: ModelSpec) -> dict[str, Any]:
    args = {"ExecutionRoleArn": ctx.settings.role_arn, "PrimaryContainer": model_container(ctx, spec.model)}
    apply_job(ctx, spec, args)
    return _common(ctx, spec, "Model", args)


def register(ctx: Context, spec: RegisterSpec) -> dict[str, Any]:
    args: dict[str, Any] = {
        "ModelPackageGroupName": value(spec.group),
        "ModelApprovalStatus": value(spec.approval),
        "InferenceSpecification": {
            "Containers": [model_container(ctx, spec.model)],
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
    if transform_strategy(ctx.graph, spec) is not None:
        args["BatchStrategy"] = transform_strategy(ctx.graph, spec)
    _extras(args, spec.options)
    apply_job(ctx, spec, args)
    return _common(ctx, spec, "Transform", args)


def transform_strategy(graph: PipelineGraph, spec: TransformSpec) -> str | None:
    """``BatchStrategy`` of a transform: MultiRecord for a container step's model, whose image may
    end each answer with a newline (the built-in XGBoost's CSV does), so that the output does not
    depend on the service's default (which the API reference leaves unstated); none for dagml's own
    handler, whose output is the same either way (tests/containers plays both)."""
    model = graph[spec.model]
    served = graph[model.model] if isinstance(model, ModelSpec) else None
    return "MultiRecord" if isinstance(served, (ContainerSpec, ScriptSpec)) else None


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
    "container": container,
    "script": script,
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
    #: (step, scope) -> its job's image; step -> its wheels (None: no requirements).
    images: dict[tuple[str, str], JobImage] = attrs.Factory(dict)
    wheelhouses: dict[str, Wheelhouse | None] = attrs.Factory(dict)
    #: S3 URI -> bytes of every script (and script-mode archive) the definition names.
    scripts: dict[str, bytes] = attrs.Factory(dict)
    #: Notes for the compiled pipeline (what compile assumed).
    notes: list[Problem] = attrs.Factory(list)
    #: Step name -> its index in ``graph.order``.
    position: dict[str, int] = attrs.Factory(lambda self: {n: i for i, n in enumerate(self.graph.nodes)}, takes_self=True)

    @property
    def bundle_uri(self) -> str:
        return self.code_prefix + c.BUNDLE_NAME

    def script_upload(self, spec: ScriptSpec, data: bytes, name: str = c.BUNDLE_NAME) -> str:
        """Where a script's file goes, content-addressed (its step's inputs change exactly when it does)."""
        uri = f"{self.settings.base_uri}/scripts/{hashlib.sha256(data).hexdigest()}/{name}"
        self.scripts[uri] = data
        return uri

    def image(self, spec: FunctionSpec | ContainerSpec | ScriptSpec, scope: str = "training") -> JobImage:
        """The image of a function or container step's job (``scope="inference"``: the one serving its model)."""
        key = (spec.name, scope)
        if key not in self.images:
            found = self.images[key] = job_image(self.graph.name, spec, self.settings, scope)
            if isinstance(spec, FunctionSpec) and scope == "training":
                note = assumed_python(self.graph.name, spec, found)
                if note is not None:
                    self.notes.append(note)
        return self.images[key]

    def wheels(self, spec: FunctionSpec) -> Wheelhouse | None:
        """The wheels of a function step's requirements, resolved for its image."""
        if spec.name not in self.wheelhouses:
            self.wheelhouses[spec.name] = step_wheels(self.graph.name, spec, self.image(spec))
        return self.wheelhouses[spec.name]

    def wheels_uri(self, wheels: Wheelhouse) -> str:
        """Where a set of wheels lives in S3: content-addressed, so a step's inputs (and its cache
        key) change exactly when its wheels do."""
        return f"{self.settings.base_uri}/wheels/{wheels.sha256}/"

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
