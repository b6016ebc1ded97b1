"""Run overlays: what happened to each step of one run, for drawing.

The renderer does not run anything. A run (from the local runner, or a
SageMaker execution) is handed to it as a mapping of step name ->
:class:`StepRun` (or just the status string); steps missing from the mapping
are drawn as "not run".
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Union

import attrs

from dagml.errors import DagmlError, did_you_mean
from dagml.graph.model import PipelineGraph

__all__ = ["NOT_RUN", "STATUSES", "RunOverlayError", "StepRun", "format_duration", "normalize_run"]

#: Every status a step can have in a run, in the legend's order.
STATUSES = ("succeeded", "failed", "cached", "skipped", "not run")
NOT_RUN = "not run"


class RunOverlayError(DagmlError, ValueError):
    """A run overlay names a step the pipeline lacks, or an unknown status."""


@attrs.frozen
class StepRun:
    """One step's part of a run.

    ``status`` is one of :data:`STATUSES`; ``duration`` is in seconds. For a
    condition step, ``outcome`` says which branch ran (``True``: then,
    ``False``: otherwise) and ``values`` is the expression with the actual
    values, e.g. ``"0.97 >= 0.9"``. For a fail step that ran, ``message`` is
    the message it failed with (params and metrics filled in).
    """

    status: str
    duration: float | None = None
    outcome: bool | None = None
    values: str | None = None
    message: str | None = None


RunStatus = Union[StepRun, str]


def _check(name: str, run: StepRun, graph: PipelineGraph) -> None:
    where = f"run overlay, step {name!r}"
    if run.status not in STATUSES:
        raise RunOverlayError(
            f"{where}: unknown status {run.status!r}{did_you_mean(run.status, STATUSES)}. "
            f"Fix: use one of {', '.join(map(repr, STATUSES))}."
        )
    if run.duration is not None and (
        isinstance(run.duration, bool)
        or not isinstance(run.duration, (int, float))
        or not math.isfinite(run.duration)
        or run.duration < 0
    ):
        raise RunOverlayError(f"{where}: duration={run.duration!r} must be a number of seconds >= 0.")
    is_condition = graph[name].kind == "condition"
    if (run.outcome is not None or run.values is not None) and not is_condition:
        raise RunOverlayError(
            f"{where}: outcome= and values= describe a condition, but {name!r} is a "
            f"{graph[name].kind} step. Fix: give them only to condition steps."
        )
    if run.outcome is not None and not isinstance(run.outcome, bool):
        raise RunOverlayError(f"{where}: outcome={run.outcome!r} must be True (then), False (otherwise) or None.")


def normalize_run(graph: PipelineGraph, run: Mapping[str, RunStatus]) -> dict[str, StepRun]:
    """Check a run overlay against the graph; return a :class:`StepRun` for every step.

    Raises :class:`RunOverlayError` for a step the graph lacks or a status
    that does not exist, naming the fix; a step the mapping leaves out is
    "not run".
    """
    result: dict[str, StepRun] = {}
    for name, value in run.items():
        if name not in graph:
            raise RunOverlayError(
                f"run overlay names step {name!r}, which pipeline {graph.name!r} does not have"
                f"{did_you_mean(name, graph.nodes)}. Fix: draw the run with the pipeline it ran."
            )
        step_run = StepRun(value) if isinstance(value, str) else value
        if not isinstance(step_run, StepRun):
            raise RunOverlayError(
                f"run overlay, step {name!r}: got {value!r}; use a status string or dagml.drawing.StepRun(...)."
            )
        _check(name, step_run, graph)
        result[name] = step_run
    return {name: result.get(name, StepRun(NOT_RUN)) for name in graph.nodes}


def format_duration(seconds: float) -> str:
    """``3 ms``, ``420 ms``, ``4.27 s``, ``12.3 s``, ``4 min 05 s``, ``1 h 02 min``: two or three
    significant digits, so a local step of a few milliseconds does not read ``0.0 s``."""
    if seconds < 0.9995:  # rounds to 1000 ms otherwise
        return f"{max(seconds * 1000, 0):.0f} ms" if seconds >= 0.0005 else "<1 ms"
    if seconds < 9.995:
        return f"{seconds:.2f} s"
    if seconds < 59.95:  # rounds to 60.0 s otherwise
        return f"{seconds:.1f} s"
    whole = round(seconds)
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{whole // 3600} h {(whole % 3600) // 60:02d} min"
