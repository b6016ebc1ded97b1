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

import os
from typing import Any

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

SEXES = ("M", "F", "I")


def _read_csv(directory: str) -> Any:
    """The one CSV file in ``directory`` as a float matrix (label first)."""
    import numpy as np

    (name,) = [f for f in os.listdir(directory) if f.endswith(".csv")]
    return np.loadtxt(os.path.join(directory, name), delimiter=",", ndmin=2)


@pipe.step(outputs=["train", "validation", "test"], instance_count=processing_instance_count)
def preprocess(outputs: Any, raw: str = input_data) -> None:
    """One-hot the sex, put the rings first, shuffle and split 70/15/15 into CSV files."""
    import csv

    import numpy as np

    with open(raw, newline="") as f:
        rows = list(csv.DictReader(f))
    table = np.array(
        [
            [float(r["rings"]), *(float(r["sex"] == s) for s in SEXES)]
            + [float(r[c]) for c in ("length", "diameter", "height", "whole_weight", "shucked_weight", "viscera_weight", "shell_weight")]
            for r in rows
        ]
    )
    np.random.default_rng(42).shuffle(table)
    first, second = int(0.7 * len(table)), int(0.85 * len(table))
    for name, part in (("train", table[:first]), ("validation", table[first:second]), ("test", table[second:])):
        np.savetxt(outputs[name] / f"{name}.csv", part, delimiter=",", fmt="%.6g")


@pipe.step(kind="training", instance_type=training_instance_type)
def train(
    train: str = preprocess.outputs["train"], validation: str = preprocess.outputs["validation"]
) -> Any:
    """Fit a gradient-boosted regressor of the rings; report the validation MSE in the log."""
    from sklearn.ensemble import GradientBoostingRegressor
    from sklearn.metrics import mean_squared_error

    fit, check = _read_csv(train), _read_csv(validation)
    model = GradientBoostingRegressor(n_estimators=60, max_depth=3, random_state=0)
    model.fit(fit[:, 1:], fit[:, 0])
    print(f"validation mse: {mean_squared_error(check[:, 0], model.predict(check[:, 1:])):.3f}")
    return model


@pipe.step(metrics=True)
def evaluate(train: Any, test: str = preprocess.outputs["test"]) -> dict[str, Any]:
    """The test MSE in SageMaker's model-quality format: what the gate reads and Studio shows."""

    data = _read_csv(test)
    errors = (data[:, 0] - train.predict(data[:, 1:])) ** 2
    return {"regression_metrics": {"mse": {"value": float(errors.mean()), "standard_deviation": float(errors.std())}}}


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
