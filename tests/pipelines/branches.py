"""Conditions beyond the iris gate: and/or/not/in, != as Not(Equals), params on both sides."""

from typing import Any

from dagml import Pipeline

pipe = Pipeline("branching", description="Several metrics decide which steps run")
min_acc = pipe.param("MinAccuracy", 0.8)
max_loss = pipe.param("MaxLoss", 0.5)
stage = pipe.param("Stage", "dev", enum=["dev", "prod"])
region = pipe.param("TargetRegion", "us-east-1")


@pipe.step
def data():
    return [1, 2, 3]


@pipe.step(kind="training")
def model(data):
    return sum(data)


@pipe.step
def score(model, data) -> dict[str, Any]:
    return {"multiclass_classification_metrics": {"accuracy": {"value": 0.9}, "loss": {"value": 0.2}, "classes": {"value": 3.0}}}


@pipe.step
def promote(model, stage=stage):
    return f"promoted in {stage}"


@pipe.step
def notify(promote, target=region):
    return f"notified {target}"


@pipe.step
def investigate(score):
    return "look closer"


register = pipe.register_model(
    "Register", model=model, group="branching-models", approval="PendingManualApproval", metrics=score
)
stop = pipe.fail("Stop", ["stage ", stage, " rejected the model"])

quality = score["multiclass_classification_metrics"]
accuracy, loss, classes = (quality[name]["value"] for name in ("accuracy", "loss", "classes"))
pipe.condition(
    "Gate",
    ((accuracy >= min_acc) & (loss < max_loss) & (classes != 2)) | (~(accuracy < 0.5) & classes.isin([3, 4])),
    then=[register, promote, notify],
    otherwise=[investigate, stop],
)
