"""Errors, hyperparameter and channel validation of the XGBoost image's algorithm toolkit.

Mirrors ``src/sagemaker_algorithm_toolkit/exceptions.py``,
``hyperparameter_validation.py`` and ``channel_validation.py`` of
aws/sagemaker-xgboost-container (master): the same checks, in the same order, with
the same messages (a job's FailureReason carries them). The real package is a
sibling of ``sagemaker_xgboost_container``; here it is this module.
"""

import ast


class BaseToolkitError(Exception):
    """The message, followed by `` (caused by <type>)`` when another exception caused it."""

    def __init__(self, message=None, caused_by=None):
        text = message or (str(caused_by) if caused_by else "unknown error occurred")
        if caused_by:
            text += f" (caused by {type(caused_by).__name__})"
        super().__init__(text)
        self.message = text
        self.caused_by = caused_by


class AlgorithmError(BaseToolkitError):
    """A failure the user cannot avoid."""


class UserError(BaseToolkitError):
    """A failure the user's configuration or data caused."""


class PlatformError(BaseToolkitError):
    """A failure of the environment."""


class Interval:
    """A numeric range; open or closed at each end (``None``: unbounded)."""

    def __init__(self, min_open=None, min_closed=None, max_open=None, max_closed=None):
        self.min_open, self.min_closed, self.max_open, self.max_closed = (
            min_open,
            min_closed,
            max_open,
            max_closed,
        )

    def __contains__(self, value):
        return not (
            (self.min_open is not None and value <= self.min_open)
            or (self.min_closed is not None and value < self.min_closed)
            or (self.max_open is not None and value >= self.max_open)
            or (self.max_closed is not None and value > self.max_closed)
        )

    def __str__(self):
        low = f"({self.min_open}, " if self.min_open is not None else f"[{self.min_closed}, "
        if self.min_open is None and self.min_closed is None:
            low = "(-inf, "
        high = f"{self.max_open})" if self.max_open is not None else f"{self.max_closed}]"
        if self.max_open is None and self.max_closed is None:
            high = "+inf)"
        return low + high


class Choices:
    """A range decided by a function of the value (the real ``range_validator``); shown as ``values``."""

    def __init__(self, values, accepts=None):
        self.values, self.accepts = values, accepts or (lambda value: value in values)

    def __contains__(self, value):
        return self.accepts(value)

    def __str__(self):
        return str(self.values)


#: kind -> how a hyperparameter's string value is parsed.
PARSERS = {
    "integer": int,
    "continuous": float,
    "categorical": lambda value: value,
    "list": lambda value: value.split(","),
    "nested": lambda value: ast.literal_eval(value) if isinstance(value, str) else value,
    "tuple": lambda value: ast.literal_eval(value) if isinstance(value, str) else value,
}


class Hyperparameter:
    def __init__(self, name, kind, range, required=False, depends_on=(), check=None):
        self.name, self.kind, self.range, self.required = name, kind, range, required
        self.depends_on, self.check = tuple(depends_on), check

    def validate_range(self, value):
        if self.kind == "list":
            if any(item not in self.range for item in value):
                raise UserError(f"Hyperparameter {self.name}: value {value} not in range {self.range}")
        elif self.kind in ("nested", "tuple"):
            items = [item for inner in value for item in inner] if self.kind == "nested" else list(value)
            if any(item not in self.range for item in items):
                raise UserError(f"Hyperparameter {self.name}: value {value} not in range {self.range}")
        elif value not in self.range:
            raise UserError(f"Hyperparameter {self.name}: {value} is not in {self.range}")


class Hyperparameters:
    def __init__(self, *hyperparameters, aliases=None):
        self.hyperparameters = {h.name: h for h in hyperparameters}
        self.aliases = dict(aliases or {})

    def validate(self, given):
        """The parsed hyperparameters, or the first problem as a :class:`UserError`."""
        given = {self.aliases.get(name, name): value for name, value in given.items()}
        for name, spec in self.hyperparameters.items():
            if spec.required and name not in given:
                raise UserError(f"Missing required hyperparameter: {name}")
        parsed = {}
        for name, value in given.items():
            spec = self.hyperparameters.get(name)
            if spec is None:
                raise UserError(f"Extraneous hyperparameter found: {name}")
            try:
                parsed[name] = PARSERS[spec.kind](value)
            except ValueError as e:
                raise UserError(f"Hyperparameter {name}: could not parse value", caused_by=e) from e
        for name, value in parsed.items():
            try:
                self.hyperparameters[name].validate_range(value)
            except UserError:
                raise
            except Exception as e:
                raise AlgorithmError(
                    f"Hyperparameter {name}: unexpected failure when validating {value}", caused_by=e
                ) from e
        for name, value in parsed.items():
            spec = self.hyperparameters[name]
            if spec.check is not None:
                spec.check(value, {d: parsed[d] for d in spec.depends_on if d in parsed})
        return parsed


class Channel:
    """A training channel and the (ContentType, TrainingInputMode, S3DistributionType) it accepts."""

    def __init__(self, name, required):
        self.name, self.required, self.supported = name, required, set()

    def add(self, content_types, mode):
        """Accept each of ``content_types`` in input ``mode``, sharded or replicated."""
        self.supported |= {
            (ct, mode, dist) for ct in content_types for dist in ("ShardedByS3Key", "FullyReplicated")
        }
        return self

    def validate(self, value):
        key = (value["ContentType"], value["TrainingInputMode"], value["S3DistributionType"])
        if key not in self.supported:
            raise UserError(f"Channel configuration for '{self.name}' channel is not supported: {value}")


class Channels:
    def __init__(self, *channels, default_content_type=None):
        self.channels = {c.name: c for c in channels}
        self.default_content_type = default_content_type

    def validate(self, given):
        for channel in self.channels.values():
            if channel.required and channel.name not in given:
                raise UserError(f"Missing required channel: {channel.name}")
        validated = {}
        for name, value in given.items():
            if name not in self.channels:
                raise UserError(f"Extraneous channel found: {name}")
            if "ContentType" not in value:
                if not self.default_content_type:
                    raise UserError(f"Missing content type for channel: {name}")
                value["ContentType"] = self.default_content_type
            self.channels[name].validate(value)
            validated[name] = value
        return validated
