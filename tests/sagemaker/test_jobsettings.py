"""Job settings compiled (dagml/sagemaker/jobsettings.py), checked against the SDK v3 oracle and the
schema, and every validation rejection (dagml/graph/jobchecks.py) with its fix."""

from __future__ import annotations

import json
import os
from types import SimpleNamespace
from typing import Any

import jsonschema
import pytest

import dagml
from dagml import Checkpoints, DagmlWarning, JobSettings, Pipeline, PipelineValidationError, Spot
from dagml.api import graph_of
from dagml.errors import ConfigurationError
from dagml.graph import jobchecks
from dagml.sagemaker import Settings, compile_pipeline, steps
from dagml.sagemaker import jobsettings as emit
from dagml.spec.target import load_target
from tests.conftest import ROOT
from tests.golden_json import GOLDEN_SETTINGS
from tests.sagemaker.schema_allowlist import normalize as allow
from tests.sagemaker.test_sdk_oracle import (
    OFFLINE_SDK_PRELUDE,
    SDK_DEFAULTS,
    assert_same_facets,
    run_sdk_script,
    unexplained,
)

HERE = os.path.dirname(os.path.abspath(__file__))
SHOWCASE = os.path.join(HERE, "jobs_pipeline.py")
SCHEMA = os.path.join(HERE, "data", "sagemaker-pipeline-definition.schema.json")
ROLE = "arn:aws:iam::111122223333:role/TeamRole"
VPC = {"subnets": ["subnet-0a1b2c3d"], "security_groups": ["sg-0a1b2c3d"]}


@pytest.fixture(scope="module")
def definition() -> dict[str, Any]:
    return compile_pipeline(graph_of(load_target(SHOWCASE)), Settings(**GOLDEN_SETTINGS)).definition


def steps_of(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["Name"]: s["Arguments"] for s in definition["Steps"]}


def join(step: str, part: str) -> dict[str, Any]:
    return {
        "Std:Join": {
            "On": "/",
            "Values": [
                "s3://dagml-example-bucket/dagml",
                "jobs-showcase",
                {"Get": "Execution.PipelineExecutionId"},
                step,
                part,
            ],
        }
    }


PIPELINE_VPC = {"Subnets": ["subnet-0a1b2c3d", "subnet-4e5f6a7b"], "SecurityGroupIds": ["sg-0a1b2c3d"]}
OUTPUT_KEY = {"Get": "Parameters.OutputKmsKey"}


# ---------------------------------------------------------------- what each step type compiles to


def test_a_processing_job_gets_its_role_network_config_and_keys(definition):
    args = steps_of(definition)["prepare"]
    assert args["RoleArn"] == {"Get": "Parameters.DataRole"}
    assert args["NetworkConfig"] == {
        "EnableNetworkIsolation": True,
        "EnableInterContainerTrafficEncryption": True,
        "VpcConfig": PIPELINE_VPC,
    }
    assert args["ProcessingResources"]["ClusterConfig"]["VolumeKmsKeyId"] == "alias/pipeline-volumes"
    assert args["ProcessingOutputConfig"]["KmsKeyId"] == OUTPUT_KEY
    for absent in ("EnableManagedSpotTraining", "CheckpointConfig", "VpcConfig"):  # the pipeline's spot is not its
        assert absent not in args


