"""Draw the pictures the docs show: `make docs-images`.

- ``docs/images/iris.svg``: the iris pipeline, exactly as
  ``dagml render examples/iris_pipeline.py -o docs/images/iris.svg`` draws it;
- ``docs/images/iris-run.svg``: an *example* run overlay with made-up
  statuses (labelled as such in the picture), until the local runner records
  real runs.

Needs Graphviz's ``dot`` (``apt-get install graphviz`` / ``brew install graphviz``).
"""

from __future__ import annotations

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from dagml.render import StepRun, render  # noqa: E402
from dagml.target import load_target  # noqa: E402

IMAGES = os.path.join(ROOT, "docs", "images")

#: Synthetic statuses for the overlay example: the gate passed, scoring failed.
EXAMPLE_RUN = {
    "prepare": StepRun("cached", duration=0.4),
    "train": StepRun("succeeded", duration=42.7),
    "evaluate": StepRun("succeeded", duration=3.1),
    "CheckAccuracy": StepRun("succeeded", duration=0.1, outcome=True, values="0.97 >= 0.9"),
    "RegisterModel": StepRun("succeeded", duration=1.2),
    "BatchTransformModel": StepRun("succeeded", duration=0.8),
    "BatchTransform": StepRun("failed", duration=65.0),
    "AccuracyTooLow": StepRun("skipped"),
}


def main() -> None:
    pipe = load_target(os.path.join(ROOT, "examples", "iris_pipeline.py"))
    for name, options in (
        ("iris.svg", {}),
        ("iris-run.svg", {"run": EXAMPLE_RUN, "caption": "example run overlay (synthetic statuses)"}),
    ):
        render(pipe, os.path.join(IMAGES, name), **options)
        print(f"wrote docs/images/{name}")


if __name__ == "__main__":
    main()
