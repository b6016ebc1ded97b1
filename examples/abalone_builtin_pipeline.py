"""Abalone age with SageMaker's built-in XGBoost algorithm, as a container step.

``train`` is not Python of ours: ``pipe.container`` runs SageMaker's XGBoost image with its own
entry point on the CSV files ``preprocess`` writes (label first, no header, ``text/csv``), with
the algorithm's hyperparameters. Its model directory (``xgboost-model``) is what ``evaluate``
reads (with XGBoost shipped as a requirement) and what the image's own server scores in the batch
transform and serves from the registered version.

dagml runs no containers locally: ``dagml run`` stops at ``train`` and says so, unless
``pipe.container(..., local="dir")`` names a stand-in model directory.
"""

from __future__ import annotations

import os
from typing import Any

from abalone_data import mse_report, read_csv, split

from dagml import Image, Pipeline

pipe = Pipeline("abalone-builtin", description="Abalone age with SageMaker's built-in XGBoost algorithm")

approval_status = pipe.param(
    "ModelApprovalStatus", "PendingManualApproval", enum=["PendingManualApproval", "Approved"]
)
mse_threshold = pipe.param("MseThreshold", 6.0, description="Largest test MSE that still registers the model")
rounds = pipe.param("NumRound", 50, description="Boosting rounds of the built-in algorithm")
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


@pipe.step(outputs=["train", "validation", "test"])
def preprocess(outputs: Any, raw: str = input_data) -> None:
    """One-hot the sex, put the rings first, shuffle and split 70/15/15 into CSV files."""
    split(raw, outputs)


train = pipe.container(
    "train",
    image=Image("xgboost", "3.2-0"),
    inputs={"train": preprocess.outputs["train"], "validation": preprocess.outputs["validation"]},
    hyperparameters={"objective": "reg:squarederror", "num_round": rounds, "max_depth": 4, "eta": 0.2},
    content_type="text/csv",
    instance_type="ml.m5.xlarge",
)


@pipe.step(metrics=True, requirements=["xgboost-cpu==3.2.0"])
def evaluate(train: str, test: str = preprocess.outputs["test"]) -> dict[str, Any]:
    """The test MSE of the algorithm's model (``train`` is its model directory)."""
    import xgboost

    data = read_csv(test)
    booster = xgboost.Booster(model_file=os.path.join(train, "xgboost-model"))
    return mse_report(data[:, 0], booster.predict(xgboost.DMatrix(data[:, 1:])))


mse = evaluate["regression_metrics"]["mse"]["value"]
register = pipe.register_model(
    "RegisterAbaloneBuiltin", model=train, group="AbaloneBuiltinModels", approval=approval_status, metrics=evaluate
)
model = pipe.model("AbaloneBuiltinModel", model=train)
scoring = pipe.batch_transform("AbaloneBuiltinTransform", model=model, data=batch_data)
too_high = pipe.fail("AbaloneBuiltinMseFail", ["Execution failed: test MSE ", mse, " is above ", mse_threshold])
pipe.condition("AbaloneBuiltinMseCheck", mse <= mse_threshold, then=[register, model, scoring], otherwise=[too_high])
