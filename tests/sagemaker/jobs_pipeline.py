"""Job settings on every step type that has them, for tests/sagemaker/test_jobsettings.py: the compiled
definition and the SDK oracle (``to_sdk``) must agree. The pipeline's job= sets the VPC, both KMS keys
(the output key a param the pipeline declares), inter-container encryption and spot; steps override
field by field: a String param as a processing role, network isolation on a processing and a training
step, default and explicit checkpoints, a warm pool, spot and the VPC turned off, a model's role, a
transform's own output key, and a batch transform whose model dagml declares (it takes the role).
"""

from dagml import Checkpoints, JobSettings, Param, Pipeline, Spot

output_key = Param("OutputKmsKey", "alias/pipeline-outputs")
pipe = Pipeline(
    "jobs-showcase",
    job=JobSettings(
        subnets=["subnet-0a1b2c3d", "subnet-4e5f6a7b"],
        security_groups=["sg-0a1b2c3d"],
        volume_kms_key="alias/pipeline-volumes",
        output_kms_key=output_key,
        encrypt_inter_container=True,
        spot=Spot(max_wait=7200),
    ),
    max_parallel_steps=4,
)
data_role = pipe.param("DataRole", "arn:aws:iam::111122223333:role/DataRole")
raw = pipe.dataset("Raw", s3="s3://example-bucket/jobs/raw.csv")

SERVE_ROLE = "arn:aws:iam::111122223333:role/ServeRole"


@pipe.step(job=JobSettings(role=data_role, network_isolation=True))
def prepare(raw=raw) -> list:
    return [[1.0, 2.0]]


@pipe.step(
    kind="training",
    timeout=3600,
    job=JobSettings(
        role="arn:aws:iam::111122223333:role/TrainRole",
        network_isolation=True,
        checkpoints=Checkpoints(),
        keep_alive=600,
    ),
)
def fit(prepare):
    return prepare


@pipe.step(
    kind="training",
    timeout=1800,
    job=JobSettings(
        spot=False,
        subnets=[],
        security_groups=[],
        checkpoints=Checkpoints(s3="s3://example-bucket/checkpoints/refit", local_path="/opt/ml/checkpoints/refit"),
    ),
)
def refit(prepare):
    return prepare


served = pipe.model("Served", model=fit, job=JobSettings(role=SERVE_ROLE))
pipe.batch_transform("Score", model=served, data=prepare, job=JobSettings(output_kms_key="alias/predictions"))
pipe.batch_transform("Rescore", model=refit, data=prepare, job=JobSettings(role=SERVE_ROLE))
