"""The iris example written by hand with the SageMaker SDK v3: the oracle for dagml's iris definition.

Adapted from the research script (/work/research/sdk_iris.py), the SDK way: ScriptProcessor +
ProcessingStep, ModelTrainer + TrainingStep, ModelBuilder + ModelStep (register and create),
Transformer + TransformStep, FailStep, and a ConditionStep reading a PropertyFile with JsonGet.
It does not use dagml's compiler or ``to_sdk``: every name, parameter, image, role and structure
is written out here, as an SDK user would write it for the same intent as
examples/iris_pipeline.py. Only two locations are read from dagml's compiled definition
(:func:`locations`), because they are content hashes: the code bundle prefix and the S3 URI the
local ``ScoringData`` file is uploaded to.

Import and call it inside ``dagml.sagemaker.interop.offline_sdk_environment`` (see
test_sdk_oracle.py, which runs it in a subprocess).
"""

from __future__ import annotations

from typing import Any

REGION = "us-east-1"
ROLE = "arn:aws:iam::111122223333:role/SageMakerRole"
BUCKET = "dagml-example-bucket"
PIPELINE = "iris-classifier"
#: Where dagml writes step outputs: s3://<bucket>/<prefix>/<pipeline>/<step>/<output>.
OUTPUTS_BASE = f"s3://{BUCKET}/dagml"
TARGET = "iris_pipeline.py"
#: The accuracy in evaluate's report: SageMaker's model-quality format, read by its JSON path.
ACCURACY = "multiclass_classification_metrics.accuracy.value"


def locations(definition: dict[str, Any]) -> dict[str, str]:
    """The content-hashed locations in dagml's compiled iris definition."""
    prepare = next(s for s in definition["Steps"] if s["Name"] == "prepare")
    code = next(i for i in prepare["Arguments"]["ProcessingInputs"] if i["InputName"] == "code")
    scoring = next(p for p in definition["Parameters"] if p["Name"] == "ScoringData")
    return {"code_prefix": code["S3Input"]["S3Uri"], "scoring_data": scoring["DefaultValue"]}


