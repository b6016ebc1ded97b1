"""The iris classifier: prepare -> train -> evaluate -> gate on accuracy.

When the held-out accuracy reaches ``AccuracyThreshold`` the model is
registered (group ``SklearnIris``, Approved) and scores ``ScoringData`` in a
batch transform; otherwise the run fails at ``AccuracyTooLow``.

Heavy imports (scikit-learn, numpy) live inside the step bodies, so loading
this file to validate, draw or compile the pipeline stays fast.

    dagml validate examples/iris_pipeline.py
"""

from __future__ import annotations

from typing import Any

from dagml import Pipeline

pipe = Pipeline("iris-classifier", description="Train, gate on accuracy, register, batch-score")

threshold = pipe.param("AccuracyThreshold", 0.9, description="Minimum held-out accuracy to register")
n_estimators = pipe.param("NEstimators", 10, description="Trees in the random forest")
min_samples_leaf = pipe.param("MinSamplesLeaf", 3, description="Minimum samples per leaf")
test_size = pipe.param("TestSize", 0.3, description="Held-out share of the data")
to_score = pipe.dataset(
    "ScoringData",
    local="data/iris_to_score.csv",
    description="Unlabelled iris measurements (CSV, no header) to classify",
)


@pipe.step
def prepare(test_size: float = test_size) -> dict[str, Any]:
    """Load the bundled iris dataset and split it, stratified, into train and test."""
    from sklearn.datasets import load_iris
    from sklearn.model_selection import train_test_split

    X, y = load_iris(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=test_size, random_state=42, stratify=y
    )
    return {"X_train": X_train, "y_train": y_train, "X_test": X_test, "y_test": y_test}


@pipe.step(kind="training", instance_type="ml.m5.xlarge")
def train(prepare: dict[str, Any], n_estimators: int = n_estimators, min_samples_leaf: int = min_samples_leaf) -> Any:
    """Fit a random forest on the training split; the fitted estimator is the model."""
    from sklearn.ensemble import RandomForestClassifier

    model = RandomForestClassifier(
        n_estimators=n_estimators, min_samples_leaf=min_samples_leaf, random_state=0
    )
    return model.fit(prepare["X_train"], prepare["y_train"])


@pipe.step
def evaluate(train: Any, prepare: dict[str, Any]):
    """Accuracy of the model on the held-out split: the metrics report the gate reads.

    The report is in SageMaker's model-quality format, so Studio shows it with the
    registered model. The gate reads it and it returns a dict literal, so dagml knows
    it is a report and knows its paths (no metrics=True or return annotation needed):
    a misspelled path fails validation with "did you mean".
    """
    from sklearn.metrics import accuracy_score

    accuracy = float(accuracy_score(prepare["y_test"], train.predict(prepare["X_test"])))
    return {"multiclass_classification_metrics": {"accuracy": {"value": accuracy}}}


register = pipe.register_model(
    "RegisterModel",
    model=train,
    group="SklearnIris",
    approval="Approved",
    metrics=evaluate,
)
scoring = pipe.batch_transform("BatchTransform", model=train, data=to_score)
accuracy = evaluate["multiclass_classification_metrics"]["accuracy"]["value"]
too_low = pipe.fail("AccuracyTooLow", ["Held-out accuracy ", accuracy, " is below the threshold ", threshold])
pipe.condition(
    "CheckAccuracy",
    accuracy >= threshold,
    then=[register, scoring],
    otherwise=[too_low],
)
