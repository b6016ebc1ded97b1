"""Write the synthetic abalone-like data the abalone example ships (run it to regenerate them).

SageMaker's abalone example reads the UCI abalone dataset (sex, seven size and weight
measurements, and the rings that give the age). dagml ships no copy of it; this script makes
deterministic stand-ins with the same columns and plausible relations, so the example runs
anywhere, offline:

- ``abalone.csv``: 1,200 rows, with a header, the nine columns of the original;
- ``abalone_batch.csv``: 60 rows to score, no header, the columns ``preprocess`` writes
  (three one-hot sex columns, then the seven measurements), as the batch transform reads them.

    python examples/data/make_abalone.py
"""

from __future__ import annotations

import csv
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
COLUMNS = [
    "sex", "length", "diameter", "height", "whole_weight", "shucked_weight", "viscera_weight", "shell_weight", "rings"
]


def row(rng: random.Random) -> list[object]:
    sex = rng.choice("MFI")
    length = rng.uniform(0.15, 0.45) if sex == "I" else rng.uniform(0.3, 0.78)
    diameter = 0.8 * length + rng.gauss(0, 0.015)
    height = 0.27 * length + rng.gauss(0, 0.01)
    whole = 3.2 * length**3 * (1 + rng.gauss(0, 0.08))
    shucked, viscera, shell = (whole * f * (1 + rng.gauss(0, 0.05)) for f in (0.43, 0.22, 0.29))
    rings = max(1, round(3 + 14 * length + 12 * shell + (1.0 if sex != "I" else -1.0) + rng.gauss(0, 1.7)))
    values = [length, diameter, height, whole, shucked, viscera, shell]
    return [sex, *(round(max(v, 0.001), 4) for v in values), rings]


def main() -> None:
    rng = random.Random(20261126)
    rows = [row(rng) for _ in range(1200)]
    with open(os.path.join(HERE, "abalone.csv"), "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(rows)
    with open(os.path.join(HERE, "abalone_batch.csv"), "w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        for sex, *measures, _rings in (row(rng) for _ in range(60)):
            writer.writerow([int(sex == s) for s in "MFI"] + measures)


if __name__ == "__main__":
    main()
