"""The errors of the SageMaker layer: settings, images, compiling, imported definitions, deploy, AWS.

Each derives from :class:`~dagml.errors.DagmlError` and from the builtin that
matches (a :class:`~dagml.errors.ConfigurationError` is a ``ValueError``), so
callers can catch either. The modules that raise them re-export them
(``from dagml.sagemaker.aws import AwsError`` keeps working). An error that
reports several problems at once (:class:`SettingsError`) also carries them,
one :class:`~dagml.errors.Problem` each, in ``.problems``.
"""

from __future__ import annotations

from collections.abc import Sequence

from dagml._text import visible
from dagml.errors import ConfigurationError, DagmlError, Problem

__all__ = [
    "AccessDeniedError",
    "AwsConfigurationError",
    "AwsError",
    "CompileError",
    "DefinitionError",
    "ImageError",
    "MissingBucketError",
    "NotFoundError",
    "ParameterError",
    "SettingsError",
    "ThrottledError",
]


class SettingsError(ConfigurationError):
    """A setting is missing or malformed.

    ``problems`` holds one :class:`~dagml.errors.Problem` per bad setting
    (``steps`` is the setting's name) when several are reported together, in
    the order the message lists them; it is empty for an error about one thing.
    """

    def __init__(self, message: str, problems: Sequence[Problem] = ()) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__(message)


class ImageError(DagmlError, ValueError):
    """No SageMaker scikit-learn image for the region or version asked for."""


class CompileError(DagmlError, ValueError):
    """The pipeline cannot be expressed as a SageMaker definition."""


class DefinitionError(DagmlError, ValueError):
    """A definition cannot be imported; ``path`` is the JSON path of the problem."""

    def __init__(self, source: str, path: str, message: str, fix: str) -> None:
        self.source, self.path, self.fix = source, path, fix
        super().__init__(visible(f"{source}: {path}: {message} Fix: {fix}"))  # the definition is untrusted


class ParameterError(ConfigurationError):
    """An execution parameter override names no parameter or has the wrong type."""


class AwsError(DagmlError, RuntimeError):
    """An AWS call failed; ``code`` is AWS's error code, ``action`` the IAM action."""

    def __init__(self, message: str, code: str = "", action: str = "") -> None:
        self.code, self.action = code, action
        super().__init__(message)


class AccessDeniedError(AwsError, PermissionError):
    """The credentials are not allowed to do this."""


class ThrottledError(AwsError):
    """AWS kept throttling the call after every retry."""


class NotFoundError(AwsError, LookupError):
    """The pipeline, execution or object does not exist."""


class AwsConfigurationError(ConfigurationError):
    """No credentials, bad credentials or no region: fix the local AWS configuration."""


class MissingBucketError(ConfigurationError):
    """The bucket in the settings does not exist."""
