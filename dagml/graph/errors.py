"""The error validation raises: every problem of a pipeline at once."""

from __future__ import annotations

from collections.abc import Sequence

from dagml._text import visible
from dagml.errors import DagmlError, Problem

__all__ = ["PipelineValidationError"]


class PipelineValidationError(DagmlError, ValueError):
    """A pipeline has one or more problems; all of them are in ``.problems``, sorted by step."""

    def __init__(self, pipeline: str, problems: Sequence[Problem]) -> None:
        self.pipeline = pipeline
        self.problems: tuple[Problem, ...] = tuple(sorted(problems, key=Problem.sort_key))
        count = len(self.problems)
        lines = [f"pipeline {visible(repr(pipeline))} is invalid ({count} problem{'s' if count != 1 else ''}):"]
        lines += [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))

    @property
    def kinds(self) -> set[str]:
        return {p.kind for p in self.problems}
