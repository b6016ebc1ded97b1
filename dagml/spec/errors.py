"""Errors raised while declaring a pipeline or finding the one a TARGET names."""

from __future__ import annotations

from dagml.errors import DagmlError

__all__ = ["ConditionUsageError", "DeclarationError", "TargetError"]


class DeclarationError(DagmlError, TypeError):
    """A step, param or condition was declared with arguments that cannot work.

    Raised at declaration time (when the decorator or ``pipe.param`` runs), so
    the traceback points at the offending line of the user's code.
    """


class ConditionUsageError(DagmlError, TypeError):
    """A condition expression was used as a Python truth value."""


class TargetError(DagmlError, LookupError):
    """A ``TARGET`` given on the command line does not name a pipeline."""
