"""Pipeline parameters and input datasets.

A :class:`Param` is a value chosen when a pipeline *execution* starts
(SageMaker's ``Parameters``); its type comes from its default. A
:class:`Dataset` is an input declared once: an S3 location on SageMaker and a
local path when run locally; the step that binds it receives a local path
either way.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any, Union

import attrs

from dagml.spec.errors import DeclarationError

if TYPE_CHECKING:
    from dagml.spec.conditions import Expr

__all__ = ["DISTRIBUTIONS", "INPUT_MODES", "TEXT_FORMS", "Dataset", "Param", "ParamValue", "param_type_of", "parse_param_text"]

ParamValue = Union[str, int, float, bool]

#: A dataset's delivery options (SageMaker's S3InputMode / InputMode and S3DataDistributionType).
INPUT_MODES = ("File", "FastFile")
DISTRIBUTIONS = ("FullyReplicated", "ShardedByS3Key")

#: Python type of a default -> SageMaker parameter type. ``bool`` is checked
#: before ``int`` because ``True`` is an ``int`` in Python.
_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "Boolean"),
    (int, "Integer"),
    (float, "Float"),
    (str, "String"),
)


def param_type_of(value: object) -> str | None:
    """Return the SageMaker parameter type for a Python value, or None."""
    for py_type, sm_type in _TYPES:
        if isinstance(value, py_type):
            return sm_type
    return None


#: What a value of each type looks like as text (``-p NAME=VALUE``): ASCII only, finite numbers only.
TEXT_FORMS = {
    "Integer": "ASCII digits with an optional sign, e.g. 42 or -3",
    "Float": "a finite decimal number, e.g. 0.95, -1.5 or 1e-3",
    "Boolean": "true or false",
    "String": "any text",
}
_INTEGER = re.compile(r"[+-]?[0-9]+")
_FLOAT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def parse_param_text(sm_type: str, text: str) -> ParamValue:
    """A param value given as text (``-p NAME=VALUE``) as a value of SageMaker type ``sm_type``.

    Stricter than ``int()`` and ``float()``: no ``1_000``, no non-ASCII digits,
    no ``nan`` or ``inf`` (JSON and SageMaker have no such numbers). Raises
    ValueError naming the accepted forms.
    """
    if sm_type == "String":
        return text
    value = text.strip()
    if sm_type == "Integer" and _INTEGER.fullmatch(value):
        return int(value)
    if sm_type == "Float" and _FLOAT.fullmatch(value) and math.isfinite(float(value)):
        return float(value)
    if sm_type == "Boolean" and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ValueError(f"{text!r} is not a valid {sm_type}; use {TEXT_FORMS.get(sm_type, sm_type)}")


def _check_default(instance: Param, attribute: attrs.Attribute[Any], value: object) -> None:
    if param_type_of(value) is None:
        raise DeclarationError(
            f"param {instance.name!r}: default {value!r} is a {type(value).__name__}; "
            "a param's type comes from its default, which must be a str, int, float or bool. "
            f"Fix: pipe.param({instance.name!r}, <str|int|float|bool>)."
        )


def _freeze_enum(value: object) -> tuple[ParamValue, ...] | None:
    if value is None:
        return None
    if isinstance(value, (str, bytes)):
        raise DeclarationError(f"enum must be a list of allowed values, got the string {value!r}")
    return tuple(value)  # type: ignore[arg-type]


@attrs.frozen(eq=False)
class Param:
    """A pipeline parameter. Create it with :meth:`Pipeline.param`.

    Bind it to a step as a default (``def train(prepare, n=trees)``), use it as
    a step option (``instance_type=...``) or compare it in a condition
    (``evaluate["accuracy"] >= threshold``). Params compare by identity, so
    they can live in sets and dicts; ordering operators build conditions.
    """

    name: str
    default: ParamValue = attrs.field(validator=_check_default)
    enum: tuple[ParamValue, ...] | None = attrs.field(default=None, converter=_freeze_enum)
    description: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.enum is not None:
            bad = [v for v in self.enum if param_type_of(v) != self.type]
            if bad:
                raise DeclarationError(
                    f"param {self.name!r}: enum values {bad!r} are not of the param's type "
                    f"{self.type} (from its default {self.default!r}). Fix: make every enum "
                    "value the same type as the default."
                )
            if self.default not in self.enum:
                raise DeclarationError(
                    f"param {self.name!r}: default {self.default!r} is not one of its enum values "
                    f"{list(self.enum)!r}. Fix: add it to enum or choose another default."
                )

    @property
    def type(self) -> str:
        """SageMaker type: ``String``, ``Integer``, ``Float`` or ``Boolean``."""
        result = param_type_of(self.default)
        assert result is not None  # guaranteed by the validator
        return result

    # Ordering comparisons build condition expressions; == and != keep
    # identity semantics (use a metric on one side, or dagml.conditions.eq).
    def __lt__(self, other: object) -> Expr:
        from dagml.spec.conditions import compare

        return compare("<", self, other)

    def __le__(self, other: object) -> Expr:
        from dagml.spec.conditions import compare

        return compare("<=", self, other)

    def __gt__(self, other: object) -> Expr:
        from dagml.spec.conditions import compare

        return compare(">", self, other)

    def __ge__(self, other: object) -> Expr:
        from dagml.spec.conditions import compare

        return compare(">=", self, other)

    def isin(self, values: object) -> Expr:
        """Condition: this param's value is one of ``values``."""
        from dagml.spec.conditions import isin

        return isin(self, values)

    def __repr__(self) -> str:
        return f"Param({self.name!r}, {self.default!r}, type={self.type})"


