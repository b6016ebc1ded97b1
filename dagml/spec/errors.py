"""Errors raised while declaring a pipeline or finding the one a TARGET names."""

from __future__ import annotations

from dagml.errors import DagmlError

__all__ = ["ConditionUsageError", "DeclarationError", "MetricLookupError", "ReportError", "TargetError"]


class DeclarationError(DagmlError, TypeError):
    """A step, param or condition was declared with arguments that cannot work.

    Raised at declaration time (when the decorator or ``pipe.param`` runs), so
    the traceback points at the offending line of the user's code.
    """


class ConditionUsageError(DagmlError, TypeError):
    """A condition expression was used as a Python truth value."""


class TargetError(DagmlError, LookupError):
    """A ``TARGET`` given on the command line does not name a pipeline."""


class ReportError(DagmlError, ValueError):
    """A metrics report cannot be built as asked (:func:`dagml.model_quality`)."""


class MetricLookupError(DagmlError, LookupError):
    """A path reads no number in a metrics report (:mod:`dagml.spec.reports`); ``.path`` is the path.

    Whoever reads the report (the local runner) catches it and says which step and report.
    """

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(message)
        self.path = path