def build(session: Any, code_prefix: str, scoring_data: str) -> Any:
    """The iris pipeline as an SDK ``Pipeline`` (call ``.definition()`` for its JSON)."""
    from sagemaker.core import image_uris
    from sagemaker.core.processing import ScriptProcessor
    from sagemaker.core.shapes import (
        MetricsSource,
        ModelMetrics,
        ModelQuality,
        ProcessingInput,
        ProcessingOutput,
        ProcessingS3Input,
        ProcessingS3Output,
    )
    from sagemaker.core.transformer import Transformer
    from sagemaker.core.workflow.conditions import ConditionGreaterThanOrEqualTo
    from sagemaker.core.workflow.execution_variables import ExecutionVariables
    from sagemaker.core.workflow.functions import Join, JsonGet
    from sagemaker.core.workflow.parameters import ParameterFloat, ParameterInteger, ParameterString
    from sagemaker.core.workflow.properties import PropertyFile
    from sagemaker.mlops.workflow.condition_step import ConditionStep
    from sagemaker.mlops.workflow.fail_step import FailStep
    from sagemaker.mlops.workflow.model_step import ModelStep
    from sagemaker.mlops.workflow.pipeline import Pipeline
    from sagemaker.mlops.workflow.steps import ProcessingStep, TrainingStep, TransformStep
    from sagemaker.serve.model_builder import ModelBuilder
    from sagemaker.train import ModelTrainer
    from sagemaker.train.configs import Compute, InputData, OutputDataConfig, StoppingCondition

    image = image_uris.retrieve(
        framework="sklearn", region=REGION, version="1.4-2", py_version="py3", instance_type="ml.m5.large"
    )
    bundle = f"{code_prefix}sourcedir.tar.gz"

    threshold = ParameterFloat(name="AccuracyThreshold", default_value=0.9)
    n_estimators = ParameterInteger(name="NEstimators", default_value=10)
    min_samples_leaf = ParameterInteger(name="MinSamplesLeaf", default_value=3)
    test_size = ParameterFloat(name="TestSize", default_value=0.3)
    scoring = ParameterString(name="ScoringData", default_value=scoring_data)

    def processor() -> Any:
        return ScriptProcessor(
            role=ROLE,
            image_uri=image,
            command=["python3"],
            instance_type="ml.m5.large",
            instance_count=1,
            sagemaker_session=session,
        )

    def per_execution(step: str, name: str) -> Any:
        # each execution under its own id, as the SDK's default output locations are
        return Join(on="/", values=[OUTPUTS_BASE, PIPELINE, ExecutionVariables.PIPELINE_EXECUTION_ID, step, name])

    def s3_input(name: str, uri: Any) -> Any:
        return ProcessingInput(
            input_name=name,
            s3_input=ProcessingS3Input(
                s3_uri=uri,
                local_path=f"/opt/ml/processing/input/{name}",
                s3_data_type="S3Prefix",
                s3_input_mode="File",
            ),
        )

    def s3_output(step: str, name: str) -> Any:
        return ProcessingOutput(
            output_name=name,
            s3_output=ProcessingS3Output(
                s3_uri=per_execution(step, name),
                local_path=f"/opt/ml/processing/{name}",
                s3_upload_mode="EndOfJob",
            ),
        )

    def job_arguments(step: str) -> list[Any]:
        return ["--mode", "processing", "--target", TARGET, "--step", step]

    prepare = ProcessingStep(
        name="prepare",
        step_args=processor().run(
            code=f"{code_prefix}dagml_entry.py",
            outputs=[s3_output("prepare", "output")],
            # to_string(): the service refuses typed references in string fields (sdk#4867)
            arguments=job_arguments("prepare") + ["--param", "TestSize", test_size.to_string()],
        ),
    )
    prepared = prepare.properties.ProcessingOutputConfig.Outputs["output"].S3Output.S3Uri

    trainer = ModelTrainer(
        training_image=image,
        role=ROLE,
        compute=Compute(instance_type="ml.m5.xlarge", instance_count=1, volume_size_in_gb=30),
        stopping_condition=StoppingCondition(max_runtime_in_seconds=86400),
        output_data_config=OutputDataConfig(s3_output_path=per_execution("train", "model")),
        hyperparameters={
            "sagemaker_program": "dagml_entry.py",
            "sagemaker_submit_directory": bundle,
            "dagml_mode": "training",
            "dagml_target": TARGET,
            "dagml_step": "train",
            "NEstimators": n_estimators.to_string(),
            "MinSamplesLeaf": min_samples_leaf.to_string(),
        },
        input_data_config=[InputData(channel_name="prepare", data_source=prepared)],
        sagemaker_session=session,
    )
    train = TrainingStep(name="train", step_args=trainer.train())
    model_data = train.properties.ModelArtifacts.S3ModelArtifacts

    report = PropertyFile(name="EvaluationReport", output_name="metrics", path="evaluation.json")
    evaluate = ProcessingStep(
        name="evaluate",
        step_args=processor().run(
            code=f"{code_prefix}dagml_entry.py",
            inputs=[s3_input("train", model_data), s3_input("prepare", prepared)],
            outputs=[s3_output("evaluate", "output"), s3_output("evaluate", "metrics")],
            arguments=job_arguments("evaluate"),
        ),
        property_files=[report],
    )

    def model_builder() -> Any:
        return ModelBuilder(
            image_uri=image,
            s3_model_data_url=model_data,
            env_vars={
                "SAGEMAKER_CONTAINER_LOG_LEVEL": "20",
                "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT": "text/csv",
                "SAGEMAKER_PROGRAM": "dagml_inference.py",
                "SAGEMAKER_REGION": REGION,
                "SAGEMAKER_SUBMIT_DIRECTORY": bundle,
            },
            role_arn=ROLE,
            sagemaker_session=session,
        )

    register = ModelStep(
        name="RegisterModel",
        step_args=model_builder().register(
            model_package_group_name="SklearnIris",
            approval_status="Approved",
            content_types=["text/csv"],
            response_types=["text/csv"],
            inference_instances=["ml.m5.large"],
            transform_instances=["ml.m5.large"],
            model_metrics=ModelMetrics(
                model_quality=ModelQuality(
                    statistics=MetricsSource(
                        content_type="application/json",
                        s3_uri=Join(
                            on="/",
                            values=[
                                evaluate.properties.ProcessingOutputConfig.Outputs["metrics"].S3Output.S3Uri,
                                "evaluation.json",
                            ],
                        ),
                    )
                )
            ),
        ),
    )
    model = ModelStep(name="BatchTransformModel", step_args=model_builder().build())
    transformer = Transformer(
        model_name=model.properties.ModelName,
        instance_count=1,
        instance_type="ml.m5.large",
        output_path=per_execution("BatchTransform", "predictions"),
        accept="text/csv",
        assemble_with="Line",
        sagemaker_session=session,
    )
    transform = TransformStep(
        name="BatchTransform",
        step_args=transformer.transform(data=scoring, content_type="text/csv", split_type="Line"),
    )
    too_low = FailStep(
        name="AccuracyTooLow",
        error_message=Join(
            on="",
            values=[
                "Held-out accuracy ",
                JsonGet(step_name="evaluate", property_file=report, json_path=ACCURACY),
                " is below the threshold ",
                threshold,
            ],
        ),
    )
    check = ConditionStep(
        name="CheckAccuracy",
        conditions=[
            ConditionGreaterThanOrEqualTo(
                left=JsonGet(step_name="evaluate", property_file=report, json_path=ACCURACY),
                right=threshold,
            )
        ],
        if_steps=[register, model, transform],
        else_steps=[too_low],
    )
    return Pipeline(
        name=PIPELINE,
        parameters=[threshold, n_estimators, min_samples_leaf, test_size, scoring],
        steps=[prepare, train, evaluate, check],
        sagemaker_session=session,
    )
