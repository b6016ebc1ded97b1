"""Abalone age with XGBoost as a dagml function: the package is not in the image, dagml ships it.

The same pipeline as abalone_pipeline.py, with the model an XGBoost regressor. ``train`` and
``evaluate`` declare ``requirements=``: compile resolves them into wheels for the scikit-learn
image's Python and platform, deploy uploads them, and each job installs them at start with no
network (the registered model carries them to the containers that serve it). Locally the steps use
this environment's packages (``pip install xgboost-cpu``).

``xgboost-cpu`` is XGBoost's CPU-only distribution (it installs the same ``xgboost`` module);
plain ``xgboost`` works too but ships about 300 MB of CUDA libraries to every job.
"""

from __future__ import annotations

from typing import Any

from abalone_data import mse_report, read_csv, split

from dagml import Pipeline

XGBOOST = ["xgboost-cpu==3.2.0"]

pipe = Pipeline("abalone-xgboost", description="Abalone age with XGBoost, its wheels shipped with the code")

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


@pipe.step(outputs=["train", "validation", "test"])
def preprocess(outputs: Any, raw: str = input_data) -> None:
    """One-hot the sex, put the rings first, shuffle and split 70/15/15 into CSV files."""
    split(raw, outputs)


@pipe.step(kind="training", requirements=XGBOOST)
def train(train: str = preprocess.outputs["train"], validation: str = preprocess.outputs["validation"]) -> Any:
    """Fit an XGBoost regressor of the rings, stopping early on the validation split."""
    import xgboost

    fit, check = read_csv(train), read_csv(validation)
    model = xgboost.XGBRegressor(n_estimators=60, max_depth=4, learning_rate=0.2, early_stopping_rounds=10)
    model.fit(fit[:, 1:], fit[:, 0], eval_set=[(check[:, 1:], check[:, 0])], verbose=False)
    print(f"xgboost {xgboost.__version__}: best iteration {model.best_iteration}")
    return model


@pipe.step(metrics=True, requirements=XGBOOST)
def evaluate(train: Any, test: str = preprocess.outputs["test"]) -> dict[str, Any]:
    """The test MSE in SageMaker's model-quality format."""
    data = read_csv(test)
    return mse_report(data[:, 0], train.predict(data[:, 1:]))


mse = evaluate["regression_metrics"]["mse"]["value"]
register = pipe.register_model(
    "RegisterAbaloneXgboost", model=train, group="AbaloneXgboostModels", approval=approval_status, metrics=evaluate
)
model = pipe.model("AbaloneXgboostModel", model=train)
scoring = pipe.batch_transform("AbaloneXgboostTransform", model=model, data=batch_data)
too_high = pipe.fail("AbaloneXgboostMseFail", ["Execution failed: test MSE ", mse, " is above ", mse_threshold])
pipe.condition("AbaloneXgboostMseCheck", mse <= mse_threshold, then=[register, model, scoring], otherwise=[too_high])
