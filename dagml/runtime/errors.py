"""The exceptions of the step runtime: the entry point, artifacts, the code bundle, inference.

Each derives from :class:`dagml.errors.DagmlError` and from the builtin that
matches the situation, so callers can catch either. The modules that raise them
import them from here and re-export them (``from dagml.runtime.entry import
StepRuntimeError`` keeps working). This module ships in the code bundle and
imports nothing but :mod:`dagml.errors`.

Two stay beside their code: ``_UserCodeError`` (:mod:`dagml.runtime.entry`,
private control flow carrying the user's exception to ``main``) and
``BootstrapError`` (:mod:`dagml.runtime.bootstrap`, which runs before dagml can
be imported and so may use only the standard library).
"""

from __future__ import annotations

from dagml.errors import DagmlError

__all__ = [
    "ArtifactError",
    "BundleError",
    "InferenceError",
    "MissingInputError",
    "StepRuntimeError",
    "StepUsageError",
]


class StepRuntimeError(DagmlError, RuntimeError):
    """The step cannot run as invoked: unknown step, missing param value, wrong mode."""


class StepUsageError(StepRuntimeError, ValueError):
    """The job's arguments or hyperparameters do not say what to run."""


class ArtifactError(DagmlError, ValueError):
    """A step's input or output cannot be read or written as the contract says."""


class MissingInputError(ArtifactError, FileNotFoundError):
    """An input directory or file the step needs is not where the contract puts it."""


class BundleError(DagmlError, ValueError):
    """The code bundle cannot be built from the given pipeline file."""


class InferenceError(DagmlError, ValueError):
    """A request the default inference handler cannot serve; ``status`` is the HTTP answer."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status
