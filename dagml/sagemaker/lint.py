"""Pre-flight lint: what SageMaker would reject at CreatePipeline or at run time.

Works on the definition itself (so imported definitions get the same checks),
each problem naming the step and the fix. Every error rests on a documented
service limit, cited at its constant; what no source states is at most a
warning. Lint follows the graph's rules (dagml/graph/checks.py): any step
type may be in a condition's branch, conditions included (the published
schema's allow-list is stale; docs/deploy.md).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from dagml.errors import Problem

__all__ = ["MAX_DEFINITION_CHARS", "lint"]

#: CreatePipeline's PipelineDefinition limit (API_CreatePipeline: "Maximum length of 1048576").
MAX_DEFINITION_CHARS = 1_048_576
#: Above this, deploy sends the definition through S3 (PipelineDefinitionS3Location).
S3_THRESHOLD_CHARS = 100 * 1024
#: A processing job's ContainerArguments: each at most 256 characters (API_AppSpecification).
MAX_ARGUMENT_CHARS = 256
#: A processing job's ProcessingInputs: at most 10 (API_CreateProcessingJob).
MAX_PROCESSING_INPUTS = 10
#: No AWS source states a limit on a parameter's EnumValues (the schema has no EnumValues at all):
#: more than this is a warning, not an error.
MAX_ENUM_VALUES = 16


def _dict(value: Any) -> dict[str, Any]:
    """Imported definitions can hold anything anywhere: read only what has the right shape."""
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _walk(steps: Any, branch: str | None = None) -> Iterator[tuple[dict[str, Any], str | None]]:
    for step in _list(steps):
        if not isinstance(step, dict):
            continue
        yield step, branch
        if step.get("Type") == "Condition":
            args = _dict(step.get("Arguments"))
            yield from _walk(args.get("IfSteps"), f"IfSteps of {step.get('Name')!r}")
            yield from _walk(args.get("ElseSteps"), f"ElseSteps of {step.get('Name')!r}")


def lint(pipeline: str, definition: dict[str, Any], text: str | None = None) -> list[Problem]:
    problems: list[Problem] = []
    size = len(text if text is not None else json.dumps(definition, sort_keys=True))
    if size > MAX_DEFINITION_CHARS:
        problems.append(
            Problem(
                "definition-too-large",
                (),
                f"the definition is {size:,} characters; SageMaker accepts at most {MAX_DEFINITION_CHARS:,}.",
                "Split the pipeline, or move large literal arguments into a dataset or parameter.",
            )
        )
    elif size >= S3_THRESHOLD_CHARS:
        problems.append(
            Problem(
                "definition-via-s3",
                (),
                f"the definition is {size:,} characters (>= 100 KB); deploy sends it through S3 "
                "(PipelineDefinitionS3Location) instead of inline.",
                "Nothing to do; make sure the deploy role can write to the bucket.",
                severity="note",
            )
        )
    for param in _list(definition.get("Parameters")):
        param = _dict(param)
        enum = _list(param.get("EnumValues"))
        if len(enum) > MAX_ENUM_VALUES:
            problems.append(
                Problem(
                    "enum-too-long",
                    (str(param.get("Name", "?")),),
                    f"param has {len(enum)} enum values; dagml knows no documented limit, and lists longer "
                    f"than {MAX_ENUM_VALUES} are untested.",
                    "If SageMaker refuses it, drop enum= (validate the value in a step instead) or shorten the list.",
                    severity="warning",
                )
            )
    for step, _branch in _walk(definition.get("Steps")):
        name, step_type = str(step.get("Name", "?")), step.get("Type", "?")
        args = _dict(step.get("Arguments"))
        if step_type == "Processing":
            inputs = _list(args.get("ProcessingInputs"))
            if len(inputs) > MAX_PROCESSING_INPUTS:
                problems.append(
                    Problem(
                        "too-many-inputs",
                        (name,),
                        f"processing step has {len(inputs)} inputs (code included); SageMaker allows {MAX_PROCESSING_INPUTS}.",
                        "Read fewer upstream steps or datasets: merge some in an upstream step.",
                    )
                )
            for arg in _list(_dict(args.get("AppSpecification")).get("ContainerArguments")):
                if isinstance(arg, str) and len(arg) > MAX_ARGUMENT_CHARS:
                    problems.append(
                        Problem(
                            "argument-too-long",
                            (name,),
                            f"a job argument is {len(arg)} characters ({arg[:40]!r}...); SageMaker allows {MAX_ARGUMENT_CHARS}.",
                            "Shorten the step or target name, or move the pipeline file closer to its package root.",
                        )
                    )
    return problems
