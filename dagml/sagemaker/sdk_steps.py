"""SDK step builders: one validated-graph node -> one SageMaker SDK v3 step object.

The counterpart of :mod:`dagml.sagemaker.steps` for :func:`dagml.sagemaker.interop.to_sdk`:
the same intent, written with the SDK's classes (``Processor`` + ``ProcessingStep``,
``ModelTrainer`` + ``TrainingStep``, ``ModelBuilder`` + ``ModelStep``, ``Transformer`` +
``TransformStep``, ``FailStep``, ``ConditionStep``), every location taken from the compiler's
:class:`~dagml.sagemaker.steps.Context`. The SDK is imported by :func:`import_sdk` only.
"""

from __future__ import annotations

import importlib
import os
import posixpath
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from dagml import contract as c
from dagml.errors import ConfigurationError
from dagml.graph.wiring import DATASET, OUTPUT, PARAM, STEP, Binding
from dagml.sagemaker.jobsettings import (
    sdk_isolated_code,
    sdk_model,
    sdk_processor,
    sdk_training,
    sdk_transformer,
)
from dagml.sagemaker.steps import (
    CONTAINER_ROOT,
    DEFAULT_TRAINING_RUNTIME,
    DEFAULT_VOLUME_GB,
    base_hyperparameters,
    delivery,
    model_container,
    source_archive,
    step_metadata,
    transform_strategy,
)
from dagml.spec.conditions import And, Compare, Expr, In, MetricRef, Not, Or
from dagml.spec.jobs import JobSettings
from dagml.spec.params import Param
from dagml.spec.specs import (
    ConditionSpec,
    ContainerSpec,
    FailSpec,
    FunctionSpec,
    ModelSpec,
    NodeSpec,
    RegisterSpec,
    Retry,
    ScriptSpec,
    StepOptions,
    TransformSpec,
)

if TYPE_CHECKING:
    from sagemaker.core.workflow.pipeline_context import PipelineSession
    from sagemaker.mlops.workflow.pipeline import Pipeline as SdkPipeline

    from dagml.sagemaker.steps import Context

__all__ = ["SdkBuilder", "import_sdk"]

#: Module -> the SDK v3 names taken from it; all imported on the first to_sdk call.
_SDK_NAMES = {
    "sagemaker.core.network": ("NetworkConfig",),
    "sagemaker.core.processing": ("Processor",),
    "sagemaker.core.shapes": (
        "MetricsSource",
        "ModelMetrics",
        "ModelQuality",
        "ProcessingInput",
        "ProcessingOutput",
        "ProcessingS3Input",
        "ProcessingS3Output",
        "Tag",
    ),
    "sagemaker.core.transformer": ("Transformer",),
    "sagemaker.core.workflow.conditions": (
        "ConditionEquals",
        "ConditionGreaterThan",
        "ConditionGreaterThanOrEqualTo",
        "ConditionIn",
        "ConditionLessThan",
        "ConditionLessThanOrEqualTo",
        "ConditionNot",
        "ConditionOr",
    ),
    "sagemaker.core.workflow.execution_variables": ("ExecutionVariables",),
    "sagemaker.core.workflow.functions": ("Join", "JsonGet"),
    "sagemaker.core.workflow.parameters": (
        "ParameterBoolean",
        "ParameterFloat",
        "ParameterInteger",
        "ParameterString",
    ),
    "sagemaker.core.workflow.properties": ("PropertyFile",),
    "sagemaker.mlops.workflow.condition_step": ("ConditionStep",),
    "sagemaker.mlops.workflow.fail_step": ("FailStep",),
    "sagemaker.mlops.workflow.model_step": ("ModelStep",),
    "sagemaker.mlops.workflow.pipeline": ("Pipeline",),
    "sagemaker.mlops.workflow.pipeline_experiment_config": ("PipelineExperimentConfig",),
    "sagemaker.mlops.workflow.retry": (
        "SageMakerJobExceptionTypeEnum",
        "SageMakerJobStepRetryPolicy",
        "StepExceptionTypeEnum",
        "StepRetryPolicy",
    ),
    "sagemaker.mlops.workflow.steps": ("CacheConfig", "ProcessingStep", "TrainingStep", "TransformStep"),
    "sagemaker.serve.model_builder": ("ModelBuilder",),
    "sagemaker.train": ("ModelTrainer",),
    "sagemaker.train.configs": (
        "Channel",
        "CheckpointConfig",
        "Compute",
        "DataSource",
        "InputData",
        "Networking",
        "OutputDataConfig",
        "S3DataSource",
        "StoppingCondition",
    ),
}


