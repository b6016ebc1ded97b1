"""The definition as text, checked: what compile hands to deploy, for a declared or an imported pipeline.

:func:`finish` writes the canonical text and runs the pre-flight lint
(:mod:`dagml.sagemaker.lint`); the compiler (a declared pipeline) and the
importer (a definition re-emitted) both end here. :func:`stream` does the same
a step at a time into a file (``dagml compile -o``): each step is built, checked,
written and forgotten, so a 100,000-step definition is never held whole, as
dicts or as text; its dict and text are made again only if a caller asks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import attrs

from dagml.errors import Problem
from dagml.graph.errors import PipelineValidationError
from dagml.sagemaker import jsontext
from dagml.sagemaker.lint import Checks, lint

__all__ = ["VERSION", "CompiledPipeline", "DatasetUpload", "finish", "stream", "to_json"]

VERSION = "2020-12-01"


@attrs.frozen
class DatasetUpload:
    """A local dataset deploy must upload to ``uri`` before executions read it."""

    name: str
    local_path: str
    uri: str


@attrs.frozen(eq=False)
class CompiledPipeline:
    """The definition plus what deploy needs to make it runnable.

    ``definition`` (the dict) and ``json`` (its canonical text) are made on first
    use and kept: a pipeline compiled straight to a file (:func:`stream`) holds
    neither until a caller asks, then builds them again, the same bytes.
    """

    name: str
    #: Makes the definition dict (called once, on first use).
    make: Callable[[], dict[str, Any]] = attrs.field(repr=False)
    #: Characters of the canonical text (``len(json)``), known without holding it.
    size: int
    #: Lint notes that do not stop deployment (e.g. "send through S3").
    notes: tuple[Problem, ...]
    bundle: Any  # dagml.runtime.bundle.Bundle
    code_prefix: str
    datasets: tuple[DatasetUpload, ...]
    #: (S3 URI, local file) of every wheel and wheel list the steps' requirements ship.
    wheels: tuple[tuple[str, str], ...] = ()
    #: (S3 URI, bytes) of every script step's file (or script-mode archive).
    scripts: tuple[tuple[str, bytes], ...] = ()
    _made: dict[str, Any] = attrs.field(factory=dict, init=False, repr=False)

    @property
    def definition(self) -> dict[str, Any]:
        """The pipeline definition, as SageMaker's CreatePipeline takes it (a dict)."""
        if "definition" not in self._made:
            self._made["definition"] = self.make()
        return self._made["definition"]  # type: ignore[no-any-return]

    @property
    def json(self) -> str:
        """The definition's canonical text (:func:`to_json`): what ``dagml compile`` writes and deploy sends."""
        if "json" not in self._made:
            self._made["json"] = to_json(self.definition)
        return self._made["json"]  # type: ignore[no-any-return]


def to_json(definition: dict[str, Any]) -> str:
    """Canonical text: sorted keys, two-space indent, a trailing newline.

    The same text as ``json.dumps(definition, sort_keys=True, indent=2, ensure_ascii=False)``,
    written by :mod:`dagml.sagemaker.jsontext` (twice as fast on large definitions).
    """
    return jsontext.dumps(definition, end="\n")


def finish(
    name: str,
    definition: dict[str, Any],
    *,
    bundle: Any = None,
    code_prefix: str = "",
    datasets: tuple[DatasetUpload, ...] = (),
    notes: tuple[Problem, ...] = (),
    wheels: tuple[tuple[str, str], ...] = (),
    scripts: tuple[tuple[str, bytes], ...] = (),
) -> CompiledPipeline:
    """Canonical text and pre-flight lint: raise what SageMaker would reject, keep the notes."""
    text = to_json(definition)
    problems = lint(name, definition, text)
    compiled = _checked(
        name,
        problems,
        make=lambda: definition,
        size=len(text),
        notes=notes,
        bundle=bundle,
        code_prefix=code_prefix,
        datasets=datasets,
        wheels=wheels,
        scripts=scripts,
    )
    compiled._made.update(definition=definition, json=text)
    return compiled


def stream(
    name: str,
    head: dict[str, Any],
    steps: Iterable[dict[str, Any]],
    write: Callable[[str], Any],
    *,
    make: Callable[[], dict[str, Any]],
    extras: Callable[[], dict[str, Any]] = dict,
) -> CompiledPipeline:
    """:func:`finish` for a definition written as it is made: ``head`` (all but ``Steps``) and ``steps``
    (its top-level steps, consumed once) go through ``write`` a step at a time, the same bytes as
    ``to_json({**head, "Steps": list(steps)})``; each step is linted as it passes and the size
    counted. Raise what SageMaker would reject once all is written (the caller discards the file);
    ``make`` builds the definition again if a caller asks for it; ``extras()``, called once all
    steps are made, gives the compiled pipeline's other fields (notes, uploads)."""
    checks = Checks()
    checks.parameters(head.get("Parameters"))

    def checked() -> Iterable[dict[str, Any]]:
        for step in steps:
            checks.step(step)
            yield step

    size = 0
    for piece in jsontext.iter_dumps(head, "Steps", checked(), end="\n"):
        size += len(piece)
        write(piece)
    return _checked(name, checks.problems(size), make=make, size=size, **extras())


def _checked(name: str, problems: list[Problem], *, notes: tuple[Problem, ...] = (), **fields: Any) -> CompiledPipeline:
    errors = [p for p in problems if p.severity == "error"]
    if errors:
        raise PipelineValidationError(name, errors)
    return CompiledPipeline(name=name, notes=(*notes, *(p for p in problems if p.severity != "error")), **fields)
