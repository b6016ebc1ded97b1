"""Existing SageMaker-style scripts as steps (pipe.script), wired to each other and to a function.

``split`` is a processing script (reads /opt/ml/processing/input/points, writes two outputs);
``fit`` is a script-mode training script reading split's ``train`` output as its channel; the
function ``check`` reads fit's model directory and split's ``test`` output; ``fit``'s model is
served by the image with the script's own model_fn/predict_fn in a batch transform.
"""

from __future__ import annotations

import json
import os
from typing import Any

from dagml import Pipeline

pipe = Pipeline("scripts", description="Existing scripts as steps")

points = pipe.dataset("Points", local="legacy/points.csv", description="x,y rows, no header")
every = pipe.param("TestEvery", 4)

split = pipe.script(
    "split", path="legacy/split.py", inputs={"points": points}, outputs=["train", "test"], arguments=["--test-every", every]
)
fit = pipe.script("fit", path="legacy/fit.py", kind="training", inputs={"train": split.outputs["train"]}, hyperparameters={"scale": 1})


@pipe.step(metrics=True)
def check(fit: str, test: str = split.outputs["test"]) -> dict[str, Any]:
    """The fitted line's largest error on the test points."""
    with open(os.path.join(fit, "model.json")) as f:
        model = json.load(f)
    (name,) = os.listdir(test)
    with open(os.path.join(test, name)) as f:
        pairs = [tuple(map(float, line.split(","))) for line in f if line.strip()]
    return {"max_error": max(abs(model["a"] * x + model["b"] - y) for x, y in pairs)}


model = pipe.model("FitModel", model=fit)
pipe.batch_transform("ScoreTest", model=model, data=split.outputs["test"])
