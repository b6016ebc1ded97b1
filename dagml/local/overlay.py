"""A local run drawn over its pipeline: each step coloured by status, the branch not taken greyed."""

from __future__ import annotations

import os
from typing import Any

from dagml.graph.model import PipelineGraph
from dagml.local.result import RunResult
from dagml.local.status import StepStatus

__all__ = ["render_run", "run_statuses"]

#: Runner statuses the drawing does not know map to "not run" (a run killed mid-step).
_DRAWN: frozenset[StepStatus] = frozenset({"succeeded", "failed", "cached", "skipped", "not run"})


def run_statuses(graph: PipelineGraph, result: RunResult) -> dict[str, Any]:
    """``{step: StepRun}`` for :func:`dagml.drawing.render`'s ``run=``."""
    from dagml.drawing import StepRun

    out: dict[str, Any] = {}
    for name in graph.order:
        record = result.steps.get(name)
        if record is None:
            out[name] = StepRun("not run")
            continue
        status = record.status if record.status in _DRAWN else "not run"
        outcome = record.detail.get("outcome") if record.kind == "condition" else None
        values = record.detail.get("values") if record.kind == "condition" else None
        message = record.error if record.kind == "fail" and record.status == "failed" else None
        out[name] = StepRun(status, record.duration, outcome, values, message)
    return out


def render_run(graph: PipelineGraph, result: RunResult, path: str | os.PathLike[str] | None = None, **options: Any) -> Any:
    """Draw ``result`` over ``graph``; write ``path`` when given; return the Drawing."""
    from dagml.drawing import render

    caption = f"run {result.run_id}: {result.status}"
    run = run_statuses(graph, result)
    return render(graph, path, run=run, caption=caption, values=result.run.params, **options)
