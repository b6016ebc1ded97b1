"""Abalone age: SageMaker's own canonical pipeline example, written as plain functions.

preprocess -> train -> evaluate -> gate on the mean squared error. When the MSE on the
held-out split is at most ``MseThreshold``, the model is registered (group ``AbaloneModels``,
status ``ModelApprovalStatus``, with its model-quality report) and scores ``BatchData`` in a
batch transform; otherwise the execution fails with the MSE in its message. The data are
synthetic stand-ins for the UCI abalone set (examples/data/make_abalone.py).

``preprocess`` writes three named outputs, CSV files with the label first and no header, the
layout SageMaker's built-in algorithms read; ``train`` and ``evaluate`` receive the directories.
docs/from-sdk.md sets this file beside the SDK's version of the same pipeline.

    dagml run examples/abalone_pipeline.py -p MseThreshold=1.0    # the other branch
"""

from __future__ import annotations

from typing import Any

from abalone_data import mse_report, read_csv, split

from dagml import Pipeline

pipe = Pipeline("abalone", description="Predict abalone age; register the model when its MSE is low enough")

processing_instance_count = pipe.param("ProcessingInstanceCount", 1)
training_instance_type = pipe.param("TrainingInstanceType", "ml.m5.xlarge")
approval_status = pipe.param(
    "ModelApprovalStatus", "PendingManualApproval", enum=["PendingManualApproval", "Approved"]
)
mse_threshold = pipe.param("MseThreshold", 6.0, description="Largest test MSE that still registers the model")
input_data = pipe.dataset(
    "InputData",
    local="data/abalone.csv",
    s3="s3://dagml-example-bucket/abalone/abalone.csv",
    description="Abalone measurements with a header, one row per animal, rings last",
)
batch_data = pipe.dataset(
    "BatchData",
    local="data/abalone_batch.csv",
    s3="s3://dagml-example-bucket/abalone/abalone_batch.csv",
    description="Preprocessed rows to score (one-hot sex, seven measurements), no header",
)


@pipe.step(outputs=["train", "validation", "test"], instance_count=processing_instance_count)
def preprocess(outputs: Any, raw: str = input_data) -> None:
    """One-hot the sex, put the rings first, shuffle and split 70/15/15 into CSV files."""
    split(raw, outputs)


@pipe.step(kind="training", instance_type=training_instance_type)
def train(
    train: str = preprocess.outputs["train"], validation: str = preprocess.outputs["validation"]
) -> Any:
    """Fit a gradient-boosted regressor of the rings; report the validation MSE in the log."""
    from sklearn.ensemble import GradientBoostingRegressor
    from sklearn.metrics import mean_squared_error

    fit, check = read_csv(train), read_csv(validation)
    model = GradientBoostingRegressor(n_estimators=60, max_depth=3, random_state=0)
    model.fit(fit[:, 1:], fit[:, 0])
    print(f"validation mse: {mean_squared_error(check[:, 0], model.predict(check[:, 1:])):.3f}")
    return model


@pipe.step(metrics=True)
def evaluate(train: Any, test: str = preprocess.outputs["test"]) -> dict[str, Any]:
    """The test MSE in SageMaker's model-quality format: what the gate reads and Studio shows."""
    data = read_csv(test)
    return mse_report(data[:, 0], train.predict(data[:, 1:]))


mse = evaluate["regression_metrics"]["mse"]["value"]
register = pipe.register_model(
    "RegisterAbaloneModel",
    model=train,
    group="AbaloneModels",
    approval=approval_status,
    metrics=evaluate,
    inference_instances=["ml.t2.medium", "ml.m5.large"],
    transform_instances=["ml.m5.large"],
)
model = pipe.model("AbaloneModel", model=train)
scoring = pipe.batch_transform("AbaloneTransform", model=model, data=batch_data)
too_high = pipe.fail("AbaloneMseFail", ["Execution failed: test MSE ", mse, " is above the threshold ", mse_threshold])
pipe.condition(
    "AbaloneMseCheck",
    mse <= mse_threshold,
    then=[register, model, scoring],
    otherwise=[too_high],
)