@attrs.frozen(eq=False)
class Dataset:
    """An input dataset. Create it with :meth:`Pipeline.dataset`.

    ``s3`` is where SageMaker reads it (compiled as a String parameter, so an
    execution can point elsewhere); ``local`` is the file or directory the
    local runner passes, relative to the pipeline's source file. A step binds
    it as a default (``def prepare(raw=iris_csv)``) and receives a local path.
    """

    name: str
    local: str | None = None
    s3: str | None = None
    description: str | None = None
    #: How SageMaker delivers it: "File" (copied before the step starts) or "FastFile" (streamed on
    #: read; training channels only: a ProcessingS3Input's S3InputMode is File or Pipe, per the API
    #: reference, API_ProcessingS3Input). "Pipe" is refused: it hands over a FIFO, not a path.
    input_mode: str = "File"
    #: "FullyReplicated" (every instance gets all of it) or "ShardedByS3Key" (each instance a share of
    #: the objects). Local runs have one instance, which gets all of it.
    distribution: str = "FullyReplicated"

    def __attrs_post_init__(self) -> None:
        if self.input_mode not in INPUT_MODES:
            pipe = " Pipe mode streams the data through a FIFO, and a step receives a path;" if self.input_mode == "Pipe" else ""
            raise DeclarationError(
                f"dataset {self.name!r}: input_mode={self.input_mode!r} is not one of {', '.join(map(repr, INPUT_MODES))}."
                f"{pipe} Fix: use 'File' (the default) or 'FastFile' for a large dataset a training step reads."
            )
        if self.distribution not in DISTRIBUTIONS:
            raise DeclarationError(
                f"dataset {self.name!r}: distribution={self.distribution!r} is not one of "
                f"{', '.join(map(repr, DISTRIBUTIONS))}. Fix: 'ShardedByS3Key' gives each instance a share of the "
                "objects; 'FullyReplicated' (the default) gives every instance all of them."
            )
        if self.local is None and self.s3 is None:
            raise DeclarationError(
                f"dataset {self.name!r} has neither a local path nor an S3 location. "
                f"Fix: pipe.dataset({self.name!r}, local='data/file.csv', s3='s3://bucket/key')."
            )
        if self.s3 is not None and not (isinstance(self.s3, str) and self.s3.startswith("s3://")):
            raise DeclarationError(
                f"dataset {self.name!r}: s3={self.s3!r} is not an S3 URI. "
                "Fix: give it as 's3://bucket/prefix'."
            )
        if self.local is not None and not isinstance(self.local, str):
            raise DeclarationError(
                f"dataset {self.name!r}: local={self.local!r} must be a path string. "
                "Fix: pass str(path)."
            )

    def __repr__(self) -> str:
        return f"Dataset({self.name!r}, local={self.local!r}, s3={self.s3!r})"
