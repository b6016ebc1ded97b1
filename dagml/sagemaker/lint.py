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

__all__ = ["MAX_DEFINITION_CHARS", "Checks", "lint", "size_problems"]

#: A pipeline definition's limit, in characters. The SageMaker API reference gives CreatePipeline's and
#: UpdatePipeline's PipelineDefinition "Maximum length of 1048576", and the definition the service
#: stores and returns the same (DescribePipeline, DescribePipelineDefinitionForExecution: the
#: service model's one ``PipelineDefinition`` shape, ``max`` 1048576, in botocore's sagemaker
#: service-2.json). PipelineDefinitionS3Location (how deploy sends 100 KB and more) states no size
#: of its own, and no source says it lifts the limit: a definition over it is an error, whichever way
#: it is sent. No AWS source states a number of steps per pipeline (the Pipelines quotas documented
#: are pipelines per account and parallel steps per execution): the size is the binding limit, about
#: 450 of dagml's processing steps (benchmarks/bench_scaling.py; docs/sagemaker.md "Definition size").
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
    """Every problem of a definition held whole (``text``: its canonical text, for the size)."""
    checks = Checks()
    checks.parameters(definition.get("Parameters"))
    for step in _list(definition.get("Steps")):
        checks.step(step)
    return checks.problems(len(text if text is not None else json.dumps(definition, sort_keys=True)))


class Checks:
    """Lint fed a piece at a time: a definition streamed to a file is checked step by step as it is
    written, and its size, known once written, at the end. Problems come in :func:`lint`'s order."""

    def __init__(self) -> None:
        self._found: list[Problem] = []
        self._steps = 0

    def parameters(self, params: Any) -> None:
        for param in _list(params):
            param = _dict(param)
            enum = _list(param.get("EnumValues"))
            if len(enum) > MAX_ENUM_VALUES:
                self._found.append(
                    Problem(
                        "enum-too-long",
                        (str(param.get("Name", "?")),),
                        f"param has {len(enum)} enum values; dagml knows no documented limit, and lists longer "
                        f"than {MAX_ENUM_VALUES} are untested.",
                        "If SageMaker refuses it, drop enum= (validate the value in a step instead) or shorten the list.",
                        severity="warning",
                    )
                )

    def step(self, top: Any) -> None:
        """One entry of the definition's ``Steps``, with the steps in its branches."""
        for step, _branch in _walk([top]):
            self._steps += 1
            if step.get("Type") == "Processing":
                self._processing(str(step.get("Name", "?")), _dict(step.get("Arguments")))

    def _processing(self, name: str, args: dict[str, Any]) -> None:
        inputs = _list(args.get("ProcessingInputs"))
        if len(inputs) > MAX_PROCESSING_INPUTS:
            self._found.append(
                Problem(
                    "too-many-inputs",
                    (name,),
                    f"processing step has {len(inputs)} inputs (code included); SageMaker allows {MAX_PROCESSING_INPUTS}.",
                    "Read fewer upstream steps or datasets: merge some in an upstream step.",
                )
            )
        for arg in _list(_dict(args.get("AppSpecification")).get("ContainerArguments")):
            if isinstance(arg, str) and len(arg) > MAX_ARGUMENT_CHARS:
                self._found.append(
                    Problem(
                        "argument-too-long",
                        (name,),
                        f"a job argument is {len(arg)} characters ({arg[:40]!r}...); SageMaker allows {MAX_ARGUMENT_CHARS}.",
                        "Shorten the step or target name, or move the pipeline file closer to its package root.",
                    )
                )

    def problems(self, size: int) -> list[Problem]:
        """Everything found, the definition's size (its text's characters) first."""
        return [*size_problems(size, self._steps), *self._found]


def size_problems(size: int, steps: int) -> list[Problem]:
    """The whole definition's size against CreatePipeline's limit (``steps``: how many it has, branches included)."""
    if size > MAX_DEFINITION_CHARS:
        return [too_large(size, steps)]
    if size >= S3_THRESHOLD_CHARS:
        return [
            Problem(
                "definition-via-s3",
                (),
                f"the definition is {size:,} characters (>= 100 KB); deploy sends it through S3 "
                "(PipelineDefinitionS3Location) instead of inline.",
                "Nothing to do; make sure the deploy role can write to the bucket.",
                severity="note",
            )
        ]
    return []


def too_large(size: int, steps: int) -> Problem:
    """``definition-too-large``: the size, the limit and its source, how many steps would fit, what to do."""
    if steps:
        average = size / steps
        fit = max(1, int(MAX_DEFINITION_CHARS / average))
        shape = (
            f" Its {steps:,} steps average {average:,.0f} characters each, so about {fit:,} steps of this "
            "pipeline fit in one definition."
        )
        parts = -(-steps // fit)  # ceiling
        split = f"split it into {max(2, parts)} or more pipelines of up to about {fit:,} steps"
    else:
        shape, split = "", "split it into several pipelines"
    return Problem(
        "definition-too-large",
        (),
        f"the definition is {size:,} characters; SageMaker accepts at most {MAX_DEFINITION_CHARS:,} (SageMaker API "
        "reference: CreatePipeline's and UpdatePipeline's PipelineDefinition, and the stored definition "
        "DescribePipeline returns, each \"Maximum length of 1048576\"; no source says sending it through S3, "
        "PipelineDefinitionS3Location, lifts that)." + shape,
        f"{split} each, handing data on through S3: a later pipeline reads an earlier one's results as a "
        "pipe.dataset(name, s3=...), its URI given at start with -p NAME=s3://...; move literal arguments that "
        "many steps repeat into pipe.param(...); or fold many small similar steps into one step that loops "
        "over the work (docs/sagemaker.md, \"Definition size\").",
    )