def import_sdk() -> SimpleNamespace:
    """The SDK classes ``SdkBuilder`` uses, by name; a clear error when the SDK cannot load."""
    names: dict[str, Any] = {}
    try:
        for module_name, attributes in _SDK_NAMES.items():
            module = importlib.import_module(module_name)
            names.update({a: getattr(module, a) for a in attributes})
    except ImportError as exc:
        raise ImportError(
            "dagml.sagemaker.to_sdk needs the SageMaker Python SDK v3 "
            f"({exc}). Fix: pip install 'dagml[sagemaker]'."
        ) from exc
    except Exception as exc:  # botocore's NoRegionError: sagemaker.mlops makes a client at import
        if type(exc).__name__ == "NoRegionError":
            raise ConfigurationError(
                "importing the SageMaker SDK needs an AWS region. Fix: set AWS_REGION, or wrap the "
                "call in dagml.sagemaker.interop.offline_sdk_environment(region)."
            ) from exc
        raise
    return SimpleNamespace(**names)


#: dagml comparison -> SDK condition class name (``!=`` is Not(Equals), as in the compiler).
_COMPARISONS = {
    "==": "ConditionEquals",
    "<": "ConditionLessThan",
    "<=": "ConditionLessThanOrEqualTo",
    ">": "ConditionGreaterThan",
    ">=": "ConditionGreaterThanOrEqualTo",
}


