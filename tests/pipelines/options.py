"""Every step option, params as instance types and counts, after=, and a Fail joining params; job
settings: the pipeline's VPC and output KMS key, a processing step's own role, network isolation and traffic
encryption, a training step on spot with checkpoints and network isolation (its code as a channel)."""

from dagml import Checkpoints, JobSettings, Pipeline, Retry, Spot

pipe = Pipeline(
    "options-showcase",
    description="Step options compile to their SageMaker fields",
    job=JobSettings(
        subnets=["subnet-0a1b2c3d"],
        security_groups=["sg-0a1b2c3d"],
        output_kms_key="alias/dagml-outputs",
    ),
)
itype = pipe.param("ProcessingInstanceType", "ml.m5.xlarge", enum=["ml.m5.large", "ml.m5.xlarge"])
count = pipe.param("ProcessingInstanceCount", 2)
epochs = pipe.param("Epochs", 5)
use_gpu = pipe.param("UseGpu", False)
source = pipe.dataset("RawData", s3="s3://example-bucket/raw/data.csv")


@pipe.step(
    instance_type=itype,
    instance_count=count,
    volume_size_gb=50,
    timeout=1800,
    retry=[Retry(max_attempts=4, interval_seconds=5), Retry(on=["SageMaker.CAPACITY_ERROR"], max_attempts=2)],
    cache="P7D",
    environment={"LOG_LEVEL": "debug", "A_FLAG": "1"},
    tags={"team": "ml", "cost-center": "42"},
    display_name="Load-raw-data",
    description="Reads the raw CSV",
    job=JobSettings(
        role="arn:aws:iam::111122223333:role/DataRole", network_isolation=True, encrypt_inter_container=True
    ),
)
def load(raw=source):
    return raw


@pipe.step(
    kind="training",
    instance_type="ml.g5.xlarge",
    after=["load"],
    timeout=3600,
    job=JobSettings(
        spot=Spot(max_wait=7200),
        checkpoints=Checkpoints(s3="s3://example-bucket/checkpoints/fit"),
        network_isolation=True,
    ),
)
def fit(load, epochs=epochs, gpu=use_gpu):
    return (load, epochs, gpu)


@pipe.step
def audit():
    return "ok"


@pipe.step(after=[fit, audit])
def publish(fit):
    return fit
