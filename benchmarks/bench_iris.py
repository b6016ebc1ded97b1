"""Benchmark 4: the iris pipeline run end to end vs the sum of its steps' own compute.

`dagml run examples/iris_pipeline.py` in a fresh process (every step in a worker
process through the step runtime, the accuracy gate, registering the model in the
local registry, the batch transform), against a fresh process that imports the
pipeline and calls the same functions directly: prepare, train, evaluate, and the
model's ``predict`` on the scoring data. Each call is timed on its own; their sum
is the steps' own compute time (the first call pays for importing scikit-learn,
as the first step of a run does).

    .venv/bin/python benchmarks/bench_iris.py [--quick]
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (
    DAGML,
    PYTHON,
    ROOT,
    Sample,
    Section,
    child_json,
    interleaved,
    run_child,
    seconds,
    spread,
)

IRIS = os.path.join(ROOT, "examples", "iris_pipeline.py")
STEPS = ("prepare", "train", "evaluate", "BatchTransform")


def direct() -> dict[str, Any]:
    """Call the iris steps' functions directly; time each call."""
    t0 = time.perf_counter()
    from dagml.spec.target import load_target

    pipe = load_target(IRIS)
    graph = pipe.validate()
    params = {p.name: p.default for p in graph.params}
    times: dict[str, float] = {}

    def call(name: str, **kwargs: Any) -> Any:
        t = time.perf_counter()
        value = graph[name].fn(**kwargs)  # type: ignore[attr-defined]
        times[name] = time.perf_counter() - t
        return value

    prepared = call("prepare", test_size=params["TestSize"])
    model = call("train", prepare=prepared, n_estimators=params["NEstimators"], min_samples_leaf=params["MinSamplesLeaf"])
    call("evaluate", train=model, prepare=prepared)
    t = time.perf_counter()
    import numpy as np

    rows = np.loadtxt(os.path.join(ROOT, "examples", "data", "iris_to_score.csv"), delimiter=",", ndmin=2)
    model.predict(rows)
    times["BatchTransform"] = time.perf_counter() - t
    return {"steps": times, "wall_in_process": time.perf_counter() - t0}


def _run(home: str) -> tuple[float, dict[str, float]]:
    r = run_child([DAGML, "run", IRIS, "--home", home, "--no-cache", "--json"])
    result = child_json(r, "dagml run iris")
    assert result["status"] == "Succeeded", result["error"]
    return r.seconds, {s["name"]: s["duration"] or 0.0 for s in result["steps"]}


def run(quick: bool = False) -> Section:
    repeat = 2 if quick else 5
    home = os.path.join(tempfile.mkdtemp(prefix="dagml-bench-iris-"), "home")
    _run(home)  # warm-up
    run_steps: list[dict[str, float]] = []
    ref_steps: list[dict[str, float]] = []
    sums: list[float] = []

    def ours() -> float:
        wall, steps = _run(home)
        run_steps.append(steps)
        return wall

    def reference() -> float:
        r = run_child([PYTHON, __file__, "--direct"])
        info = child_json(r, "direct iris")
        ref_steps.append(info["steps"])
        sums.append(sum(info["steps"].values()))
        return r.seconds

    wall, ref_wall = interleaved([ours, reference], repeat)
    compute = Sample(sums)
    section = Section(
        key="iris",
        title="4. The iris pipeline end to end",
        reference="the sum of its steps' own compute time: the same functions called directly in one process "
        "(prepare, train, evaluate, and the model's `predict` on the scoring data), each call timed",
        method=f"Fresh processes, {repeat} alternating rounds after a warm-up. `dagml run examples/iris_pipeline.py "
        "--no-cache` runs 8 steps: 4 in worker processes (prepare, train, evaluate, the batch transform) and 4 "
        "decided in the runner (the CheckAccuracy condition, the model, registering version N of SklearnIris, "
        "the Fail step skipped).",
        columns=["what", "median", "spread"],
    )
    section.rows = [
        ["`dagml run` (fresh process, wall)", seconds(wall.median), spread(wall)],
        ["steps' own compute (sum of the direct calls)", seconds(compute.median), spread(compute)],
        ["direct process (wall: start-up, imports, the calls)", seconds(ref_wall.median), spread(ref_wall)],
        ["dagml's overhead (run - compute)", seconds(wall.median - compute.median), ""],
        ["ratio run / compute", f"{wall.median / compute.median:.2f}x", ""],
    ]
    per_step = []
    for name in STEPS:
        in_run = Sample([s.get(name, 0.0) for s in run_steps])
        alone = Sample([s[name] for s in ref_steps])
        per_step.append([name, seconds(in_run.median), seconds(alone.median), seconds(in_run.median - alone.median)])
    section.extra_tables.append(
        ("Per step: duration in the run store (launch to finish, as the runner records it) vs the direct call:",
         ["step", "in `dagml run`", "direct call", "difference"], per_step)
    )
    section.notes.append(
        "The first step in each worker process imports scikit-learn (a worker is forked from the runner, "
        "which never imports it); the direct process imports it once, in `prepare`."
    )
    return section


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--direct":
        print(json.dumps(direct()))
    else:
        from harness import standalone

        standalone(run)
