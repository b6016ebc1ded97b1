"""The abalone examples' data handling, shared by their preprocess steps (plain functions).

``split`` writes the train/validation/test CSV files that SageMaker's built-in algorithms read
(the label first, no header); ``read_csv`` reads one back as a float matrix.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

SEXES = ("M", "F", "I")
MEASUREMENTS = ("length", "diameter", "height", "whole_weight", "shucked_weight", "viscera_weight", "shell_weight")


def split(raw: str, outputs: Mapping[str, Path]) -> None:
    """One-hot the sex, put the rings first, shuffle and split 70/15/15 into ``outputs``' directories."""
    import csv

    import numpy as np

    with open(raw, newline="") as f:
        rows = list(csv.DictReader(f))
    table = np.array(
        [[float(r["rings"]), *(float(r["sex"] == s) for s in SEXES)] + [float(r[c]) for c in MEASUREMENTS] for r in rows]
    )
    np.random.default_rng(42).shuffle(table)
    first, second = int(0.7 * len(table)), int(0.85 * len(table))
    for name, part in (("train", table[:first]), ("validation", table[first:second]), ("test", table[second:])):
        np.savetxt(outputs[name] / f"{name}.csv", part, delimiter=",", fmt="%.6g")


def read_csv(directory: str) -> Any:
    """The one CSV file in ``directory`` as a float matrix (label first)."""
    import numpy as np

    (name,) = [f for f in os.listdir(directory) if f.endswith(".csv")]
    return np.loadtxt(os.path.join(directory, name), delimiter=",", ndmin=2)


def mse_report(labels: Any, predictions: Any) -> dict[str, Any]:
    """The test MSE in SageMaker's model-quality format: what the gate reads and Studio shows."""
    errors = (labels - predictions) ** 2
    return {"regression_metrics": {"mse": {"value": float(errors.mean()), "standard_deviation": float(errors.std())}}}
