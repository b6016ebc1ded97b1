"""Named outputs of a step, and references to one of them.

``@pipe.step(outputs=["train", "validation", "test"])`` declares a processing
step with three named outputs. Each is a directory: the function writes files
into it (``outputs["train"] / "train.csv"``, through a parameter named
``outputs``), or returns a mapping whose entries are stored, pickled, in it
(``return {"train": frame}``). A downstream parameter reads one output by
binding it as a default, ``def fit(train=preprocess.outputs["train"])``, and
receives the directory's path, or the value when the output holds a returned
value. On SageMaker each named output is a ProcessingOutput of its own (an S3
prefix under the execution's id, or ``s3=`` where the user chooses), so a
training channel, a batch transform or a job that is not dagml's can read it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Union

import attrs

from dagml.errors import did_you_mean
from dagml.spec.errors import DeclarationError
from dagml.spec.params import Param

__all__ = ["OUTPUTS_PARAMETER", "RESERVED_OUTPUT_NAMES", "Output", "OutputRef", "Outputs", "to_outputs"]

#: The parameter through which a step with named outputs receives their directories.
OUTPUTS_PARAMETER = "outputs"
#: Names dagml gives its own outputs of a processing step (contract.OUTPUT_NAME, METRICS_OUTPUT_NAME,
#: CSV_OUTPUT_NAME) and SageMaker's code input: a named output may not take them.
RESERVED_OUTPUT_NAMES = ("code", "csv", "metrics", "output")
#: A named output is a directory name, an S3 key segment and an OutputName: kept to a safe alphabet.
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")


def _check_name(step: str, name: object) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise DeclarationError(
            f"step {step!r}: output name {name!r} must start with a letter and hold only letters, digits, "
            "'-' and '_' (at most 64): it names a directory, an S3 prefix and a ProcessingOutput. "
            "Fix: e.g. outputs=['train', 'validation', 'test']."
        )
    if name in RESERVED_OUTPUT_NAMES:
        raise DeclarationError(
            f"step {step!r}: output name {name!r} is reserved (dagml's own outputs and SageMaker's code "
            f"input use {', '.join(RESERVED_OUTPUT_NAMES)}). Fix: choose another name, e.g. {name + '_data'!r}."
        )
    return name


@attrs.frozen
class Output:
    """A named output, with where SageMaker writes it when the default will not do.

    ``s3`` (a string ``s3://...`` or a String param) is a fixed destination: every
    execution writes there, so two executions running at once overwrite each other.
    Without it the output goes under the execution's id (docs/sagemaker.md).
    Local runs keep every output in the run's own directory either way.
    """

    name: str
    s3: str | Param | None = None

    def __attrs_post_init__(self) -> None:
        if self.s3 is None or isinstance(self.s3, Param):
            return
        if not isinstance(self.s3, str) or not self.s3.startswith("s3://") or len(self.s3) <= len("s3://"):
            raise DeclarationError(
                f"output {self.name!r}: s3={self.s3!r} is not an S3 URI. Fix: s3='s3://bucket/prefix' or a String param."
            )


OutputLike = Union[str, Output]


def to_outputs(step: str, value: object) -> tuple[Output, ...]:
    """The ``outputs=`` option of ``@pipe.step`` as frozen :class:`Output` s, checked."""
    if isinstance(value, (str, Output)) or not isinstance(value, Iterable):
        raise DeclarationError(
            f"step {step!r}: outputs={value!r} must be a list of names (or dagml.Output(...)). "
            "Fix: outputs=['train', 'test']."
        )
    result: list[Output] = []
    for item in value:
        output = item if isinstance(item, Output) else Output(item)
        _check_name(step, output.name)
        if any(o.name == output.name for o in result):
            raise DeclarationError(f"step {step!r}: output {output.name!r} is declared twice. Fix: name it once.")
        result.append(output)
    if not result:
        raise DeclarationError(
            f"step {step!r}: outputs=[] declares no output. Fix: name at least one, or leave outputs= out."
        )
    return tuple(result)


@attrs.frozen
class OutputRef:
    """``step.outputs["train"]``: one named output of a step, bound as a parameter's default."""

    step: str
    name: str

    def __str__(self) -> str:
        return f"{self.step}.outputs[{self.name!r}]"


class Outputs(Mapping[str, OutputRef]):
    """``step.outputs``: the step's named outputs, each an :class:`OutputRef` to bind downstream."""

    __slots__ = ("_names", "_step")

    def __init__(self, step: str, names: tuple[str, ...]) -> None:
        self._step = step
        self._names = names

    def __getitem__(self, name: str) -> OutputRef:
        if name not in self._names:
            if not self._names:
                raise DeclarationError(
                    f"step {self._step!r} declares no named outputs, so it has no output {name!r}. Fix: declare "
                    f"them, @pipe.step(outputs=[{name!r}, ...]), or read the whole return value by naming a "
                    f"parameter {self._step!r}."
                )
            raise DeclarationError(
                f"step {self._step!r} has no output {name!r}{did_you_mean(name, self._names)}; it declares "
                f"{', '.join(map(repr, self._names))}."
            )
        return OutputRef(self._step, name)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __repr__(self) -> str:
        return f"<outputs of step {self._step!r}: {', '.join(self._names) or 'none'}>"
