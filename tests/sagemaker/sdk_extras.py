"""What the golden pipelines leave out, for the SDK oracle (test_sdk_oracle.py): an explicit
model step, batch transforms of a processing step's CSV output and of another transform's output,
a register step with a description and params as group and approval, a training step on
param-typed instances, a Retry mixing step and job exceptions, plain and empty Fail messages,
and a condition with after=.
"""

from typing import Any

from dagml import Pipeline, Retry

pipe = Pipeline("sdk-extras")
group = pipe.param("ModelGroup", "extras-models")
approval = pipe.param("Approval", "PendingManualApproval", enum=["Approved", "PendingManualApproval"])
itype = pipe.param("TrainInstanceType", "ml.m5.xlarge")
count = pipe.param("TrainInstanceCount", 1)
raw = pipe.dataset("Raw", s3="s3://example-bucket/extras/raw.csv")


@pipe.step(
    retry=Retry(
        on=["Step.THROTTLING", "SageMaker.CAPACITY_ERROR", "SageMaker.RESOURCE_LIMIT"], max_attempts=5
    ),
    cache=True,
)
def rows(raw=raw) -> list:
    return [[1.0, 2.0]]


@pipe.step(
    kind="training",
    instance_type=itype,
    instance_count=count,
    volume_size_gb=40,
    timeout=600,
    environment={"MODE": "fit"},
    tags={"team": "ml"},
)
def fit(rows):
    return rows


@pipe.step(metrics=True)
def check(fit) -> dict[str, Any]:
    return {"regression_metrics": {"score": {"value": 1.0}}}


served = pipe.model("Served", model=fit, description="the fitted model")
register = pipe.register_model(
    "Register",
    model=fit,
    group=group,
    approval=approval,
    metrics=check,
    description="registered by the oracle test",
)
score_rows = pipe.batch_transform(
    "ScoreRows", model=served, data=rows, display_name="Score-rows", environment={"A": "1"}, tags={"k": "v"}
)
rescore = pipe.batch_transform("Rescore", model=served, data=score_rows)
stop = pipe.fail("Stop", "the score is too low")
halt = pipe.fail("Halt", after=[stop])
pipe.condition(
    "Gate",
    check["regression_metrics"]["score"]["value"] >= 0.5,
    then=[register, score_rows, rescore],
    otherwise=[stop, halt],
    after=[served],
)
