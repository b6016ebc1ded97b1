"""Executions of a deployed pipeline: list them, look at one, wait for one to end.

Per-step status comes from ``ListPipelineExecutionSteps`` where the service
offers it; an endpoint without it (moto answers HTTP 500) gets a note, and the
execution's own status still decides.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

import attrs

from dagml._text import visible
from dagml.sagemaker.aws import Aws
from dagml.sagemaker.errors import AwsError

__all__ = ["FINAL", "Execution", "describe", "latest", "list_executions", "steps", "wait"]

#: Statuses an execution ends in; only Succeeded is a success.
FINAL = ("Succeeded", "Failed", "Stopped")
Log = Callable[[str], None]


def _time(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    return "" if value is None else str(value)


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


@attrs.frozen
class Execution:
    """One pipeline execution, as the service describes it."""

    arn: str
    status: str
    started: str = ""
    display_name: str = ""
    failure: str = ""

    @property
    def id(self) -> str:
        return self.arn.rsplit("/", 1)[-1]

    def to_dict(self) -> dict[str, str]:
        return {
            "arn": self.arn,
            "id": self.id,
            "status": self.status,
            "started": self.started,
            "display_name": self.display_name,
            "failure": self.failure,
        }


def list_executions(aws: Aws, name: str, limit: int = 20) -> list[Execution]:
    """The newest ``limit`` executions of pipeline ``name``, newest first."""
    found: list[Execution] = []
    token = None
    while len(found) < limit:
        request: dict[str, Any] = {
            "PipelineName": name,
            "SortBy": "CreationTime",
            "SortOrder": "Descending",
            "MaxResults": min(100, limit),
        }
        if token:
            request["NextToken"] = token
        page = aws.call("sagemaker", "list_pipeline_executions", f"pipeline {name!r}", **request)
        for s in page.get("PipelineExecutionSummaries", []):
            failure = s.get("PipelineExecutionFailureReason") or ""
            found.append(
                Execution(
                    s["PipelineExecutionArn"],
                    s.get("PipelineExecutionStatus", "?"),
                    _time(s.get("StartTime")),
                    s.get("PipelineExecutionDisplayName") or "",
                    "" if failure == "None" else failure,  # moto writes the string "None"
                )
            )
        token = page.get("NextToken")
        if not token:
            break
    found.sort(key=lambda e: e.started, reverse=True)
    return found[:limit]


def latest(aws: Aws, name: str) -> Execution | None:
    found = list_executions(aws, name, 1)
    return found[0] if found else None


def describe(aws: Aws, arn: str) -> dict[str, Any]:
    """The execution, its parameters, and ``steps`` (None when the endpoint cannot list them)."""
    context = f"execution {arn!r}"
    info = aws.call("sagemaker", "describe_pipeline_execution", context, PipelineExecutionArn=arn)
    params = aws.call(
        "sagemaker", "list_pipeline_parameters_for_execution", context, PipelineExecutionArn=arn
    )
    try:
        step_list: list[dict[str, str]] | None = steps(aws, arn)
        steps_note = ""
    except AwsError as exc:
        step_list, steps_note = (
            None,
            f"per-step status is not available from this endpoint ({exc.code or exc})",
        )
    return {
        "arn": arn,
        "id": arn.rsplit("/", 1)[-1],
        "status": info.get("PipelineExecutionStatus", "?"),
        "display_name": info.get("PipelineExecutionDisplayName") or "",
        "started": _time(info.get("CreationTime")),
        "modified": _time(info.get("LastModifiedTime")),
        "failure": info.get("FailureReason") or "",
        "parameters": {p["Name"]: p["Value"] for p in params.get("PipelineParameters", [])},
        "steps": step_list,
        "steps_note": steps_note,
    }


def steps(aws: Aws, arn: str) -> list[dict[str, str]]:
    """Each step's name, status and failure reason, in the order they started."""
    found, token = [], None
    while True:
        request: dict[str, Any] = {"PipelineExecutionArn": arn, "SortOrder": "Ascending"}
        if token:
            request["NextToken"] = token
        page = aws.call("sagemaker", "list_pipeline_execution_steps", f"execution {arn!r}", **request)
        for s in page.get("PipelineExecutionSteps", []):
            found.append(
                {
                    "name": s.get("StepName", "?"),
                    "status": s.get("StepStatus", "?"),
                    "started": _time(s.get("StartTime")),
                    "failure": s.get("FailureReason") or "",
                }
            )
        token = page.get("NextToken")
        if not token:
            return found


def wait(
    aws: Aws, arn: str, *, poll: float = 30.0, log: Log = print, clock: Callable[[], float] = time.monotonic
) -> str:
    """Poll until the execution ends, logging each status and step change; return the final status."""
    start = clock()
    seen: dict[str, str] = {}
    status, steps_ok = "", True
    log(f"waiting for execution {arn.rsplit('/', 1)[-1]} (polling every {poll:g}s)")
    while True:
        info = aws.call(
            "sagemaker", "describe_pipeline_execution", f"execution {arn!r}", PipelineExecutionArn=arn
        )
        elapsed = _duration(clock() - start)
        if steps_ok:
            try:
                for step in steps(aws, arn):
                    if seen.get(step["name"]) != step["status"]:
                        seen[step["name"]] = step["status"]
                        reason = f": {step['failure']}" if step["failure"] else ""
                        log(visible(f"  {elapsed:>9}  {step['name']}: {step['status']}{reason}"))  # service text
            except AwsError as exc:
                steps_ok = False
                log(f"  (per-step status is not available from this endpoint: {exc.code or exc})")
        new = info.get("PipelineExecutionStatus", "?")
        if new != status:
            status = new
            reason = f": {info['FailureReason']}" if info.get("FailureReason") else ""
            log(visible(f"  {elapsed:>9}  execution {status}{reason}"))
        if status in FINAL:
            log(f"execution {arn.rsplit('/', 1)[-1]}: {status} after {elapsed}")
            return status
        aws.sleep(poll)