def test_a_training_job_gets_every_setting(definition):
    args = steps_of(definition)["fit"]
    assert args["RoleArn"] == "arn:aws:iam::111122223333:role/TrainRole"
    assert args["EnableNetworkIsolation"] is True and args["EnableInterContainerTrafficEncryption"] is True
    assert args["VpcConfig"] == PIPELINE_VPC
    assert args["EnableManagedSpotTraining"] is True
    assert args["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 7200}
    assert args["CheckpointConfig"] == {"S3Uri": join("fit", "checkpoints"), "LocalPath": "/opt/ml/checkpoints"}
    assert args["ResourceConfig"]["KeepAlivePeriodInSeconds"] == 600
    assert args["ResourceConfig"]["VolumeKmsKeyId"] == "alias/pipeline-volumes"
    assert args["OutputDataConfig"] == {"S3OutputPath": join("fit", "model"), "KmsKeyId": OUTPUT_KEY}


def test_an_isolated_training_step_gets_its_code_through_a_channel(definition):
    args = steps_of(definition)
    fit, refit = args["fit"], args["refit"]
    assert fit["HyperParameters"]["sagemaker_submit_directory"] == "/opt/ml/input/data/code/sourcedir.tar.gz"
    (code,) = [c for c in fit["InputDataConfig"] if c["ChannelName"] == "code"]
    assert code["DataSource"]["S3DataSource"]["S3Uri"] == refit["HyperParameters"]["sagemaker_submit_directory"].removesuffix(
        "sourcedir.tar.gz"
    )
    assert [c["ChannelName"] for c in fit["InputDataConfig"]] == ["prepare", "code"]
    assert [c["ChannelName"] for c in refit["InputDataConfig"]] == ["prepare"]  # not isolated: the toolkit fetches it


def test_off_values_and_explicit_checkpoints(definition):
    args = steps_of(definition)["refit"]
    for absent in ("EnableManagedSpotTraining", "VpcConfig", "EnableNetworkIsolation"):
        assert absent not in args
    assert args["StoppingCondition"] == {"MaxRuntimeInSeconds": 1800}
    assert args["CheckpointConfig"] == {
        "S3Uri": "s3://example-bucket/checkpoints/refit",
        "LocalPath": "/opt/ml/checkpoints/refit",
    }
    assert args["RoleArn"] == GOLDEN_SETTINGS["role_arn"]  # no role of its own: the settings' role


def test_models_get_role_and_network_and_transforms_their_keys(definition):
    args = steps_of(definition)
    assert args["Served"]["ExecutionRoleArn"] == "arn:aws:iam::111122223333:role/ServeRole"
    assert args["Served"]["VpcConfig"] == PIPELINE_VPC
    assert "EnableNetworkIsolation" not in args["Served"]
    assert args["Score"]["TransformOutput"]["KmsKeyId"] == "alias/predictions"
    assert args["Score"]["TransformResources"]["VolumeKmsKeyId"] == "alias/pipeline-volumes"
    # the model dagml declared for a batch transform takes the transform's role and the pipeline's VPC
    assert args["RescoreModel"]["ExecutionRoleArn"] == "arn:aws:iam::111122223333:role/ServeRole"
    assert args["RescoreModel"]["VpcConfig"] == PIPELINE_VPC
    assert args["Rescore"]["TransformOutput"]["KmsKeyId"] == OUTPUT_KEY


def test_a_pipeline_without_job_settings_compiles_as_before():
    plain = compile_pipeline(graph_of(load_target(os.path.join(ROOT, "tests", "pipelines", "minimal.py"))), Settings(**GOLDEN_SETTINGS))
    text = plain.json
    for field in ("NetworkConfig", "VpcConfig", "KmsKeyId", "EnableManagedSpotTraining", "CheckpointConfig"):
        assert field not in text


def test_a_container_step_and_its_model(tmp_path):
    path = tmp_path / "container_jobs.py"
    path.write_text(
        "import dagml\n"
        "from dagml import JobSettings, Spot\n"
        "pipe = dagml.Pipeline('cont', job=JobSettings(volume_kms_key='alias/v', spot=Spot(max_wait=7200)))\n"
        "raw = pipe.dataset('Raw', s3='s3://b/raw.csv')\n"
        "xgb = pipe.container('Xgb', image=dagml.Image('xgboost', '1.7-1'), inputs={'train': raw}, timeout=3600,\n"
        "                     job=JobSettings(network_isolation=True, checkpoints=True))\n"
        "pipe.model('Served', model=xgb, job=JobSettings(network_isolation=True, subnets=['subnet-1'],\n"
        "           security_groups=['sg-1']))\n"
    )
    args = steps_of(compile_pipeline(graph_of(load_target(str(path))), Settings(**GOLDEN_SETTINGS)).definition)
    xgb = args["Xgb"]
    assert xgb["EnableNetworkIsolation"] is True and xgb["EnableManagedSpotTraining"] is True
    assert xgb["StoppingCondition"]["MaxWaitTimeInSeconds"] == 7200
    assert [c["ChannelName"] for c in xgb["InputDataConfig"]] == ["train"]  # the image's own code: no code channel
    assert args["Served"]["EnableNetworkIsolation"] is True  # a container's model needs no dagml code
    assert args["Served"]["VpcConfig"] == {"Subnets": ["subnet-1"], "SecurityGroupIds": ["sg-1"]}


# ---------------------------------------------------------------- the oracles

ORACLE_SCRIPT = OFFLINE_SDK_PRELUDE + r"""
with offline_sdk_environment(settings.region):
    logging.disable(logging.WARNING)
    sdk = to_sdk(load_target(sys.argv[1]).validate(), settings, session=pipeline_session(settings))
    print(json.dumps({"definition": json.loads(sdk.definition()), "network": attempts}))
"""


def test_the_sdk_builds_the_same_definition(definition):
    out = run_sdk_script(ORACLE_SCRIPT, SHOWCASE)
    assert out["network"] == []
    assert_same_facets(definition, out["definition"])
    left, _ = unexplained(definition, out["definition"], SDK_DEFAULTS)
    assert left == []


def schema_errors(definition: dict[str, Any]) -> list[str]:
    with open(SCHEMA, encoding="utf-8") as f:
        validator = jsonschema.Draft4Validator(json.load(f))
    normalized, _ = allow(definition)
    return sorted(f"{'/'.join(map(str, e.absolute_path))}: {e.message[-90:]}" for e in validator.iter_errors(normalized))


def test_the_schema_accepts_every_field_but_two_it_is_stale_on(definition):
    """The April 2025 schema has every field dagml writes here, with pipeline variables allowed, except
    ResourceConfig.KeepAlivePeriodInSeconds (CreateTrainingJob has it; SDK v3's Compute emits it) and a
    Std:Join as CheckpointConfig.S3Uri (the per-execution location, as allow-list entry 14 for outputs)."""
    errors = schema_errors(definition)
    assert len(errors) == 1 and errors[0].startswith("Steps/1")  # fit: the schema's oneOf reports the step
    fit = next(s for s in definition["Steps"] if s["Name"] == "fit")
    fit["Arguments"]["CheckpointConfig"]["S3Uri"] = "s3://bucket/checkpoints"
    del fit["Arguments"]["ResourceConfig"]["KeepAlivePeriodInSeconds"]
    assert schema_errors(definition) == []


# ---------------------------------------------------------------- rejections, each with its fix


def problems(pipe: Pipeline) -> list[tuple[str, str, str, str]]:
    with pytest.raises(PipelineValidationError) as exc:
        pipe.validate()
    assert str(exc.value).startswith(f"pipeline {pipe.name!r} is invalid")
    return [(p.kind, p.subject, p.message, p.fix) for p in exc.value.problems]


def only(pipe: Pipeline) -> tuple[str, str, str]:
    (found,) = problems(pipe)
    kind, step, message, fix = found
    assert kind == "job-settings"
    return step, message, fix


def training(pipe: Pipeline, **options: Any) -> None:
    @pipe.step(kind="training", **options)
    def fit():
        return 1


@pytest.mark.parametrize("field, value", [("spot", Spot(7200)), ("checkpoints", Checkpoints()), ("keep_alive", 60)])
def test_training_settings_on_a_processing_step(field, value):
    pipe = Pipeline("p")

    @pipe.step(job=JobSettings(**{field: value}))
    def prepare():
        return 1

    step, message, fix = only(pipe)
    assert step == "prepare"
    assert "is a training job's setting; a processing job has no such field (API reference, CreateProcessingJob)" in message
    assert fix == "Drop it from this step's job=, or make the step a training step (kind='training')."


def test_a_pipeline_wide_training_setting_does_not_reach_a_processing_step():
    pipe = Pipeline("p", job=JobSettings(spot=Spot(7200), keep_alive=60, checkpoints=True))

    @pipe.step
    def prepare():
        return 1

    pipe.validate()


def test_network_settings_on_a_batch_transform_belong_on_its_model():
    pipe = Pipeline("p")
    training(pipe)
    served = pipe.model("Served", model="fit")
    raw = pipe.dataset("Raw", s3="s3://b/raw.csv")
    pipe.batch_transform("Score", model=served, data=raw, job=JobSettings(**VPC))
    found = problems(pipe)
    assert [(k, s) for k, s, _, _ in found] == [("job-settings", "Score")] * 2
    assert "a batch transform job runs with its model's role and network; CreateTransformJob has no such field" in found[0][2]
    assert found[0][3] == "Set it on model step 'Served': pipe.model(..., job=dagml.JobSettings(security_groups=...))."


def test_job_keys_on_a_model():
    pipe = Pipeline("p")
    training(pipe)
    pipe.model("Served", model="fit", job=JobSettings(output_kms_key="alias/k"))
    step, message, fix = only(pipe)
    assert step == "Served" and "a model step has no such field (API reference, CreateModel)" in message
    assert fix == (
        "Drop it from this step's job=; it belongs on the training step that makes the model, or the batch "
        "transform that runs it."
    )


def test_spot_without_a_max_wait():
    pipe = Pipeline("p")
    training(pipe, timeout=3600, job=JobSettings(spot=True))
    step, message, fix = only(pipe)
    assert step == "fit" and "(developer guide, Managed Spot Training)" in message
    assert fix == "Give one of at least the step's time limit: job=dagml.JobSettings(spot=dagml.Spot(max_wait=3600))."


def test_a_max_wait_shorter_than_the_time_limit():
    pipe = Pipeline("p")
    training(pipe, timeout=3600, job=JobSettings(spot=Spot(max_wait=1800)))
    step, message, fix = only(pipe)
    assert "spot max_wait=1800 is shorter than the step's time limit (its timeout=3600)" in message
    assert "MaxWaitTimeInSeconds >= MaxRuntimeInSeconds (API reference, StoppingCondition)" in message
    assert fix == "Raise it, dagml.Spot(max_wait=3600), or lower the step's timeout= to 1800 or less."


def test_without_timeout_the_time_limit_is_a_day():
    pipe = Pipeline("p", job=JobSettings(spot=Spot(max_wait=7200)))
    training(pipe)
    step, message, fix = only(pipe)
    assert "(86400s, the time limit of a training step without timeout=)" in message
    assert fix.startswith("Raise it, dagml.Spot(max_wait=86400)")
    assert jobchecks.DEFAULT_TRAINING_RUNTIME == steps.DEFAULT_TRAINING_RUNTIME  # validation and compile agree


@pytest.mark.parametrize(
    "job, message, fix",
    [
        (
            JobSettings(subnets=["subnet-1"]),
            "the job has subnets but no security groups; SageMaker's VpcConfig requires both (API reference, VpcConfig).",
            "Add security_groups=[...] to job=, or set subnets=[] and security_groups=[] for no VPC.",
        ),
        (
            JobSettings(security_groups=["sg-1"]),
            "the job has security groups but no subnets; SageMaker's VpcConfig requires both (API reference, VpcConfig).",
            "Add subnets=[...] to job=, or set subnets=[] and security_groups=[] for no VPC.",
        ),
        (
            JobSettings(subnets=[f"subnet-{i}" for i in range(17)], security_groups=["sg-1"]),
            "the job has 17 subnets; SageMaker's VpcConfig takes at most 16 (API reference, VpcConfig).",
            "List at most 16 subnets.",
        ),
        (
            JobSettings(subnets=["subnet-1"], security_groups=[f"sg-{i}" for i in range(6)]),
            "the job has 6 security groups; SageMaker's VpcConfig takes at most 5 (API reference, VpcConfig).",
            "List at most 5 security groups.",
        ),
        (
            JobSettings(subnets=["my subnet"], security_groups=["sg-1"]),
            "subnet 'my subnet' is not an ID SageMaker accepts (1 to 32 letters, digits and '-'; API reference, VpcConfig).",
            "Give the ID, not a name or ARN, e.g. 'subnet-0a1b2c3d4e5f67890'.",
        ),
        (
            JobSettings(role="TeamRole"),
            "role 'TeamRole' is not an IAM role ARN (API reference, CreateTrainingJob: RoleArn).",
            "Give the role's ARN, e.g. role='arn:aws:iam::111122223333:role/TeamSageMakerRole'.",
        ),
        (
            JobSettings(volume_kms_key="my key"),
            "volume_kms_key 'my key' is not a KMS key ID, alias or ARN SageMaker accepts (1 to 2048 letters, digits, "
            "':', '/', '_' and '-'; API reference, ResourceConfig: VolumeKmsKeyId).",
            "Give the key's ID, ARN or alias, e.g. volume_kms_key='alias/sagemaker-jobs'.",
        ),
        (
            JobSettings(checkpoints=Checkpoints(s3="bucket/ckpt")),
            "checkpoints s3='bucket/ckpt' is not an S3 URI (API reference, CheckpointConfig: S3Uri).",
            "Give it as dagml.Checkpoints(s3='s3://bucket/prefix'), or leave s3 unset for dagml's location.",
        ),
        (
            JobSettings(keep_alive=3601),
            "keep_alive=3601 is longer than the 3600 seconds SageMaker keeps a warm pool (API reference, "
            "ResourceConfig: KeepAlivePeriodInSeconds).",
            "Use keep_alive=3600 or less.",
        ),
    ],
)
def test_values_sagemaker_refuses(job, message, fix):
    pipe = Pipeline("p")
    training(pipe, job=job)
    assert only(pipe) == ("fit", message, fix)


def test_a_pipeline_setting_is_reported_on_every_step_it_reaches():
    pipe = Pipeline("p", job=JobSettings(subnets=["subnet-1"]))

    @pipe.step
    def prepare():
        return 1

    training(pipe)
    assert [s for _, s, _, _ in problems(pipe)] == ["fit", "prepare"]


def test_params_must_be_string_params():
    pipe = Pipeline("p")
    count = pipe.param("Count", 3)

    @pipe.step(job=JobSettings(volume_kms_key=count))
    def prepare():
        return 1

    (found,) = problems(pipe)
    assert found == (
        "job-settings",
        "prepare",
        "volume_kms_key is bound to Integer param 'Count'; SageMaker's VolumeKmsKeyId is a string.",
        "Bind a String param, e.g. pipe.param('Count', '<value>').",
    )


def test_network_isolation_on_a_model_that_serves_a_function_step():
    pipe = Pipeline("p", job=JobSettings(network_isolation=True))
    training(pipe)  # an isolated training step is fine: its code comes through a channel
    raw = pipe.dataset("Raw", s3="s3://b/raw.csv")
    pipe.batch_transform("Score", model=pipe["fit"], data=raw)
    step, message, fix = only(pipe)
    assert step == "ScoreModel"
    assert "function step 'fit', and its serving container downloads the inference code from S3 itself" in message
    assert "(developer guide, Run training and inference containers in internet-free mode)" in message
    assert fix.startswith("Turn it off for this model: job=dagml.JobSettings(network_isolation=False)")


def test_an_isolated_model_step_off_again_is_fine():
    pipe = Pipeline("p", job=JobSettings(network_isolation=True))
    training(pipe)
    raw = pipe.dataset("Raw", s3="s3://b/raw.csv")
    pipe.batch_transform("Score", model=pipe["fit"], data=raw, job=JobSettings(network_isolation=False))
    pipe.validate()


def test_an_isolated_training_step_cannot_have_a_code_parameter():
    pipe = Pipeline("p")
    raw = pipe.dataset("Raw", s3="s3://b/raw.csv")

    @pipe.step(kind="training", job=JobSettings(network_isolation=True))
    def fit(code=raw):
        return 1

    step, message, fix = only(pipe)
    assert step == "fit" and "a training channel named 'code'" in message
    assert fix == "Rename the parameter (and bind what it reads by its new name)."


def validated_with_warnings(pipe: Pipeline) -> list[tuple[str, tuple[str, ...], str]]:
    with pytest.warns(DagmlWarning):
        graph = pipe.validate()
    return [(w.kind, w.steps, w.fix) for w in graph.warnings if w.kind == "job-settings"]


def test_default_checkpoints_with_cache_is_a_warning():
    pipe = Pipeline("p")
    training(pipe, cache=True, job=JobSettings(checkpoints=True))
    ((kind, steps_, fix),) = validated_with_warnings(pipe)
    assert steps_ == ("fit",) and fix.startswith("Give the checkpoints a fixed place")


def test_two_steps_checkpointing_to_one_place_is_a_warning():
    pipe = Pipeline("p", job=JobSettings(checkpoints=Checkpoints(s3="s3://b/ckpt")))
    training(pipe)

    @pipe.step(kind="training")
    def refit():
        return 1

    ((kind, steps_, fix),) = validated_with_warnings(pipe)
    assert steps_ == ("fit", "refit") and "Give each step its own dagml.Checkpoints(s3=...)" in fix


def test_a_role_param_on_a_training_job_is_a_warning_and_on_a_processing_job_fine():
    pipe = Pipeline("p")
    role = pipe.param("Role", ROLE)
    training(pipe, job=JobSettings(role=role))

    @pipe.step(job=JobSettings(role=role))
    def prepare():
        return 1

    ((kind, steps_, fix),) = validated_with_warnings(pipe)
    assert steps_ == ("fit", "Role") and fix.startswith("If SageMaker refuses it, give the role's ARN")


def test_to_sdk_says_why_it_cannot_build_a_training_role_param():
    role = dagml.Param("Role", ROLE)
    builder: Any = SimpleNamespace(settings=SimpleNamespace(role_arn=ROLE), value=lambda p: f"<{p.name}>")
    with pytest.raises(ConfigurationError, match=r"to_sdk: step 'fit' has role param 'Role', but SDK v3's ModelTrainer"):
        emit._role(builder, JobSettings(role=role), "step 'fit'")
    assert emit._role(builder, JobSettings(role=role)) == "<Role>"  # a Processor takes it
    assert emit._role(builder, None) == ROLE


def test_a_param_used_only_in_job_settings_is_not_unused():
    """A param used only in job settings counts as used (no unused-param warning)."""
    pipe = Pipeline("p")
    key = pipe.param("Key", "alias/k")

    @pipe.step(job=JobSettings(output_kms_key=key))
    def prepare():
        return 1

    assert [w for w in pipe.validate().warnings if w.kind == "unused-param"] == []


def test_network_isolation_on_a_training_script(tmp_path):
    script = tmp_path / "train.py"
    script.write_text("print('hi')\n")
    pipe = Pipeline("p")
    pipe.script("Fit", path=str(script), kind="training", job=JobSettings(network_isolation=True))
    step, message, fix = only(pipe)
    assert step == "Fit" and "downloads this script's code (sagemaker_submit_directory) from S3 itself" in message
    assert fix.startswith("Drop network_isolation for this step")
