"""dagml's exceptions and the structured problems they carry.

Every exception dagml raises on purpose derives from :class:`DagmlError` *and*
from the builtin that matches the situation, so callers can catch either
(``except dagml.DagmlError`` or ``except ValueError``). Validation never stops
at the first problem: it collects every :class:`Problem`, sorts them by step,
and raises one :class:`PipelineValidationError` whose ``.problems`` tests and
tools can inspect instead of matching prose.
"""

from __future__ import annotations

import difflib
from typing import Iterable, Sequence

import attrs

from dagml._text import visible

__all__ = [
    "ConditionUsageError",
    "ConfigurationError",
    "DagmlError",
    "DagmlWarning",
    "DeclarationError",
    "PipelineValidationError",
    "Problem",
    "TargetError",
    "did_you_mean",
]

#: Severity of a problem that makes the pipeline unusable.
ERROR = "error"
#: Severity of a problem worth fixing that does not block anything.
WARNING = "warning"


@attrs.frozen(order=False)
class Problem:
    """One thing wrong with a pipeline.

    ``kind`` is a stable, machine-readable identifier (``"cycle"``,
    ``"unbound-input"``, ...), ``steps`` names the steps (or params) involved,
    ``message`` says what is wrong and ``fix`` says what to do about it.
    """

    kind: str
    steps: tuple[str, ...] = attrs.field(converter=tuple)
    message: str
    fix: str = ""
    severity: str = ERROR

    @property
    def subject(self) -> str:
        return self.steps[0] if self.steps else ""

    def sort_key(self) -> tuple[str, str, str]:
        return (self.subject, self.kind, self.message)

    def __str__(self) -> str:
        """One line, safe to print: names from an imported definition are untrusted (dagml._text)."""
        where = f"{self.subject}: " if self.subject else ""
        fix = f" Fix: {self.fix}" if self.fix else ""
        return visible(f"{where}{self.message}{fix}")

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "steps": list(self.steps),
            "message": self.message,
            "fix": self.fix,
            "severity": self.severity,
        }


class DagmlError(Exception):
    """Base class of every error dagml raises on purpose."""


class DagmlWarning(UserWarning):
    """Something worth fixing in a pipeline that does not stop it."""


class DeclarationError(DagmlError, TypeError):
    """A step, param or condition was declared with arguments that cannot work.

    Raised at declaration time (when the decorator or ``pipe.param`` runs), so
    the traceback points at the offending line of the user's code.
    """


class ConditionUsageError(DagmlError, TypeError):
    """A condition expression was used as a Python truth value."""


class ConfigurationError(DagmlError, ValueError):
    """A setting or command-line value is missing or malformed (a usage error)."""


class TargetError(DagmlError, LookupError):
    """A ``TARGET`` given on the command line does not name a pipeline."""


class PipelineValidationError(DagmlError, ValueError):
    """A pipeline has one or more problems; all of them are in ``.problems``."""

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


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest candidate, or ``""``."""
    matches = difflib.get_close_matches(name, sorted(set(candidates)), n=1, cutoff=0.6)
    return f" (did you mean {matches[0]!r}?)" if matches else ""
