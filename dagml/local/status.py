"""What a step of a local run can be: its status, and which statuses count as done or stopped.

A step starts ``pending``; a job step is ``running`` while a worker has it; it
ends ``succeeded``, ``cached`` (its outputs reused from an earlier run),
``failed``, ``skipped`` (in the branch a condition did not take, or after a
skipped step) or ``not run`` (after a failed step, or when the run stopped).
"""

from __future__ import annotations

from typing import Final, Literal

__all__ = ["DONE", "STATUSES", "STOPPED", "RunStatus", "StepStatus", "Verdict", "step_status"]

StepStatus = Literal["pending", "running", "succeeded", "cached", "failed", "skipped", "not run"]

#: Every step status, in the order a summary lists them.
STATUSES: Final[tuple[StepStatus, ...]] = ("succeeded", "cached", "failed", "skipped", "not run", "running", "pending")
#: A step whose outputs are there for the steps after it.
DONE: Final[tuple[StepStatus, ...]] = ("succeeded", "cached")
#: A step that ended without outputs: the steps after it do not run.
STOPPED: Final[tuple[StepStatus, ...]] = ("failed", "not run")

#: A run's status in the run store (``Running`` until the runner finishes it, or if it was killed).
RunStatus = Literal["Running", "Succeeded", "Failed"]

#: What the scheduler decides for a pending step: run it now, wait for what it reads, skip it (a
#: branch not taken), or leave it blocked (something it reads failed).
Verdict = Literal["ready", "wait", "skip", "blocked"]

_BY_TEXT: Final[dict[str, StepStatus]] = {status: status for status in STATUSES}


def step_status(text: str) -> StepStatus | None:
    """``text`` as a step status, or None when it is not one (a damaged or newer run store)."""
    return _BY_TEXT.get(text)
