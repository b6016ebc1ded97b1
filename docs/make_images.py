"""Draw the pictures the docs show: `make docs-images`.

- ``docs/images/iris.svg``: the iris pipeline, exactly as
  ``dagml render examples/iris_pipeline.py -o docs/images/iris.svg`` draws it;
- ``docs/images/iris-run.svg``: a real local run of it (with
  ``AccuracyThreshold=1.01``, so the overlay shows a branch not taken and a
  failure), drawn as ``dagml render ... --run RUN_ID`` draws it. The run uses a
  throw-away run store, so the repository's ``.dagml/`` is untouched.

Needs Graphviz's ``dot`` (``apt-get install graphviz`` / ``brew install graphviz``).
"""

from __future__ import annotations

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from dagml.local.overlay import render_run  # noqa: E402
from dagml.drawing import render  # noqa: E402
from dagml.spec.target import load_target  # noqa: E402

IMAGES = os.path.join(ROOT, "docs", "images")

def main() -> None:
    import tempfile

    pipe = load_target(os.path.join(ROOT, "examples", "iris_pipeline.py"))
    render(pipe.validate(), os.path.join(IMAGES, "iris.svg"))
    print("wrote docs/images/iris.svg")
    with tempfile.TemporaryDirectory() as home:
        result = pipe.run({"AccuracyThreshold": 1.01}, home=home)
        render_run(pipe.validate(), result, os.path.join(IMAGES, "iris-run.svg"))
    print(f"wrote docs/images/iris-run.svg (run {result.run_id}: {result.status})")


if __name__ == "__main__":
    main()