class SdkBuilder:
    """One SDK object per graph node, built on demand so references resolve in any order."""

    def __init__(self, sdk: SimpleNamespace, ctx: Context, session: PipelineSession) -> None:
        self.sdk, self.ctx, self.session = sdk, ctx, session
        self.graph = ctx.graph
        self.settings = ctx.settings
        self.params: dict[str, Any] = {}
        self.steps: dict[str, Any] = {}
        self.property_files: dict[str, Any] = {}

    # ------------------------------------------------------------ pipeline
    def pipeline(self) -> SdkPipeline:
        sdk = self.sdk
        for p in self.graph.params:
            self.params[p.name] = self._parameter(p)
        for d in self.graph.datasets:
            self.params[d.name] = sdk.ParameterString(
                name=d.name, default_value=self.ctx.dataset_uris[d.name]
            )
        experiment = None
        if self.settings.experiments:
            experiment = sdk.PipelineExperimentConfig(
                sdk.ExecutionVariables.PIPELINE_NAME, sdk.ExecutionVariables.PIPELINE_EXECUTION_ID
            )
        top = [self.build(name) for name in self.graph.order if name not in self.graph.branch_of]
        return sdk.Pipeline(
            name=self.graph.name,
            parameters=list(self.params.values()),
            steps=top,
            sagemaker_session=self.session,
            pipeline_experiment_config=experiment,
        )

    def _as_string(self, name: str) -> Any:
        """Typed params in string fields go through ``to_string()``, as dagml's compiler writes them."""
        param = self.params[name]
        return param if self.graph.param(name).type == "String" else param.to_string()

    def _parameter(self, p: Param) -> Any:
        kinds = {
            "String": self.sdk.ParameterString,
            "Integer": self.sdk.ParameterInteger,
            "Float": self.sdk.ParameterFloat,
            "Boolean": self.sdk.ParameterBoolean,
        }
        if p.type == "String" and p.enum:
            return self.sdk.ParameterString(name=p.name, default_value=p.default, enum_values=list(p.enum))
        return kinds[p.type](name=p.name, default_value=p.default)

    def build(self, name: str) -> Any:
        if name not in self.steps:
            spec = self.graph[name]
            self.steps[name] = getattr(self, "_" + spec.kind)(spec)
        return self.steps[name]

    # ------------------------------------------------------------ values
    def value(self, v: Any) -> Any:
        return self.params[v.name] if isinstance(v, Param) else v

    def output_of(self, name: str) -> Any:
        """The SDK property naming what step ``name`` produces (see expressions.output_of)."""
        spec, props = self.graph[name], self.build(name).properties
        if spec.kind in ("training", "container", "script"):
            return props.ModelArtifacts.S3ModelArtifacts
        if spec.kind == "transform":
            return props.TransformOutput.S3OutputPath
        if spec.kind == "model":
            return props.ModelName
        return props.ProcessingOutputConfig.Outputs[c.OUTPUT_NAME].S3Output.S3Uri

    def named_output(self, step: str, name: str) -> Any:
        """The SDK property naming one execution's named output ``name`` of ``step``."""
        return self.build(step).properties.ProcessingOutputConfig.Outputs[name].S3Output.S3Uri

    def source(self, b: Binding) -> Any:
        assert b.ref is not None
        if b.source == OUTPUT:
            assert b.output is not None
            return self.named_output(b.ref, b.output)
        return self.params[b.ref] if b.source == DATASET else self.output_of(b.ref)


    def common(self, spec: NodeSpec, *, description: bool = True) -> dict[str, Any]:
        """Keyword arguments every step class takes: depends_on, names, retry and cache."""
        sdk = self.sdk
        kwargs: dict[str, Any] = {}
        after, display_name, text, options = step_metadata(self.graph, spec)
        if after:
            kwargs["depends_on"] = after
        if display_name:
            kwargs["display_name"] = display_name
        if text and description:
            kwargs["description"] = text
        if options and options.retry:
            kwargs["retry_policies"] = [p for r in options.retry for p in self._retry_policies(r)]
        if options and options.cache:
            kwargs["cache_config"] = sdk.CacheConfig(
                enable_caching=True, expire_after=options.cache.expire_after
            )
        return kwargs

    def _retry_policies(self, r: Retry) -> list[Any]:
        """One dagml Retry; the SDK has one class per exception family, so a mix becomes two."""
        step_types = {e.value: e for e in self.sdk.StepExceptionTypeEnum}
        job_types = {e.value: e for e in self.sdk.SageMakerJobExceptionTypeEnum}
        common = {
            "backoff_rate": float(r.backoff_rate),
            "interval_seconds": r.interval_seconds,
            "max_attempts": r.max_attempts,
        }
        policies = []
        if any(e in step_types for e in r.on):
            policies.append(
                self.sdk.StepRetryPolicy(
                    exception_types=[step_types[e] for e in r.on if e in step_types], **common
                )
            )
        if any(e in job_types for e in r.on):
            policies.append(
                self.sdk.SageMakerJobStepRetryPolicy(
                    exception_types=[job_types[e] for e in r.on if e in job_types], **common
                )
            )
        return policies

    def instance(self, options: StepOptions) -> tuple[Any, Any]:
        itype = options.instance_type if options.instance_type is not None else self.settings.instance_type
        return self.value(itype), self.value(options.instance_count)

    # ------------------------------------------------------------ steps
    def _processing(self, spec: FunctionSpec) -> Any:
        sdk, ctx = self.sdk, self.ctx
        inputs, arguments = [], ["--mode", "processing", "--target", ctx.target, "--step", spec.name]
        for b in self.graph.bindings[spec.name]:
            if b.source in (STEP, DATASET, OUTPUT):
                local = posixpath.join(CONTAINER_ROOT, c.PROCESSING_INPUT_DIR, b.parameter)
                inputs.append(self._input(b.parameter, self.source(b), local, *delivery(self.graph, b)))
            elif b.source == PARAM:
                assert b.ref is not None
                arguments += ["--param", b.ref, self._as_string(b.ref)]
        code_dir = posixpath.join(CONTAINER_ROOT, c.PROCESSING_CODE_DIR)
        # The whole code prefix (dagml_entry.py + sourcedir.tar.gz) is one input, and the
        # entrypoint is explicit: ScriptProcessor's ``code`` would ship only one file.
        inputs.append(self._input(c.CODE_INPUT_NAME, ctx.code_prefix, code_dir))
        if spec.outputs:
            outputs = [
                self._output(spec.name, o.name, posixpath.join(c.PROCESSING_OUTPUTS_DIR, o.name), o.s3)
                for o in spec.outputs
            ]
        else:
            outputs = [self._output(spec.name, c.OUTPUT_NAME, c.PROCESSING_OUTPUT_DIR)]
        metrics = spec.name in ctx.graph.reports
        if metrics:
            outputs.append(self._output(spec.name, c.METRICS_OUTPUT_NAME, c.PROCESSING_METRICS_DIR))
        if spec.name in ctx.graph.scored:
            outputs.append(self._output(spec.name, c.CSV_OUTPUT_NAME, c.PROCESSING_CSV_DIR))
        itype, icount = self.instance(spec.options)
        wheels = ctx.wheels(spec)
        if wheels is not None:
            inputs.append(
                self._input(
                    c.WHEELS_INPUT_NAME,
                    ctx.wheels_uri(wheels),
                    posixpath.join(CONTAINER_ROOT, c.WHEELS_DIRS[0]),
                )
            )
        processor = sdk.Processor(
            **sdk_processor(self, spec),
            image_uri=ctx.image(spec).uri,
            entrypoint=["python3", posixpath.join(code_dir, c.ENTRY_SCRIPT)],
            instance_type=itype,
            instance_count=icount,
            volume_size_in_gb=spec.options.volume_size_gb or DEFAULT_VOLUME_GB,
            max_runtime_in_seconds=spec.options.timeout,
            env=dict(spec.options.environment) or None,
            tags=[{"Key": k, "Value": v} for k, v in spec.options.tags] or None,
            sagemaker_session=self.session,
        )
        kwargs = self.common(spec)
        if metrics:
            report = sdk.PropertyFile(
                name=c.PROPERTY_FILE_NAME, output_name=c.METRICS_OUTPUT_NAME, path=c.METRICS_FILE
            )
            self.property_files[spec.name] = report
            kwargs["property_files"] = [report]
        step_args = processor.run(inputs=inputs, outputs=outputs, arguments=arguments)
        return sdk.ProcessingStep(name=spec.name, step_args=step_args, **kwargs)

    def location(self, step: str, *parts: str) -> Any:
        """The compiler's per-execution location (:meth:`Context.step_uri`), as the SDK's Join."""
        base, pipeline, _ = self.ctx.location_prefix()
        values = [base, pipeline, self.sdk.ExecutionVariables.PIPELINE_EXECUTION_ID, step, *parts]
        return self.sdk.Join(on="/", values=values)

    def _input(
        self, name: str, uri: Any, local_path: str, mode: str = "File", distribution: str = "FullyReplicated"
    ) -> Any:
        s3 = self.sdk.ProcessingS3Input(
            s3_uri=uri,
            local_path=local_path,
            s3_data_type="S3Prefix",
            s3_input_mode=mode,
            s3_data_distribution_type=distribution,
        )
        return self.sdk.ProcessingInput(input_name=name, s3_input=s3)

    def _output(self, step: str, name: str, local_dir: str, destination: Any = None) -> Any:
        s3 = self.sdk.ProcessingS3Output(
            s3_uri=self.location(step, name) if destination is None else self.value(destination),
            local_path=posixpath.join(CONTAINER_ROOT, local_dir),
            s3_upload_mode="EndOfJob",
        )
        return self.sdk.ProcessingOutput(output_name=name, s3_output=s3)

    def _training(self, spec: FunctionSpec) -> Any:
        sdk, ctx = self.sdk, self.ctx
        hyper = base_hyperparameters(ctx, spec)
        channels = []
        for b in self.graph.bindings[spec.name]:
            if b.source == PARAM:
                assert b.ref is not None
                hyper[b.ref] = self._as_string(b.ref)
            elif b.source in (STEP, DATASET, OUTPUT):
                mode, distribution = delivery(self.graph, b)
                if (mode, distribution) == ("File", "FullyReplicated"):
                    channels.append(sdk.InputData(channel_name=b.parameter, data_source=self.source(b)))
                else:
                    source = sdk.S3DataSource(
                        s3_uri=self.source(b), s3_data_type="S3Prefix", s3_data_distribution_type=distribution
                    )
                    channels.append(
                        sdk.Channel(
                            channel_name=b.parameter, data_source=sdk.DataSource(s3_data_source=source), input_mode=mode
                        )
                    )
        wheels = ctx.wheels(spec)
        if wheels is not None:
            channels.append(
                sdk.InputData(channel_name=c.WHEELS_INPUT_NAME, data_source=ctx.wheels_uri(wheels))
            )
        sdk_isolated_code(self, spec, hyper, channels)
        return self._trainer(spec, ctx.image(spec).uri, hyper, channels)

    def _container(self, spec: ContainerSpec) -> Any:
        """A container step: ModelTrainer over the image, its channels (with their ContentType) and
        hyperparameters; no source code, so the image's own entry point runs."""
        sdk = self.sdk
        hyper = {
            key: self._as_string(v.name) if isinstance(v, Param) else v for key, v in spec.hyperparameters
        }
        channels = []
        for b in self.graph.bindings[spec.name]:
            mode, distribution = delivery(self.graph, b)
            source = sdk.S3DataSource(
                s3_uri=self.source(b), s3_data_type="S3Prefix", s3_data_distribution_type=distribution
            )
            channel: dict[str, Any] = {
                "channel_name": b.parameter,
                "data_source": sdk.DataSource(s3_data_source=source),
            }
            if spec.content_type is not None:
                channel["content_type"] = spec.content_type
            channels.append(sdk.Channel(input_mode=mode, **channel))
        return self._trainer(spec, self.ctx.image(spec).uri, hyper, channels)

    def _script(self, spec: ScriptSpec) -> Any:
        """A script step: ModelTrainer in script mode, or a Processor whose entrypoint runs the script."""
        sdk, ctx = self.sdk, self.ctx
        if spec.trains:
            hyper: dict[str, Any] = {
                "sagemaker_program": os.path.basename(spec.path),
                "sagemaker_submit_directory": ctx.script_upload(spec, source_archive(spec.path)),
            }
            hyper.update({key: self._as_string(v.name) if isinstance(v, Param) else v for key, v in spec.hyperparameters})
            channels = [
                sdk.InputData(channel_name=b.parameter, data_source=self.source(b)) for b in self.graph.bindings[spec.name]
            ]
            return self._trainer(spec, ctx.image(spec).uri, hyper, channels)
        inputs = []
        for b in self.graph.bindings[spec.name]:
            local = posixpath.join(CONTAINER_ROOT, c.PROCESSING_INPUT_DIR, b.parameter)
            inputs.append(self._input(b.parameter, self.source(b), local, *delivery(self.graph, b)))
        with open(spec.path, "rb") as handle:
            code = ctx.script_upload(spec, handle.read(), os.path.basename(spec.path))
        code_dir = posixpath.join(CONTAINER_ROOT, c.PROCESSING_CODE_DIR)
        inputs.append(self._input(c.CODE_INPUT_NAME, code.rsplit("/", 1)[0] + "/", code_dir))
        outputs = [
            self._output(spec.name, o.name, posixpath.join(c.SCRIPT_OUTPUT_DIR, o.name), o.s3) for o in spec.outputs
        ]
        itype, icount = self.instance(spec.options)
        processor = sdk.Processor(
            **sdk_processor(self, spec),
            image_uri=ctx.image(spec).uri,
            entrypoint=["python3", posixpath.join(code_dir, os.path.basename(spec.path))],
            instance_type=itype,
            instance_count=icount,
            volume_size_in_gb=spec.options.volume_size_gb or DEFAULT_VOLUME_GB,
            max_runtime_in_seconds=spec.options.timeout,
            env=dict(spec.options.environment) or None,
            tags=[{"Key": k, "Value": v} for k, v in spec.options.tags] or None,
            sagemaker_session=self.session,
        )
        arguments = [self._as_string(a.name) if isinstance(a, Param) else a for a in spec.arguments] or None
        step_args = processor.run(inputs=inputs, outputs=outputs or None, arguments=arguments)
        return sdk.ProcessingStep(name=spec.name, step_args=step_args, **self.common(spec))

    def _trainer(
        self, spec: FunctionSpec | ContainerSpec | ScriptSpec, image: str, hyper: dict[str, Any], channels: list[Any]
    ) -> Any:
        sdk = self.sdk
        itype, icount = self.instance(spec.options)
        job = sdk_training(self, spec)
        trainer = sdk.ModelTrainer(
            training_image=image,
            role=job.role,
            compute=sdk.Compute(
                instance_type=itype,
                instance_count=icount,
                volume_size_in_gb=spec.options.volume_size_gb or DEFAULT_VOLUME_GB,
                **job.compute,
            ),
            stopping_condition=sdk.StoppingCondition(
                max_runtime_in_seconds=spec.options.timeout or DEFAULT_TRAINING_RUNTIME, **job.stopping
            ),
            output_data_config=sdk.OutputDataConfig(
                s3_output_path=self.location(spec.name, "model"), **job.output
            ),
            networking=job.networking,
            checkpoint_config=job.checkpoint,
            hyperparameters=hyper,
            input_data_config=channels or None,
            environment=dict(spec.options.environment),
            tags=[sdk.Tag(key=k, value=v) for k, v in spec.options.tags] or None,
            sagemaker_session=self.session,
        )
        return sdk.TrainingStep(name=spec.name, step_args=trainer.train(), **self.common(spec))

    def _model_builder(self, training_step: str, job: JobSettings | None = None) -> Any:
        container = model_container(self.ctx, training_step)
        return self.sdk.ModelBuilder(
            image_uri=container["Image"],
            s3_model_data_url=self.output_of(training_step),
            env_vars=container.get("Environment") or None,
            **sdk_model(self, job),
            sagemaker_session=self.session,
        )

    def _model(self, spec: ModelSpec) -> Any:
        step_args = self._model_builder(spec.model, spec.job).build()
        return self.sdk.ModelStep(name=spec.name, step_args=step_args, **self.common(spec))

    def _register(self, spec: RegisterSpec) -> Any:
        sdk, metrics = self.sdk, None
        if spec.metrics is not None:
            metrics_dir = self.build(spec.metrics).properties.ProcessingOutputConfig.Outputs[c.METRICS_OUTPUT_NAME]
            report = sdk.Join(on="/", values=[metrics_dir.S3Output.S3Uri, c.METRICS_FILE])
            statistics = sdk.MetricsSource(content_type="application/json", s3_uri=report)
            metrics = sdk.ModelMetrics(model_quality=sdk.ModelQuality(statistics=statistics))
        step_args = self._model_builder(spec.model).register(
            model_package_group_name=self.value(spec.group),
            approval_status=self.value(spec.approval),
            content_types=list(spec.content_types),
            response_types=list(spec.response_types),
            inference_instances=list(spec.inference_instances),
            transform_instances=list(spec.transform_instances),
            model_metrics=metrics,
            description=spec.description,
        )
        # The description is the model package's (ModelPackageDescription), as in the compiler.
        return sdk.ModelStep(name=spec.name, step_args=step_args, **self.common(spec, description=False))

    def _transform(self, spec: TransformSpec) -> Any:
        sdk = self.sdk
        if spec.data_is_dataset:
            data = self.params[spec.data]
        elif spec.data_output is not None:
            data = self.named_output(spec.data, spec.data_output)
        elif self.graph[spec.data].kind == "processing":
            data = (
                self.build(spec.data)
                .properties.ProcessingOutputConfig.Outputs[c.CSV_OUTPUT_NAME]
                .S3Output.S3Uri
            )
        else:
            data = self.output_of(spec.data)
        itype, icount = self.instance(spec.options)
        transformer = sdk.Transformer(
            model_name=self.build(spec.model).properties.ModelName,
            instance_count=icount,
            instance_type=itype,
            output_path=self.location(spec.name, "predictions"),
            strategy=transform_strategy(self.graph, spec),
            accept=spec.content_type,
            assemble_with=spec.split_type,
            **sdk_transformer(self, spec),
            env=dict(spec.options.environment) or None,
            tags=[{"Key": k, "Value": v} for k, v in spec.options.tags] or None,
            sagemaker_session=self.session,
        )
        step_args = transformer.transform(
            data=data, content_type=spec.content_type, split_type=spec.split_type
        )
        return sdk.TransformStep(name=spec.name, step_args=step_args, **self.common(spec))

    def _fail(self, spec: FailSpec) -> Any:
        parts = spec.message
        if len(parts) == 1 and isinstance(parts[0], str):
            message: Any = parts[0]
        elif not parts:
            message = ""
        else:
            message = self.sdk.Join(on="", values=[self._operand(p) for p in parts])
        return self.sdk.FailStep(name=spec.name, error_message=message, **self.common(spec))

    def _condition(self, spec: ConditionSpec) -> Any:
        def members(names: tuple[str, ...]) -> list[Any]:
            return [self.build(name) for name in sorted(set(names), key=self.ctx.position.__getitem__)]

        terms = spec.expression.terms if isinstance(spec.expression, And) else (spec.expression,)
        return self.sdk.ConditionStep(
            name=spec.name,
            conditions=[self._lower(t) for t in terms],
            if_steps=members(spec.then),
            else_steps=members(spec.otherwise),
            **self.common(spec),
        )

    def _operand(self, o: Any) -> Any:
        if isinstance(o, MetricRef):
            self.build(o.step)
            return self.sdk.JsonGet(
                step_name=o.step, property_file=self.property_files[o.step], json_path=o.key
            )
        return self.value(o)

    def _lower(self, expr: Expr) -> Any:
        sdk = self.sdk
        if isinstance(expr, Compare):
            op = "==" if expr.op == "!=" else expr.op
            compared = getattr(sdk, _COMPARISONS[op])(
                left=self._operand(expr.left), right=self._operand(expr.right)
            )
            return sdk.ConditionNot(compared) if expr.op == "!=" else compared
        if isinstance(expr, In):
            return sdk.ConditionIn(
                value=self._operand(expr.value), in_values=[self._operand(o) for o in expr.options]
            )
        if isinstance(expr, Or):
            return sdk.ConditionOr([self._lower(t) for t in expr.terms])
        if isinstance(expr, Not):
            return sdk.ConditionNot(self._lower(expr.term))
        if isinstance(expr, And):
            # The SDK has no And inside Or/Not either: a and b == not (not a or not b).
            return sdk.ConditionNot(sdk.ConditionOr([sdk.ConditionNot(self._lower(t)) for t in expr.terms]))
        raise TypeError(f"not a condition expression: {expr!r}")
